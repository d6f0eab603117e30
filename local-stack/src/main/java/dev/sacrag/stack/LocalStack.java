package dev.sacrag.stack;

import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;

/**
 * The Kafka broker and Redis server that tests and {@code sac demo} run against, whichever way
 * they are provided. Chosen with {@code -Dsac.stack=embedded|containers} (default embedded):
 * the same integration tests run on both, and neither ever skips — the containers kind fails
 * with a clear message where Docker is missing.
 */
public interface LocalStack extends AutoCloseable {

    String PROPERTY = "sac.stack";

    enum Kind {
        /** An in-process KRaft broker and a redis-server process: needs no Docker. */
        EMBEDDED,
        /** Testcontainers: apache/kafka and redis:7 images; needs a Docker daemon. */
        CONTAINERS;

        /** Parses {@code -Dsac.stack}; absent or blank means {@link #EMBEDDED}. */
        public static Kind fromSystemProperty() {
            return parse(System.getProperty(PROPERTY));
        }

        public static Kind parse(String value) {
            if (value == null || value.isBlank()) {
                return EMBEDDED;
            }
            String normalized = value.trim().toUpperCase(Locale.ROOT);
            return Arrays.stream(values()).filter(k -> k.name().equals(normalized)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("-D" + PROPERTY + "=" + value
                            + " is not a stack kind; use embedded or containers"));
        }
    }

    /** Starts the stack named by {@code -Dsac.stack}. */
    static LocalStack start() {
        return start(Kind.fromSystemProperty());
    }

    static LocalStack start(Kind kind) {
        return start(kind, RedisServer.Options.defaults());
    }

    /** @param redis memory limit and eviction policy; the containers kind applies the same settings */
    static LocalStack start(Kind kind, RedisServer.Options redis) {
        return switch (kind) {
            case EMBEDDED -> EmbeddedStack.start(redis);
            case CONTAINERS -> ContainerStack.start(redis);
        };
    }

    Kind kind();

    String bootstrapServers();

    /** {@code redis://host:port}; stays the same across {@link #stopRedis()} / {@link #startRedis()}. */
    String redisUrl();

    /** Takes Redis down (an outage), keeping its address so clients can reconnect later. */
    void stopRedis();

    /** Brings Redis back on the same address, empty (no persistence), and waits until it answers. */
    void startRedis();

    void flushRedis();

    /**
     * The caller closes this stack from a shutdown hook of its own (after stopping what uses it),
     * within {@code maxWait}: the stack's own exit cleanup then waits that long for the close
     * instead of stopping the services under the caller's orderly shutdown. Containers are
     * stopped by Testcontainers, so nothing to do there.
     */
    default void ownerClosesOnExit(java.time.Duration maxWait) {
    }

    default void createTopics(Collection<TopicSpec> topics) {
        Topics.create(bootstrapServers(), topics);
    }

    default void createTopics(TopicSpec... topics) {
        createTopics(Arrays.asList(topics));
    }

    @Override
    void close();
}
