package dev.sacrag.kvstore;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import dev.sacrag.core.kv.AnchorKvCodec;

/**
 * Builds and parses every Redis key this project uses. Nothing else concatenates key strings.
 *
 * <h2>Redis structures</h2>
 * <dl>
 * <dt>Anchor-KV blob — a plain string</dt>
 * <dd>Key {@code sac:<tenant>:kv:v<format>:<modelId>:{<docId>}:<docVersion>}, for example
 * {@code sac:acme:kv:v1:3f9a0c1d2e4b:{handbook.md}:1718000000000}. Value: the bytes of
 * {@link AnchorKvCodec} (its header repeats format and model id and carries a CRC32C, so a blob
 * under the wrong key is still rejected). Written with SET, optionally with PX (a TTL); evicted
 * by Redis under {@code allkeys-lru}. Read with GET (pipelined for several documents).
 * <ul>
 * <li>Everything that makes a blob unusable is in the key: the codec format (a new format never
 * reads an old blob), the model id (a hash of base weights, adapter and ratio, so caches of
 * different models never mix) and the document version (an update writes a new key; the old
 * one is deleted or expires).</li>
 * <li>{@code {docId}} is a Redis Cluster hash tag: Cluster hashes only the text between the
 * first {@code {} and the next {@code }}, so every version and model of one document lives in
 * one slot (one node), and deleting a document touches one node. These are the only braces
 * in a key: every component is escaped (below), so a doc id cannot open a second tag.</li>
 * <li>A document's blobs are found with {@code SCAN MATCH} on {@link #docPattern}, never
 * KEYS (which blocks Redis). No secondary index set is kept: it would drift from the blobs
 * whenever Redis evicts or expires one, and deletes are rare (tombstones only).</li>
 * </ul></dd>
 * </dl>
 *
 * <h2>Escaping</h2>
 * Tenant, model id and doc id are free text (doc ids are often paths or URLs). Each is
 * percent-encoded for exactly the characters that carry meaning in a key or a SCAN pattern:
 * {@code % : { } * ? [ ] \} become {@code %XX} (upper-case hex); everything else, Unicode
 * included, stays as is, so keys stay readable in {@code redis-cli}. Parsing accepts only this
 * canonical form, so {@code build(parse(k)).equals(k)} for every key that parses.
 */
public final class RedisKeys {

    public static final String PREFIX = "sac";
    /** Redis Cluster's slot count: CRC16(tag) mod 16384. */
    public static final int CLUSTER_SLOTS = 16384;
    private static final String SPECIAL = "%:{}*?[]\\";
    private static final HexFormat HEX = HexFormat.of().withUpperCase();

    private RedisKeys() {
    }

    /** Key of a blob in the current codec format. */
    public static String blobKey(String tenant, String modelId, String docId, long docVersion) {
        return build(new BlobKey(tenant, AnchorKvCodec.FORMAT_VERSION, modelId, docId, docVersion));
    }

    public static String build(BlobKey key) {
        return PREFIX + ':' + escape(key.tenant()) + ":kv:v" + key.format() + ':' + escape(key.modelId())
                + ":{" + escape(key.docId()) + "}:" + key.docVersion();
    }

    /** @throws IllegalArgumentException naming the key when it is not a canonical blob key */
    public static BlobKey parse(String key) {
        String[] parts = key.split(":", -1);
        if (parts.length != 7 || !PREFIX.equals(parts[0]) || !"kv".equals(parts[2])) {
            throw notAKey(key, "expected sac:<tenant>:kv:v<format>:<modelId>:{<docId>}:<docVersion>");
        }
        String tag = parts[5];
        if (tag.length() < 3 || tag.charAt(0) != '{' || tag.charAt(tag.length() - 1) != '}') {
            throw notAKey(key, "doc id must be a {hash tag}");
        }
        BlobKey parsed;
        try {
            parsed = new BlobKey(unescape(parts[1]), parseCanonical(parts[3], "v"), unescape(parts[4]),
                    unescape(tag.substring(1, tag.length() - 1)), parseCanonicalLong(parts[6]));
        } catch (IllegalArgumentException e) {
            throw notAKey(key, e.getMessage());
        }
        if (!build(parsed).equals(key)) {
            throw notAKey(key, "not in canonical form");
        }
        return parsed;
    }

    /** SCAN MATCH pattern for every blob of one document: all versions, models and formats. */
    public static String docPattern(String tenant, String docId) {
        BlobKey.requireText("tenant", tenant);
        BlobKey.requireText("docId", docId);
        // Escaped components contain no glob characters, so the only wildcards are ours.
        return PREFIX + ':' + escape(tenant) + ":kv:v*:*:{" + escape(docId) + "}:*";
    }

    /** SCAN MATCH pattern for every blob of one tenant, or of every tenant when {@code tenant} is empty. */
    public static String blobPattern(java.util.Optional<String> tenant) {
        tenant.ifPresent(t -> BlobKey.requireText("tenant", t));
        return PREFIX + ':' + tenant.map(RedisKeys::escape).orElse("*") + ":kv:v*:*:{*}:*";
    }

    /** SCAN MATCH pattern for every blob of one model: all tenants, documents, versions and formats. */
    public static String modelPattern(String modelId) {
        BlobKey.requireText("modelId", modelId);
        // Escaped components hold no ':' or '{', so "*:<model>:{" cannot match inside a tenant or doc id.
        return PREFIX + ":*:kv:v*:" + escape(modelId) + ":{*}:*";
    }

    /** The Redis Cluster slot of a key, computed as Redis does (hash tag rule, CRC16-XMODEM). */
    public static int hashSlot(String key) {
        byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
        int open = indexOf(bytes, (byte) '{', 0);
        if (open >= 0) {
            int close = indexOf(bytes, (byte) '}', open + 1);
            if (close > open + 1) {
                return Crc16.xmodem(bytes, open + 1, close) % CLUSTER_SLOTS;
            }
        }
        return Crc16.xmodem(bytes, 0, bytes.length) % CLUSTER_SLOTS;
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (SPECIAL.indexOf(c) >= 0) {
                out.append('%').append(HEX.toHexDigits((byte) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static String unescape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 3 > text.length()) {
                throw new IllegalArgumentException("truncated escape at index " + i);
            }
            char decoded = (char) HexFormat.fromHexDigits(text, i + 1, i + 3);
            if (SPECIAL.indexOf(decoded) < 0) {
                throw new IllegalArgumentException("'" + text.substring(i, i + 3) + "' escapes a character that needs no escape");
            }
            out.append(decoded);
            i += 2;
        }
        return out.toString();
    }

    private static int parseCanonical(String text, String prefix) {
        if (!text.startsWith(prefix)) {
            throw new IllegalArgumentException("format must look like v1, got '" + text + "'");
        }
        long value = parseCanonicalLong(text.substring(prefix.length()));
        if (value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("format " + value + " is too large");
        }
        return (int) value;
    }

    private static long parseCanonicalLong(String text) {
        if (text.isEmpty() || !text.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            throw new IllegalArgumentException("'" + text + "' is not a non-negative decimal number");
        }
        return Long.parseLong(text); // leading zeros are caught by the canonical-form check
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static IllegalArgumentException notAKey(String key, String why) {
        return new IllegalArgumentException("'" + key + "' is not an anchor-KV blob key: " + why);
    }
}
