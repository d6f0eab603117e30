package dev.sacrag.query.decode;

import dev.sacrag.core.sac.PromptPrefixCache;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns composed anchor KV and a question into a streamed answer: the model side of the query
 * service, behind an interface so that the RPC and its error paths are testable without one.
 *
 * <p>Batching: the {@link InferenceExecutor} hands over up to {@link #maxBatch()} queued
 * requests at once. An engine that can decode several requests together (padded anchor masks,
 * one forward per step for all of them) overrides {@link #maxBatch()} and {@link #answerBatch};
 * the default answers them one after another.
 */
public interface Answerer {

    /** The model whose anchor KV this answerer reads (part of every Redis key and blob). */
    String modelId();

    /** Positions the model attends over: composed documents + question prompt + answer must fit. */
    int maxPositions();

    /**
     * The largest composed context (sum of document tokens) the model was trained to read;
     * retrieval composes no more than this (sac-method.md: the adapter records it).
     */
    default int maxComposedTokens() {
        return Integer.MAX_VALUE;
    }

    /**
     * Positions the question takes after the documents. By default its UTF-8 bytes, which no
     * byte-level tokenizer exceeds (the caller keeps a margin for the prompt around it); an
     * answerer with its model counts the whole prompt ([LM], question and answer prompts, the
     * question) as its decoder tokenizes it, so a long question does not take positions from the
     * documents that it will not use.
     */
    default int questionTokens(String question) {
        return question.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** Answers one request, calling its sink per token; an exception from the sink ends it. */
    Answer answer(DecodeRequest request);

    /** The engine's prompt cache (see SacEngine.enablePromptCache): hits, misses, entries, bytes. */
    default PromptPrefixCache.Stats promptCacheStats() {
        return new PromptPrefixCache.Stats(0, 0, 0, 0);
    }

    /** The most requests {@link #answerBatch} takes at once. */
    default int maxBatch() {
        return 1;
    }

    /**
     * Hears each request's outcome of a batch as soon as it is known: request {@code index} of the
     * batch, the arrivals numbered on after it ({@link Arrivals}). It should not throw; if it does, that request's returned outcome is the failure (it is
     * not told again). When {@link #answerBatch(List, Completions)} itself throws, the requests not
     * yet told never are: the caller fails them.
     */
    @FunctionalInterface
    interface Completions {
        Completions NONE = (index, outcome) -> { };

        void done(int index, DecodeOutcome outcome);

        /** Tells {@code index}'s outcome; returns it, or the callback's exception as a failure. */
        default DecodeOutcome deliver(int index, DecodeOutcome outcome) {
            try {
                done(index, outcome);
                return outcome;
            } catch (RuntimeException e) {
                return DecodeOutcome.failed(e);
            }
        }
    }

    /**
     * Questions that arrive while a batch decodes, for an answerer that lets them join it
     * (continuous batching). Called on the decoding thread between steps, with how many of the
     * batch's requests are still decoding; returns the requests to start now (empty when none
     * wait, and it must not block). The caller that owns the queue decides how many: its batch
     * limit. Each request it returns is numbered after the batch's and the arrivals before it.
     */
    @FunctionalInterface
    interface Arrivals {
        Arrivals NONE = decoding -> List.of();

        List<DecodeRequest> take(int decoding);
    }

    /** Answers several requests; outcome i belongs to request i, and one failure fails only its own request. */
    default List<DecodeOutcome> answerBatch(List<DecodeRequest> batch) {
        return answerBatch(batch, Completions.NONE);
    }

    /**
     * {@link #answerBatch(List, Completions)}, letting the requests {@code arrivals} hands over
     * join the batch while it decodes; returns the outcomes of {@code batch}, then those of the
     * arrivals in the order they were taken. This is what the {@link InferenceExecutor} calls. The
     * default takes none (the executor's next batch gets them); an answerer that batches
     * continuously overrides it.
     */
    default List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done, Arrivals arrivals) {
        return answerBatch(batch, done);
    }

    /**
     * {@link #answerBatch(List)}, telling {@code done} of each outcome once, as soon as it is known:
     * a batched decode delivers a short answer while the longer ones go on. This is the method an
     * answerer that batches overrides (the one-argument form only passes no listener).
     */
    default List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done) {
        List<DecodeOutcome> outcomes = new ArrayList<>(batch.size());
        for (DecodeRequest request : batch) {
            DecodeOutcome outcome;
            try {
                outcome = DecodeOutcome.of(answer(request));
            } catch (RuntimeException e) {
                outcome = DecodeOutcome.failed(e);
            }
            outcomes.add(done.deliver(outcomes.size(), outcome));
        }
        return outcomes;
    }
}
