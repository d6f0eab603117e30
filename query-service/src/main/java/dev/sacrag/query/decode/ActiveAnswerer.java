package dev.sacrag.query.decode;

import dev.sacrag.core.kv.AnchorKv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The answerer of the active model, swappable while the service runs ({@code sac model activate}).
 * A swap waits for the batch being decoded (read lock per batch, write lock per swap), so it
 * happens between requests; the replaced model is closed right after. A request whose anchor KV
 * belongs to another model than the one active when it is decoded fails with
 * {@link ModelChangedException} instead of being decoded by the wrong decoder.
 */
public final class ActiveAnswerer implements Answerer, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ActiveAnswerer.class);

    /** An answerer and what must be closed once it is no longer used (its engine). */
    public record Loaded(Answerer answerer, AutoCloseable resources) {
        public Loaded {
            Objects.requireNonNull(answerer, "answerer");
            Objects.requireNonNull(resources, "resources");
        }
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private final int maxBatch;
    private volatile Loaded current;
    /** Set by {@link #close} under the write lock: a swap after it closes what it was given. */
    private boolean closed;

    public ActiveAnswerer(Loaded initial) {
        this.current = Objects.requireNonNull(initial, "initial");
        this.maxBatch = initial.answerer().maxBatch();
    }

    @Override
    public String modelId() {
        return current.answerer().modelId();
    }

    @Override
    public int maxPositions() {
        return current.answerer().maxPositions();
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public int maxComposedTokens() {
        return current.answerer().maxComposedTokens();
    }

    /**
     * Under the read lock, as a batch is decoded: a swap closes the replaced engine and its
     * native tokenizer, which a count on a caller's thread could otherwise be using.
     */
    @Override
    public int questionTokens(String question) {
        lock.readLock().lock();
        try {
            return current.answerer().questionTokens(question);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public dev.sacrag.core.sac.PromptPrefixCache.Stats promptCacheStats() {
        return current.answerer().promptCacheStats();
    }

    /**
     * Makes {@code next} the active model once no batch is being decoded, then closes the previous
     * one. After {@link #close} (a model load that outlived the service's shutdown) it closes
     * {@code next} instead: the service's model was closed already and must not be closed twice,
     * nor the late one left open.
     *
     * @return whether {@code next} became the active model
     */
    public boolean swap(Loaded next) {
        Objects.requireNonNull(next, "next");
        Loaded previous;
        lock.writeLock().lock();
        try {
            if (closed) {
                previous = null;
            } else {
                previous = current;
                current = next;
            }
        } finally {
            lock.writeLock().unlock();
        }
        if (previous == null) {
            log.info("model {} loaded after the service closed: closing it", next.answerer().modelId());
            closeQuietly(next);
            return false;
        }
        log.info("active model {} replaced by {}", previous.answerer().modelId(), next.answerer().modelId());
        closeQuietly(previous);
        return true;
    }

    @Override
    public Answer answer(DecodeRequest request) {
        DecodeOutcome outcome = answerBatch(List.of(request)).get(0);
        if (outcome.failure() != null) {
            throw outcome.failure();
        }
        return outcome.answer();
    }

    @Override
    public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done) {
        return answerBatch(batch, done, Arrivals.NONE);
    }

    /**
     * Decodes with the active model. Requests of another model fail alone, at once; arrivals
     * stop joining as soon as a swap waits, so that the batch ends and the swap is not held off
     * by a batch that questions keep joining.
     */
    @Override
    public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done, Arrivals arrivals) {
        lock.readLock().lock();
        try {
            Answerer model = current.answerer();
            List<DecodeOutcome> outcomes = new ArrayList<>(batch.size());
            List<Integer> where = new ArrayList<>(batch.size());   // the model's request k is ours where.get(k)
            List<DecodeRequest> ours = sort(batch, model.modelId(), outcomes, where, done);
            if (ours.isEmpty()) {
                return List.copyOf(outcomes);
            }
            Arrivals joining = arrivals == Arrivals.NONE ? Arrivals.NONE : decoding -> lock.hasQueuedThreads()
                    ? List.of() : sort(arrivals.take(decoding), model.modelId(), outcomes, where, done);
            List<DecodeOutcome> answered = model.answerBatch(ours, (k, outcome) -> done.done(where.get(k), outcome),
                    joining);
            if (answered.size() != where.size()) {
                throw new IllegalStateException("model " + model.modelId() + " returned " + answered.size()
                        + " outcomes for " + where.size() + " questions");
            }
            for (int k = 0; k < answered.size(); k++) {
                outcomes.set(where.get(k), answered.get(k));
            }
            return List.copyOf(outcomes);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Numbers {@code requests} after those in {@code outcomes}; returns those of {@code active},
     * their numbers added to {@code where}, and fails the others (told to {@code done} now).
     */
    private static List<DecodeRequest> sort(List<DecodeRequest> requests, String active, List<DecodeOutcome> outcomes,
                                            List<Integer> where, Completions done) {
        List<DecodeRequest> ours = new ArrayList<>(requests.size());
        for (DecodeRequest r : requests) {
            int i = outcomes.size();
            outcomes.add(null);
            String foreign = foreignModel(r, active);
            if (foreign == null) {
                ours.add(r);
                where.add(i);
            } else {
                outcomes.set(i, done.deliver(i, DecodeOutcome.failed(new ModelChangedException("the active model changed from "
                        + foreign + " to " + active + " while the question waited; retry"))));
            }
        }
        return ours;
    }

    /** The model id of the request's anchor KV when it is not {@code active}, else null. */
    private static String foreignModel(DecodeRequest r, String active) {
        for (AnchorKv kv : r.docs()) {
            if (!kv.modelId().equals(active)) {
                return kv.modelId();
            }
        }
        return null;
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(current);
        } finally {
            lock.writeLock().unlock();
        }
    }

    private static void closeQuietly(Loaded loaded) {
        try {
            loaded.resources().close();
        } catch (Exception e) {
            log.warn("closing model {} failed", loaded.answerer().modelId(), e);
        }
    }
}
