package dev.sacrag.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;

class LocalStackTest {

    @Test
    void kindDefaultsToEmbeddedAndRejectsUnknownValues() {
        assertEquals(LocalStack.Kind.EMBEDDED, LocalStack.Kind.parse(null));
        assertEquals(LocalStack.Kind.EMBEDDED, LocalStack.Kind.parse(" "));
        assertEquals(LocalStack.Kind.CONTAINERS, LocalStack.Kind.parse("containers"));
        assertEquals(LocalStack.Kind.EMBEDDED, LocalStack.Kind.parse("Embedded"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalStack.Kind.parse("docker"));
        assertEquals("-Dsac.stack=docker is not a stack kind; use embedded or containers", e.getMessage());
    }

    @Test
    void embeddedStackServesKafkaAndRedisAndRestartsRedisOnTheSameUrl() throws Exception {
        try (LocalStack stack = LocalStack.start(LocalStack.Kind.EMBEDDED)) {
            assertEquals(LocalStack.Kind.EMBEDDED, stack.kind());
            assertServes(stack);
        }
    }

    /**
     * Never skipped: without Docker the containers stack must fail with a message that says what
     * to do; with Docker it must start and serve like the embedded one.
     */
    @Test
    void containersStackNeedsDockerAndSaysSo() throws Exception {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            try (LocalStack stack = LocalStack.start(LocalStack.Kind.CONTAINERS)) {
                assertEquals(LocalStack.Kind.CONTAINERS, stack.kind());
                assertServes(stack);
            }
        } else {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> LocalStack.start(LocalStack.Kind.CONTAINERS));
            assertTrue(e.getMessage().startsWith("-Dsac.stack=containers needs a running Docker daemon"), e.getMessage());
            assertTrue(e.getMessage().contains("-Dsac.stack=embedded"), e.getMessage());
        }
    }

    private static void assertServes(LocalStack stack) throws Exception {
        stack.createTopics(TopicSpec.compacted("sac.documents"), TopicSpec.plain("sac.recompress").withPartitions(1));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            assertTrue(names.containsAll(List.of("sac.documents", "sac.recompress")), names.toString());
        }

        URI redis = URI.create(stack.redisUrl());
        assertEquals("redis", redis.getScheme());
        assertEquals("OK", call(redis, "SET", "k", "v"));
        stack.flushRedis();
        assertEquals(0L, call(redis, "DBSIZE"));

        stack.stopRedis();
        assertThrows(IOException.class, () -> call(redis, "PING"));
        stack.startRedis();
        assertEquals(redis.toString(), stack.redisUrl());
        assertEquals("PONG", call(redis, "PING"));
    }

    private static Object call(URI redis, String... args) throws IOException {
        try (RespConnection c = new RespConnection(redis.getHost(), redis.getPort(), Duration.ofSeconds(2))) {
            return c.call(args);
        }
    }
}
