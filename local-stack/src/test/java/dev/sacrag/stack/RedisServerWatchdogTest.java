package dev.sacrag.stack;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A redis-server never outlives the JVM that started it, even one killed without its shutdown hooks. */
class RedisServerWatchdogTest {

    /** Starts a redis-server, prints its port, then waits to be killed. */
    public static final class LaunchAndWait {
        public static void main(String[] args) throws Exception {
            RedisServer redis = RedisServer.launch();
            System.out.println("port " + redis.port() + " " + redis.dir());
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
        }
    }

    private static boolean answers(int port) {
        try (RespConnection c = new RespConnection("127.0.0.1", port, Duration.ofMillis(500))) {
            return "PONG".equals(c.call("PING"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Test
    void redisEndsWhenItsJvmIsKilledWithoutShutdownHooks() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process jvm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LaunchAndWait.class.getName())
                .redirectErrorStream(true).start();
        int port;
        Path scratch;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("port "));
            assertTrue(line != null, "the child JVM did not start redis-server");
            String[] parts = line.split(" ");
            port = Integer.parseInt(parts[1]);
            scratch = Path.of(parts[2]);
            assertTrue(answers(port), "redis-server is up");
            jvm.destroyForcibly();   // SIGKILL: no shutdown hook runs
            assertTrue(jvm.waitFor(10, TimeUnit.SECONDS));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (answers(port) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(!answers(port), "redis-server on port " + port + " outlived its killed JVM");
        TempDirs.deleteRecursively(scratch);   // a SIGKILLed JVM cannot remove it; this test can
    }
}
