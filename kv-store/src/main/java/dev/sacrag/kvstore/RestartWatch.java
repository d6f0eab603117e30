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
 * reconnect it asks {@code INFO} for the {@code run_id}, which a Redis process draws at start;
 * another one than before is a restart, counted ({@link #restarts}) and logged at WARN with what
 * to run. Unless it is a failover: behind a failover endpoint (Sentinel, a managed service's
 * primary address) a promoted replica has another run_id but the data, and says so by its
 * {@code master_replid2}, the replication id of the primary it replaced, and by having been up
 * since before the link dropped ({@link Server#succeededBy}); that is logged at INFO.
 * A server that refuses INFO (renamed, ACL) is not watched.
 *
 * <p>Standalone servers only: a cluster client holds a connection per node, and failover already
 * changes the node behind a slot.
 */
final class RestartWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RestartWatch.class);

    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final String target;
    private final AtomicLong restarts = new AtomicLong();
    /** nanoTime of the first disconnect since the server was last seen; 0: connected, or not known. */
    private final AtomicLong disconnectedAt = new AtomicLong();
    private volatile Server server;
    private final Disposable subscription;

    /**
     * What tells one Redis process from another, and a failover from a restart.
     *
     * @param uptimeSeconds {@code uptime_in_seconds}; -1 when not said
     */
    record Server(String runId, String replicationId, String previousReplicationId, long uptimeSeconds) {

        /** From an INFO reply (its server and replication sections); empty without a run_id. */
        static Optional<Server> of(String info) {
            return RedisInfo.field(info, "run_id").map(id -> new Server(id, RedisInfo.field(info, "master_replid").orElse(""),
                    RedisInfo.field(info, "master_replid2").orElse(""),
                    RedisInfo.field(info, "uptime_in_seconds").map(Long::parseLong).orElse(-1L)));
        }

        /**
         * Whether {@code now} is a replica promoted in place of this server, which keeps the data:
         * it continues this server's replication history ({@code master_replid2}) <em>and</em> was
         * already running when the link dropped ({@code secondsDown} ago). The first alone is not
         * enough: since Redis 7.0 a primary restarted from a snapshot also takes its old id as
         * {@code master_replid2}, and it lost what was written after the snapshot.
         */
        boolean succeededBy(Server now, double secondsDown) {
            return !replicationId.isEmpty() && !replicationId.matches("0+") && replicationId.equals(now.previousReplicationId)
                    && now.uptimeSeconds > secondsDown + 1;
        }
    }

    private RestartWatch(StatefulRedisConnection<byte[], byte[]> connection, String target, Server server,
                         ClientResources resources) {
        this.connection = connection;
        this.target = target;
        this.server = server;
        this.subscription = resources.eventBus().get().subscribe(e -> {
            if (e instanceof io.lettuce.core.event.connection.DisconnectedEvent) {
                disconnectedAt.compareAndSet(0, System.nanoTime());
            } else if (e instanceof ConnectionActivatedEvent) {
                check();
            }
        });
    }

    /** Watches the server {@code connection} is connected to now; empty when it does not say its run id. */
    static Optional<RestartWatch> start(StatefulRedisConnection<byte[], byte[]> connection, String target,
                                        ClientResources resources) {
        try {
            return Server.of(connection.sync().info())
                    .map(server -> new RestartWatch(connection, target, server, resources));
        } catch (io.lettuce.core.RedisCommandExecutionException refused) {
            return Optional.empty();
        }
    }

    /** Servers restarted under this connection since it opened. */
    long restarts() {
        return restarts.get();
    }

    private void check() {
        long down = disconnectedAt.getAndSet(0);
        double secondsDown = down == 0 ? Double.MAX_VALUE : (System.nanoTime() - down) / 1e9;
        connection.async().info().thenAccept(info -> Server.of(info).ifPresent(now -> {
            Server before = server;
            if (now.runId().equals(before.runId())) {
                return;
            }
            server = now;
            if (before.succeededBy(now, secondsDown)) {
                log.info("Redis at {} failed over to a replica (run_id {} -> {}): its data is kept", target,
                        before.runId(), now.runId());
                return;
            }
            restarts.incrementAndGet();
            log.warn("Redis at {} restarted or was replaced (run_id {} -> {}): blobs written since its last save are"
                    + " gone (all of them without persistence); the query services ask for each missing one as it is"
                    + " needed, `sac warm --rebuild` restores them all now", target, before.runId(), now.runId());
        }));   // a failed INFO (the link dropped again) is tried at the next reconnect
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
