package dev.sacrag.stack;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Redis Cluster of a few master-only redis-server processes on loopback, for testing
 * the cluster code path (hash tags, slot routing) without Docker.
 *
 * <p>Set up by hand rather than with {@code redis-cli --cluster create} so no second binary
 * and no interactive prompt are involved: each node gets an even range of the 16384 slots
 * (CLUSTER ADDSLOTSRANGE), the first node MEETs the others, and start waits until every node
 * reports {@code cluster_state:ok} with all slots assigned. No replicas: failover is Redis's
 * business, not what these tests check.
 */
public final class LocalRedisCluster implements AutoCloseable {

    public static final int SLOTS = 16384;
    private static final Duration FORM_TIMEOUT = Duration.ofSeconds(20);

    private final List<RedisServer> nodes;

    private LocalRedisCluster(List<RedisServer> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    public static LocalRedisCluster start(int masters) {
        if (masters < 1) {
            throw new IllegalArgumentException("a cluster needs at least one master, got " + masters);
        }
        List<RedisServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < masters; i++) {
                nodes.add(RedisServer.launch(RedisServer.Options.defaults().withClusterEnabled()));
            }
            for (int i = 0; i < masters; i++) {
                int first = i * SLOTS / masters;
                int last = (i + 1) * SLOTS / masters - 1;
                nodes.get(i).call("CLUSTER", "ADDSLOTSRANGE", Integer.toString(first), Integer.toString(last));
            }
            for (int i = 1; i < masters; i++) {
                RedisServer node = nodes.get(i);
                nodes.get(0).call("CLUSTER", "MEET", "127.0.0.1", Integer.toString(node.port()),
                        Integer.toString(node.clusterBusPort()));
            }
            awaitFormed(nodes);
            return new LocalRedisCluster(nodes);
        } catch (RuntimeException e) {
            nodes.forEach(RedisServer::close);
            throw e;
        }
    }

    private static void awaitFormed(List<RedisServer> nodes) {
        long deadline = System.nanoTime() + FORM_TIMEOUT.toNanos();
        String lastInfo = "";
        while (System.nanoTime() < deadline) {
            boolean allOk = true;
            for (RedisServer node : nodes) {
                lastInfo = (String) node.call("CLUSTER", "INFO");
                allOk &= lastInfo.contains("cluster_state:ok")
                        && lastInfo.contains("cluster_slots_ok:" + SLOTS)
                        && lastInfo.contains("cluster_known_nodes:" + nodes.size());
            }
            if (allOk) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while forming the Redis cluster", e);
            }
        }
        throw new IllegalStateException("Redis cluster of " + nodes.size() + " nodes did not form within "
                + FORM_TIMEOUT + "; last CLUSTER INFO:\n" + lastInfo);
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    /** One redis:// URL per node: the seed list a cluster client takes. */
    public List<String> urls() {
        return nodes.stream().map(RedisServer::url).toList();
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }
}
