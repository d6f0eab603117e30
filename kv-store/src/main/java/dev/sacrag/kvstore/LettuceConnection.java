package dev.sacrag.kvstore;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
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

/**
 * The one Lettuce client and long-lived connection of a store, standalone or cluster, seen
 * through the command interfaces both share ({@link RedisClusterCommands} is implemented by
 * the standalone and the cluster API alike), so the store has a single code path.
 *
 * <p>Options chosen for a cache that callers must be able to give up on quickly:
 * <ul>
 * <li>every command, async included, times out after {@code commandTimeout};</li>
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
 */
final class LettuceConnection implements AutoCloseable {

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<byte[], byte[]> connection;
    final RedisClusterCommands<byte[], byte[]> sync;
    final RedisClusterAsyncCommands<byte[], byte[]> async;

    private LettuceConnection(ClientResources resources, AbstractRedisClient client, StatefulConnection<byte[], byte[]> connection,
                              RedisClusterCommands<byte[], byte[]> sync, RedisClusterAsyncCommands<byte[], byte[]> async) {
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.sync = sync;
        this.async = async;
    }

    /** Connects now, so a wrong URL or a down Redis fails at start-up. */
    static LettuceConnection open(KvStoreConfig config) {
        ClientResources resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), config.maxReconnectDelay(), 2, TimeUnit.MILLISECONDS))
                .build();
        Duration timeout = config.commandTimeout();
        AbstractRedisClient client = null;
        try {
            if (config.target().isCluster()) {
                RedisClusterClient cluster = RedisClusterClient.create(resources, config.target().redisUris(timeout));
                client = cluster;
                cluster.setOptions(ClusterClientOptions.builder()
                        .timeoutOptions(TimeoutOptions.enabled(timeout))
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                        .autoReconnect(true)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers().build())
                        .build());
                StatefulRedisClusterConnection<byte[], byte[]> c = cluster.connect(ByteArrayCodec.INSTANCE);
                return new LettuceConnection(resources, client, c, c.sync(), c.async());
            }
            RedisClient single = RedisClient.create(resources, config.target().redisUris(timeout).get(0));
            client = single;
            single.setOptions(ClientOptions.builder()
                    .timeoutOptions(TimeoutOptions.enabled(timeout))
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .autoReconnect(true)
                    .build());
            StatefulRedisConnection<byte[], byte[]> c = single.connect(ByteArrayCodec.INSTANCE);
            return new LettuceConnection(resources, client, c, c.sync(), c.async());
        } catch (RuntimeException e) {
            if (client != null) {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
