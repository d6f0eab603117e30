package dev.sacrag.kvstore;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.protocol.ProtocolKeyword;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The one Lettuce client and long-lived connection of a store, standalone or cluster, seen
 * through the command interfaces both share ({@link RedisClusterCommands} is implemented by
 * the standalone and the cluster API alike), so the store has a single code path.
 *
 * <p>Options chosen for a cache that callers must be able to give up on quickly:
 * <ul>
 * <li>every command, async included, times out after {@code commandTimeout}, except the blob
 * SETs of {@link AnchorKvStore#put} and the GETs of {@link AnchorKvStore#getBlob},
 * {@link AnchorKvStore#getAll} and {@link AnchorKvStore#readAll} ({@link BlobCommand}), which the
 * store times itself by the sizes expected (and cancels when it gives up: a cancelled command
 * that still waits, e.g. for a reconnect, is not sent);</li>
 * <li>single server: while disconnected, commands are rejected at once instead of queued — a
 * query should get UNAVAILABLE now, not after a timeout, and a long outage must not pile up a
 * backlog;</li>
 * <li>cluster: commands are accepted while disconnected and bounded by the timeout instead,
 * because Lettuce opens node connections lazily and, with REJECT_COMMANDS, rejects the first
 * commands to every node it has not connected to yet (redis/lettuce#2085, #3747);</li>
 * <li>auto-reconnect with exponential back-off capped at {@code maxReconnectDelay};</li>
 * <li>cluster: topology refreshed on MOVED/ASK and reconnect triggers, so resharding and
 * failover are followed.</li>
 * </ul>
 *
 * <p>The command timeouts run on a timer that ticks every {@value #TIMER_TICK_MILLIS} ms, not
 * Netty's default 100 ms: each command's timeout holds the command, and so its reply, until the
 * timer's next tick processes the cancellation, however early the reply came. With 100 ms ticks
 * a client fetching blobs at GB/s keeps ~100 MB of finished replies reachable; young GCs then
 * copy and promote them (measured with 512 KiB GETs on a loaded 2-core VM: G1 pauses of 1.2-3.6 s
 * per 6 s of fetching at 0.4-0.55 GB/s, against 0.13-0.39 s at 0.7-1.4 GB/s with 10 ms ticks).
 * {@link AnchorKvStore#readAll} is immune either way: its replies are pooled arrays.
 */
final class LettuceConnection implements AutoCloseable {

    static final long TIMER_TICK_MILLIS = 10;
    static final String TIMER_THREAD_NAME = "kv-store-timeouts";

    private final HashedWheelTimer timer;
    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<byte[], byte[]> connection;
    final RedisClusterCommands<byte[], byte[]> sync;
    final RedisClusterAsyncCommands<byte[], byte[]> async;
    private final boolean cluster;
    private final java.util.Optional<RestartWatch> restarts;

    private LettuceConnection(HashedWheelTimer timer, ClientResources resources, AbstractRedisClient client,
                              StatefulConnection<byte[], byte[]> connection,
                              RedisClusterCommands<byte[], byte[]> sync, RedisClusterAsyncCommands<byte[], byte[]> async,
                              boolean cluster, java.util.Optional<RestartWatch> restarts) {
        this.restarts = restarts;
        this.timer = timer;
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.sync = sync;
        this.async = async;
        this.cluster = cluster;
    }

    /**
     * Connects now, so a wrong URL or a down Redis fails at start-up. Several URLs mean a
     * cluster; a single URL is asked first ({@link #clusterEnabled}), so one address of a
     * cluster of several nodes (a managed service's configuration endpoint, say) gets the
     * cluster client too instead of MOVED errors for every key the node it names does not own.
     */
    static LettuceConnection open(KvStoreConfig config) {
        HashedWheelTimer timer = new HashedWheelTimer(new DefaultThreadFactory(TIMER_THREAD_NAME, true),
                TIMER_TICK_MILLIS, TimeUnit.MILLISECONDS);
        ClientResources resources = DefaultClientResources.builder()
                .timer(timer)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), config.maxReconnectDelay(), 2, TimeUnit.MILLISECONDS))
                .build();
        Duration timeout = config.commandTimeout();
        AbstractRedisClient client = null;
        try {
            if (!config.target().isCluster()) {
                RedisClient single = RedisClient.create(resources, config.target().redisUris(timeout).get(0));
                client = single;
                single.setOptions(ClientOptions.builder()
                        .socketOptions(socketOptions())
                        .timeoutOptions(timeouts(timeout))
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .autoReconnect(true)
                        .build());
                StatefulRedisConnection<byte[], byte[]> c = single.connect(ByteArrayCodec.INSTANCE);
                if (!clusterEnabled(c)) {
                    return new LettuceConnection(timer, resources, client, c, c.sync(), c.async(), false,
                            RestartWatch.start(c, config.target().toString(), resources));
                }
                c.close();
                single.shutdown(Duration.ZERO, Duration.ofSeconds(2));
                client = null;
            }
            RedisClusterClient cluster = RedisClusterClient.create(resources, config.target().redisUris(timeout));
            client = cluster;
            cluster.setOptions(ClusterClientOptions.builder()
                    .socketOptions(socketOptions())
                    .timeoutOptions(timeouts(timeout))
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                    .autoReconnect(true)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers().build())
                    .build());
            StatefulRedisClusterConnection<byte[], byte[]> c = cluster.connect(ByteArrayCodec.INSTANCE);
            return new LettuceConnection(timer, resources, client, c, c.sync(), c.async(), true, java.util.Optional.empty());
        } catch (RuntimeException e) {
            if (client != null) {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            timer.stop();
            throw e;
        }
    }

    /**
     * SET and GET under keywords of their own: the command Redis gets is the same, but the timeout
     * source can tell the blob transfers of {@link AnchorKvStore#put}, {@link AnchorKvStore#getBlob}
     * and the pipelined reads, which it leaves untimed (the store times them by their size), from
     * any other SET or GET.
     */
    enum BlobCommand implements ProtocolKeyword {
        SET, GET;

        private final byte[] bytes = name().getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        @Override
        public byte[] getBytes() {
            return bytes;
        }
    }

    /**
     * How long sent data may go unacknowledged before the kernel drops the connection
     * (TCP_USER_TIMEOUT). Without it a peer that vanished without a reset (a failover whose old
     * address now drops packets, a partition) left the connection "up" for the kernel's
     * retransmission limit, about 15 minutes: every command waited out its timeout, and an untimed
     * blob SET never ended, so the store refused every put behind it. A healthy link acknowledges
     * a large transfer as it goes, so this does not limit a slow one.
     */
    static final Duration TCP_USER_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Keepalive probes after 15 s idle, every 5 s, 3 unanswered: an idle connection to a vanished
     * peer is found in about 30 s, not the kernel's 2 hours. Both need Linux's native transport
     * (netty-transport-native-epoll, a dependency of this module); Lettuce uses it when it loads.
     */
    static SocketOptions socketOptions() {
        return SocketOptions.builder()
                .keepAlive(SocketOptions.KeepAliveOptions.builder().enable()
                        .idle(Duration.ofSeconds(15)).interval(Duration.ofSeconds(5)).count(3).build())
                .tcpUserTimeout(SocketOptions.TcpUserTimeoutOptions.builder().enable()
                        .tcpUserTimeout(TCP_USER_TIMEOUT).build())
                .build();
    }

    /** Every command times out after {@code timeout}, except the blob transfers (see the class comment). */
    private static TimeoutOptions timeouts(Duration timeout) {
        long millis = timeout.toMillis();
        return TimeoutOptions.builder().timeoutCommands().timeoutSource(new TimeoutOptions.TimeoutSource() {
            @Override
            public long getTimeout(RedisCommand<?, ?, ?> command) {
                return command.getType() instanceof BlobCommand ? 0 : millis;   // 0: no timeout
            }

            @Override
            public TimeUnit getTimeUnit() {
                return TimeUnit.MILLISECONDS;
            }
        }).build();
    }

    /**
     * Whether the server is one node of a cluster of several. A single-node cluster holds every
     * slot itself, so the standalone client serves it, also where the address the node announces
     * is not reachable from here (NAT, a port mapping) as the cluster client would need. A server
     * that refuses INFO or CLUSTER INFO (renamed, ACL) is taken as standalone.
     */
    private static boolean clusterEnabled(StatefulRedisConnection<byte[], byte[]> c) {
        try {
            if (RedisInfo.field(c.sync().info("cluster"), "cluster_enabled").filter("1"::equals).isEmpty()) {
                return false;
            }
            return RedisInfo.field(c.sync().clusterInfo(), "cluster_known_nodes").map(Integer::parseInt)
                    .filter(nodes -> nodes > 1).isPresent();
        } catch (io.lettuce.core.RedisCommandExecutionException | NumberFormatException e) {
            return false;
        }
    }

    /** A READONLY reply has the connection dialled again at most this often: a replica named by mistake answers every write so. */
    static final Duration REDIAL_EVERY = Duration.ofSeconds(1);

    /** nanoTime of the last {@link #redial}; starts a period back, so the first one goes at once. */
    private final java.util.concurrent.atomic.AtomicLong lastRedial =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - REDIAL_EVERY.toNanos());

    /**
     * Why the last {@link #redial} could not drop the connection; null when it did. The writes
     * refused in the period after it say the same, where they said it was dialled again: the
     * restart to do was then in one message a second, among many saying all was in hand.
     */
    private final java.util.concurrent.atomic.AtomicReference<String> redialRefused =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Has the server close this connection (CLIENT KILL of its own id, SKIPME no) so that Lettuce
     * dials the address again, resolving it anew. For a server that answered a write READONLY: a
     * failover behind one address (a managed service's primary endpoint, a DNS name moved to the
     * promoted replica) leaves an open connection on the old primary, now a replica, and Lettuce
     * redials only a connection that drops, so every write failed READONLY until a restart. At
     * most once per {@link #REDIAL_EVERY}; standalone only (a cluster's replicas answer MOVED).
     *
     * @return what became of it, or of the last try within the period, for the caller's message
     */
    String redial() {
        if (cluster) {
            return "";
        }
        long last = lastRedial.get();
        long now = System.nanoTime();
        if (now - last < REDIAL_EVERY.toNanos() || !lastRedial.compareAndSet(last, now)) {
            String refused = redialRefused.get();
            return refused != null ? refused
                    : "; the connection was dialled again within the last " + REDIAL_EVERY.toSeconds() + " s";
        }
        try {
            sync.clientKill(io.lettuce.core.KillArgs.Builder.id(sync.clientId()).skipme(false));
            redialRefused.set(null);
            return "; dialling its address again";
        } catch (io.lettuce.core.RedisException e) {   // CLIENT refused (ACL, renamed): nothing else drops it
            String refused = "; the connection could not be dropped to dial the address again (" + e.getMessage()
                    + "): restart the service once the primary is back at that address";
            redialRefused.set(refused);
            return refused;
        }
    }

    /** Whether this is the cluster client (several URLs, or one URL of a cluster node). */
    boolean cluster() {
        return cluster;
    }

    /** Restarts of the (standalone) server seen under this connection ({@link RestartWatch}); 0 where not watched. */
    long serverRestarts() {
        return restarts.map(RestartWatch::restarts).orElse(0L);
    }

    @Override
    public void close() {
        restarts.ifPresent(RestartWatch::close);
        try {
            connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            timer.stop(); // ours, so not stopped by the resources
        }
    }
}
