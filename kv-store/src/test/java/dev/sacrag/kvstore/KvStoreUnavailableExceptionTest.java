package dev.sacrag.kvstore;

import io.lettuce.core.RedisCommandTimeoutException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KvStoreUnavailableExceptionTest {

    private static final RedisTarget TARGET = RedisTarget.parse("redis://localhost:6379");

    @Test
    void theMessageNamesTheOperationKeyTargetAndCause() {
        KvStoreUnavailableException e = new KvStoreUnavailableException("GET", "sac:kv:m:t:d:1", TARGET,
                new RedisCommandTimeoutException("no reply within 3000 ms"));
        assertEquals("Redis GET of sac:kv:m:t:d:1 at " + TARGET + " failed: no reply within 3000 ms", e.getMessage());
    }

    @Test
    void aCauseWithoutAMessageIsNamedByItsKind() {
        KvStoreUnavailableException e = new KvStoreUnavailableException("GET", "k", TARGET, new InterruptedException());
        assertEquals("Redis GET of k at " + TARGET + " failed: InterruptedException", e.getMessage());
        assertEquals("Redis PING at " + TARGET + " failed: unknown cause",
                new KvStoreUnavailableException("PING", null, TARGET, null).getMessage());
    }
}
