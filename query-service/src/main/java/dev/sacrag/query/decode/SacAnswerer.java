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
    public int questionTokens(String question) {
        return engine.promptTokens(question);
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
        return answerBatch(batch, done, Arrivals.NONE);
    }

    /** Decodes the batch in one engine batch that the arrivals join as they come (continuous batching). */
    @Override
    public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done, Arrivals arrivals) {
        if (batch.size() == 1 && arrivals == Arrivals.NONE) {
            return Answerer.super.answerBatch(batch, done);
        }
        List<DecodeOutcome> out = new ArrayList<>();
        List<SacEngine.Request> requests = new ArrayList<>(batch.size());
        for (DecodeRequest r : batch) {
            requests.add(request(r, out, done));
        }
        engine.answerBatch(requests, decoding -> {
            List<SacEngine.Request> joining = new ArrayList<>();
            for (DecodeRequest r : arrivals.take(decoding)) {
                joining.add(request(r, out, done));
            }
            return joining;
        });   // tells every request's onDone, refused ones too, before it returns
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) == null) {
                throw new IllegalStateException("the engine returned without telling request " + i + "'s outcome");
            }
        }
        return List.copyOf(out);
    }

    /** {@code r} for the engine, as request number out.size() of the batch: its outcome goes to that place. */
    private SacEngine.Request request(DecodeRequest r, List<DecodeOutcome> out, Completions done) {
        int index = out.size();
        out.add(null);
        TokenText text = new TokenText(ids -> engine.tokenizer().decode(ids));
        return new SacEngine.Request(r.docs(), r.contextKey(), r.question(), engine.greedy(r.maxNewTokens()),
                token -> r.sink().accept(Math.toIntExact(token), text.add(token)),
                outcome -> out.set(index, done.deliver(index, finish(r, text, outcome))));
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
