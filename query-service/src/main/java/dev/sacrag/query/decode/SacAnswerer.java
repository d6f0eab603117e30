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
    public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done) {
        if (batch.size() == 1) {
            return Answerer.super.answerBatch(batch, done);
        }
        DecodeOutcome[] out = new DecodeOutcome[batch.size()];
        List<SacEngine.Request> requests = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            DecodeRequest r = batch.get(i);
            TokenText text = new TokenText(ids -> engine.tokenizer().decode(ids));
            int index = i;
            requests.add(new SacEngine.Request(r.docs(), r.contextKey(), r.question(), engine.greedy(r.maxNewTokens()),
                    token -> r.sink().accept(Math.toIntExact(token), text.add(token)),
                    outcome -> out[index] = done.deliver(index, finish(r, text, outcome))));
        }
        engine.answerBatch(requests);   // tells every request's onDone, refused ones too, before it returns
        for (int i = 0; i < out.length; i++) {
            if (out[i] == null) {
                throw new IllegalStateException("the engine returned without telling request " + i + "'s outcome");
            }
        }
        return List.of(out);
    }

    /** A request's answer once its decode ended: the text's tail (bytes held back mid-character) goes to its sink. */
    private static DecodeOutcome finish(DecodeRequest request, TokenText text, BatchGenerator.Outcome outcome) {
        if (outcome.error() != null) {
            return DecodeOutcome.failed(outcome.error());
        }
        try {
            String tail = text.finish();
            if (!tail.isEmpty()) {
                request.sink().accept(Answer.NO_TOKEN, tail);
            }
            return DecodeOutcome.of(new Answer(text.text(), outcome.result().tokens().length, outcome.result().stopped()));
        } catch (RuntimeException e) {
            return DecodeOutcome.failed(e);
        }
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
