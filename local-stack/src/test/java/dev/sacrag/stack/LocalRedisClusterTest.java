package dev.sacrag.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class LocalRedisClusterTest {

    @Test
    void threeMastersShareAllSlots() {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3)) {
            assertEquals(3, cluster.urls().size());
            for (RedisServer node : cluster.nodes()) {
                String info = (String) node.call("CLUSTER", "INFO");
                assertTrue(info.contains("cluster_state:ok"), info);
                assertTrue(info.contains("cluster_slots_assigned:16384"), info);
            }
            // Every slot has exactly one owner: CLUSTER SLOTS lists three disjoint ranges.
            List<?> ranges = (List<?>) cluster.nodes().get(0).call("CLUSTER", "SLOTS");
            long covered = ranges.stream().map(r -> (List<?>) r)
                    .mapToLong(r -> (Long) r.get(1) - (Long) r.get(0) + 1).sum();
            assertEquals(16384, covered);
        }
    }

    @Test
    void aKeyIsServedOnlyByTheNodeOwningItsSlot() {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3)) {
            long slot = (Long) cluster.nodes().get(0).call("CLUSTER", "KEYSLOT", "doc{42}");
            int owner = 0;
            while (owner < 2 && slot >= (owner + 1) * 16384L / 3) {
                owner++; // ranges as LocalRedisCluster assigns them: [i*16384/3, (i+1)*16384/3)
            }
            assertEquals("OK", cluster.nodes().get(owner).call("SET", "doc{42}", "v"));
            RedisServer other = cluster.nodes().get((owner + 1) % 3);
            RespConnection.RedisErrorReply moved = assertThrows(
                    RespConnection.RedisErrorReply.class, () -> other.call("GET", "doc{42}"));
            assertTrue(moved.getMessage().startsWith("MOVED " + slot), moved.getMessage());
        }
    }
}
