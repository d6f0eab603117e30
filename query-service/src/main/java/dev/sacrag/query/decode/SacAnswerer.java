package dev.sacrag.query.decode;

import dev.sacrag.core.model.Generator;
import dev.sacrag.core.sac.SacEngine;

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
    public Answer answer(DecodeRequest request) {
        TokenText text = new TokenText(ids -> engine.tokenizer().decode(ids));
        Generator.Result result = engine.answer(request.docs(), request.question(),
                engine.greedy(request.maxNewTokens()),
                token -> request.sink().accept(Math.toIntExact(token), text.add(token)));
        String tail = text.finish();
        if (!tail.isEmpty()) {
            request.sink().accept(Answer.NO_TOKEN, tail);
        }
        return new Answer(text.text(), result.tokens().length, result.stopped());
    }
}
