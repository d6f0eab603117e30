package dev.sacrag.kvstore;

import java.time.Duration;
import java.util.Objects;

/**
 * How the store talks to Redis.
 *
 * @param commandTimeout how long one command (or one pipelined batch) may take before it
 *     fails with {@link KvStoreUnavailableException}; a 4 MB GET takes ~20-30 ms locally
 * @param maxReconnectDelay cap on the exponential back-off between reconnect attempts after
 *     Redis went away: bounds how long the store stays unavailable after Redis is back
 */
public record KvStoreConfig(RedisTarget target, Duration commandTimeout, Duration maxReconnectDelay) {

    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
    /** Lettuce's default caps at 30 s, which would hide a restarted Redis for up to half a minute. */
    public static final Duration DEFAULT_MAX_RECONNECT_DELAY = Duration.ofSeconds(1);

    public KvStoreConfig {
        Objects.requireNonNull(target, "target");
        requirePositive("commandTimeout", commandTimeout);
        requirePositive("maxReconnectDelay", maxReconnectDelay);
    }

    public static KvStoreConfig of(RedisTarget target) {
        return new KvStoreConfig(target, DEFAULT_COMMAND_TIMEOUT, DEFAULT_MAX_RECONNECT_DELAY);
    }

    public KvStoreConfig withCommandTimeout(Duration timeout) {
        return new KvStoreConfig(target, timeout, maxReconnectDelay);
    }

    private static void requirePositive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
