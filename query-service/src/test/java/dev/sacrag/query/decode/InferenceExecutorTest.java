package dev.sacrag.query.decode;

import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.metrics.QueryMetrics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceExecutorTest {

    private final QueryMetrics metrics = QueryMetrics.inMemory();

    private static DecodeRequest request(String question) {
        return new DecodeRequest(List.of(TestAnchors.kv("m", 10, 2, 1)), question, 3, (id, text) -> { });
    }

    /** Answers as a two-token {@link FakeAnswerer}, except {@code question}, on which {@code thrower} runs (and throws). */
    private static Answerer failingOn(String question, Runnable thrower) {
        return new FakeAnswerer("m", 2, 0) {
            @Override
            public Answer answer(DecodeRequest r) {
                if (r.question().equals(question)) {
                    thrower.run();
                }
                return super.answer(r);
            }
        };
    }

    /** Model "m" with room for 4,096 positions, decoding up to {@code maxBatch} questions at once. */
    private abstract static class BatchingAnswerer implements Answerer {
        final int maxBatch;

        BatchingAnswerer(int maxBatch) {
            this.maxBatch = maxBatch;
        }

        @Override
        public String modelId() {
            return "m";
        }

        @Override
        public int maxPositions() {
            return 4096;
        }

        @Override
        public int maxBatch() {
            return maxBatch;
        }
    }

    /**
     * Decodes only through the continuous-batching entry point: a batch waits at a gate (so a
     * test can queue questions behind it), then does what the test's {@link #decode} does.
     */
    private abstract static class ContinuousAnswerer extends BatchingAnswerer {
        ContinuousAnswerer(int maxBatch) {
            super(maxBatch);
        }

        @Override
        public Answer answer(DecodeRequest request) {
            throw new AssertionError("the batch path is used");
        }

        /** Counted down when the first batch starts decoding; it then waits for {@link #goOn}. */
        final CountDownLatch decoding = new CountDownLatch(1);
        /** Lets the first batch go on (the test has queued what it wanted behind it). */
        final CountDownLatch goOn = new CountDownLatch(1);

        @Override
        public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done, Arrivals arrivals) {
            try {
                decoding.countDown();
                await(goOn);
                return decode(batch, done, arrivals);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        abstract List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals)
                throws InterruptedException;

        /** Tells every request of {@code all}, in order, the answer "answer to " + its question. */
        static List<DecodeOutcome> answerAll(List<DecodeRequest> all, Completions done) {
            List<DecodeOutcome> out = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                out.add(done.deliver(i, DecodeOutcome.of(new Answer("answer to " + all.get(i).question(), 1, true))));
            }
            return out;
        }
    }

    private double decodingGauge() {
        return metrics.registry().get("sac.query.inference.decoding").gauge().value();
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out waiting");
    }

    /** Blocks in answer() until released, so tests can fill the queue behind it. */
    private static final class GatedAnswerer extends BatchingAnswerer {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        final List<String> questions = new CopyOnWriteArrayList<>();

        GatedAnswerer(int maxBatch) {
            super(maxBatch);
        }

        @Override
        public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done) {
            batchSizes.add(batch.size());
            return super.answerBatch(batch, done);
        }

        @Override
        public Answer answer(DecodeRequest request) {
            questions.add(request.question());
            started.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new Answer("a", 1, true);
        }
    }

    @Test
    void decodesOneQuestionAtATime() throws Exception {
        FakeAnswerer answerer = new FakeAnswerer("m", 3, 10);
        try (InferenceExecutor executor = new InferenceExecutor(answerer, 1, 1, 16, metrics)) {
            List<CompletableFuture<Decoded>> futures = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                futures.add(executor.submit(request("q" + i)));
            }
            for (CompletableFuture<Decoded> f : futures) {
                Decoded d = f.get(10, TimeUnit.SECONDS);
                assertEquals("t0 t1 t2", d.answer().text());
                assertTrue(d.decoding().toMillis() >= 20, "three tokens of 10 ms: " + d.decoding());
            }
            assertEquals(1, answerer.maxRunning.get(), "never two decodes at once");
            assertEquals(6, metrics.registry().get("sac.query.inference.wait").timer().count());
            assertTrue(futures.get(5).get().queued().toMillis() >= 100, "the last waited for five others");
        }
    }

    @Test
    void refusesQuestionsWhenTheQueueIsFull() throws Exception {
        GatedAnswerer answerer = new GatedAnswerer(1);
        try (InferenceExecutor executor = new InferenceExecutor(answerer, 1, 1, 2, metrics)) {
            CompletableFuture<Decoded> running = executor.submit(request("running"));
            assertTrue(answerer.started.await(5, TimeUnit.SECONDS));
            executor.submit(request("queued 1"));
            executor.submit(request("queued 2"));
            assertEquals(2, executor.queueDepth());
            assertEquals(2.0, metrics.registry().get("sac.query.inference.queue.depth").gauge().value());
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> executor.submit(request("one too many")).get(5, TimeUnit.SECONDS));
            assertInstanceOf(InferenceOverloadedException.class, e.getCause());
            answerer.release.countDown();
            assertEquals("a", running.get(5, TimeUnit.SECONDS).answer().text());
        }
    }

    @Test
    void dropsQuestionsWithdrawnWhileTheyWaited() throws Exception {
        GatedAnswerer answerer = new GatedAnswerer(1);
        try (InferenceExecutor executor = new InferenceExecutor(answerer, 1, 1, 4, metrics)) {
            executor.submit(request("running"));
            assertTrue(answerer.started.await(5, TimeUnit.SECONDS));
            CompletableFuture<Decoded> withdrawn = executor.submit(request("withdrawn"));
            CompletableFuture<Decoded> kept = executor.submit(request("kept"));
            withdrawn.cancel(false);
            answerer.release.countDown();
            kept.get(5, TimeUnit.SECONDS);
            assertEquals(List.of("running", "kept"), answerer.questions);
        }
    }

    @Test
    void aWithdrawnQuestionFreesItsQueueSlotAtOnce() throws Exception {
        GatedAnswerer answerer = new GatedAnswerer(1);
        try (InferenceExecutor executor = new InferenceExecutor(answerer, 1, 1, 2, metrics)) {
            CompletableFuture<Decoded> running = executor.submit(request("running"));
            assertTrue(answerer.started.await(5, TimeUnit.SECONDS));
            executor.submit(request("gave up 1")).cancel(false);
            executor.submit(request("gave up 2")).cancel(false);
            assertEquals(0, executor.queueDepth(), "withdrawn questions still hold their slots");
            CompletableFuture<Decoded> a = executor.submit(request("a"));
            CompletableFuture<Decoded> b = executor.submit(request("b"));
            assertTrue(!a.isDone() && !b.isDone(), "refused although both slots were free");
            answerer.release.countDown();
            running.get(5, TimeUnit.SECONDS);
            a.get(5, TimeUnit.SECONDS);
            b.get(5, TimeUnit.SECONDS);
            assertEquals(List.of("running", "a", "b"), answerer.questions);
        }
    }

    @Test
    void questionsQueuedAtShutdownAndAfterItFailAsShuttingDown() throws Exception {
        GatedAnswerer answerer = new GatedAnswerer(1);
        InferenceExecutor executor = new InferenceExecutor(answerer, 1, 1, 4, metrics);
        executor.submit(request("running"));
        assertTrue(answerer.started.await(5, TimeUnit.SECONDS));
        CompletableFuture<Decoded> queued = executor.submit(request("queued"));
        // not released: close's interrupt ends the running answer, and the worker, closed, takes nothing more
        executor.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> queued.get(5, TimeUnit.SECONDS));
        assertInstanceOf(InferenceShutdownException.class, e.getCause());
        assertEquals(List.of("running"), answerer.questions, "a question queued at shutdown was answered");
        ExecutionException after = assertThrows(ExecutionException.class,
                () -> executor.submit(request("late")).get(5, TimeUnit.SECONDS));
        assertInstanceOf(InferenceShutdownException.class, after.getCause(), "a retryable refusal, not an internal error");
    }

    @Test
    void aWorkerKilledByAnErrorIsReplaced() throws Exception {
        try (InferenceExecutor executor = new InferenceExecutor(failingOn("oom", () -> {
            throw new OutOfMemoryError("simulated: no memory for this batch");
        }), 1, 1, 4, metrics)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> executor.submit(request("oom")).get(5, TimeUnit.SECONDS));
            assertInstanceOf(OutOfMemoryError.class, e.getCause());
            assertEquals("t0 t1", executor.submit(request("after")).get(5, TimeUnit.SECONDS).answer().text(),
                    "no worker took the next question");
        }
    }

    @Test
    void handsQueuedQuestionsToABatchingAnswererTogether() throws Exception {
        GatedAnswerer answerer = new GatedAnswerer(4);
        try (InferenceExecutor executor = new InferenceExecutor(answerer, 1, 8, 16, metrics)) {
            assertEquals(4, executor.maxBatch(), "lowered to what the answerer accepts");
            executor.submit(request("first"));
            assertTrue(answerer.started.await(5, TimeUnit.SECONDS));
            List<CompletableFuture<Decoded>> queued = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                queued.add(executor.submit(request("q" + i)));
            }
            answerer.release.countDown();
            for (CompletableFuture<Decoded> f : queued) {
                f.get(5, TimeUnit.SECONDS);
            }
            assertEquals(List.of(1, 4, 1), answerer.batchSizes);
        }
    }

    @Test
    void waitsForTheLastBatchsCallersToComeBackButNeverForALoneCaller() throws Exception {
        GatedAnswerer answerer = new GatedAnswerer(8);
        try (InferenceExecutor executor = new InferenceExecutor(answerer, 1, 8, 16, java.time.Duration.ofSeconds(5),
                metrics)) {
            // a lone caller: nothing queued behind it and its last batch held one question, so no wait
            answerer.release.countDown();
            long start = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                executor.submit(request("alone" + i)).get(5, TimeUnit.SECONDS);
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "a lone caller waited for a batch");
        }
        GatedAnswerer gated = new GatedAnswerer(8);
        try (InferenceExecutor executor = new InferenceExecutor(gated, 1, 8, 16, java.time.Duration.ofSeconds(5),
                metrics)) {
            CompletableFuture<Decoded> first = executor.submit(request("first"));
            assertTrue(gated.started.await(5, TimeUnit.SECONDS));
            List<CompletableFuture<Decoded>> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(executor.submit(request("q" + i)));       // queued while "first" runs
            }
            gated.release.countDown();
            first.get(5, TimeUnit.SECONDS);
            Thread.sleep(200);
            queued.add(executor.submit(request("first again")));     // its caller comes back
            for (CompletableFuture<Decoded> f : queued) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertEquals(List.of(1, 4), gated.batchSizes, "the 3 queued questions waited for the returning caller");
        }
        assertEquals(8 / 5.0, metrics.meanBatchSize(), 1e-9, "batch sizes 1, 1, 1, 1 and 4 recorded");
    }

    /** A batched decode delivers a short answer when it ends: its caller does not wait for the batch's longest. */
    @Test
    void anAnswerGoesOutWhenItsOwnDecodeEndsNotWhenTheBatchDoes() throws Exception {
        CountDownLatch gateTaken = new CountDownLatch(1);
        CountDownLatch bothQueued = new CountDownLatch(1);
        CountDownLatch longOneMayEnd = new CountDownLatch(1);
        Answerer batching = new BatchingAnswerer(2) {
            @Override
            public Answer answer(DecodeRequest request) {
                throw new AssertionError("a batch of two is decoded together");
            }

            @Override
            public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done) {
                try {
                    if (batch.get(0).question().equals("gate?")) {   // holds the worker while the other two queue
                        gateTaken.countDown();
                        assertTrue(bothQueued.await(10, TimeUnit.SECONDS));
                        return List.of(DecodeOutcome.of(new Answer("gate", 1, true)));
                    }
                    assertEquals(2, batch.size());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                DecodeOutcome shortOne = DecodeOutcome.of(new Answer("short", 1, true));
                done.done(0, shortOne);
                try {
                    assertTrue(longOneMayEnd.await(10, TimeUnit.SECONDS), "the short answer never reached its caller");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                DecodeOutcome longOne = DecodeOutcome.of(new Answer("the long one", 3, false));
                done.done(1, longOne);
                return List.of(shortOne, longOne);
            }
        };
        try (InferenceExecutor executor = new InferenceExecutor(batching, 1, 2, 4, java.time.Duration.ofSeconds(5),
                metrics)) {
            CompletableFuture<Decoded> gate = executor.submit(request("gate?"));
            assertTrue(gateTaken.await(10, TimeUnit.SECONDS));
            CompletableFuture<Decoded> shortAnswer = executor.submit(request("short?"));
            CompletableFuture<Decoded> longAnswer = executor.submit(request("long?"));
            bothQueued.countDown();
            assertEquals("gate", gate.get(10, TimeUnit.SECONDS).answer().text());
            assertEquals("short", shortAnswer.get(10, TimeUnit.SECONDS).answer().text());
            assertTrue(!longAnswer.isDone(), "the long answer is still being decoded");
            longOneMayEnd.countDown();
            assertEquals("the long one", longAnswer.get(10, TimeUnit.SECONDS).answer().text());
        }
    }

    /**
     * Continuous batching: questions queued while a batch decodes join it, no more than the
     * batch limit decoding at once, numbered after the batch; each is answered under its number.
     */
    @Test
    void questionsQueuedWhileABatchDecodesJoinItUpToTheLimit() throws Exception {
        List<Double> decodingSeen = new CopyOnWriteArrayList<>();
        List<Integer> taken = new CopyOnWriteArrayList<>();
        ContinuousAnswerer continuous = new ContinuousAnswerer(2) {
            @Override
            List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals)
                    throws InterruptedException {
                List<DecodeRequest> all = new ArrayList<>(batch);
                decodingSeen.add(decodingGauge());   // the batch's one question
                // one row decoding, a limit of two: one joins per take
                for (int round = 0; round < 2; round++) {
                    List<DecodeRequest> got = arrivals.take(1);
                    taken.add(got.size());
                    all.addAll(got);
                }
                assertEquals(List.of(), arrivals.take(2), "no room while two decode");
                decodingSeen.add(decodingGauge());
                return answerAll(all, done);
            }
        };
        try (InferenceExecutor executor = new InferenceExecutor(continuous, 1, 2, 8, metrics)) {
            CompletableFuture<Decoded> first = executor.submit(request("first?"));
            assertTrue(continuous.decoding.await(10, TimeUnit.SECONDS));
            CompletableFuture<Decoded> second = executor.submit(request("second?"));
            CompletableFuture<Decoded> withdrawn = executor.submit(request("withdrawn?"));
            CompletableFuture<Decoded> third = executor.submit(request("third?"));
            withdrawn.cancel(false);
            continuous.goOn.countDown();
            assertEquals("answer to first?", first.get(10, TimeUnit.SECONDS).answer().text());
            assertEquals("answer to second?", second.get(10, TimeUnit.SECONDS).answer().text());
            assertEquals("answer to third?", third.get(10, TimeUnit.SECONDS).answer().text());
            assertEquals(List.of(1, 1), taken);
            assertEquals(2, metrics.joinedQuestions());
            assertEquals(List.of(1.0, 2.0), decodingSeen, "questions decoding: the first, then two (one joined, one left)");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);   // the answers go out before the batch returns
            while (decodingGauge() != 0.0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(0.0, decodingGauge(), "none once the batch ended");
        }
    }

    /**
     * Questions join together: fewer waiting than decoding wait (up to the join wait) for
     * others; as many as decode join at once, and so does one that waited the join wait.
     */
    @Test
    void questionsJoinOnceAsManyWaitAsDecodeOrTheFirstWaitedTheJoinWait() throws Exception {
        CountDownLatch twoQueued = new CountDownLatch(1);
        CountDownLatch oneLeftWaiting = new CountDownLatch(1);
        CountDownLatch twoJoined = new CountDownLatch(1);
        List<Integer> taken = new CopyOnWriteArrayList<>();
        ContinuousAnswerer continuous = new ContinuousAnswerer(8) {
            @Override
            List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals)
                    throws InterruptedException {
                List<DecodeRequest> all = new ArrayList<>(batch);
                taken.add(arrivals.take(2).size());   // one waits, two decode: it waits for another
                oneLeftWaiting.countDown();
                await(twoQueued);
                List<DecodeRequest> got = arrivals.take(2);   // two wait, two decode: both join
                taken.add(got.size());
                all.addAll(got);
                twoJoined.countDown();
                long start = System.nanoTime();
                List<DecodeRequest> late = List.of();
                while (late.isEmpty() && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10)) {
                    late = arrivals.take(4);   // one waits, four decode: it joins once it has waited 200ms
                    Thread.sleep(5);
                }
                taken.add(late.size());
                assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(150),
                        "joined before its join wait: " + (System.nanoTime() - start) / 1_000_000 + " ms");
                all.addAll(late);
                return answerAll(all, done);
            }
        };
        try (InferenceExecutor executor = new InferenceExecutor(continuous, 1, 8, 8, java.time.Duration.ZERO,
                java.time.Duration.ofMillis(200), metrics)) {
            List<CompletableFuture<Decoded>> answers = new ArrayList<>();
            answers.add(executor.submit(request("first?")));
            assertTrue(continuous.decoding.await(10, TimeUnit.SECONDS));
            answers.add(executor.submit(request("second?")));
            continuous.goOn.countDown();
            assertTrue(oneLeftWaiting.await(10, TimeUnit.SECONDS));
            answers.add(executor.submit(request("third?")));
            twoQueued.countDown();
            assertTrue(twoJoined.await(10, TimeUnit.SECONDS));
            answers.add(executor.submit(request("fourth?")));
            for (CompletableFuture<Decoded> f : answers) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertEquals(List.of(0, 2, 1), taken);
        }
    }

    /** A question that joined and was answered is not kept by its batch while the batch goes on decoding. */
    @Test
    void anAnsweredQuestionIsNotKeptWhileItsBatchDecodes() throws Exception {
        boolean[] collected = {false};
        java.lang.ref.WeakReference<?>[] held = new java.lang.ref.WeakReference<?>[1];
        ContinuousAnswerer continuous = new ContinuousAnswerer(4) {
            @Override
            List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals)
                    throws InterruptedException {
                assertEquals(1, arrivals.take(1).size());   // the joined request is not kept here
                DecodeOutcome joined = done.deliver(1, DecodeOutcome.of(new Answer("joined", 1, true)));
                for (int i = 0; i < 20 && held[0].get() != null; i++) {
                    System.gc();
                }
                collected[0] = held[0].get() == null;
                return List.of(done.deliver(0, DecodeOutcome.of(new Answer("first", 1, true))), joined);
            }
        };
        try (InferenceExecutor executor = new InferenceExecutor(continuous, 1, 4, 8, metrics)) {
            CompletableFuture<Decoded> first = executor.submit(request("first?"));
            assertTrue(continuous.decoding.await(10, TimeUnit.SECONDS));
            CompletableFuture<Decoded> joined = submitHolding(executor, held);
            continuous.goOn.countDown();
            assertEquals("joined", joined.get(10, TimeUnit.SECONDS).answer().text());
            assertEquals("first", first.get(10, TimeUnit.SECONDS).answer().text());
            assertTrue(collected[0], "the answered request (and what its stream holds) was still reachable");
        }
    }

    /**
     * The decoding gauge drops as each answer goes out, also in a batch that takes no arrivals
     * (as while a model switch waits for it to end).
     */
    @Test
    void theDecodingGaugeDropsAsAnswersGoOutWithoutArrivalsBeingTaken() throws Exception {
        List<Double> seen = new CopyOnWriteArrayList<>();
        ContinuousAnswerer continuous = new ContinuousAnswerer(4) {
            @Override
            List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals) {
                seen.add(decodingGauge());
                List<DecodeOutcome> out = new ArrayList<>();
                for (int i = 0; i < batch.size(); i++) {
                    out.add(done.deliver(i, DecodeOutcome.of(new Answer("a" + i, 1, true))));
                    seen.add(decodingGauge());
                }
                return out;
            }
        };
        try (InferenceExecutor executor = new InferenceExecutor(continuous, 1, 4, 8, metrics)) {
            CompletableFuture<Decoded> held = executor.submit(request("held?"));
            assertTrue(continuous.decoding.await(10, TimeUnit.SECONDS));
            // queued behind the held batch: the next batch starts with both
            CompletableFuture<Decoded> a = executor.submit(request("a?"));
            CompletableFuture<Decoded> b = executor.submit(request("b?"));
            continuous.goOn.countDown();
            for (CompletableFuture<Decoded> f : List.of(held, a, b)) {
                f.get(10, TimeUnit.SECONDS);
            }
        }
        assertEquals(List.of(1.0, 0.0, 2.0, 1.0, 0.0), seen, "the gauge before each batch and after each answer");
    }

    /** Submits a request whose sink alone holds 8 MiB, which {@code held} refers to weakly. */
    private static CompletableFuture<Decoded> submitHolding(InferenceExecutor executor, java.lang.ref.WeakReference<?>[] held) {
        byte[] payload = new byte[8 << 20];
        held[0] = new java.lang.ref.WeakReference<>(payload);
        return executor.submit(new DecodeRequest(List.of(TestAnchors.kv("m", 10, 2, 1)), "joined?", 3,
                (id, text) -> payload[0]++));
    }

    /** A batch takes at most MAX_QUESTIONS_PER_BATCH questions in all; then it ends and the next takes the rest. */
    @Test
    void aBatchThatKeepsTakingQuestionsEndsAfterItsLimit() throws Exception {
        List<Integer> batchTotals = new CopyOnWriteArrayList<>();
        ContinuousAnswerer continuous = new ContinuousAnswerer(256) {
            @Override
            List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals)
                    throws InterruptedException {
                List<DecodeRequest> all = new ArrayList<>(batch);
                for (List<DecodeRequest> got = arrivals.take(0); !got.isEmpty(); got = arrivals.take(0)) {
                    all.addAll(got);   // every row ended at once: as many as the batch limit may join
                }
                batchTotals.add(all.size());
                return answerAll(all, done);
            }
        };
        int more = InferenceExecutor.MAX_QUESTIONS_PER_BATCH + 20;
        try (InferenceExecutor executor = new InferenceExecutor(continuous, 1, 256, more + 1, metrics)) {
            List<CompletableFuture<Decoded>> answers = new ArrayList<>();
            answers.add(executor.submit(request("first?")));
            assertTrue(continuous.decoding.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < more; i++) {
                answers.add(executor.submit(request("q" + i + "?")));
            }
            continuous.goOn.countDown();
            for (CompletableFuture<Decoded> f : answers) {
                f.get(10, TimeUnit.SECONDS);
            }
            assertEquals(List.of(InferenceExecutor.MAX_QUESTIONS_PER_BATCH, 21), batchTotals);
        }
    }

    /** A batch that fails after one answer went out and a question joined it fails the joined one too: none is left waiting. */
    @Test
    void questionsThatJoinedAFailingBatchFailWithIt() throws Exception {
        ContinuousAnswerer failing = new ContinuousAnswerer(4) {
            @Override
            List<DecodeOutcome> decode(List<DecodeRequest> batch, Completions done, Arrivals arrivals)
                    throws InterruptedException {
                done.done(0, DecodeOutcome.of(new Answer("first", 1, true)));   // answered before the failure
                assertEquals(1, arrivals.take(0).size());
                throw new IllegalStateException("the decode broke");
            }
        };
        try (InferenceExecutor executor = new InferenceExecutor(failing, 1, 4, 8, metrics)) {
            CompletableFuture<Decoded> first = executor.submit(request("first?"));
            assertTrue(failing.decoding.await(10, TimeUnit.SECONDS));
            CompletableFuture<Decoded> joined = executor.submit(request("joined?"));
            failing.goOn.countDown();
            assertEquals("first", first.get(10, TimeUnit.SECONDS).answer().text());
            ExecutionException e = assertThrows(ExecutionException.class, () -> joined.get(10, TimeUnit.SECONDS));
            assertEquals("the decode broke", e.getCause().getMessage());
        }
    }

    @Test
    void aFailingQuestionFailsOnlyItself() throws Exception {
        try (InferenceExecutor executor = new InferenceExecutor(failingOn("bad", () -> {
            throw new IllegalStateException("cannot answer bad");
        }), 1, 1, 4, metrics)) {
            CompletableFuture<Decoded> bad = executor.submit(request("bad"));
            CompletableFuture<Decoded> good = executor.submit(request("good"));
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(5, TimeUnit.SECONDS));
            assertEquals("cannot answer bad", e.getCause().getMessage());
            assertEquals("t0 t1", good.get(5, TimeUnit.SECONDS).answer().text());
        }
    }
}
