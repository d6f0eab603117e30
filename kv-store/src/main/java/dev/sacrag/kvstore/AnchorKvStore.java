package dev.sacrag.kvstore;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToLongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.lettuce.core.ExpireArgs;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.ByteArrayOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;

/**
 * Anchor-KV blobs in Redis: the bytes of {@code AnchorKvCodec} under keys from
 * {@link RedisKeys}. Opaque bytes in, bytes out — decoding (and rejecting a wrong-model or
 * corrupt blob) is the caller's job with the codec.
 *
 * <p>One Lettuce client and one long-lived connection per store (Lettuce connections are
 * thread-safe and multiplex callers), a byte[] codec, an explicit command timeout. Redis
 * Cluster is used when the {@link RedisTarget} lists several nodes. Every Redis failure
 * surfaces as {@link KvStoreUnavailableException}.
 *
 * <p>Two ways to fetch: {@link #get}/{@link #getAll} return a new {@code byte[]} per blob;
 * {@link #read}/{@link #readAll} lend each blob's bytes to a {@link BlobReader} from arrays the
 * store reuses (up to {@link #READ_BUFFER_POOL_BYTES}), so a large blob costs no new array, nor
 * the garbage-collector work one brings. The blobs in Redis are the same either way.
 */
public final class AnchorKvStore implements AutoCloseable {

    private static final Pattern REDIS_VERSION = Pattern.compile("(?m)^redis_version:(\\d+)\\.(\\d+)");

    private static final int SCAN_BATCH = 1000;
    private static final int DELETE_BATCH = 500;
    /** Most bytes of free reply arrays kept for {@link #readAll} (a question's worth of 4 MiB blobs, several times over). */
    public static final long READ_BUFFER_POOL_BYTES = 64L << 20;

    private final KvStoreConfig config;
    private final LettuceConnection redis;
    private final BlobBufferPool buffers = new BlobBufferPool(READ_BUFFER_POOL_BYTES);

    private AnchorKvStore(KvStoreConfig config, LettuceConnection redis) {
        this.config = config;
        this.redis = redis;
    }

    /** Connects now: an unreachable Redis fails here, at start-up, with the URL in the message. */
    public static AnchorKvStore connect(KvStoreConfig config) {
        try {
            return new AnchorKvStore(config, LettuceConnection.open(config));
        } catch (RedisException e) {
            throw new KvStoreUnavailableException("connect", null, config.target(), e);
        }
    }

    public RedisTarget target() {
        return config.target();
    }

    /** Whether Redis is a cluster: several URLs were given, or the one given is a cluster node. */
    public boolean cluster() {
        return redis.cluster();
    }

    /**
     * How many times the server came back as another process (a restart: its {@code run_id}
     * changed) since this store connected; each is logged at WARN. Always 0 for a cluster, or a
     * server that refuses INFO.
     */
    public long serverRestarts() {
        return redis.serverRestarts();
    }

    /**
     * SET, with PX when a TTL is given (else the blob lives until deleted or evicted). A SET has
     * its own time limit, {@link #transferLimit}: the command timeout plus the blob's size at
     * {@value #SET_FLOOR_BYTES_PER_SECOND} bytes/s, so a blob of hundreds of MB is not failed
     * (and retried as an outage, for ever) by a timeout sized for small commands.
     *
     * <p>A SET that timed out may still be in the connection's send buffer, and Redis may still
     * apply it: nothing can take it back. Until its reply has come, a put refuses at once
     * (unavailable) instead of queueing another copy behind it, so retries on a slow link cannot
     * pile blobs up in memory.
     */
    public void put(String key, byte[] blob, Optional<Duration> ttl) {
        Objects.requireNonNull(blob, "blob");
        ttl.ifPresent(t -> {
            if (t.toMillis() <= 0) {
                throw new IllegalArgumentException("TTL for " + key + " must be at least 1 ms, got " + t);
            }
        });
        TimedOutWrite earlier = timedOutWrite;
        if (earlier != null && !earlier.reply().isDone()) {
            throw unavailable("SET", key, new RedisCommandTimeoutException("an earlier SET of " + earlier.bytes()
                    + " bytes that timed out is still being sent"));
        }
        CommandArgs<byte[], byte[]> args = new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(bytes(key)).addValue(blob);
        ttl.ifPresent(t -> args.add("PX").add(t.toMillis()));
        RedisFuture<String> reply;
        try {
            reply = redis.async.dispatch(LettuceConnection.BlobCommand.SET, new StatusOutput<>(ByteArrayCodec.INSTANCE), args);
        } catch (RedisException e) {
            throw unavailable("SET", key, e);
        }
        Duration limit = transferLimit(blob.length);
        try {
            reply.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw unavailable("SET", key, e.getCause());
        } catch (TimeoutException e) {
            // not cancelled: that would complete the reply at once, while the SET goes on being sent
            timedOutWrite = new TimedOutWrite(reply, blob.length);
            throw unavailable("SET", key, new RedisCommandTimeoutException(
                    "SET of " + blob.length + " bytes timed out after " + limit.toMillis() + " ms"));
        } catch (InterruptedException e) {
            timedOutWrite = new TimedOutWrite(reply, blob.length);
            Thread.currentThread().interrupt();
            throw unavailable("SET", key, e);
        }
    }

    /** A SET whose wait ended before it did. */
    private record TimedOutWrite(RedisFuture<String> reply, long bytes) {
    }

    private volatile TimedOutWrite timedOutWrite;

    /** The slowest transfer a blob's SET or sized GET is given time for: a 512 MiB blob (Redis' largest) gets 32 s more. */
    public static final long SET_FLOOR_BYTES_PER_SECOND = 16L << 20;

    /** How long a SET, or a {@link #getBlob} GET, of {@code bytes} may take before it fails as unavailable. */
    public Duration transferLimit(long bytes) {
        return config.commandTimeout().plus(transferAllowance(bytes));
    }

    /** What a blob transfer of {@code bytes} is given beyond the command timeout: the bytes at the floor rate. */
    public static Duration transferAllowance(long bytes) {
        return Duration.ofMillis(bytes * 1000 / SET_FLOOR_BYTES_PER_SECOND);
    }

    /** GET under the command timeout: for small values, or where a blob's size is not known. */
    public Optional<byte[]> get(String key) {
        try {
            return Optional.ofNullable(redis.sync.get(bytes(key)));
        } catch (RedisException e) {
            if (holdsNoString(e)) {
                return Optional.empty();
            }
            throw unavailable("GET", key, e);
        }
    }

    /**
     * GET of a blob whose size the caller knows (a catalog record's bytes), given the time a SET of
     * that size is ({@link #transferLimit}). {@link #get} has the flat command timeout, which a blob
     * of a few hundred MiB outlasts even on loopback: every read of it then failed as an outage, and
     * was retried as one, for ever. A blob larger than {@code expectedBytes} gets no more time than
     * that size would.
     */
    public Optional<byte[]> getBlob(String key, long expectedBytes) {
        if (expectedBytes < 0) {
            throw new IllegalArgumentException("expectedBytes must be >= 0, got " + expectedBytes);
        }
        RedisFuture<byte[]> reply;
        try {
            reply = redis.async.dispatch(LettuceConnection.BlobCommand.GET, new ByteArrayOutput<>(ByteArrayCodec.INSTANCE),
                    new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(bytes(key)));
        } catch (RedisException e) {
            throw unavailable("GET", key, e);
        }
        Duration limit = transferLimit(expectedBytes);
        try {
            return Optional.ofNullable(reply.get(limit.toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException e) {
            if (holdsNoString(e.getCause())) {
                return Optional.empty();
            }
            throw unavailable("GET", key, e.getCause());
        } catch (TimeoutException e) {
            reply.cancel(false);   // a read has no effect to wait for: its reply is dropped when it comes
            throw unavailable("GET", key, new RedisCommandTimeoutException(
                    "GET of a blob of about " + expectedBytes + " bytes timed out after " + limit.toMillis() + " ms"));
        } catch (InterruptedException e) {
            reply.cancel(false);
            Thread.currentThread().interrupt();
            throw unavailable("GET", key, e);
        }
    }

    /**
     * WRONGTYPE: the key holds a hash, list or set, not a blob (another program wrote there). For
     * a reader that is no blob, as for a missing key: the compressor then writes the blob anew
     * (SET replaces any type) instead of retrying, as for an outage, an error no retry can end.
     */
    private static boolean holdsNoString(Throwable e) {
        return e instanceof RedisCommandExecutionException && e.getMessage() != null
                && e.getMessage().startsWith("WRONGTYPE");
    }

    /**
     * Bytes a pipelined read asks for at most before it awaits the replies (a slice; a larger blob
     * is a slice alone; a slice also holds at most {@value #EXISTS_PIPELINE} keys). Replies come
     * back in order, so a reply's wait includes every reply ahead of it: slices keep that, and
     * what another caller's read on the same connection queues behind, to a few MiB where the
     * caller gives the sizes, and Redis's output buffer for this client with it.
     */
    public static final long PIPELINE_SLICE_BYTES = 16L << 20;

    /** {@link #getAll(List, ToLongFunction)} of blobs whose size is not known: each reply within the command timeout. */
    public Map<String, byte[]> getAll(List<String> keys) {
        return getAll(keys, key -> 0);
    }

    /**
     * Fetches many blobs in pipelines: all GETs of a slice ({@link #PIPELINE_SLICE_BYTES}) are
     * written before any reply is awaited, so n documents cost about one round trip a slice, not
     * n. Works across cluster slots (one GET per key, each routed to its node). Keys that do not
     * exist are absent from the map, which keeps the caller's order.
     *
     * <p>{@code expectedBytes} gives each blob's size as the caller knows it (a catalog record's
     * bytes; 0 when not known): reply i must come within the command timeout plus the transfer
     * time of the slice's bytes up to and including it ({@link #transferAllowance}), as a single
     * {@link #getBlob} would get. A flat timeout failed a batch of large blobs on its first reply.
     */
    public Map<String, byte[]> getAll(List<String> keys, ToLongFunction<String> expectedBytes) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        String operation = "GET (pipelined, " + distinct.size() + " keys)";
        Map<String, byte[]> found = new LinkedHashMap<>();
        for (List<String> slice : slices(distinct, expectedBytes)) {
            List<RedisFuture<byte[]>> replies = send(slice, operation,
                    () -> new ByteArrayOutput<>(ByteArrayCodec.INSTANCE), (r, i) -> r.cancel(false));
            List<byte[]> blobs;
            try {
                blobs = awaitSlice(slice, replies, expectedBytes, operation);
            } catch (RuntimeException e) {
                replies.forEach(r -> r.cancel(false));   // a read has no effect to wait for
                throw e;
            }
            for (int i = 0; i < slice.size(); i++) {
                if (blobs.get(i) != null) {
                    found.put(slice.get(i), blobs.get(i));
                }
            }
        }
        return found;
    }

    /**
     * The keys in order, cut where the expected bytes of a slice would pass {@link #PIPELINE_SLICE_BYTES}
     * or it holds {@value #EXISTS_PIPELINE} keys (sizes not known count 0).
     */
    static List<List<String>> slices(List<String> keys, ToLongFunction<String> expectedBytes) {
        List<List<String>> slices = new ArrayList<>();
        List<String> slice = new ArrayList<>();
        long bytes = 0;
        for (String key : keys) {
            long size = Math.max(0, expectedBytes.applyAsLong(key));
            if (!slice.isEmpty() && (bytes + size > PIPELINE_SLICE_BYTES || slice.size() == EXISTS_PIPELINE)) {
                slices.add(slice);
                slice = new ArrayList<>();
                bytes = 0;
            }
            slice.add(key);
            bytes += size;
        }
        if (!slice.isEmpty()) {
            slices.add(slice);
        }
        return slices;
    }

    /**
     * One untimed GET per key (timed by {@link #awaitSlice}), all written before any reply is
     * awaited. When a send fails, {@code abandon} gets each reply already sent, with its index.
     */
    private <T> List<RedisFuture<T>> send(List<String> slice, String operation,
                                          java.util.function.Supplier<io.lettuce.core.output.CommandOutput<byte[], byte[], T>> output,
                                          java.util.function.ObjIntConsumer<RedisFuture<T>> abandon) {
        List<RedisFuture<T>> replies = new ArrayList<>(slice.size());
        try {
            for (String key : slice) {
                replies.add(redis.async.dispatch(LettuceConnection.BlobCommand.GET, output.get(),
                        new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(bytes(key))));
            }
        } catch (RedisException e) {
            for (int i = 0; i < replies.size(); i++) {
                abandon.accept(replies.get(i), i);
            }
            throw unavailable(operation, slice.get(replies.size()), e);
        }
        return replies;
    }

    /**
     * The replies of a slice sent just now, each awaited until the command timeout plus the
     * transfer time of the expected bytes up to it. A failure is thrown as it is: what to do with
     * the slice's other replies is the caller's (cancel plain ones; abandon lent ones, see readAll).
     */
    private <T> List<T> awaitSlice(List<String> slice, List<RedisFuture<T>> replies, ToLongFunction<String> expectedBytes,
                                   String operation) {
        long sent = System.nanoTime();
        long upTo = 0;
        List<T> out = new ArrayList<>(slice.size());
        for (int i = 0; i < slice.size(); i++) {
            upTo += Math.max(0, expectedBytes.applyAsLong(slice.get(i)));
            long deadline = sent + transferLimit(upTo).toNanos();
            out.add(awaitUntil(replies.get(i), deadline, operation, slice.get(i), upTo));
        }
        return out;
    }

    private <T> T awaitUntil(RedisFuture<T> reply, long deadlineNanos, String operation, String key, long bytesUpTo) {
        long wait = Math.max(0, deadlineNanos - System.nanoTime());
        try {
            return reply.get(wait, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (holdsNoString(e.getCause())) {
                return null;
            }
            throw unavailable(operation, key, e.getCause());
        } catch (TimeoutException e) {
            throw unavailable(operation, key, new RedisCommandTimeoutException("no reply within the command timeout"
                    + (bytesUpTo > 0 ? " and the transfer time of the " + bytesUpTo + " bytes expected up to this key" : "")));
        } catch (java.util.concurrent.CancellationException e) {
            throw unavailable(operation, key, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(operation, key, e);
        }
    }

    /**
     * GET of one blob, read by {@code reader} from a lent buffer: see {@link #readAll}.
     *
     * @return what the reader made of it, or empty when the key does not exist
     */
    public <T> Optional<T> read(String key, BlobReader<T> reader) {
        return Optional.ofNullable(readAll(List.of(key), reader).get(key));
    }

    /**
     * A lent reply that will not be read: cancelled if it has not come (its output abandoned first,
     * so a reply decoded after all takes no pooled array), else its array goes back to the pool.
     */
    private void abandon(LentBlobOutput output, RedisFuture<LentBlobOutput.Lent> reply) {
        output.abandon();
        if (!reply.cancel(false)) {   // it had come: give its array back
            reply.thenAccept(blob -> {
                if (blob != null) {
                    buffers.giveBack(blob.array());
                }
            });
        }
    }

    /** {@link #readAll(List, ToLongFunction, BlobReader)} of blobs whose size is not known. */
    public <T> Map<String, T> readAll(List<String> keys, BlobReader<T> reader) {
        return readAll(keys, key -> 0, reader);
    }

    /**
     * {@link #getAll(List, ToLongFunction)} without a new {@code byte[]} per blob: the same
     * pipelined GETs, slices and times, but each reply is copied into an array the store reuses,
     * and {@code reader} is called on it (on this thread, in request order, once its slice has
     * come whole) before the array goes back for the next fetch. Use it where the bytes are
     * decoded at once, e.g. {@code readAll(keys, sizes, (key, blob) -> AnchorKvCodec.decode(blob, modelId))}.
     *
     * <p>An exception from the reader propagates (the other blobs are given back unread); a
     * reader that must survive a bad blob catches and returns a result saying so.
     *
     * @return what the reader returned per existing key, in request order (duplicates once)
     */
    public <T> Map<String, T> readAll(List<String> keys, ToLongFunction<String> expectedBytes, BlobReader<T> reader) {
        Objects.requireNonNull(reader, "reader");
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        String operation = "GET (pipelined, " + distinct.size() + " keys)";
        Map<String, T> found = new LinkedHashMap<>();
        for (List<String> slice : slices(distinct, expectedBytes)) {
            List<LentBlobOutput> outputs = new ArrayList<>(slice.size());
            List<RedisFuture<LentBlobOutput.Lent>> replies = send(slice, operation, () -> {
                LentBlobOutput o = new LentBlobOutput(buffers);
                outputs.add(o);
                return o;
            }, (reply, i) -> abandon(outputs.get(i), reply));
            int next = 0; // replies from here on hold, or will hold, an array not yet given back
            try {
                List<LentBlobOutput.Lent> lent = awaitSlice(slice, replies, expectedBytes, operation);
                while (next < slice.size()) {
                    int i = next++;
                    LentBlobOutput.Lent blob = lent.get(i);
                    if (blob == null) {
                        continue;
                    }
                    try {
                        T value = reader.read(slice.get(i), blob.view());
                        found.put(slice.get(i), Objects.requireNonNull(value, "BlobReader returned null"));
                    } finally {
                        buffers.giveBack(blob.array());
                    }
                }
            } finally {
                // On failure: what arrived goes back to the pool; what has not is abandoned and cancelled
                // (a cancelled command is not sent at all if it still waits, e.g. for a reconnect)
                for (int i = next; i < replies.size(); i++) {
                    abandon(outputs.get(i), replies.get(i));
                }
            }
        }
        return found;
    }

    /** EXISTS: "already compressed" needs the blob to be in Redis, not only in the catalog. */
    public boolean exists(String key) {
        try {
            return redis.sync.exists(bytes(key)) == 1;
        } catch (RedisException e) {
            throw unavailable("EXISTS", key, e);
        }
    }

    /** @return whether the key existed */
    public boolean delete(String key) {
        try {
            return redis.sync.del(bytes(key)) == 1;
        } catch (RedisException e) {
            throw unavailable("DEL", key, e);
        }
    }

    /**
     * Lets the key live at most {@code grace} longer (PEXPIRE ... LT): a key without a TTL gets
     * one, a key due to expire sooner keeps its earlier time. Needs Redis 7.0 or later.
     *
     * @return whether the key existed
     */
    public boolean expireWithin(String key, Duration grace) {
        requireGrace(grace);
        try {
            if (redis.sync.pexpire(bytes(key), grace.toMillis(), ExpireArgs.Builder.lt())) {
                return true;
            }
            return exists(key);   // LT refused a later time: the key exists and expires sooner anyway
        } catch (RedisException e) {
            throw unavailable("PEXPIRE", key, e);
        }
    }

    /**
     * {@link #expireWithin} for many keys, pipelined {@value #EXISTS_PIPELINE} at a time: all
     * PEXPIREs of a slice are written before any reply is awaited, then one EXISTS for each key
     * whose PEXPIRE was refused (LT keeps an earlier expiry, or the key is gone), also pipelined,
     * so a second sweep within the grace, where every PEXPIRE is refused, costs two round trips per
     * slice rather than one per key. A key named twice counts once.
     *
     * @return how many of the (distinct) keys existed
     */
    public long expireAllWithin(List<String> keys, Duration grace) {
        requireGrace(grace);
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        List<Boolean> applied = pipelined(distinct, "PEXPIRE",
                key -> redis.async.pexpire(key, grace.toMillis(), ExpireArgs.Builder.lt()));
        long existed = 0;
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < distinct.size(); i++) {
            if (Boolean.TRUE.equals(applied.get(i))) {
                existed++;
            } else {
                refused.add(distinct.get(i));
            }
        }
        return existed + existing(refused).size();
    }

    /** Keys sent at a time by {@link #existing}: each command's timeout runs from when it is sent. */
    static final int EXISTS_PIPELINE = 1000;

    /**
     * Which of {@code keys} exist: one EXISTS per key, pipelined {@value #EXISTS_PIPELINE} at a
     * time (each slice written before any of its replies is awaited), so a slice costs about one
     * round trip; works across cluster slots. In slices because every command's timeout starts
     * when it is sent: a million at once timed out at the tail on loopback.
     */
    public Set<String> existing(List<String> keys) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        List<Long> counts = pipelined(distinct, "EXISTS", key -> redis.async.exists(key));
        Set<String> found = new LinkedHashSet<>();
        for (int i = 0; i < distinct.size(); i++) {
            if (counts.get(i) != null && counts.get(i) > 0) {
                found.add(distinct.get(i));
            }
        }
        return found;
    }

    /**
     * One small command per key, {@value #EXISTS_PIPELINE} at a time (each slice written before any
     * of its replies is awaited, each under the command timeout); the replies in the keys' order.
     */
    private <R> List<R> pipelined(List<String> keys, String command, java.util.function.Function<byte[], RedisFuture<R>> send) {
        List<R> out = new ArrayList<>(keys.size());
        for (int from = 0; from < keys.size(); from += EXISTS_PIPELINE) {
            List<String> slice = keys.subList(from, Math.min(keys.size(), from + EXISTS_PIPELINE));
            String operation = command + " (pipelined, " + slice.size() + " keys)";
            List<RedisFuture<R>> replies = new ArrayList<>(slice.size());
            try {
                for (String key : slice) {
                    replies.add(send.apply(bytes(key)));
                }
            } catch (RedisException e) {
                throw unavailable(operation, slice.get(replies.size()), e);
            }
            for (int i = 0; i < slice.size(); i++) {
                out.add(await(replies.get(i), operation, slice.get(i)));
            }
        }
        return out;
    }

    private static void requireGrace(Duration grace) {
        if (grace.toMillis() < 1) {
            throw new IllegalArgumentException("grace must be at least 1 ms, got " + grace);
        }
    }

    /**
     * Deletes every blob of a document — all versions, models and formats — by SCAN MATCH on
     * its hash-tag pattern (never KEYS, which blocks Redis while it walks the keyspace).
     *
     * @return how many keys were deleted
     */
    public long deleteDoc(String tenant, String docId) {
        return deleteMatching(RedisKeys.docPattern(tenant, docId));
    }

    /**
     * Deletes every blob of a model — all tenants, documents, versions and formats — by SCAN
     * MATCH over the whole keyspace (every master's, on a cluster): what retiring a model that no
     * query service serves any more frees.
     *
     * @return how many keys were deleted
     */
    public long deleteModel(String modelId) {
        return deleteMatching(RedisKeys.modelPattern(modelId));
    }

    /**
     * As {@link #deleteModel(String)}, in the given tenants only, by one SCAN of the model's blobs
     * (SCAN MATCH walks the whole keyspace per pattern, so not one per tenant).
     */
    public long deleteModel(java.util.Set<String> tenants, String modelId) {
        return deleteMatching(RedisKeys.modelPattern(modelId), key -> {
            try {
                return tenants.contains(RedisKeys.parse(key).tenant());
            } catch (IllegalArgumentException e) {   // not a blob key in canonical form: not ours to delete
                return false;
            }
        });
    }

    /**
     * Calls {@code each} with every key matching {@code pattern}, by SCAN MATCH (every master's
     * keyspace, on a cluster). A key may be seen twice when the keyspace is resized meanwhile, as
     * SCAN guarantees no better.
     */
    public void scan(String pattern, java.util.function.Consumer<String> each) {
        try {
            ScanIterator<byte[]> keys = scanIterator(pattern);
            while (keys.hasNext()) {
                each.accept(new String(keys.next(), StandardCharsets.UTF_8));
            }
        } catch (RedisException e) {
            throw unavailable("SCAN", pattern, e);
        }
    }

    private ScanIterator<byte[]> scanIterator(String pattern) {
        return ScanIterator.scan(redis.sync, ScanArgs.Builder.matches(bytes(pattern)).limit(SCAN_BATCH));
    }

    private long deleteMatching(String pattern) {
        return deleteMatching(pattern, key -> true);
    }

    private long deleteMatching(String pattern, java.util.function.Predicate<String> which) {
        try {
            long deleted = 0;
            List<byte[]> batch = new ArrayList<>(DELETE_BATCH);
            ScanIterator<byte[]> keys = scanIterator(pattern);
            while (keys.hasNext()) {
                byte[] key = keys.next();
                if (!which.test(new String(key, StandardCharsets.UTF_8))) {
                    continue;
                }
                batch.add(key);
                if (batch.size() == DELETE_BATCH) {
                    deleted += redis.sync.del(batch.toArray(byte[][]::new));
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                deleted += redis.sync.del(batch.toArray(byte[][]::new));
            }
            return deleted;
        } catch (RedisException e) {
            throw unavailable("SCAN+DEL", pattern, e);
        }
    }

    /**
     * Fails with what to do when the server is older than {@code major.minor}, the version a
     * command the caller relies on needs ({@code why}); a server that does not say its version
     * passes (some managed services hide INFO).
     */
    public void requireVersion(int major, int minor, String why) {
        String info;
        try {
            info = redis.sync.info("server");
        } catch (RedisCommandExecutionException e) {   // INFO renamed, disabled or not allowed (ACL): no claim
            return;
        } catch (RedisException e) {
            throw unavailable("INFO", null, e);
        }
        Optional<int[]> version = serverVersion(info);
        if (version.isPresent() && (version.get()[0] < major || version.get()[0] == major && version.get()[1] < minor)) {
            throw new IllegalStateException("Redis at " + config.target() + " is version " + version.get()[0] + "."
                    + version.get()[1] + "; " + why + " needs " + major + "." + minor + " or later: upgrade redis-server");
        }
    }

    /**
     * The largest value this server can store, as far as it says: its {@code proto-max-bulk-len}
     * (no string may be longer), and its {@code maxmemory} when set (a value larger than all of
     * memory is refused with OOM, whatever is evicted). A SET over either fails every time, so a
     * caller that would retry it as an outage sizes its values below this instead. Empty when the
     * server does not say (CONFIG renamed or not allowed, as on some managed services); a limit it
     * does not report does not count. Read once: a later CONFIG SET is not seen.
     */
    public OptionalLong largestValueBytes() {
        long bulk = configLong("proto-max-bulk-len");
        long memory = configLong("maxmemory");
        long largest = Math.min(bulk > 0 ? bulk : Long.MAX_VALUE, memory > 0 ? memory : Long.MAX_VALUE);
        return largest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(largest);
    }

    /**
     * How Redis treats a full memory: {@code maxmemory} (0 = no limit) and {@code
     * maxmemory-policy}; empty when the server does not say (CONFIG renamed or not allowed).
     */
    public Optional<MemoryPolicy> memoryPolicy() {
        try {
            Map<String, String> reply = redis.sync.configGet("maxmemory-policy");
            String policy = reply == null ? null : reply.get("maxmemory-policy");
            return policy == null ? Optional.empty() : Optional.of(new MemoryPolicy(configLong("maxmemory"), policy.trim()));
        } catch (RedisCommandExecutionException e) {
            return Optional.empty();
        } catch (RedisException e) {
            throw unavailable("CONFIG GET maxmemory-policy", null, e);
        }
    }

    /** @param maxMemory bytes, 0 = no limit */
    public record MemoryPolicy(long maxMemory, String policy) {
    }

    /** Keys Redis has evicted since it started ({@code INFO stats}); empty when it does not say. */
    public OptionalLong evictedKeys() {
        try {
            return RedisInfo.field(redis.sync.info("stats"), "evicted_keys")
                    .map(v -> OptionalLong.of(Long.parseLong(v))).orElse(OptionalLong.empty());
        } catch (RedisCommandExecutionException | NumberFormatException e) {
            return OptionalLong.empty();
        } catch (RedisException e) {
            throw unavailable("INFO stats", null, e);
        }
    }

    /** A numeric CONFIG GET parameter; 0 when the server does not say. */
    private long configLong(String parameter) {
        try {
            Map<String, String> reply = redis.sync.configGet(parameter);
            String value = reply == null ? null : reply.get(parameter);
            return value == null ? 0 : Long.parseLong(value.trim());
        } catch (RedisCommandExecutionException | NumberFormatException e) {   // renamed, ACL, odd reply: no claim
            return 0;
        } catch (RedisException e) {
            throw unavailable("CONFIG GET " + parameter, null, e);
        }
    }

    /** {major, minor} of {@code redis_version} in an INFO reply; empty when there is none. */
    static Optional<int[]> serverVersion(String info) {
        Matcher m = REDIS_VERSION.matcher(info);
        return m.find() ? Optional.of(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))})
                : Optional.empty();
    }

    /** @return the round-trip time of one PING */
    public Duration ping() {
        long t0 = System.nanoTime();
        try {
            redis.sync.ping();
        } catch (RedisException e) {
            throw unavailable("PING", null, e);
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** The reply arrays {@link #readAll} reuses (for tests). */
    BlobBufferPool readBuffers() {
        return buffers;
    }

    @Override
    public void close() {
        redis.close();
    }

    private <T> T await(RedisFuture<T> reply, String operation, String key) {
        // Lettuce already times each command out (TimeoutOptions); the extra second only
        // guards against a reply that never completes at all.
        long limitMillis = config.commandTimeout().toMillis() + 1000;
        try {
            return reply.get(limitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw unavailable(operation, key, e.getCause());
        } catch (TimeoutException e) {
            throw unavailable(operation, key, new RedisCommandTimeoutException("no reply within " + limitMillis + " ms"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(operation, key, e);
        }
    }

    private KvStoreUnavailableException unavailable(String operation, String key, Throwable cause) {
        Throwable why = explained(cause, redis.cluster());
        if (readOnly(why)) {
            why = new RedisCommandExecutionException(why.getMessage() + " (the server at that address is a replica: a"
                    + " failover demoted it, or the address names a replica" + redis.redial() + ")", why);
        }
        return new KvStoreUnavailableException(operation, key, config.target(), why);
    }

    /** A write refused by a read-only replica: {@link LettuceConnection#redial} finds whichever server the address reaches now. */
    private static boolean readOnly(Throwable e) {
        return e instanceof RedisCommandExecutionException && e.getMessage() != null && e.getMessage().startsWith("READONLY");
    }

    /**
     * A MOVED or ASK reply to the standalone client: the server it connected to as one node (a
     * single-node cluster holds every slot) now shares the slots with others. This client does not
     * follow redirects; the service must be restarted to connect as a cluster client. Said so,
     * instead of a bare "MOVED 1234 10.0.0.2:6379" on every command.
     */
    static Throwable explained(Throwable cause, boolean cluster) {
        if (!cluster && cause instanceof RedisCommandExecutionException && cause.getMessage() != null
                && (cause.getMessage().startsWith("MOVED ") || cause.getMessage().startsWith("ASK "))) {
            return new RedisCommandExecutionException(cause.getMessage() + " (this server became one node of a Redis"
                    + " Cluster of several after the service connected to it as a single server: restart the service,"
                    + " or give every node's URL, to use the cluster client)", cause);
        }
        return cause;
    }

    private static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }
}
