package dev.sacrag.kvstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.stack.RedisServer;
import io.lettuce.core.RedisCommandTimeoutException;

class AnchorKvStoreTest {

    private static RedisServer redis;
    private static AnchorKvStore store;

    @BeforeAll
    static void start() {
        redis = RedisServer.launch();
        store = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(redis.url())));
        assertFalse(store.cluster(), "a plain redis-server is not a cluster");
    }

    @AfterAll
    static void stop() {
        store.close();
        redis.close();
    }

    @AfterEach
    void restartAndFlush() {
        redis.start(); // a test may have stopped it
        awaitAvailable(store);
        redis.flushAll();
    }

    @Test
    void aKeyHoldingAnotherTypeReadsAsNoBlobAndAPutReplacesIt() {
        String key = RedisKeys.blobKey("acme", "m1", "taken", 1);
        String other = RedisKeys.blobKey("acme", "m1", "kept", 1);
        redis.call("HSET", key, "field", "another program's hash");
        store.put(other, new byte[] {7}, Optional.empty());

        assertTrue(store.get(key).isEmpty(), "WRONGTYPE is no blob, not an outage to retry");
        assertEquals(List.of(other), List.copyOf(store.getAll(List.of(key, other)).keySet()));
        assertEquals(List.of(other), List.copyOf(store.readAll(List.of(key, other), (k, b) -> b.remaining()).keySet()));
        store.put(key, new byte[] {1, 2}, Optional.empty());
        assertArrayEquals(new byte[] {1, 2}, store.get(key).orElseThrow(), "SET replaced the hash");
    }

    /**
     * A failover behind one address (a managed service's primary endpoint): the open connection stays
     * with the old primary, now a replica, which answers every write READONLY; only a connection
     * dialled again reaches the promoted one.
     */
    @Test
    void aWriteRefusedByAReplicaDialsTheAddressAgainAndReachesTheServerItNowNames() {
        try (RedisServer promoted = RedisServer.launch(); SwitchingProxy endpoint = new SwitchingProxy(redis.port());
             AnchorKvStore viaEndpoint = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse("redis://127.0.0.1:"
                     + endpoint.port())))) {
            String key = RedisKeys.blobKey("acme", "m1", "after-failover", 1);
            viaEndpoint.put(RedisKeys.blobKey("acme", "m1", "before-failover", 1), new byte[] {1}, Optional.empty());
            redis.call("REPLICAOF", "127.0.0.1", Integer.toString(promoted.port()));
            endpoint.switchTo(promoted.port());

            KvStoreUnavailableException refused = assertThrows(KvStoreUnavailableException.class,
                    () -> viaEndpoint.put(key, new byte[] {2}, Optional.empty()));
            assertTrue(refused.getMessage().contains("READONLY") && refused.getMessage().contains("a failover demoted it")
                    && refused.getMessage().contains("dialling its address again"), refused.getMessage());
            long t0 = System.nanoTime();
            while (true) {   // the redial takes a moment; until then a put fails at once ("not connected")
                try {
                    viaEndpoint.put(key, new byte[] {2}, Optional.empty());
                    break;
                } catch (KvStoreUnavailableException e) {
                    if (System.nanoTime() - t0 > Duration.ofSeconds(10).toNanos()) {
                        throw new AssertionError("the store still writes to the demoted server", e);
                    }
                    sleep(20);
                }
            }
            assertEquals(1L, promoted.call("EXISTS", key), "the write reached the promoted server");
        } finally {
            redis.call("REPLICAOF", "NO", "ONE");
        }
    }

    /**
     * A replica whose ACL refuses CLIENT KILL (as some managed services do) keeps the connection: every
     * write it refuses says so, with the restart to do, not only the one that tried in that second.
     */
    @Test
    void aReplicaThatRefusesClientKillSaysSoOnEveryWriteItRefuses() {
        try (RedisServer replica = RedisServer.launch();
             AnchorKvStore viaReplica = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(replica.url())))) {
            replica.call("ACL", "SETUSER", "default", "-client|kill");
            replica.call("REPLICAOF", "127.0.0.1", Integer.toString(redis.port()));
            String key = RedisKeys.blobKey("acme", "m1", "refused", 1);

            long t0 = System.nanoTime();
            for (int attempt = 1; attempt <= 3; attempt++) {
                KvStoreUnavailableException refused = assertThrows(KvStoreUnavailableException.class,
                        () -> viaReplica.put(key, new byte[] {1}, Optional.empty()));
                assertTrue(refused.getMessage().contains("READONLY") && refused.getMessage().contains("could not be dropped")
                        && refused.getMessage().contains("NOPERM") && refused.getMessage().contains("restart the service"),
                        "write " + attempt + ": " + refused.getMessage());
            }
            assertTrue(System.nanoTime() - t0 < LettuceConnection.REDIAL_EVERY.toNanos(),
                    "the later writes came within the period in which no second CLIENT KILL is tried");
        }
    }

    @Test
    void putThenGetExistsAndDelete() {
        String key = RedisKeys.blobKey("acme", "m1", "doc-1", 1);
        byte[] blob = randomBytes(1, 10_000);

        store.put(key, blob, Optional.empty());

        assertTrue(store.exists(key));
        assertArrayEquals(blob, store.get(key).orElseThrow());
        assertEquals((long) blob.length, redis.call("STRLEN", key), "stored as one binary string under that exact key");
        assertEquals(-1L, redis.call("PTTL", key), "no TTL unless asked");
        assertTrue(store.delete(key));
        assertFalse(store.exists(key));
        assertTrue(store.get(key).isEmpty());
        assertFalse(store.delete(key));
    }

    @Test
    void requireVersionReadsTheServersVersionAndSaysWhatToUpgrade() {
        store.requireVersion(7, 0, "PEXPIRE ... LT");   // the redis-server the tests start is 7.0 or later
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.requireVersion(99, 0, "a future command"));
        assertTrue(e.getMessage().contains("a future command needs 99.0 or later: upgrade redis-server"), e.getMessage());

        assertArrayEquals(new int[] {6, 0}, AnchorKvStore.serverVersion("# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n")
                .orElseThrow());
        assertTrue(AnchorKvStore.serverVersion("# Server\r\nredis_mode:standalone\r\n").isEmpty(), "no version: no claim");
    }

    @Test
    void largestValueBytesIsTheSmallerOfTheServersBulkLengthAndMemoryLimits() {
        try {
            assertEquals(java.util.OptionalLong.of(512L << 20), store.largestValueBytes(),
                    "the defaults: proto-max-bulk-len 512 MiB, no maxmemory");
            redis.call("CONFIG", "SET", "proto-max-bulk-len", "64mb");
            assertEquals(java.util.OptionalLong.of(64L << 20), store.largestValueBytes());
            redis.call("CONFIG", "SET", "maxmemory", "48mb");
            assertEquals(java.util.OptionalLong.of(48L << 20), store.largestValueBytes());
        } finally {
            redis.call("CONFIG", "SET", "maxmemory", "0");
            redis.call("CONFIG", "SET", "proto-max-bulk-len", "512mb");
        }
    }

    @Test
    void blobWithTtlExpires() throws InterruptedException {
        String key = RedisKeys.blobKey("acme", "m1", "short-lived", 1);
        store.put(key, randomBytes(2, 100), Optional.of(Duration.ofMillis(2000)));
        long pttl = (Long) redis.call("PTTL", key);
        assertTrue(pttl > 0 && pttl <= 2000, "PTTL " + pttl);
        assertTrue(store.exists(key));

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (store.exists(key) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(store.exists(key), "expired after its TTL");
        assertTrue(store.get(key).isEmpty());
    }

    @Test
    void refusesANonPositiveTtl() {
        String key = RedisKeys.blobKey("acme", "m1", "d", 1);
        assertThrows(IllegalArgumentException.class, () -> store.put(key, new byte[1], Optional.of(Duration.ZERO)));
        assertFalse(store.exists(key));
    }

    @Test
    void expireWithinShortensATtlButNeverLengthensOne() {
        String persistent = RedisKeys.blobKey("acme", "m1", "retired", 1);
        String soon = RedisKeys.blobKey("acme", "m1", "retired", 2);
        String later = RedisKeys.blobKey("acme", "m1", "retired", 3);
        store.put(persistent, randomBytes(3, 100), Optional.empty());
        store.put(soon, randomBytes(4, 100), Optional.of(Duration.ofSeconds(20)));
        store.put(later, randomBytes(5, 100), Optional.of(Duration.ofHours(2)));

        assertTrue(store.expireWithin(persistent, Duration.ofMinutes(2)));
        assertTrue(store.expireWithin(soon, Duration.ofMinutes(2)), "exists, though its TTL stays");
        assertTrue(store.expireWithin(later, Duration.ofMinutes(2)));
        assertFalse(store.expireWithin(RedisKeys.blobKey("acme", "m1", "never-written", 1), Duration.ofMinutes(2)));

        long minute = Duration.ofMinutes(1).toMillis();
        long pttl = (Long) redis.call("PTTL", persistent);
        assertTrue(pttl > minute && pttl <= 2 * minute, "a key without a TTL gets the grace: " + pttl);
        pttl = (Long) redis.call("PTTL", soon);
        assertTrue(pttl > 0 && pttl <= 20_000, "an earlier expiry is kept: " + pttl);
        pttl = (Long) redis.call("PTTL", later);
        assertTrue(pttl > minute && pttl <= 2 * minute, "a later expiry is brought forward: " + pttl);
        assertThrows(IllegalArgumentException.class, () -> store.expireWithin(persistent, Duration.ZERO));
    }

    @Test
    void getAllFetchesFiftyBlobsOfMixedSizesInOnePipeline() {
        AnchorKv big = randomAnchorKv(); // f32: 8 layers x K,V x 2 heads x 512 anchors x 64 = 4 MiB
        byte[] bigBlob = AnchorKvCodec.encode(big, KvDtype.F32);
        assertTrue(bigBlob.length > 4 << 20, "blob is " + bigBlob.length + " bytes");

        List<String> keys = new ArrayList<>();
        List<byte[]> blobs = new ArrayList<>();
        Random sizes = new Random(7);
        for (int i = 0; i < 50; i++) {
            String key = RedisKeys.blobKey("acme", big.modelId(), "doc-" + i, i);
            byte[] blob = i == 25 ? bigBlob : randomBytes(i, 1 + sizes.nextInt(i % 5 == 0 ? 300_000 : 3_000));
            store.put(key, blob, Optional.empty());
            keys.add(key);
            blobs.add(blob);
        }
        String missing = RedisKeys.blobKey("acme", big.modelId(), "never-written", 1);
        List<String> request = new ArrayList<>(keys);
        request.add(10, missing);
        request.add(keys.get(3)); // duplicates are fetched once

        Map<String, byte[]> found = store.getAll(request);

        assertEquals(50, found.size());
        assertFalse(found.containsKey(missing));
        assertEquals(keys, List.copyOf(found.keySet()), "results keep the request order");
        for (int i = 0; i < 50; i++) {
            assertArrayEquals(blobs.get(i), found.get(keys.get(i)), keys.get(i));
        }
        AnchorKv decoded = AnchorKvCodec.decode(found.get(keys.get(25)), big.modelId());
        assertArrayEquals(big.keys()[7], decoded.keys()[7]);
        assertArrayEquals(big.values()[0], decoded.values()[0]);
    }

    @Test
    void readAllLendsTheSameBlobsAsGetAllToTheReaderInRequestOrder() {
        AnchorKv big = randomAnchorKv();
        byte[] bigBlob = AnchorKvCodec.encode(big, KvDtype.F32);
        List<String> keys = new ArrayList<>();
        List<byte[]> blobs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String key = RedisKeys.blobKey("acme", big.modelId(), "doc-" + i, i);
            byte[] blob = i == 5 ? bigBlob : randomBytes(i, i % 3 == 0 ? 300_000 + i : 1 + 100 * i);
            store.put(key, blob, Optional.empty());
            keys.add(key);
            blobs.add(blob);
        }
        store.put(RedisKeys.blobKey("acme", big.modelId(), "empty", 1), new byte[0], Optional.empty());
        String missing = RedisKeys.blobKey("acme", big.modelId(), "never-written", 1);
        List<String> request = new ArrayList<>(keys);
        request.add(4, missing);
        request.add(keys.get(2));
        request.add(RedisKeys.blobKey("acme", big.modelId(), "empty", 1));

        List<String> readOrder = new ArrayList<>();
        Map<String, byte[]> found = store.readAll(request, (k, b) -> {
            readOrder.add(k);
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            return copy;
        });

        assertEquals(List.copyOf(store.getAll(request).keySet()), List.copyOf(found.keySet()));
        assertEquals(List.copyOf(found.keySet()), readOrder, "the reader sees each key once, in request order");
        assertEquals(13, found.size());
        for (int i = 0; i < 12; i++) {
            assertArrayEquals(blobs.get(i), found.get(keys.get(i)), keys.get(i));
        }
        assertArrayEquals(new byte[0], found.get(RedisKeys.blobKey("acme", big.modelId(), "empty", 1)));

        Map<String, AnchorKv> decoded = store.readAll(List.of(keys.get(5)), (k, b) -> AnchorKvCodec.decode(b, big.modelId()));
        assertArrayEquals(big.keys()[7], decoded.get(keys.get(5)).keys()[7]);
        assertArrayEquals(big.values()[0], decoded.get(keys.get(5)).values()[0]);
        assertEquals(Optional.of(bigBlob.length), store.read(keys.get(5), (k, b) -> b.remaining()));
        assertTrue(store.read(missing, (k, b) -> b.remaining()).isEmpty());
        assertTrue(store.readAll(List.of(), (k, b) -> b.remaining()).isEmpty());
    }

    @Test
    void readReusesOneArrayForALargeBlobAndNeverShowsStaleBytes() {
        String key = RedisKeys.blobKey("acme", "m1", "big", 1);
        byte[] first = randomBytes(1, 3 << 20);
        byte[] second = randomBytes(2, (3 << 20) - 1000); // fits the same array, so must not show the old tail
        store.put(key, first, Optional.empty());
        List<byte[]> arrays = new ArrayList<>();
        BlobReader<byte[]> copy = (k, b) -> {
            arrays.add(b.array());
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        };

        assertArrayEquals(first, store.read(key, copy).orElseThrow());
        store.put(key, second, Optional.empty());
        assertArrayEquals(second, store.read(key, copy).orElseThrow());
        assertArrayEquals(second, store.readAll(List.of(key), copy).get(key));

        assertTrue(arrays.get(0) == arrays.get(1) && arrays.get(1) == arrays.get(2), "the pooled array is reused");
        assertTrue(store.readBuffers().freeBytes() >= first.length, "and given back after each read");
    }

    @Test
    void aFailingReaderPropagatesAndEveryLentArrayComesBack() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String key = RedisKeys.blobKey("acme", "m1", "bad-" + i, 1);
            store.put(key, randomBytes(i, (1 << 20) + i), Optional.empty());
            keys.add(key);
        }
        long before = store.readBuffers().freeBytes();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.readAll(keys, (k, b) -> {
            if (b.remaining() == (1 << 20) + 1) {
                throw new IllegalStateException("unreadable");
            }
            return b.remaining();
        }));
        assertEquals("unreadable", e.getMessage());
        assertTrue(store.readBuffers().freeBytes() >= before + 3L * (1 << 20),
                "all three arrays are back: " + store.readBuffers().freeBytes());
        assertEquals(3, store.readAll(keys, (k, b) -> b.remaining()).size(), "the store still works");
    }

    @Test
    void getAllOfNothingIsEmpty() {
        assertTrue(store.getAll(List.of()).isEmpty());
    }

    @Test
    void deleteDocRemovesEveryVersionAndModelButNoOtherDocument() {
        List<String> doomed = List.of(
                RedisKeys.blobKey("acme", "m1", "a*b", 1),
                RedisKeys.blobKey("acme", "m1", "a*b", 2),
                RedisKeys.blobKey("acme", "m2", "a*b", 2),
                new BlobKey("acme", 0, "m1", "a*b", 1).redisKey());
        List<String> survivors = List.of(
                RedisKeys.blobKey("acme", "m1", "aXb", 1),      // would match if '*' were a glob
                RedisKeys.blobKey("acme", "m1", "a*b.bak", 1),
                RedisKeys.blobKey("acme", "m1", "a", 1),
                RedisKeys.blobKey("other", "m1", "a*b", 1),     // same doc id, other tenant
                RedisKeys.blobKey("acme:x", "m1", "a*b", 1));
        assertDeletesExactly(doomed, survivors, () -> store.deleteDoc("acme", "a*b"));
    }

    /** Writes {@code doomed} and {@code survivors}; {@code delete} must remove exactly the former, then nothing. */
    private void assertDeletesExactly(List<String> doomed, List<String> survivors, java.util.function.LongSupplier delete) {
        doomed.forEach(k -> store.put(k, new byte[] {1}, Optional.empty()));
        survivors.forEach(k -> store.put(k, new byte[] {2}, Optional.empty()));
        assertEquals(doomed.size(), delete.getAsLong());
        doomed.forEach(k -> assertFalse(store.exists(k), k));
        survivors.forEach(k -> assertTrue(store.exists(k), k));
        assertEquals(0, delete.getAsLong());
    }

    @Test
    void deleteModelRemovesEveryBlobOfTheModelAndNothingOfAnother() {
        List<String> doomed = List.of(
                RedisKeys.blobKey("acme", "m1", "a", 1),
                RedisKeys.blobKey("acme", "m1", "a", 2),
                RedisKeys.blobKey("other", "m1", "b:{x}", 1),
                new BlobKey("acme", 0, "m1", "c", 1).redisKey());
        List<String> survivors = List.of(
                RedisKeys.blobKey("acme", "m2", "a", 2),
                RedisKeys.blobKey("acme", "m1x", "a", 1),       // an id that starts with the retired one
                RedisKeys.blobKey("m1", "m2", "m1", 1),         // the id as tenant and doc id of another model
                RedisKeys.blobKey("acme", "m*", "a", 1));
        assertDeletesExactly(doomed, survivors, () -> store.deleteModel("m1"));
        // an id with a glob character is escaped: "m*" deletes its own blob, not m2's or m1x's
        assertEquals(1, store.deleteModel("m*"));
        assertTrue(store.exists(survivors.get(0)) && store.exists(survivors.get(1)));
    }

    @Test
    void scanFindsEveryBlobOfATenantAcrossScanBatchesAndNothingElse() {
        List<String> acme = new java.util.ArrayList<>();
        for (int v = 0; v < 1_200; v++) {
            String key = RedisKeys.blobKey("acme", "m1", "doc-" + v % 7, v);
            store.put(key, new byte[] {1}, Optional.empty());
            acme.add(key);
        }
        String other = RedisKeys.blobKey("other", "m1", "doc-1", 1);
        store.put(other, new byte[] {2}, Optional.empty());
        redis.call("SET", "sac:acme:notes", "not a blob");

        List<String> found = new java.util.ArrayList<>();
        store.scan(RedisKeys.blobPattern(Optional.of("acme")), found::add);
        assertEquals(acme.stream().sorted().toList(), found.stream().sorted().toList());
        List<String> every = new java.util.ArrayList<>();
        store.scan(RedisKeys.blobPattern(Optional.empty()), every::add);
        assertEquals(1_201, every.size());
        assertTrue(every.contains(other));
    }

    @Test
    void deleteDocHandlesMoreKeysThanOneScanBatch() {
        for (int v = 0; v < 1_200; v++) {
            store.put(RedisKeys.blobKey("acme", "m1", "busy", v), new byte[] {3}, Optional.empty());
        }
        store.put(RedisKeys.blobKey("acme", "m1", "quiet", 1), new byte[] {4}, Optional.empty());
        assertEquals(1_200, store.deleteDoc("acme", "busy"));
        assertEquals(1L, redis.call("DBSIZE"));
    }

    @Test
    void stoppedRedisMakesEveryOperationUnavailableAndTheStoreRecoversAfterRestart() {
        String key = RedisKeys.blobKey("acme", "m1", "doc-1", 1);
        store.put(key, new byte[] {1, 2, 3}, Optional.empty());
        long restartsBefore = store.serverRestarts();

        redis.stop();

        KvStoreUnavailableException e = assertThrows(KvStoreUnavailableException.class, () -> store.get(key));
        assertEquals("GET", e.operation());
        assertEquals(Optional.of(key), e.key());
        assertEquals(redis.url(), e.target());
        assertTrue(e.getMessage().startsWith("Redis GET of " + key + " at " + redis.url() + " failed: "), e.getMessage());
        assertTrue(e.getCause() instanceof io.lettuce.core.RedisException, String.valueOf(e.getCause()));
        assertThrows(KvStoreUnavailableException.class, () -> store.put(key, new byte[1], Optional.empty()));
        assertThrows(KvStoreUnavailableException.class, () -> store.exists(key));
        assertThrows(KvStoreUnavailableException.class, () -> store.delete(key));
        assertThrows(KvStoreUnavailableException.class, () -> store.getAll(List.of(key)));
        assertThrows(KvStoreUnavailableException.class, () -> store.read(key, (k, b) -> b.remaining()));
        assertThrows(KvStoreUnavailableException.class, () -> store.readAll(List.of(key), (k, b) -> b.remaining()));
        assertThrows(KvStoreUnavailableException.class, () -> store.deleteDoc("acme", "doc-1"));
        assertThrows(KvStoreUnavailableException.class, store::ping);

        redis.start();
        Duration recovered = awaitAvailable(store);

        assertTrue(recovered.compareTo(Duration.ofSeconds(5)) < 0, "reconnected after " + recovered);
        assertTrue(store.get(key).isEmpty(), "Redis came back empty: persistence is off");
        store.put(key, new byte[] {9}, Optional.empty());
        assertArrayEquals(new byte[] {9}, store.get(key).orElseThrow());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.serverRestarts() == restartsBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(restartsBefore + 1, store.serverRestarts(), "the reconnect found another process: a restart");
    }

    @Test
    void theMemoryPolicyAndTheEvictedKeysAreRead() {
        AnchorKvStore.MemoryPolicy launched = store.memoryPolicy().orElseThrow();
        redis.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        redis.call("CONFIG", "SET", "maxmemory", "3mb");
        try {
            assertEquals(new AnchorKvStore.MemoryPolicy(3 << 20, "allkeys-lru"), store.memoryPolicy().orElseThrow());
            long before = store.evictedKeys().orElseThrow();
            for (int i = 0; i < 40; i++) {   // 10 MB of blobs into 3 MB
                store.put(RedisKeys.blobKey("acme", "m1", "big-" + i, 1), new byte[256 << 10], Optional.empty());
            }
            assertTrue(store.evictedKeys().orElseThrow() > before, "Redis made room by evicting blobs");
        } finally {
            redis.call("CONFIG", "SET", "maxmemory", Long.toString(launched.maxMemory()));
            redis.call("CONFIG", "SET", "maxmemory-policy", launched.policy());
        }
    }

    @Test
    void aPromotedReplicaIsAFailoverNotARestart() {
        RestartWatch.Server primary = RestartWatch.Server.of("# Server\r\nredis_version:7.2.4\r\nrun_id:5a1e0c7d\r\n"
                + "uptime_in_seconds:86400\r\n# Replication\r\nrole:master\r\nmaster_replid:aaaa1111\r\n"
                + "master_replid2:0000000000\r\n").orElseThrow();
        assertEquals(new RestartWatch.Server("5a1e0c7d", "aaaa1111", "0000000000", 86400), primary);
        RestartWatch.Server promoted = new RestartWatch.Server("77ee", "bbbb2222", "aaaa1111", 3600);
        RestartWatch.Server restarted = new RestartWatch.Server("88ff", "cccc3333", "0000000000", 2);
        // Redis 7 restarted from a snapshot taken while it had replicas: its old id as master_replid2, but just started
        RestartWatch.Server fromSnapshot = new RestartWatch.Server("99aa", "dddd4444", "aaaa1111", 2);
        assertTrue(primary.succeededBy(promoted, 5.0), "a replica running before the link dropped took over");
        assertFalse(primary.succeededBy(restarted, 5.0));
        assertFalse(primary.succeededBy(fromSnapshot, 5.0), "started after the link dropped: a restart, writes lost");
        assertFalse(primary.succeededBy(promoted, Double.MAX_VALUE), "when the drop is not known: a restart");
        assertFalse(new RestartWatch.Server("1", "0000000000", "", 9).succeededBy(new RestartWatch.Server("2", "x", "0000000000", 99), 1),
                "no replication history is nobody's");
        assertEquals(Optional.empty(), RestartWatch.Server.of("# Server\nredis_version:7.2.4\n"));
    }

    @Test
    void aCommandSlowerThanTheTimeoutFailsAsUnavailable() throws Exception {
        try (AnchorKvStore impatient = AnchorKvStore.connect(
                KvStoreConfig.of(RedisTarget.parse(redis.url())).withCommandTimeout(Duration.ofMillis(200)))) {
            String key = RedisKeys.blobKey("acme", "m1", "slow", 1);
            // CLIENT PAUSE holds every client's commands (reads, and CLIENT UNPAUSE too): Redis is up but
            // not answering, for 4 s: the three 200 ms timeouts below with room for a loaded machine's pauses.
            CompletableFuture<Object> pause = CompletableFuture.supplyAsync(() -> redis.call("CLIENT", "PAUSE", "4000", "ALL"));
            assertEquals("OK", pause.get());
            try {
                KvStoreUnavailableException e = assertThrows(KvStoreUnavailableException.class, () -> impatient.get(key));
                assertInstanceOf(RedisCommandTimeoutException.class, e.getCause());
                KvStoreUnavailableException batch = assertThrows(KvStoreUnavailableException.class,
                        () -> impatient.getAll(List.of(key, key + "x")));
                assertInstanceOf(RedisCommandTimeoutException.class, batch.getCause());
                KvStoreUnavailableException lent = assertThrows(KvStoreUnavailableException.class,
                        () -> impatient.readAll(List.of(key, key + "x"), (k, b) -> b.remaining()));
                assertInstanceOf(RedisCommandTimeoutException.class, lent.getCause());
                KvStoreUnavailableException set = assertThrows(KvStoreUnavailableException.class,   // sent all the same
                        () -> impatient.put(RedisKeys.blobKey("acme", "m1", "slow-set", 1), new byte[] {1}, Optional.empty()));
                assertEquals("SET", set.operation());
                assertInstanceOf(RedisCommandTimeoutException.class, set.getCause());
            } finally {
                assertEquals("PONG", redis.call("PING"), "the pause is over before the next test");
            }
        }
    }

    @Test
    void aSetIsTimedByItsSizeAndOneThatTimedOutHoldsBackTheNextUntilItHasGone() throws Exception {
        try (AnchorKvStore impatient = AnchorKvStore.connect(
                KvStoreConfig.of(RedisTarget.parse(redis.url())).withCommandTimeout(Duration.ofMillis(500)))) {
            assertEquals(Duration.ofMillis(500 + 3000), impatient.transferLimit(48L << 20));
            String small = RedisKeys.blobKey("acme", "m1", "small", 1);
            String big = RedisKeys.blobKey("acme", "m1", "big", 1);
            // CLIENT PAUSE ... WRITE holds every write (reads go on) for 2.5 s: past a 1-byte SET's
            // limit (0.5 s), within a 48 MiB one's (3.5 s)
            assertEquals("OK", redis.call("CLIENT", "PAUSE", "2500", "WRITE"));
            long t0 = System.nanoTime();
            KvStoreUnavailableException timedOut = assertThrows(KvStoreUnavailableException.class,
                    () -> impatient.put(small, new byte[] {1}, Optional.empty()));
            assertEquals("SET", timedOut.operation());
            assertInstanceOf(RedisCommandTimeoutException.class, timedOut.getCause());
            KvStoreUnavailableException heldBack = assertThrows(KvStoreUnavailableException.class,
                    () -> impatient.put(big, new byte[1], Optional.empty()));
            assertTrue(heldBack.getMessage().contains("an earlier SET of 1 bytes that timed out is still being sent"),
                    heldBack.getMessage());
            assertEquals(0L, redis.call("EXISTS", small), "the SET waits in the pause (another client's read goes on)");
            Thread.sleep(Math.max(0, 2700 - (System.nanoTime() - t0) / 1_000_000));
            assertEquals(1L, redis.call("STRLEN", small), "a SET that timed out was sent all the same");

            assertEquals("OK", redis.call("CLIENT", "PAUSE", "2500", "WRITE"));
            long t1 = System.nanoTime();
            impatient.put(big, new byte[48 << 20], Optional.of(Duration.ofMinutes(1)));
            assertTrue(System.nanoTime() - t1 > Duration.ofMillis(1500).toNanos(), "it waited out the pause");
            assertEquals(48L << 20, redis.call("STRLEN", big));
            assertTrue(impatient.exists(big), "and the small commands after it keep working");
        }
    }

    @Test
    void aBlobGetIsTimedByTheSizeTheCallerExpects() {
        try (AnchorKvStore impatient = impatient(Duration.ofMillis(500))) {
            String small = blob(impatient, "small-read", new byte[] {7});
            String big = blob(impatient, "big-read", new byte[16 << 20]);
            assertEquals(Duration.ofMillis(500 + 1000), impatient.transferLimit(16L << 20));
            // CLIENT PAUSE ... ALL holds reads as well for 1 s: past a 1-byte GET's limit (0.5 s),
            // within a 16 MiB one's (1.5 s)
            assertEquals("OK", redis.call("CLIENT", "PAUSE", "1000", "ALL"));
            long t0 = System.nanoTime();
            KvStoreUnavailableException timedOut = assertThrows(KvStoreUnavailableException.class,
                    () -> impatient.getBlob(small, 1));
            assertEquals("GET", timedOut.operation());
            assertInstanceOf(RedisCommandTimeoutException.class, timedOut.getCause());
            assertTrue(timedOut.getCause().getMessage().contains("about 1 bytes timed out after 500 ms"),
                    timedOut.getCause().getMessage());
            Optional<byte[]> read = impatient.getBlob(big, 16 << 20);
            assertTrue(System.nanoTime() - t0 > Duration.ofMillis(800).toNanos(), "it waited out the pause");
            assertEquals(16 << 20, read.orElseThrow().length);
            assertArrayEquals(new byte[] {7}, impatient.getBlob(small, 1).orElseThrow(), "the next read works");
            assertTrue(impatient.getBlob(RedisKeys.blobKey("acme", "m1", "absent", 1), 10).isEmpty());
            redis.call("HSET", "not-a-blob", "f", "v");
            assertTrue(impatient.getBlob("not-a-blob", 10).isEmpty(), "WRONGTYPE reads as no blob, as get does");
            assertThrows(IllegalArgumentException.class, () -> impatient.getBlob(small, -1));
        }
    }

    /**
     * A pipelined read's replies come in order, so each waits for those ahead of it: reply i gets
     * the transfer time of the bytes expected up to it. A flat timeout failed a batch of large
     * blobs on its first reply.
     */
    @Test
    void aPipelinedReadIsTimedByTheBytesExpectedUpToEachReply() {
        try (AnchorKvStore impatient = impatient(Duration.ofMillis(300))) {
            String big = blob(impatient, "big-batch", new byte[1 << 20]);
            String small = blob(impatient, "small-batch", new byte[] {5});
            java.util.function.ToLongFunction<String> sizes = k -> k.equals(big) ? 32L << 20 : 1;
            // CLIENT PAUSE ... ALL holds reads for 1 s: past the 0.3 s of a reply expected small,
            // within the 2.3 s of one behind 32 MiB
            assertEquals("OK", redis.call("CLIENT", "PAUSE", "1000", "ALL"));
            long t0 = System.nanoTime();
            Map<String, byte[]> found = impatient.getAll(List.of(big, small), sizes);
            assertTrue(System.nanoTime() - t0 > Duration.ofMillis(800).toNanos(), "it waited out the pause");
            assertEquals(List.of(big, small), List.copyOf(found.keySet()));
            assertEquals(1 << 20, found.get(big).length);

            assertEquals("OK", redis.call("CLIENT", "PAUSE", "1000", "ALL"));
            assertEquals(Map.of(big, 1 << 20, small, 1), impatient.readAll(List.of(big, small), sizes, (k, b) -> b.remaining()));

            assertEquals("OK", redis.call("CLIENT", "PAUSE", "1000", "ALL"));
            KvStoreUnavailableException e = assertThrows(KvStoreUnavailableException.class,
                    () -> impatient.readAll(List.of(small), sizes, (k, b) -> b.remaining()));
            assertInstanceOf(RedisCommandTimeoutException.class, e.getCause(), "a reply expected small gets the command timeout");
            assertEquals("PONG", redis.call("PING"), "the pause is over before the next test");
            assertEquals(Map.of(small, 1), impatient.readAll(List.of(small), sizes, (k, b) -> b.remaining()), "and reads work again");
        }
    }

    /** A store on the test's Redis with a short command timeout. */
    private AnchorKvStore impatient(Duration commandTimeout) {
        return AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(redis.url())).withCommandTimeout(commandTimeout));
    }

    /** Stores {@code bytes} as document {@code docId}'s blob (version 1 of model m1, tenant acme); returns its key. */
    private static String blob(AnchorKvStore store, String docId, byte[] bytes) {
        String key = RedisKeys.blobKey("acme", "m1", docId, 1);
        store.put(key, bytes, Optional.empty());
        return key;
    }

    /** A read that timed out gives its pooled arrays back once the late replies come, not never. */
    @Test
    void aTimedOutLentReadGivesItsArraysBackWhenTheRepliesCome() {
        try (AnchorKvStore impatient = impatient(Duration.ofMillis(300))) {
            List<String> keys = List.of(blob(impatient, "lent-1", new byte[1 << 20]), blob(impatient, "lent-2", new byte[1 << 20]));
            assertEquals(2, impatient.readAll(keys, (k, b) -> b.remaining()).size());
            int pooled = impatient.readBuffers().freeArrays();
            assertTrue(pooled >= 2, "two 1 MiB arrays pooled: " + pooled);
            assertEquals("OK", redis.call("CLIENT", "PAUSE", "800", "ALL"));
            assertThrows(KvStoreUnavailableException.class, () -> impatient.readAll(keys, (k, b) -> b.remaining()));
            assertEquals("PONG", redis.call("PING"), "the pause is over");
            // replies come in order on the store's connection: once this one is back, so are the late GETs
            assertTrue(impatient.exists(keys.get(0)));
            assertEquals(pooled, impatient.readBuffers().freeArrays(), "the late replies' arrays are back in the pool");
        }
    }

    @Test
    void pipelinedReadsAreCutIntoSlicesOfAtMostSixteenMebibytesExpected() {
        long slice = AnchorKvStore.PIPELINE_SLICE_BYTES;
        Map<String, Long> sizes = Map.of("a", slice / 2, "b", slice / 2, "c", 1L, "huge", 3 * slice, "d", 0L);
        // a slice ends where the next key would take it past the limit; a larger blob is a slice alone
        assertEquals(List.of(List.of("a", "b"), List.of("c"), List.of("huge"), List.of("d")),
                AnchorKvStore.slices(List.of("a", "b", "c", "huge", "d"), sizes::get));
        assertEquals(List.of(List.of("x", "y", "z")), AnchorKvStore.slices(List.of("x", "y", "z"), k -> 0),
                "sizes not known: one pipeline");
        List<String> many = java.util.stream.IntStream.range(0, 2500).mapToObj(i -> "k" + i).toList();
        assertEquals(List.of(1000, 1000, 500), AnchorKvStore.slices(many, k -> 0).stream().map(List::size).toList(),
                "and at most a thousand keys a slice");
    }

    @Test
    void expireAllWithinSetsTheGraceOnEveryKeyAndKeepsAnEarlierExpiry() {
        String a = RedisKeys.blobKey("acme", "m1", "a", 1);
        String b = RedisKeys.blobKey("acme", "m1", "b", 1);
        String soon = RedisKeys.blobKey("acme", "m1", "soon", 1);
        store.put(a, new byte[] {1}, Optional.empty());
        store.put(b, new byte[] {2}, Optional.empty());
        store.put(soon, new byte[] {3}, Optional.of(Duration.ofSeconds(30)));
        assertEquals(3, store.expireAllWithin(List.of(a, b, soon, RedisKeys.blobKey("acme", "m1", "gone", 1)),
                Duration.ofMinutes(10)), "the three that exist");
        for (String k : List.of(a, b)) {
            long pttl = (Long) redis.call("PTTL", k);
            assertTrue(pttl > 500_000 && pttl <= 600_000, k + ": " + pttl);
        }
        assertTrue((Long) redis.call("PTTL", soon) <= 30_000, "LT keeps the earlier expiry");
        // a second sweep within the grace: LT refuses every PEXPIRE, and the keys that exist are
        // found by the pipelined EXISTS that follows
        assertEquals(3, store.expireAllWithin(List.of(RedisKeys.blobKey("acme", "m1", "gone", 1), a, b, soon),
                Duration.ofMinutes(20)), "refused, yet existing");
        assertTrue((Long) redis.call("PTTL", a) <= 600_000, "the earlier expiry stays");
        assertEquals(0, store.expireAllWithin(List.of(RedisKeys.blobKey("acme", "m1", "gone", 1)), Duration.ofMinutes(1)));
        assertEquals(1, store.expireAllWithin(List.of(a, a, a), Duration.ofMinutes(5)), "a key named three times counts once");
        assertEquals(java.util.Set.of(a, soon), store.existing(List.of(a, RedisKeys.blobKey("acme", "m1", "gone", 1), soon, a)),
                "the keys that exist, each once");
        assertTrue(store.existing(List.of()).isEmpty());
        // more keys than one pipeline slice: every slice's answers count
        List<String> many = new java.util.ArrayList<>();
        java.util.Set<String> there = new java.util.HashSet<>();
        for (int i = 0; i < 2 * AnchorKvStore.EXISTS_PIPELINE + 500; i++) {
            String k = RedisKeys.blobKey("acme", "m1", "many-" + i, 1);
            many.add(k);
            if (i % 3 == 0) {
                redis.call("SET", k, "x");
                there.add(k);
            }
        }
        assertEquals(there, store.existing(many));
        assertThrows(IllegalArgumentException.class, () -> store.expireAllWithin(List.of(a), Duration.ZERO));
    }

    @Test
    void connectingToAnAbsentRedisFailsAtOnceWithItsUrl() {
        RedisTarget nowhere = RedisTarget.parse("redis://127.0.0.1:1");
        KvStoreUnavailableException e = assertThrows(KvStoreUnavailableException.class,
                () -> AnchorKvStore.connect(KvStoreConfig.of(nowhere)));
        assertEquals("connect", e.operation());
        assertTrue(e.getMessage().startsWith("Redis connect at redis://127.0.0.1:1 failed: "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" (is it running, and is that its address?)"), e.getMessage());
    }

    /** A Redis that answers and refuses the connection (here a user it does not know) is running, at that address. */
    @Test
    void aRedisThatRefusesTheConnectionIsNotAskedWhetherItRuns() {
        RedisTarget refusing = RedisTarget.parse("redis://nobody:not-its-password@127.0.0.1:" + redis.port());
        KvStoreUnavailableException e = assertThrows(KvStoreUnavailableException.class,
                () -> AnchorKvStore.connect(KvStoreConfig.of(refusing)));
        assertEquals("connect", e.operation());
        assertFalse(e.getMessage().contains("is it running"), e.getMessage());
        assertTrue(e.getMessage().contains("; it answered: WRONGPASS"), "the server's words: " + e.getMessage());
        assertFalse(e.getMessage().contains("not-its-password"), e.getMessage());
    }

    @Test
    void eachStoreStopsItsOwnTimeoutTimerOnClose() throws InterruptedException {
        long before = timerThreads();
        AnchorKvStore other = AnchorKvStore.connect(KvStoreConfig.of(RedisTarget.parse(redis.url())));
        other.exists(RedisKeys.blobKey("acme", "m1", "t", 1)); // starts the timer
        assertEquals(before + 1, timerThreads());
        other.close();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (timerThreads() > before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(before, timerThreads(), "no timer thread left behind");
    }

    private static long timerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(LettuceConnection.TIMER_THREAD_NAME)).count();
    }

    @Test
    void pingReportsTheRoundTrip() {
        Duration rtt = store.ping();
        assertTrue(!rtt.isZero() && !rtt.isNegative() && rtt.compareTo(Duration.ofSeconds(1)) < 0, "a measured round trip on this host: " + rtt);
    }

    static Duration awaitAvailable(AnchorKvStore store) {
        long t0 = System.nanoTime();
        long deadline = t0 + Duration.ofSeconds(15).toNanos();
        while (true) {
            try {
                store.ping();
                return Duration.ofNanos(System.nanoTime() - t0);
            } catch (KvStoreUnavailableException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("store did not reconnect within 15 s", e);
                }
                sleep(20);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static byte[] randomBytes(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static AnchorKv randomAnchorKv() {
        int layers = 8;
        int heads = 2;
        int headDim = 64;
        int[] chunks = {128, 128, 128, 128};
        int per = heads * 512 * headDim;
        Random r = new Random(42);
        float[][] k = new float[layers][per];
        float[][] v = new float[layers][per];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < per; i++) {
                k[l][i] = (float) r.nextGaussian();
                v[l][i] = (float) r.nextGaussian();
            }
        }
        return new AnchorKv("test-model-7a1c", layers, heads, headDim, 2_050, chunks, k, v);
    }
}
