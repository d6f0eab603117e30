package dev.sacrag.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.sacrag.stack.RedisServer;
import io.lettuce.core.RedisCommandExecutionException;

/** Redis under a memory limit: what callers see when blobs are evicted or cannot be written. */
class AnchorKvStoreEvictionTest {

    private static final long LIMIT = 16L << 20;

    @Test
    void underAllkeysLruOldBlobsAreEvictedAndReadAsAbsent() {
        RedisServer.Options options = RedisServer.Options.defaults().withMaxMemory(LIMIT, RedisServer.EvictionPolicy.ALLKEYS_LRU);
        try (RedisServer redis = RedisServer.launch(options);
             AnchorKvStore store = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(redis.url())))) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 40; i++) { // 40 x 1 MiB into 16 MiB: writes keep succeeding
                String key = RedisKeys.blobKey("acme", "m1", "doc-" + i, 1);
                store.put(key, AnchorKvStoreTest.randomBytes(i, 1 << 20), Optional.empty());
                keys.add(key);
            }
            // Reads can trigger further evictions (reply buffers count against maxmemory), so
            // only the direction is checked: an evicted blob never comes back.
            List<String> evicted = keys.stream().filter(k -> !store.exists(k)).toList();
            assertTrue(!evicted.isEmpty() && evicted.size() < 40, evicted.size() + " of 40 blobs evicted");
            assertTrue(store.get(keys.get(39)).isPresent(), "the newest blob survives LRU");
            evicted.forEach(k -> assertTrue(store.get(k).isEmpty(), k));
            assertTrue(store.getAll(evicted).isEmpty());
        }
    }

    @Test
    void underNoEvictionAFullRedisRefusesWritesAsUnavailable() {
        RedisServer.Options options = RedisServer.Options.defaults().withMaxMemory(LIMIT, RedisServer.EvictionPolicy.NO_EVICTION);
        try (RedisServer redis = RedisServer.launch(options);
             AnchorKvStore store = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(redis.url())))) {
            KvStoreUnavailableException e = assertThrows(KvStoreUnavailableException.class, () -> {
                for (int i = 0; i < 40; i++) {
                    store.put(RedisKeys.blobKey("acme", "m1", "doc-" + i, 1), AnchorKvStoreTest.randomBytes(i, 1 << 20), Optional.empty());
                }
            });
            assertEquals("SET", e.operation());
            assertTrue(e.getCause() instanceof RedisCommandExecutionException, String.valueOf(e.getCause()));
            assertTrue(e.getMessage().contains("OOM"), e.getMessage());
        }
    }
}
