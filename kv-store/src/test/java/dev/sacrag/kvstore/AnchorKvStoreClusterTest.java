package dev.sacrag.kvstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sacrag.stack.LocalRedisCluster;
import dev.sacrag.stack.RedisServer;

/** The same store against a real 3-master Redis Cluster: routing by hash tag, cross-slot pipelines. */
class AnchorKvStoreClusterTest {

    private static LocalRedisCluster cluster;
    private static AnchorKvStore store;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.start(3);
        store = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.of(cluster.urls())));
        assertTrue(store.target().isCluster() && store.cluster());
    }

    @AfterAll
    static void stop() {
        store.close();
        cluster.close();
    }

    @Test
    void blobsSpreadOverNodesAndComeBackThroughOnePipeline() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String key = RedisKeys.blobKey("acme", "m1", "doc-" + i, 1);
            store.put(key, AnchorKvStoreTest.randomBytes(i, 100 + i), Optional.empty());
            keys.add(key);
        }
        for (RedisServer node : cluster.nodes()) {
            assertTrue((Long) node.call("DBSIZE") > 0, "every master holds some documents");
        }
        Map<String, byte[]> found = store.getAll(keys);
        assertEquals(60, found.size());
        for (int i = 0; i < 60; i++) {
            assertArrayEquals(AnchorKvStoreTest.randomBytes(i, 100 + i), found.get(keys.get(i)));
        }
        Map<String, byte[]> lent = store.readAll(keys, (k, b) -> {
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            return copy;
        });
        assertEquals(keys, List.copyOf(lent.keySet()));
        for (int i = 0; i < 60; i++) {
            assertArrayEquals(AnchorKvStoreTest.randomBytes(i, 100 + i), lent.get(keys.get(i)));
        }
    }

    /** One address of a cluster (a managed service's configuration endpoint) must reach every slot. */
    @Test
    void oneNodesUrlIsEnoughToUseTheWholeCluster() {
        try (AnchorKvStore one = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.of(cluster.urls().subList(0, 1))))) {
            assertTrue(one.cluster(), "connected to a cluster node as to a single server");
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                String key = RedisKeys.blobKey("one-url", "m1", "doc-" + i, 1);
                one.put(key, AnchorKvStoreTest.randomBytes(i, 50), Optional.empty());
                keys.add(key);
            }
            assertEquals(30, one.getAll(keys).size());
            assertEquals(30, store.getAll(keys).size());
        }
    }

    /** One node holding every slot: the standalone client serves it, reachable or not by the address it announces. */
    @Test
    void aSingleNodeClusterIsServedAsOneServer() {
        try (LocalRedisCluster single = LocalRedisCluster.start(1);
             AnchorKvStore one = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.of(single.urls())))) {
            assertFalse(one.cluster());
            String key = RedisKeys.blobKey("single", "m1", "doc-1", 1);
            one.put(key, new byte[] {7}, Optional.empty());
            assertArrayEquals(new byte[] {7}, one.get(key).orElseThrow());
        }
    }

    @Test
    void everyVersionOfADocumentLivesOnTheNodeOwningItsTagAndIsDeletedTogether() {
        List<String> versions = List.of(
                RedisKeys.blobKey("acme", "m1", "handbook.md", 1),
                RedisKeys.blobKey("acme", "m1", "handbook.md", 2),
                RedisKeys.blobKey("acme", "m2", "handbook.md", 2));
        versions.forEach(k -> store.put(k, new byte[] {1}, Optional.empty()));
        String other = RedisKeys.blobKey("acme", "m1", "other.md", 1);
        store.put(other, new byte[] {2}, Optional.empty());

        int slot = RedisKeys.hashSlot(versions.get(0));
        long holders = cluster.nodes().stream()
                .filter(n -> (Long) n.call("CLUSTER", "COUNTKEYSINSLOT", Integer.toString(slot)) == versions.size())
                .count();
        assertEquals(1, holders, "one node holds all " + versions.size() + " versions in slot " + slot);

        assertEquals(3, store.deleteDoc("acme", "handbook.md"));
        versions.forEach(k -> assertFalse(store.exists(k), k));
        assertTrue(store.exists(other));
    }

    @Test
    void deletingAModelReachesEveryMaster() {
        List<String> model = java.util.stream.IntStream.range(0, 40)
                .mapToObj(i -> RedisKeys.blobKey("acme", "retired", "doc-" + i, 1)).toList();
        model.forEach(k -> store.put(k, new byte[] {1}, Optional.empty()));
        String kept = RedisKeys.blobKey("acme", "served", "doc-0", 1);
        store.put(kept, new byte[] {2}, Optional.empty());
        long mastersHolding = cluster.nodes().stream().filter(n -> (Long) n.call("DBSIZE") > 0).count();
        assertEquals(cluster.nodes().size(), mastersHolding, "the model's blobs spread over every master");

        assertEquals(model.size(), store.deleteModel("retired"));
        model.forEach(k -> assertFalse(store.exists(k), k));
        assertTrue(store.exists(kept));
    }
}
