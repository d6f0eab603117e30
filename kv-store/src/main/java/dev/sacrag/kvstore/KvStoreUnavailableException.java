package dev.sacrag.kvstore;

import java.util.Optional;

/**
 * Redis could not serve a store operation (down, unreachable, timed out, out of memory, or
 * refused the command). Callers treat it as transient: the query service answers UNAVAILABLE,
 * the compressor retries with back-off. The message names the operation, the key and the
 * Redis URL (without password); the Lettuce exception is the cause.
 */
public final class KvStoreUnavailableException extends RuntimeException {

    private final String operation;
    private final String key;
    private final String target;

    KvStoreUnavailableException(String operation, String key, RedisTarget target, Throwable cause) {
        super("Redis " + operation + (key == null ? "" : " of " + key) + " at " + target + " failed: "
                + (cause == null ? "unknown cause" : java.util.Objects.requireNonNullElse(cause.getMessage(),
                        cause.getClass().getSimpleName()))
                + (operation.equals("connect") ? connectHint(cause) : ""), cause);
        this.operation = operation;
        this.key = key;
        this.target = target.toString();
    }

    /**
     * Lettuce says "Unable to connect to 127.0.0.1/<unresolved>:1" both where nothing answered and
     * where the server answered and refused (a user or password it does not take): what to look at is
     * ours to say, and in the second case the server's words, which Lettuce's message leaves out.
     */
    private static String connectHint(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.lettuce.core.RedisCommandExecutionException) {
                return "; it answered: " + t.getMessage();
            }
        }
        return " (is it running, and is that its address?)";
    }

    public String operation() {
        return operation;
    }

    /** The key concerned, empty for operations on no single key (PING, connect). */
    public Optional<String> key() {
        return Optional.ofNullable(key);
    }

    /** The Redis URL(s), without password. */
    public String target() {
        return target;
    }
}
