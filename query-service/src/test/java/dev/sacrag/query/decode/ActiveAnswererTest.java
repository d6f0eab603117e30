package dev.sacrag.query.decode;

import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.TestAnchors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActiveAnswererTest {

    private static DecodeRequest question(String modelId, TokenSink sink) {
        return new DecodeRequest(List.of(TestAnchors.kv(modelId, 10, 2, 1)), "q?", 3, sink);
    }

    @Test
    void answersWithTheActiveModelAndClosesTheReplacedOne() {
        AtomicInteger closedOld = new AtomicInteger();
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer("old", 2, 0), closedOld::incrementAndGet));
        assertEquals("t0 t1", active.answer(question("old", (id, t) -> { })).text());

        FakeAnswerer fresh = new FakeAnswerer("new", 3, 0);
        AtomicBoolean closedNew = new AtomicBoolean();
        active.swap(new ActiveAnswerer.Loaded(fresh, () -> closedNew.set(true)));
        assertEquals("new", active.modelId());
        assertEquals(1, closedOld.get(), "the replaced engine is closed");
        assertEquals("t0 t1 t2", active.answer(question("new", (id, t) -> { })).text());
        assertEquals(1, fresh.answered.size());

        active.close();
        assertTrue(closedNew.get());
    }

    @Test
    void aModelLoadedAfterTheCloseIsClosedAndTheServicesModelOnlyOnce() {
        AtomicInteger closedOld = new AtomicInteger();
        AtomicInteger closedLate = new AtomicInteger();
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer("old", 2, 0), closedOld::incrementAndGet));
        active.close();
        assertFalse(active.swap(new ActiveAnswerer.Loaded(new FakeAnswerer("late", 2, 0), closedLate::incrementAndGet)),
                "a load that outlived the shutdown does not become the model");
        active.close();
        assertEquals(1, closedOld.get(), "the service's model closed once");
        assertEquals(1, closedLate.get(), "the late model closed, not left open");
        assertEquals("old", active.modelId());
    }

    @Test
    void aQuestionChosenForTheOldModelFailsInsteadOfBeingDecodedByTheNewOne() {
        FakeAnswerer fresh = new FakeAnswerer("new", 2, 0);
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer("old", 2, 0), () -> { }));
        active.swap(new ActiveAnswerer.Loaded(fresh, () -> { }));

        List<DecodeOutcome> outcomes = active.answerBatch(List.of(question("old", (id, t) -> { }), question("new", (id, t) -> { })));
        ModelChangedException e = assertInstanceOf(ModelChangedException.class, outcomes.get(0).failure());
        assertTrue(e.getMessage().contains("from old to new"), e.getMessage());
        assertNull(outcomes.get(1).failure(), "the other question of the batch is answered");
        assertEquals(1, fresh.answered.size(), "the old model's anchors never reach the new decoder");
        assertThrows(ModelChangedException.class, () -> active.answer(question("old", (id, t) -> { })));
    }

    @Test
    void eachOutcomeIsDeliveredOnceUnderItsOwnIndex() {
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer("new", 2, 0), () -> { }));
        List<DecodeRequest> batch = List.of(question("new", (id, t) -> { }), question("old", (id, t) -> { }),
                question("new", (id, t) -> { }));
        DecodeOutcome[] heard = new DecodeOutcome[batch.size()];
        List<DecodeOutcome> outcomes = active.answerBatch(batch, (i, outcome) -> {
            assertNull(heard[i], "outcome " + i + " delivered twice");
            heard[i] = outcome;
        });
        for (int i = 0; i < batch.size(); i++) {
            assertTrue(heard[i] == outcomes.get(i), "outcome " + i + " delivered as returned");
        }
        assertInstanceOf(ModelChangedException.class, heard[1].failure());
        assertEquals("t0 t1", heard[2].answer().text());
    }

    @Test
    void aListenerThatThrowsTurnsOnlyItsOwnReturnedOutcomeIntoTheFailure() {
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer("new", 2, 0), () -> { }));
        List<DecodeOutcome> outcomes = active.answerBatch(List.of(question("new", (id, t) -> { }),
                question("new", (id, t) -> { })), (i, outcome) -> {
                    if (i == 0) {
                        throw new IllegalStateException("listener broke");
                    }
                });
        assertEquals("listener broke", outcomes.get(0).failure().getMessage());
        assertEquals("t0 t1", outcomes.get(1).answer().text(), "the next request is still answered and told");
    }

    @Test
    void aSwapWaitsForTheQuestionBeingDecoded() throws Exception {
        AtomicBoolean oldClosed = new AtomicBoolean();
        FakeAnswerer old = new FakeAnswerer("old", 20, 0);
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(old, () -> oldClosed.set(true)));
        CountDownLatch decoding = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        CompletableFuture<Answer> answer = CompletableFuture.supplyAsync(() -> active.answer(question("old", (id, t) -> {
            decoding.countDown();
            await(proceed);
        })));
        assertTrue(decoding.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> swap = new CompletableFuture<>();
        Thread swapper = new Thread(() -> {
            active.swap(new ActiveAnswerer.Loaded(new FakeAnswerer("new", 2, 0), () -> { }));
            swap.complete(null);
        }, "swapper");
        swapper.start();
        // the swapper has entered swap() and waits there (not merely not yet started)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (swapper.getState() != Thread.State.WAITING && swapper.getState() != Thread.State.TIMED_WAITING
                && swapper.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(swapper.isAlive() && swapper.getState() != Thread.State.RUNNABLE, "the swapper waits: "
                + swapper.getState());
        assertFalse(swap.isDone(), "the swap waits while a question is decoded with the old model");
        assertFalse(oldClosed.get(), "the engine in use is not closed");
        proceed.countDown();
        swap.get(10, TimeUnit.SECONDS);
        assertEquals(3, answer.get(10, TimeUnit.SECONDS).tokens(), "the question in flight finished");
        assertEquals(1, old.answered.size(), "on the old model");
        assertTrue(oldClosed.get());
        assertEquals("new", active.modelId());
    }

    /**
     * Arrivals join the active model's batch; one of another model fails alone under its own
     * number; once a swap waits, no more join, so the batch ends and the swap happens.
     */
    @Test
    void arrivalsJoinUntilASwapWaits() throws Exception {
        CountDownLatch swapWaits = new CountDownLatch(1);
        List<List<DecodeRequest>> joined = new java.util.concurrent.CopyOnWriteArrayList<>();
        Answerer model = new FakeAnswerer("old", 2, 0) {
            @Override
            public List<DecodeOutcome> answerBatch(List<DecodeRequest> batch, Completions done, Arrivals arrivals) {
                List<DecodeRequest> all = new java.util.ArrayList<>(batch);
                List<DecodeRequest> got = arrivals.take(1);   // one of "old", one of "other" (refused above)
                joined.add(got);
                all.addAll(got);
                await(swapWaits);
                joined.add(arrivals.take(2));   // a swap waits: none
                List<DecodeOutcome> out = new java.util.ArrayList<>();
                for (int i = 0; i < all.size(); i++) {
                    out.add(done.deliver(i, DecodeOutcome.of(answer(all.get(i)))));
                }
                return out;
            }
        };
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(model, () -> { }));
        java.util.concurrent.ConcurrentLinkedQueue<DecodeRequest> waiting = new java.util.concurrent.ConcurrentLinkedQueue<>(
                List.of(question("other", (id, t) -> { }), question("old", (id, t) -> { }), question("old", (id, t) -> { })));
        java.util.Map<Integer, DecodeOutcome> told = new java.util.concurrent.ConcurrentHashMap<>();
        CompletableFuture<List<DecodeOutcome>> batch = CompletableFuture.supplyAsync(() -> active.answerBatch(
                List.of(question("old", (id, t) -> { })), told::put, decoding -> {
                    List<DecodeRequest> out = new java.util.ArrayList<>();
                    for (int i = 0; i < 2 && !waiting.isEmpty(); i++) {
                        out.add(waiting.poll());
                    }
                    return out;
                }));
        Thread swapper = new Thread(() -> active.swap(new ActiveAnswerer.Loaded(new FakeAnswerer("new", 2, 0), () -> { })));
        while (joined.isEmpty()) {
            Thread.sleep(5);
        }
        swapper.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (swapper.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        swapWaits.countDown();
        List<DecodeOutcome> outcomes = batch.get(10, TimeUnit.SECONDS);
        swapper.join(10_000);
        assertEquals("new", active.modelId());
        assertEquals(1, joined.get(0).size(), "the one of model old joined");
        assertEquals(List.of(), joined.get(1), "nothing joins once a swap waits");
        assertEquals(3, outcomes.size(), "the batch's request, then the two taken");
        assertInstanceOf(ModelChangedException.class, outcomes.get(1).failure());
        assertNull(outcomes.get(2).failure());
        assertEquals(3, told.size());
        assertEquals(1, waiting.size(), "the last question was left for the next batch");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
