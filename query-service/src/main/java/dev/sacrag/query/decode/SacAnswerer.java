package dev.sacrag.query.decode;

import dev.sacrag.core.model.BatchGenerator;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.sac.SacEngine;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Answers with a loaded {@link SacEngine} at one compression ratio (the active model id).
 * Not thread-safe by contract: the {@link InferenceExecutor} owns it and calls it from its
 * worker thread(s) only.
 */
public final class SacAnswerer implements Answerer {

    private final SacEngine engine;
    private final String modelId;

    public SacAnswerer(SacEngine engine, int ratio) {
        this.engine = Objects.requireNonNull(engine, "engine");
        if (!engine.adapter().spec().supports(ratio)) {
            throw new IllegalArgumentException("the adapter has no ratio " + ratio + " (it has "
                    + engine.adapter().spec().ratios() + ")");
        }
        this.modelId = engine.modelId(ratio);
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public int maxPositions() {
        return engine.config().maxPositions();
    }

    @Override
    public int maxComposedTokens() {
        return engine.adapter().spec().maxComposedTokens();
    }

    @Override
    public dev.sacrag.core.sac.PromptPrefixCache.Stats promptCacheStats() {
        return engine.promptCacheStats();
    }

    /** Decode steps of up to this many requests run as one batch (see SacEngine.answerBatch). */
    @Override
    public int maxBatch() {
        return 64;
    }

    @Override
    public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch) {
        if (batch.size() == 1) {
            return Answerer.super.answerBatch(batch);
        }
        List<TokenText> texts = new ArrayList<>();
        List<SacEngine.Request> requests = new ArrayList<>();
        for (DecodeRequest r : batch) {
            TokenText text = new TokenText(ids -> engine.tokenizer().decode(ids));
            texts.add(text);
            requests.add(new SacEngine.Request(r.docs(), r.contextKey(), r.question(), engine.greedy(r.maxNewTokens()),
                    token -> r.sink().accept(Math.toIntExact(token), text.add(token))));
        }
        List<BatchGenerator.Outcome> outcomes = engine.answerBatch(requests);
        List<DecodeOutcome> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            BatchGenerator.Outcome o = outcomes.get(i);
            if (o.error() != null) {
                out.add(DecodeOutcome.failed(o.error()));
                continue;
            }
            try {
                String tail = texts.get(i).finish();
                if (!tail.isEmpty()) {
                    batch.get(i).sink().accept(Answer.NO_TOKEN, tail);
                }
                out.add(DecodeOutcome.of(new Answer(texts.get(i).text(), o.result().tokens().length, o.result().stopped())));
            } catch (RuntimeException e) {
                out.add(DecodeOutcome.failed(e));
            }
        }
        return out;
    }

    @Override
    public Answer answer(DecodeRequest request) {
        TokenText text = new TokenText(ids -> engine.tokenizer().decode(ids));
        Generator.Result result = engine.answer(request.docs(), request.contextKey(), request.question(),
                engine.greedy(request.maxNewTokens()),
                token -> request.sink().accept(Math.toIntExact(token), text.add(token)));
        String tail = text.finish();
        if (!tail.isEmpty()) {
            request.sink().accept(Answer.NO_TOKEN, tail);
        }
        return new Answer(text.text(), result.tokens().length, result.stopped());
    }
}
