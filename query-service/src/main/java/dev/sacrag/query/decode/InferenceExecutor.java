package dev.sacrag.query.decode;

import dev.sacrag.query.metrics.QueryMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one place questions are decoded. The model already uses every core for one request
 * (intra-op threads), so concurrent questions queue here instead of oversubscribing the CPU:
 * {@code workers} threads (default 1) own the {@link Answerer}, and each takes up to
 * {@code maxBatch} queued requests at once and hands them to {@link Answerer#answerBatch} —
 * the hook where a batched decode plugs in. A request whose caller gave up (its future was
 * cancelled) while it waited is dropped, not decoded.
 *
 * <p>Continuous batching: questions queued while a batch decodes join it between two decode
 * steps ({@link Answerer.Arrivals}), as long as fewer than {@code maxBatch} are decoding, so a
 * question does not wait for the running batch's longest answer. A join is a prefill that every
 * running answer waits for, and prompts prefilled together cost less each, so questions join
 * together: once as many wait as decode, or once the first of them has waited {@code joinWait}. Each caller's answer goes out
 * as soon as its own decode ends (the answerer tells each outcome as it comes), not when the
 * batch's longest does. Dynamic batching: a batch's callers
 * hear back close together and tend to ask again together, a few milliseconds later. A worker
 * that finds fewer questions waiting than its
 * last batch held waits up to {@code batchWait} for the rest, instead of starting a small
 * batch that the others then queue behind. A worker whose last batch was one question (a lone
 * caller) never waits.
 *
 * <p>A question withdrawn while it waits leaves the queue at once (its slot is free for the
 * next caller). A worker killed by an {@link Error} (out of memory in a batch, say) fails that
 * batch and is replaced before it dies, so the service keeps answering.
 */
public final class InferenceExecutor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InferenceExecutor.class);

    private record Job(DecodeRequest request, CompletableFuture<Decoded> result, long enqueuedNanos, Place place) {
    }

    /**
     * Questions one batch takes at most, those it starts with and those that join it; then it
     * takes no more and ends when its rows do (the next batch takes the queue). A batch keeps a
     * little of every question it answered (its outcome) until it ends, so under steady load it
     * must end some time.
     */
    static final int MAX_QUESTIONS_PER_BATCH = 1024;

    /**
     * A place in the queue, taken ({@link #reserve}) before a question's anchor KV is fetched, so
     * that a full queue refuses the question before its Redis read and decode, and before the
     * warm cache makes room for what it fetched. It passes to the question's job on
     * {@link #submit(Place, DecodeRequest)} and is given back when a worker takes the job (or the
     * job is withdrawn); closed without a submit, it is given back at once.
     */
    public final class Place implements AutoCloseable {
        private final java.util.concurrent.atomic.AtomicBoolean given = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile boolean submitted;

        private Place() {
        }

        private void giveBack() {
            if (given.compareAndSet(false, true)) {
                places.release();
            }
        }

        /** Gives the place back unless its question was submitted (the job gives it back then). */
        @Override
        public void close() {
            if (!submitted) {
                giveBack();
            }
        }
    }

    private final Answerer answerer;
    private final int maxBatch;
    private final long batchWaitNanos;
    private final long joinWaitNanos;
    private final BlockingQueue<Job> queue;
    /** Places in the queue not reserved: questions fetching their anchor KV or waiting hold the others. */
    private final java.util.concurrent.Semaphore places;
    private final QueryMetrics metrics;
    private final List<Thread> workers = new CopyOnWriteArrayList<>();
    private final AtomicInteger started = new AtomicInteger();
    /** Questions in the workers' batches still decoding, as of each batch's last step, less those answered since. */
    private final AtomicInteger decodingNow = new AtomicInteger();
    private volatile boolean closed;

    /**
     * @param maxBatch requests handed to the answerer at once; lowered to what it accepts
     * @param maxQueued requests that may wait; more are refused with {@link InferenceOverloadedException}
     */
    public InferenceExecutor(Answerer answerer, int workers, int maxBatch, int maxQueued, QueryMetrics metrics) {
        this(answerer, workers, maxBatch, maxQueued, Duration.ZERO, metrics);
    }

    /**
     * @param batchWait longest wait for the rest of a batch (see the class comment); zero = never
     */
    public InferenceExecutor(Answerer answerer, int workers, int maxBatch, int maxQueued, Duration batchWait,
                             QueryMetrics metrics) {
        this(answerer, workers, maxBatch, maxQueued, batchWait, Duration.ZERO, metrics);
    }

    /**
     * @param batchWait longest wait for the rest of a batch (see the class comment); zero = never
     * @param joinWait longest a question waits to join a running batch with others; zero = it joins at the next step
     */
    public InferenceExecutor(Answerer answerer, int workers, int maxBatch, int maxQueued, Duration batchWait,
                             Duration joinWait, QueryMetrics metrics) {
        if (workers < 1 || maxBatch < 1 || maxQueued < 1 || batchWait.isNegative() || joinWait.isNegative()) {
            throw new IllegalArgumentException("workers, maxBatch and maxQueued must be >= 1 and batchWait, joinWait >= 0,"
                    + " got " + workers + ", " + maxBatch + ", " + maxQueued + ", " + batchWait + ", " + joinWait);
        }
        this.answerer = answerer;
        this.batchWaitNanos = batchWait.toNanos();
        this.joinWaitNanos = joinWait.toNanos();
        this.maxBatch = Math.min(maxBatch, answerer.maxBatch());
        this.queue = new LinkedBlockingQueue<>(maxQueued);
        this.places = new java.util.concurrent.Semaphore(maxQueued);
        this.metrics = metrics;
        metrics.gauge("sac.query.inference.queue.depth", "Questions waiting for the inference executor",
                queue, BlockingQueue::size);
        metrics.gauge("sac.query.inference.decoding", "Questions being decoded, in every worker's batch (as of its"
                + " last step, less those answered since)", decodingNow, AtomicInteger::get);
        for (int i = 0; i < workers; i++) {
            startWorker();
        }
    }

    private void startWorker() {
        Thread t = new Thread(this::work, "sac-inference-" + started.getAndIncrement());
        t.setDaemon(true);
        workers.add(t);
        t.start();
    }

    /**
     * Reserves a place in the queue for a question about to fetch its anchor KV.
     *
     * @throws InferenceOverloadedException when every place is taken (questions waiting or fetching)
     * @throws InferenceShutdownException when the executor is closing
     */
    public Place reserve() {
        if (closed) {
            throw shuttingDown();
        }
        if (!places.tryAcquire()) {
            metrics.inferenceRejected();
            throw new InferenceOverloadedException("the inference queue is full (" + queue.size()
                    + " questions waiting, the others' places held by questions fetching their documents); retry later");
        }
        return new Place();
    }

    /**
     * Queues a request, reserving its place first ({@link #reserve}; a refusal fails the future).
     * Cancel the returned future to withdraw it; once decoding has started, stop it by throwing
     * from the request's sink.
     */
    public CompletableFuture<Decoded> submit(DecodeRequest request) {
        Place place;
        try {
            place = reserve();
        } catch (InferenceOverloadedException | InferenceShutdownException e) {
            return CompletableFuture.failedFuture(e);
        }
        return submit(place, request);
    }

    /** Queues a request in the place reserved for it, which passes to the job. */
    public CompletableFuture<Decoded> submit(Place place, DecodeRequest request) {
        place.submitted = true;
        Job job = new Job(request, new CompletableFuture<>(), System.nanoTime(), place);
        if (closed) {
            place.giveBack();
            job.result.completeExceptionally(shuttingDown());
        } else if (!queue.offer(job)) {   // cannot happen while every job holds one of maxQueued places
            place.giveBack();
            metrics.inferenceRejected();
            job.result.completeExceptionally(new InferenceOverloadedException(
                    "the inference queue is full (" + queue.size() + " questions waiting); retry later"));
        } else if (closed && queue.remove(job)) {   // close() drained the queue between the check and the offer
            place.giveBack();
            job.result.completeExceptionally(shuttingDown());
        } else {
            job.result.whenComplete((answer, error) -> {
                if (job.result.isCancelled() && queue.remove(job)) {
                    place.giveBack();   // withdrawn while waiting: free its place now, not when a worker reaches it
                }
            });
        }
        return job.result;
    }

    private static void giveBack(List<Job> jobs) {
        jobs.forEach(job -> job.place.giveBack());
    }

    private static InferenceShutdownException shuttingDown() {
        return new InferenceShutdownException("the query service is shutting down; retry (another instance)");
    }

    /** Questions waiting for a worker. */
    public int queueDepth() {
        return queue.size();
    }

    public int maxBatch() {
        return maxBatch;
    }

    private void work() {
        List<Job> batch = new ArrayList<>(maxBatch);
        int last = 0;
        long lastEnd = System.nanoTime();
        while (!closed) {
            try {
                batch.add(queue.take());
                queue.drainTo(batch, maxBatch - 1);
                // Questions queued before the last batch's answers went out come from other callers;
                // the last batch's own callers may be about to ask again.
                int early = 0;
                for (Job j : batch) {
                    early += j.enqueuedNanos - lastEnd < 0 ? 1 : 0;
                }
                fill(batch, Math.min(maxBatch, early + last));
                giveBack(batch);   // out of the queue: their places are free for the next questions
            } catch (InterruptedException e) {
                giveBack(batch);
                fail(batch, shuttingDown());
                return; // close() interrupts idle workers
            }
            Ran ran;
            try {
                ran = run(batch);
            } catch (Throwable e) { // a broken answerer must not take the worker (and every later question) down
                ran = new Ran(0, System.nanoTime());
                log.error("decoding a batch of {} question(s) failed", batch.size(), e);
                fail(batch, e);
                if (e instanceof Error && !(e instanceof AssertionError)) {
                    // Out of memory and the like: this thread's state is suspect, so it ends, but a
                    // replacement takes the queue first (without it every later question would wait
                    // for its deadline while health still said SERVING).
                    workers.remove(Thread.currentThread());
                    if (!closed) {
                        startWorker();
                        log.error("inference worker {} replaced after {}", Thread.currentThread().getName(), e.toString());
                    }
                    throw (Error) e;
                }
            }
            last = ran.decoded();
            lastEnd = ran.end();
            batch.clear();
        }
    }

    private static void fail(List<Job> batch, Throwable e) {
        batch.forEach(job -> job.result.completeExceptionally(e));
    }

    /** Waits up to the batch wait for the batch to reach {@code target} questions. */
    private void fill(List<Job> batch, int target) throws InterruptedException {
        long start = System.nanoTime();
        while (batch.size() < target) {
            long left = batchWaitNanos - (System.nanoTime() - start);
            Job next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
            if (next == null) {
                return;
            }
            batch.add(next);
            queue.drainTo(batch, maxBatch - batch.size());
        }
    }

    /** What a batch did: the most questions it decoded at once, and when its first answer went out. */
    private record Ran(int decoded, long end) { }

    private Ran run(List<Job> batch) {
        BatchRun run = new BatchRun();
        List<DecodeRequest> requests = run.admit(batch);
        if (requests.isEmpty()) {
            return new Ran(0, System.nanoTime());
        }
        metrics.inferenceBatch(requests.size());
        return run.decode(requests);
    }

    /**
     * One batch of a worker: its questions, numbered as the answerer numbers them (those it
     * starts with, then those that join it) and each let go of once answered; when its first
     * answer went out; and its part of the decoding gauge. The answerer tells it each outcome
     * ({@link Answerer.Completions}) and takes the questions that join from it
     * ({@link Answerer.Arrivals}), on the decoding thread.
     */
    private final class BatchRun implements Answerer.Completions, Answerer.Arrivals {
        private final List<Job> live = new ArrayList<>();
        private final List<Long> started = new ArrayList<>();   // when each left the queue
        private long firstAnswer;
        private boolean answered;
        private int most;
        private int reported;   // this batch's part of decodingNow

        /** Counts each job's wait and takes those whose callers have not left; returns their requests. */
        List<DecodeRequest> admit(List<Job> jobs) {
            long now = System.nanoTime();
            List<DecodeRequest> requests = new ArrayList<>(jobs.size());
            for (Job job : jobs) {
                metrics.inferenceWait(Duration.ofNanos(now - job.enqueuedNanos));
                if (!job.result.isDone()) { // cancelled by a caller that left while it waited
                    live.add(job);
                    started.add(now);
                    requests.add(job.request());
                }
            }
            decodingNow.addAndGet(requests.size());
            reported += requests.size();
            return requests;
        }

        Ran decode(List<DecodeRequest> requests) {
            most = requests.size();
            try {
                List<DecodeOutcome> outcomes = answerer.answerBatch(requests, this, this);
                if (outcomes.size() != live.size()) {
                    throw new IllegalStateException("the answerer returned " + outcomes.size() + " outcomes for "
                            + live.size() + " questions");
                }
                long end = System.nanoTime();
                for (int i = 0; i < live.size(); i++) {
                    if (live.get(i) != null) {   // those not told already
                        complete(live.get(i), outcomes.get(i), started.get(i), end);
                    }
                }
                return new Ran(most, answered ? firstAnswer : end);
            } catch (Throwable e) {
                // the questions that joined too (the worker fails the batch it took); those answered are done
                fail(live.stream().filter(java.util.Objects::nonNull).toList(), e);
                throw e;
            } finally {
                decodingNow.addAndGet(-reported);
            }
        }

        /**
         * Each answer goes out as soon as its own decode ends (a short answer does not wait for the
         * batch's longest); the first answer marks when this batch's callers started hearing back
         * (a question refused before decoding, e.g. for another model, does not: its caller asks no sooner).
         */
        @Override
        public void done(int i, DecodeOutcome outcome) {
            long now = System.nanoTime();
            if (!answered && outcome.failure() == null) {
                firstAnswer = now;
                answered = true;
            }
            Job job = live.get(i);
            if (job != null) {
                complete(job, outcome, started.get(i), now);
                live.set(i, null);   // answered: what its request holds (anchor KV, the caller's stream) may go
                // off the gauge now, not at the next take: a batch that takes no more (a model switch
                // waits for it to end) calls take no more either
                decodingNow.decrementAndGet();
                reported--;
            }
        }

        /** Questions queued while the batch decodes join it between two steps, up to maxBatch decoding at once. */
        @Override
        public List<DecodeRequest> take(int decoding) {
            decodingNow.addAndGet(decoding - reported);
            reported = decoding;
            List<Job> got = new ArrayList<>();
            if (!closed && decoding < maxBatch && live.size() < MAX_QUESTIONS_PER_BATCH && mayJoin(decoding)) {
                queue.drainTo(got, Math.min(maxBatch - decoding, MAX_QUESTIONS_PER_BATCH - live.size()));
            }
            if (got.isEmpty()) {
                return List.of();
            }
            giveBack(got);
            List<DecodeRequest> joining = admit(got);
            metrics.inferenceJoined(joining.size());
            most = Math.max(most, decoding + joining.size());
            return joining;
        }
    }

    /** Whether the questions waiting join a batch with {@code decoding} rows now (see the class comment). */
    private boolean mayJoin(int decoding) {
        Job first = queue.peek();
        return first != null && (queue.size() >= decoding || System.nanoTime() - first.enqueuedNanos >= joinWaitNanos);
    }

    private static void complete(Job job, DecodeOutcome outcome, long start, long end) {
        if (outcome.failure() != null) {
            job.result.completeExceptionally(outcome.failure());
        } else {
            job.result.complete(new Decoded(outcome.answer(), Duration.ofNanos(start - job.enqueuedNanos),
                    Duration.ofNanos(end - start)));
        }
    }

    /** Stops the workers after their current batch; queued questions fail. */
    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            t.interrupt();
        }
        for (Thread t : workers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<Job> left = new ArrayList<>();
        queue.drainTo(left);
        giveBack(left);
        left.forEach(job -> job.result.completeExceptionally(shuttingDown()));
    }
}
