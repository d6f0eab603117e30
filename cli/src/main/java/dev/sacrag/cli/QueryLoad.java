package dev.sacrag.cli;

import dev.sacrag.ingest.Question;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The query half of {@code sac bench pipeline}: closed-loop gRPC clients, each on its own
 * channel (its own connection), each asking its next question as soon as the previous answer
 * has ended. Query {@code i} of a level is question {@code i mod questions}, naming its document,
 * so every level asks the same questions in the same order. Any failed query fails the level:
 * a refused or broken answer would otherwise pass for a fast one.
 */
final class QueryLoad implements AutoCloseable {

    /**
     * One client count.
     *
     * @param seconds from releasing the clients to the last answer's end
     * @param latencyMs per query, at the client: from sending the request to the stream's end
     * @param ttftMs per query, at the client: from sending the request to the first streamed token
     *               (NaN for an answer without tokens)
     * @param serverMs per query, the service's own total (request arrival to answer end)
     * @param decodeMs per query, the service's decode time (its batch's, after the queue)
     * @param tokens per query, streamed answer tokens
     */
    record Level(int clients, int queries, double seconds, double[] latencyMs, double[] ttftMs, double[] serverMs,
                 double[] decodeMs, double[] tokens) {

        double queriesPerSecond() {
            return queries / seconds;
        }
    }

    private final List<Question> questions;
    private final int maxNewTokens;
    private final List<DemoAsker> clients = new ArrayList<>();

    /**
     * @param maxClients channels opened now, for the largest level
     * @param deadline each query's
     */
    QueryLoad(String target, List<Question> questions, int maxNewTokens, int maxClients, java.time.Duration deadline) {
        this.questions = List.copyOf(questions);
        this.maxNewTokens = maxNewTokens;
        try {
            for (int i = 0; i < maxClients; i++) {
                clients.add(new DemoAsker(target, deadline));
            }
        } catch (RuntimeException | Error e) {   // the channels opened before it are not left open
            try {
                close();
            } catch (InterruptedException | RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** One untimed query per channel, all at once: connects every channel and warms the batched decode path. */
    void warmUp() throws InterruptedException {
        run(clients.size(), clients.size());
    }

    Level run(int clientCount, int queries) throws InterruptedException {
        if (clientCount < 1 || clientCount > clients.size()) {
            throw new IllegalArgumentException("clients must be in 1.." + clients.size() + ", got " + clientCount);
        }
        double[] latencyMs = new double[queries];
        double[] ttftMs = new double[queries];
        double[] serverMs = new double[queries];
        double[] decodeMs = new double[queries];
        double[] tokens = new double[queries];
        AtomicInteger next = new AtomicInteger();
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(clientCount);
        CountDownLatch go = new CountDownLatch(1);
        long[] lastEnd = new long[clientCount];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clientCount; c++) {
            DemoAsker asker = clients.get(c);
            int client = c;
            Thread t = new Thread(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                // Each slot i is written by exactly one thread; Thread.join publishes the writes.
                for (int i = next.getAndIncrement(); i < queries && failure.get() == null; i = next.getAndIncrement()) {
                    Question q = questions.get(i % questions.size());
                    long start = System.nanoTime();
                    DemoAsker.Asked a = asker.ask(q.question(), List.of(q.docId()), maxNewTokens);
                    long end = System.nanoTime();
                    if (a.result().isEmpty()) {
                        failure.compareAndSet(null, "query " + i + " (" + q.qid() + ") at " + clientCount + " clients: "
                                + a.failure());
                        return;
                    }
                    latencyMs[i] = (end - start) / 1e6;
                    ttftMs[i] = a.clientTtftMs();
                    serverMs[i] = a.result().get().getTimings().getTotalMs();
                    decodeMs[i] = a.result().get().getTimings().getDecodeMs();
                    tokens[i] = a.tokens();
                    lastEnd[client] = end;
                }
            }, "sac-bench-client-" + c);
            threads.add(t);
            t.start();
        }
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a query failed, so the level's numbers would be wrong: " + failure.get());
        }
        long end = Arrays.stream(lastEnd).max().orElseThrow();
        return new Level(clientCount, queries, (end - start) / 1e9, latencyMs, ttftMs, serverMs, decodeMs, tokens);
    }

    /** Closes every channel, even when one fails to close: the first failure is thrown after. */
    @Override
    public void close() throws InterruptedException {
        RuntimeException first = null;
        for (DemoAsker c : clients) {
            try {
                c.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
