package dev.sacrag.kvstore;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.resource.ClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tells a reconnect to the same server from one to a server that restarted: Lettuce reconnects
 * silently, and a Redis that restarted without persistence (or from a snapshot older than its
 * last writes) came back without blobs it held, which nothing else says until a question misses one. After each
 * reconnect it asks {@code INFO server} for the {@code run_id}, which a Redis process draws at
 * start; another one than before is a restart, counted ({@link #restarts}) and logged at WARN
 * with what to run. A server that refuses INFO (renamed, ACL) is not watched.
 *
 * <p>Standalone servers only: a cluster client holds a connection per node, and failover already
 * changes the node behind a slot.
 */
final class RestartWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RestartWatch.class);

    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final String target;
    private final AtomicLong restarts = new AtomicLong();
    private volatile String runId;
    private final Disposable subscription;

    private RestartWatch(StatefulRedisConnection<byte[], byte[]> connection, String target, String runId,
                         ClientResources resources) {
        this.connection = connection;
        this.target = target;
        this.runId = runId;
        this.subscription = resources.eventBus().get()
                .filter(e -> e instanceof ConnectionActivatedEvent)
                .subscribe(e -> check());
    }

    /** Watches the server {@code connection} is connected to now; empty when it does not say its run id. */
    static Optional<RestartWatch> start(StatefulRedisConnection<byte[], byte[]> connection, String target,
                                        ClientResources resources) {
        try {
            return runId(connection.sync().info("server"))
                    .map(id -> new RestartWatch(connection, target, id, resources));
        } catch (io.lettuce.core.RedisCommandExecutionException refused) {
            return Optional.empty();
        }
    }

    /** Servers restarted under this connection since it opened. */
    long restarts() {
        return restarts.get();
    }

    private void check() {
        connection.async().info("server").thenAccept(info -> runId(info).ifPresent(now -> {
            String before = runId;
            if (!now.equals(before)) {
                runId = now;
                restarts.incrementAndGet();
                log.warn("Redis at {} restarted (run_id {} -> {}): blobs written since its last save are gone (all of"
                        + " them without persistence); the query services ask for each missing one as it is needed,"
                        + " `sac warm --rebuild` restores them all now", target, before, now);
            }
        }));   // a failed INFO (the link dropped again) is tried at the next reconnect
    }

    static Optional<String> runId(String info) {
        return info.lines().map(String::trim).filter(l -> l.startsWith("run_id:"))
                .map(l -> l.substring("run_id:".length())).filter(id -> !id.isEmpty()).findFirst();
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
