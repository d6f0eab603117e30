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

    @Test
    void aRedirectToAStandaloneClientSaysTheServerBecameAClusterNode() {
        io.lettuce.core.RedisCommandExecutionException moved = new io.lettuce.core.RedisCommandExecutionException("MOVED 1234 10.0.0.2:6379");
        Throwable explained = AnchorKvStore.explained(moved, false);
        org.junit.jupiter.api.Assertions.assertTrue(explained.getMessage().startsWith("MOVED 1234 10.0.0.2:6379 (this server became one node")
                && explained.getMessage().contains("restart the service"), explained.getMessage());
        org.junit.jupiter.api.Assertions.assertSame(moved, AnchorKvStore.explained(moved, true), "the cluster client follows redirects itself");
        io.lettuce.core.RedisCommandExecutionException oom = new io.lettuce.core.RedisCommandExecutionException("OOM command not allowed");
        org.junit.jupiter.api.Assertions.assertSame(oom, AnchorKvStore.explained(oom, false));
    }
}
