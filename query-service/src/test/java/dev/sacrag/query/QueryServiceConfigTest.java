package dev.sacrag.query;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QueryServiceConfigTest {

    @TempDir
    Path tmp;

    /** A model package layout; the config only checks that the files are there. */
    private Map<String, String> withModel() throws IOException {
        Files.createDirectories(tmp.resolve("pkg/base"));
        Files.writeString(tmp.resolve("pkg/base/config.json"), "{}");
        Files.createDirectories(tmp.resolve("pkg/adapters/sac"));
        Files.writeString(tmp.resolve("pkg/adapters/sac/sac.json"), "{}");
        Map<String, String> flags = new HashMap<>();
        flags.put("--model", tmp.resolve("pkg").toString());
        return flags;
    }

    @Test
    void defaultsFollowTheArchitecture() throws IOException {
        QueryServiceConfig c = QueryServiceConfig.parse(withModel(), Map.of());
        assertEquals(50051, c.listen().port());
        assertEquals(OptionalInt.of(9464), c.listen().metricsPort());
        assertTrue(!c.listen().exitWhenBroken(), "a broken replica stays up (NOT_SERVING) unless told to exit");
        assertTrue(QueryServiceConfig.parse(withModel(), Map.of("SAC_QUERY_EXIT_WHEN_BROKEN", "true")).listen().exitWhenBroken());
        assertEquals("localhost:9092", c.topics().bootstrapServers());
        assertEquals("sac.documents", c.topics().documents());
        assertEquals("sac.anchor-caches", c.topics().catalog());
        assertEquals("sac.recompress", c.topics().recompress());
        assertEquals("sac.control", c.topics().control());
        assertEquals("redis://localhost:6379", c.redis().target().toString());
        assertEquals(Duration.ofSeconds(2), c.redis().commandTimeout());
        assertEquals(tmp.resolve("pkg/base"), c.model().baseDir());
        assertEquals(tmp.resolve("pkg/adapters/sac"), c.model().adapterDir());
        assertTrue(c.model().ratio().isEmpty() && c.model().modelId().isEmpty());
        assertEquals("default", c.limits().defaultTenant());
        assertEquals(3, c.limits().defaultTopK());
        assertEquals(64, c.limits().defaultMaxNewTokens());
        assertEquals(Duration.ofSeconds(60), c.limits().defaultDeadline());
        assertEquals(Duration.ofSeconds(10), c.listen().shutdownGrace());
        assertEquals(Duration.ZERO, c.listen().shutdownDrain());
        assertEquals(512L << 20, c.cache().budgetBytes());
        assertTrue(c.cache().preload());
        assertEquals(new QueryServiceConfig.Inference(1, 16, 64, java.time.Duration.ofMillis(3), java.time.Duration.ofMillis(50),
                64L << 20), c.inference());
    }

    @Test
    void theShutdownGraceIsSetByFlagOrEnvironmentAndZeroMeansAtOnce() throws IOException {
        assertEquals(Duration.ofSeconds(45), QueryServiceConfig.parse(withModel(),
                Map.of("SAC_QUERY_SHUTDOWN_GRACE", "45s")).listen().shutdownGrace());
        Map<String, String> flags = withModel();
        flags.put("--shutdown-grace", "0");
        assertEquals(Duration.ZERO, QueryServiceConfig.parse(flags, Map.of()).listen().shutdownGrace());
        assertFails("--shutdown-grace", "later", "--shutdown-grace (SAC_QUERY_SHUTDOWN_GRACE): 'later' is not a duration");
    }

    @Test
    void theShutdownDrainIsSetByFlagOrEnvironment() throws IOException {
        assertEquals(Duration.ofSeconds(3), QueryServiceConfig.parse(withModel(),
                Map.of("SAC_QUERY_SHUTDOWN_DRAIN", "3s")).listen().shutdownDrain());
        Map<String, String> flags = withModel();
        flags.put("--shutdown-drain", "1500ms");
        assertEquals(Duration.ofMillis(1500), QueryServiceConfig.parse(flags, Map.of("SAC_QUERY_SHUTDOWN_DRAIN", "3s"))
                .listen().shutdownDrain(), "the flag beats the environment");
        assertFails("--shutdown-drain", "soon", "--shutdown-drain (SAC_QUERY_SHUTDOWN_DRAIN): 'soon' is not a duration");
    }

    @Test
    void aFlagBeatsItsEnvironmentVariableWhichBeatsTheDefault() throws IOException {
        Map<String, String> env = Map.of("SAC_QUERY_PORT", "6000", "SAC_KAFKA_BOOTSTRAP", "k1:9092",
                "SAC_WARM_CACHE_BYTES", "2g", "SAC_QUERY_METRICS_PORT", "off");
        Map<String, String> flags = withModel();
        flags.put("--port", "7000");
        QueryServiceConfig c = QueryServiceConfig.parse(flags, env);
        assertEquals(7000, c.listen().port());
        assertEquals("k1:9092", c.topics().bootstrapServers());
        assertEquals(2L << 30, c.cache().budgetBytes());
        assertEquals(OptionalInt.empty(), c.listen().metricsPort());
    }

    /** The documents feed must accept what the compressors accept: the same settings and variables. */
    @Test
    void documentLimitsComeFromTheCompressorsVariables() throws IOException {
        QueryServiceConfig c = QueryServiceConfig.parse(withModel(), Map.of("SAC_MAX_DOC_CHARS", "9000000"));
        assertEquals(9_000_000, c.documentLimits().maxTextChars());
        assertEquals(dev.sacrag.schemas.DocumentLimits.defaults().maxValueBytes(), c.documentLimits().maxValueBytes());
        assertFails("--max-doc-bytes", "0", "--max-doc-bytes (SAC_MAX_DOC_BYTES): must be between 1 and");
    }

    @Test
    void invalidValuesFailNamingTheirFlag() throws IOException {
        assertFails("--port", "70000", "--port (SAC_QUERY_PORT): must be between 0 and 65535, got 70000");
        assertFails("--port", "abc", "--port (SAC_QUERY_PORT): 'abc' is not a whole number");
        assertFails("--default-deadline", "soon", "--default-deadline (SAC_DEFAULT_DEADLINE): 'soon' is not a duration");
        assertFails("--default-deadline", "0s", "--default-deadline (SAC_DEFAULT_DEADLINE): must be positive");
        // accepted before, then every call failed INTERNAL (the deadline's nanoseconds overflow)
        assertFails("--default-deadline", "3000000h", "--default-deadline (SAC_DEFAULT_DEADLINE): '3000000h' is too long"
                + " (at most 365 days)");
        assertFails("--default-deadline", "99999999999999999999s", "--default-deadline (SAC_DEFAULT_DEADLINE):"
                + " '99999999999999999999s' is too long");
        assertFails("--default-deadline", "PT9000000H", "--default-deadline (SAC_DEFAULT_DEADLINE): 'pt9000000h' is too long");
        assertFails("--warm-cache-bytes", "12x", "--warm-cache-bytes (SAC_WARM_CACHE_BYTES): '12x' is not a byte size");
        assertFails("--redis", "http://x:1", "--redis (SAC_REDIS_URL): Redis URL http://x:1 must start with redis://");
        assertFails("--top-k", "20", "--top-k (SAC_TOP_K): must be between 1 and 16, got 20");
        assertFails("--preload", "maybe", "--preload (SAC_PRELOAD): 'maybe' is not true or false");
        assertFails("--default-tenant", "a/b", "--default-tenant (SAC_DEFAULT_TENANT): 'a/b' is not a tenant name");
        assertFails("--model", tmp.resolve("missing").toString(), "--model (SAC_MODEL): no such folder");
        assertFails("--adapter", tmp.toString(), "--adapter (SAC_ADAPTER): no SAC adapter (sac.json) in " + tmp);
        assertFails("--model-id", "abc", "--model-id (SAC_MODEL_ID): give either --ratio or --model-id", "--ratio", "4");
        assertFails("--batch-wait", "-5ms", "--batch-wait (SAC_BATCH_WAIT): '-5ms' is not a duration");
        assertFails("--batch-wait", "PT-0.005S", "--batch-wait (SAC_BATCH_WAIT): must not be negative");
        assertFails("--batch-wait", "2s", "--batch-wait (SAC_BATCH_WAIT): must be at most 1s, got 2000ms");
        assertFails("--join-wait", "1500ms", "--join-wait (SAC_JOIN_WAIT): must be at most 1s, got 1500ms");
        assertFails("--join-wait", "soon", "--join-wait (SAC_JOIN_WAIT): 'soon' is not a duration");
    }

    @Test
    void aBatchWaitOfZeroMeansNeverWait() throws IOException {
        for (String zero : new String[] {"0", "0ms"}) {
            Map<String, String> flags = withModel();
            flags.put("--batch-wait", zero);
            assertEquals(java.time.Duration.ZERO, QueryServiceConfig.parse(flags, Map.of()).inference().batchWait());
        }
        Map<String, String> flags = withModel();
        flags.put("--batch-wait", "250ms");
        assertEquals(java.time.Duration.ofMillis(250), QueryServiceConfig.parse(flags, Map.of()).inference().batchWait());
        flags.put("--join-wait", "0");
        assertEquals(java.time.Duration.ZERO, QueryServiceConfig.parse(flags, Map.of()).inference().joinWait());
    }

    private void assertFails(String flag, String value, String message, String... more) throws IOException {
        Map<String, String> flags = withModel();
        flags.put(flag, value);
        for (int i = 0; i < more.length; i += 2) {
            flags.put(more[i], more[i + 1]);
        }
        ConfigException e = assertThrows(ConfigException.class, () -> QueryServiceConfig.parse(flags, Map.of()));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertEquals(flag, e.setting().flag());
    }

    @Test
    void everySettingHasAFlagAnEnvironmentVariableAndHelp() {
        for (QuerySetting s : QuerySetting.values()) {
            assertTrue(s.flag().startsWith("--") && s.env().startsWith("SAC_"), s.name());
            assertFalse(s.description().isBlank(), s.name());
        }
    }
}
