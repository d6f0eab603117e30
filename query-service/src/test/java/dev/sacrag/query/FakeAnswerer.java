package dev.sacrag.query;

import dev.sacrag.query.decode.Answer;
import dev.sacrag.query.decode.Answerer;
import dev.sacrag.query.decode.DecodeRequest;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers "t0 t1 t2 ..." (one piece per token) without a model, optionally slowly, and
 * records what it was asked and how many requests ran at once. Tests subclass it to change one
 * behaviour (a batch path, a failure).
 */
public class FakeAnswerer implements Answerer {

    private final String modelId;
    private final int tokens;
    private final long millisPerToken;
    public final List<DecodeRequest> answered = new CopyOnWriteArrayList<>();
    public final AtomicInteger tokensEmitted = new AtomicInteger();
    public final AtomicInteger aborted = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    public final AtomicInteger maxRunning = new AtomicInteger();
    /** What {@link #maxComposedTokens()} says (the adapter's trained composed length). */
    public volatile int maxComposed = Integer.MAX_VALUE;

    public FakeAnswerer(String modelId, int tokens, long millisPerToken) {
        this.modelId = modelId;
        this.tokens = tokens;
        this.millisPerToken = millisPerToken;
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public int maxPositions() {
        return 4096;
    }

    @Override
    public int maxComposedTokens() {
        return maxComposed;
    }

    @Override
    public Answer answer(DecodeRequest request) {
        maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        answered.add(request);
        StringBuilder text = new StringBuilder();
        try {
            int n = Math.min(tokens, request.maxNewTokens());
            for (int i = 0; i < n; i++) {
                sleep();
                String piece = (i == 0 ? "" : " ") + "t" + i;
                request.sink().accept(100 + i, piece);
                tokensEmitted.incrementAndGet();
                text.append(piece);
            }
            return new Answer(text.toString(), n, n < request.maxNewTokens());
        } catch (RuntimeException e) {
            aborted.incrementAndGet();
            throw e;
        } finally {
            running.decrementAndGet();
        }
    }

    private void sleep() {
        if (millisPerToken > 0) {
            try {
                Thread.sleep(millisPerToken);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }
}
