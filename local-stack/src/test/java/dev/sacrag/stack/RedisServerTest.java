package dev.sacrag.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class RedisServerTest {

    @Test
    void setThenGetOverARawSocket() throws IOException {
        try (RedisServer redis = RedisServer.launch();
             RespConnection c = new RespConnection("127.0.0.1", redis.port(), Duration.ofSeconds(2))) {
            assertEquals("redis://127.0.0.1:" + redis.port(), redis.url());
            assertEquals("OK", c.call("SET", "k:ü{x}", "värde"));
            assertEquals("värde", c.call("GET", "k:ü{x}"));
            assertNull(c.call("GET", "missing"));
        }
    }

    @Test
    void aRedisOlderThanSevenIsRefusedByVersionBeforeItStarts(@org.junit.jupiter.api.io.TempDir Path dir)
            throws IOException {
        assertEquals(java.util.Optional.of("6.0.16"),
                RedisServer.tooOld("Redis server v=6.0.16 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64 build=a3fdef44459b3ad6"));
        assertEquals(java.util.Optional.empty(), RedisServer.tooOld("Redis server v=7.0.15 sha=00000000:0 bits=64"));
        assertEquals(java.util.Optional.empty(), RedisServer.tooOld("Redis server v=10.1.0"));
        assertEquals(java.util.Optional.empty(), RedisServer.tooOld("a fork that prints no version"));

        Path old = dir.resolve("redis-server");
        java.nio.file.Files.writeString(old, "#!/bin/sh\necho 'Redis server v=6.2.7 sha=00000000:0 bits=64'\n");
        assertTrue(old.toFile().setExecutable(true));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RedisServer.requireVersion(old));
        assertTrue(e.getMessage().contains("Redis 6.2.7") && e.getMessage().contains("7.0 or later"), e.getMessage());
        RedisServer.requireVersion(RedisServer.locate(System.getenv("PATH"), List.of()));   // the installed one passes
    }

    @Test
    void stopRefusesConnectionsAndStartComesBackEmptyOnTheSamePort() {
        try (RedisServer redis = RedisServer.launch()) {
            int port = redis.port();
            redis.call("SET", "survives", "no");

            redis.stop();
            assertFalse(redis.isRunning());
            assertThrows(ConnectException.class, () -> new RespConnection("127.0.0.1", port, Duration.ofSeconds(1)).close());

            redis.start();
            assertTrue(redis.isRunning());
            assertEquals(port, redis.port());
            assertEquals("PONG", redis.call("PING"));
            assertNull(redis.call("GET", "survives"), "persistence is off: a restart loses every key");
        }
    }

    /**
     * While our Redis is down, something else takes its port and answers +PONG to anything.
     * start() must not take that for our server coming back: ours cannot bind, so start fails
     * and says why.
     */
    @Test
    void startDoesNotMistakeAnotherServerOnThePortForItsOwn() throws Exception {
        try (RedisServer redis = RedisServer.launch()) {
            int port = redis.port();
            redis.stop();
            try (ServerSocket impostor = new ServerSocket()) {
                impostor.setReuseAddress(true);
                impostor.bind(new InetSocketAddress("127.0.0.1", port));
                Thread answering = new Thread(() -> answerPongToEverything(impostor), "impostor");
                answering.setDaemon(true);
                answering.start();
                IllegalStateException e = assertThrows(IllegalStateException.class, redis::start);
                assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
                assertFalse(redis.isRunning());
            }
        }
    }

    private static void answerPongToEverything(ServerSocket server) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                s.setSoTimeout(2000);
                byte[] buf = new byte[512];
                while (s.getInputStream().read(buf) > 0) {
                    s.getOutputStream().write("+PONG\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                }
            } catch (IOException e) {
                // closed by the test, or a client went away: next connection
            }
        }
    }

    @Test
    void flushAllRemovesEveryKey() {
        try (RedisServer redis = RedisServer.launch()) {
            redis.call("SET", "a", "1");
            redis.flushAll();
            assertEquals(0L, redis.call("DBSIZE"));
        }
    }

    @Test
    void appliesMaxMemoryAndEvictionPolicy() {
        RedisServer.Options options = RedisServer.Options.defaults()
                .withMaxMemory(8L << 20, RedisServer.EvictionPolicy.ALLKEYS_LRU);
        try (RedisServer redis = RedisServer.launch(options)) {
            assertEquals(List.of("maxmemory", Long.toString(8L << 20)), redis.call("CONFIG", "GET", "maxmemory"));
            assertEquals(List.of("maxmemory-policy", "allkeys-lru"), redis.call("CONFIG", "GET", "maxmemory-policy"));
            // Over the limit allkeys-lru evicts instead of refusing writes.
            String value = "x".repeat(64 * 1024);
            for (int i = 0; i < 400; i++) {
                assertEquals("OK", redis.call("SET", "big:" + i, value));
            }
            long keys = (Long) redis.call("DBSIZE");
            assertTrue(keys < 400, "expected evictions, found all " + keys + " keys");
        }
    }

    @Test
    void persistenceIsOff() {
        try (RedisServer redis = RedisServer.launch()) {
            assertEquals(List.of("save", ""), redis.call("CONFIG", "GET", "save"));
            assertEquals(List.of("appendonly", "no"), redis.call("CONFIG", "GET", "appendonly"));
            assertEquals(List.of("bind", "127.0.0.1"), redis.call("CONFIG", "GET", "bind"));
        }
    }

    @Test
    void closeStopsTheProcess() {
        RedisServer redis = RedisServer.launch();
        redis.close();
        assertFalse(redis.isRunning());
        assertThrows(RuntimeException.class, () -> redis.call("PING"));
    }

    @Test
    void missingRedisServerFailsWithAnInstallHint() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RedisServer.locate("/nonexistent/bin", List.of(Path.of("/nonexistent/sbin"))));
        assertEquals("redis-server not found: install it (Debian: apt-get install redis-server) or run ./sac test,"
                + " which installs it", e.getMessage());
    }
}
