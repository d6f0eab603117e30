package dev.sacrag.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class RedisTargetTest {

    @Test
    void oneUrlIsASingleServer() {
        RedisTarget t = RedisTarget.parse("redis://127.0.0.1:6379");
        assertFalse(t.isCluster());
        assertEquals("redis://127.0.0.1:6379", t.toString());
    }

    @Test
    void severalUrlsAreClusterSeeds() {
        RedisTarget t = RedisTarget.parse(" redis://a:7000, redis://b:7001 ,rediss://c:7002");
        assertTrue(t.isCluster());
        assertEquals(3, t.nodes().size());
        assertEquals("redis://a:7000,redis://b:7001,rediss://c:7002", t.toString());
    }

    @Test
    void passwordsNeverAppearInToStringOrErrors() {
        RedisTarget t = RedisTarget.parse("redis://user:s3cret@host:6380/2");
        assertEquals("redis://host:6380/2", t.toString());
        assertEquals("user:s3cret", t.nodes().get(0).getUserInfo(), "kept for connecting, only hidden from text");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("http://u:s3cret@h:1"));
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("redis://u:s3cret@h:1 x"));
        assertFalse(bad.getMessage().contains("s3cret"), bad.getMessage());
    }

    @Test
    void rejectsOtherSchemesMissingHostsAndEmptyLists() {
        assertEquals("Redis URL http://h:1 must start with redis:// or rediss://",
                assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("http://h:1")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse("redis:///0"));
        assertThrows(IllegalArgumentException.class, () -> RedisTarget.parse(" , "));
    }

    @Test
    void commandTimeoutReachesEveryNode() {
        RedisTarget t = RedisTarget.parse("redis://a:1,redis://b:2");
        var uris = t.redisUris(Duration.ofMillis(750));
        assertEquals(java.util.List.of("a:1", "b:2"), uris.stream().map(u -> u.getHost() + ":" + u.getPort()).toList());
        uris.forEach(u -> assertEquals(Duration.ofMillis(750), u.getTimeout()));
    }

    @Test
    void configRefusesNonPositiveDurations() {
        RedisTarget t = RedisTarget.parse("redis://a:1");
        assertThrows(IllegalArgumentException.class, () -> KvStoreConfig.of(t).withCommandTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new KvStoreConfig(t, Duration.ofSeconds(1), Duration.ofMillis(-1)));
        assertEquals(KvStoreConfig.DEFAULT_COMMAND_TIMEOUT, KvStoreConfig.of(t).commandTimeout());
    }
}
