package dev.sacrag.core.kv;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The byte form of an {@link AnchorKv}: the value stored in Redis. All integers little-endian;
 * M = model id length in UTF-8 bytes, C = chunk count, P = payload length.
 *
 * <pre>
 * offset          size  field
 * 0               4     magic "SACK" (ASCII)
 * 4               2     format version u16 = {@link #FORMAT_VERSION} (also in the Redis key)
 * 6               1     dtype u8 = {@link KvDtype#code()}: 0 f32, 1 f16, 2 int8 with f32 scales (the
 *                       first int8 layout: read, no longer written), 3 int8 with f16 scales
 * 7               1     flags u8 = 0 (a reader rejects flags it does not know)
 * 8               2     model id length M, u16
 * 10              M     model id, UTF-8
 * 10+M            2     layers L, u16
 * 12+M            2     kv heads Hkv, u16
 * 14+M            2     head dim D, u16
 * 16+M            4     token count T, u32 (compressed length, for RoPE shifting at query time)
 * 20+M            4     chunk count C, u32
 * 24+M            4C    anchors per chunk, u32 each; N = their sum
 * 24+M+4C         8     payload length P, u64 (must equal what L, Hkv, N, D and dtype imply)
 * 32+M+4C         P     payload: for each layer, K then V, each [Hkv, N, D] row-major;
 *                       int8 tensors are preceded by their scales [Hkv, D], f32 (code 2) or
 *                       f16 (code 3)
 * 32+M+4C+P       4     CRC32C u32 of every byte before it
 * </pre>
 *
 * <p>Rollouts: a reader refuses a dtype code it does not know, as a corrupt blob. Code 3 came
 * after code 2 under the same format version, so a reader built before it takes new int8 blobs
 * for corrupt ones (and asks for them to be compressed again): upgrade the readers (query
 * services) before the writers (compressors) start writing int8, or raise the format version
 * (which is in the Redis key) with the next dtype added.
 *
 * <p>The CRC sits at the end so it is written in one pass after the payload, and so the
 * header can be read from a prefix of the blob (GETRANGE) by {@link #readHeader}. Decoding
 * checks framing, then the exact size, then the CRC, then the model id, then (given a catalog
 * record's checksum) that it is the record's blob, and only then reads tensors: a corrupted
 * model id reads as corrupt, not as another model's blob.
 */
public final class AnchorKvCodec {

    public static final int FORMAT_VERSION = 1;

    private static final byte[] MAGIC = {'S', 'A', 'C', 'K'};
    /** Header bytes apart from the model id and the per-chunk counts. */
    private static final int FIXED_HEADER_BYTES = 32;
    private static final int CRC_BYTES = 4;
    private static final int MAX_U16 = 0xffff;
    /** Largest byte[] the JVM reliably allocates. */
    private static final long MAX_BLOB_BYTES = Integer.MAX_VALUE - 8;

    /** Every header field; payloadLength is as declared, checked against the shape only by decode. */
    public record Header(int formatVersion, KvDtype dtype, int flags, String modelId, int layers, int kvHeads,
                         int headDim, int tokenCount, int[] chunkAnchors, long payloadLength) {

        public int anchorCount() {
            return Arrays.stream(chunkAnchors).sum();
        }

        public int headerLength() {
            return FIXED_HEADER_BYTES + modelId.getBytes(StandardCharsets.UTF_8).length + 4 * chunkAnchors.length;
        }

        public long blobSize() {
            return headerLength() + payloadLength + CRC_BYTES;
        }
    }

    public static byte[] encode(AnchorKv kv, KvDtype dtype) {
        byte[] id = kv.modelId().getBytes(StandardCharsets.UTF_8);
        requireU16("model id UTF-8 length", id.length);
        requireU16("layers", kv.layers());
        requireU16("kv heads", kv.kvHeads());
        requireU16("head dim", kv.headDim());
        if (kv.tokenCount() < 0 || Arrays.stream(kv.chunkAnchors()).anyMatch(a -> a < 0)) {
            throw new IllegalArgumentException("negative token or anchor count in " + kv.modelId() + " anchor KV");
        }
        if (kv.anchorCount() > kv.tokenCount() || kv.chunkAnchors().length > kv.tokenCount()) {
            throw new IllegalArgumentException(kv.modelId() + " anchor KV of " + kv.tokenCount() + " tokens cannot hold "
                    + kv.anchorCount() + " anchors in " + kv.chunkAnchors().length + " chunks");
        }
        int n = kv.anchorCount();
        long size = encodedSize(kv.layers(), kv.kvHeads(), kv.headDim(), n, kv.chunkAnchors().length, id.length, dtype);
        if (size > MAX_BLOB_BYTES) {
            throw new IllegalArgumentException("anchor KV blob would be " + size + " bytes, over the " + MAX_BLOB_BYTES + " limit");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putShort((short) FORMAT_VERSION).put((byte) dtype.code()).put((byte) 0);
        out.putShort((short) id.length).put(id);
        out.putShort((short) kv.layers()).putShort((short) kv.kvHeads()).putShort((short) kv.headDim());
        out.putInt(kv.tokenCount()).putInt(kv.chunkAnchors().length);
        for (int a : kv.chunkAnchors()) {
            out.putInt(a);
        }
        out.putLong(payloadBytes(kv.layers(), kv.kvHeads(), kv.headDim(), n, dtype));
        for (int l = 0; l < kv.layers(); l++) {
            dtype.write(out, kv.keys()[l], kv.kvHeads(), n, kv.headDim());
            dtype.write(out, kv.values()[l], kv.kvHeads(), n, kv.headDim());
        }
        out.putInt(crc(out.array(), out.position()));
        return out.array();
    }

    /** Refuses, never guesses: see the class comment for the order of checks. Null expectedModelId skips that check. */
    public static AnchorKv decode(byte[] blob, String expectedModelId) {
        return decode(ByteBuffer.wrap(blob), expectedModelId);
    }

    /**
     * {@link #decode(byte[], String)} of the bytes from {@code blob}'s position to its limit,
     * with the same checks in the same order, without copying the blob first (e.g. straight
     * from a buffer the Redis client lends). Reads through a view: {@code blob}'s position,
     * limit and byte order are left as they were; the result shares no memory with it.
     */
    public static AnchorKv decode(ByteBuffer blob, String expectedModelId) {
        return decode(blob, expectedModelId, OptionalLong.empty());
    }

    /**
     * {@link #decode(ByteBuffer, String)} of the blob a catalog record describes: after the model
     * check, the blob must be the one of the record's {@code checksum} ({@link #checksum}, the CRC
     * it carries; a record of an earlier build, {@link #WHOLE_BLOB_RESIDUE}, takes any intact blob),
     * as {@link #headerIfDescribed} holds it. An intact blob of the model under the record's key
     * may still be another (a compressor that lost its partition writing late, the document deleted
     * and published again under that version, another deployment sharing the Redis): decoded, it
     * would answer for text the record does not describe.
     */
    public static AnchorKv decode(ByteBuffer blob, String expectedModelId, long checksum) {
        return decode(blob, expectedModelId, OptionalLong.of(checksum));
    }

    private static AnchorKv decode(ByteBuffer blob, String expectedModelId, OptionalLong checksum) {
        ByteBuffer b = blob.slice().order(ByteOrder.LITTLE_ENDIAN);
        Header h = readHeader(b);
        int n = h.anchorCount();
        long payload;
        try {
            payload = payloadBytes(h.layers(), h.kvHeads(), h.headDim(), n, h.dtype());
        } catch (ArithmeticException e) {
            throw new CorruptBlobException("declared shape " + shape(h) + " overflows a 64-bit size", e);
        }
        if (h.payloadLength() != payload) {
            throw new CorruptBlobException("payload length field says " + h.payloadLength() + " bytes, but "
                    + shape(h) + " needs " + payload);
        }
        long declared = h.headerLength() + payload + CRC_BYTES;
        int length = b.limit();
        if (length != declared) {
            throw new CorruptBlobException((length < declared ? "truncated" : "trailing garbage")
                    + ": header declares a " + declared + "-byte blob, found " + length + " bytes");
        }
        int stored = b.getInt(length - CRC_BYTES);
        int computed = crc(b, length - CRC_BYTES);
        if (stored != computed) {
            throw new CorruptBlobException(String.format("CRC32C mismatch: stored 0x%08x, computed 0x%08x", stored, computed));
        }
        if (expectedModelId != null && !expectedModelId.equals(h.modelId())) {
            throw new ModelMismatchException(expectedModelId, h.modelId());
        }
        long carried = Integer.toUnsignedLong(stored);
        if (checksum.isPresent() && checksum.getAsLong() != carried && checksum.getAsLong() != WHOLE_BLOB_RESIDUE) {
            throw new UndescribedBlobException(checksum.getAsLong(), carried);
        }
        ByteBuffer in = b.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(h.headerLength());
        float[][] keys = new float[h.layers()][];
        float[][] values = new float[h.layers()][];
        for (int l = 0; l < h.layers(); l++) {
            keys[l] = h.dtype().read(in, h.kvHeads(), n, h.headDim());
            values[l] = h.dtype().read(in, h.kvHeads(), n, h.headDim());
        }
        try {
            return new AnchorKv(h.modelId(), h.layers(), h.kvHeads(), h.headDim(), h.tokenCount(), h.chunkAnchors(), keys, values);
        } catch (IllegalArgumentException e) {   // a header that passed every size check yet describes no anchor KV
            throw new CorruptBlobException("header " + shape(h) + " describes no valid anchor KV: " + e.getMessage(), e);
        }
    }

    /**
     * What catalog records written before {@link #checksum} took the blob's own CRC carry: the
     * CRC32C of the whole blob, trailing CRC included. A CRC followed by itself (little-endian,
     * as CRC32C is reflected) always leaves the same remainder, so this is that value for every
     * intact blob: such a record vouches for any intact blob, and tells none apart. A blob of this
     * build whose own CRC happens to be this value (one in 2^32) gets a record that does the same:
     * as loose as every record was before, no looser.
     */
    public static final long WHOLE_BLOB_RESIDUE = 0x48674bc7L;

    /**
     * The checksum a catalog record carries for a blob, unsigned 32-bit: the CRC32C of every byte
     * before the blob's trailing CRC, i.e. the value that CRC holds when the blob is intact. Two
     * blobs of other anchors have other checksums (a CRC32C of the whole blob would not tell them
     * apart: see {@link #WHOLE_BLOB_RESIDUE}).
     */
    public static long checksum(byte[] blob) {
        if (blob.length < CRC_BYTES) {
            throw new IllegalArgumentException("a blob of " + blob.length + " bytes has no CRC");
        }
        return Integer.toUnsignedLong(crc(blob, blob.length - CRC_BYTES));
    }

    /**
     * The header of {@code blob} when it is the blob a catalog record describes: it is intact (its
     * trailing CRC holds), it is the one of the record's {@code checksum} ({@link #checksum}; a
     * record of an earlier build, whose checksum is {@link #WHOLE_BLOB_RESIDUE}, takes any intact
     * blob, as it always did), this build reads its header, and it is {@code modelId}'s. Empty
     * otherwise (another blob written under the key since, a truncated value, another format or model).
     */
    public static Optional<Header> headerIfDescribed(byte[] blob, long checksum, String modelId) {
        if (blob.length < CRC_BYTES) {
            return Optional.empty();
        }
        long computed = checksum(blob);
        long stored = Integer.toUnsignedLong(ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).getInt(blob.length - CRC_BYTES));
        if (computed != stored || checksum != computed && checksum != WHOLE_BLOB_RESIDUE) {
            return Optional.empty();
        }
        try {
            Header h = readHeader(blob);
            return h.modelId().equals(modelId) ? Optional.of(h) : Optional.empty();
        } catch (BlobException e) {
            return Optional.empty();
        }
    }

    /** Parses the header only, without the CRC, so it also works on a prefix of the blob. */
    public static Header readHeader(byte[] blob) {
        return readHeader(ByteBuffer.wrap(blob));
    }

    /** {@link #readHeader(byte[])} of the bytes from {@code blob}'s position to its limit; leaves {@code blob} as it was. */
    public static Header readHeader(ByteBuffer blob) {
        ByteBuffer in = blob.slice().order(ByteOrder.LITTLE_ENDIAN);
        int size = in.remaining();
        if (size < MAGIC.length) {
            throw new CorruptBlobException("truncated: " + size + " bytes, shorter than the magic");
        }
        byte[] magic = new byte[MAGIC.length];
        in.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptBlobException("bad magic 0x" + HexFormat.of().formatHex(magic)
                    + ", expected 0x" + HexFormat.of().formatHex(MAGIC) + " (\"SACK\")");
        }
        try {
            int version = Short.toUnsignedInt(in.getShort());
            if (version != FORMAT_VERSION) {
                throw new CorruptBlobException("unsupported format version " + version + ", this build reads " + FORMAT_VERSION);
            }
            int code = Byte.toUnsignedInt(in.get());
            KvDtype dtype = KvDtype.fromCode(code).orElseThrow(() -> new CorruptBlobException(
                    "unknown dtype code " + code + ", expected the code of one of " + Arrays.toString(KvDtype.values())));
            int flags = Byte.toUnsignedInt(in.get());
            if (flags != 0) {
                throw new CorruptBlobException("unknown flags 0x" + Integer.toHexString(flags) + ", expected 0");
            }
            byte[] id = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(id);
            String modelId = strictUtf8(id);
            int layers = Short.toUnsignedInt(in.getShort());
            int kvHeads = Short.toUnsignedInt(in.getShort());
            int headDim = Short.toUnsignedInt(in.getShort());
            int tokenCount = nonNegative("token count", in.getInt());
            int chunks = in.getInt();
            if (Integer.toUnsignedLong(chunks) > in.remaining() / 4) {
                throw new CorruptBlobException("truncated: header declares " + Integer.toUnsignedLong(chunks)
                        + " chunks, only " + in.remaining() + " bytes follow");
            }
            int[] chunkAnchors = new int[chunks];
            long total = 0;
            for (int c = 0; c < chunks; c++) {
                chunkAnchors[c] = nonNegative("anchor count of chunk " + c, in.getInt());
                total += chunkAnchors[c];
            }
            if (total > Integer.MAX_VALUE) {
                throw new CorruptBlobException("total anchor count " + total + " exceeds " + Integer.MAX_VALUE);
            }
            // Anchors are tokens of the context, and every chunk holds at least one token. The token
            // count places the next composed document (RoPE shift), so a header that breaks this is
            // rejected here rather than decoded into wrong positions. (The exact layout needs the
            // chunk size and ratio, which only the model id implies.)
            if (total > tokenCount || chunks > tokenCount) {
                throw new CorruptBlobException("header declares " + total + " anchors in " + chunks + " chunks for "
                        + tokenCount + " tokens");
            }
            return new Header(version, dtype, flags, modelId, layers, kvHeads, headDim, tokenCount, chunkAnchors, in.getLong());
        } catch (BufferUnderflowException e) {
            throw new CorruptBlobException("truncated header: blob has only " + size + " bytes", e);
        }
    }

    /** Exact blob size; modelIdLength is the model id's UTF-8 byte length. */
    public static long encodedSize(int layers, int kvHeads, int headDim, int anchors, int chunks, int modelIdLength,
                                   KvDtype dtype) {
        return FIXED_HEADER_BYTES + modelIdLength + 4L * chunks + payloadBytes(layers, kvHeads, headDim, anchors, dtype)
                + CRC_BYTES;
    }

    private static long payloadBytes(int layers, int kvHeads, int headDim, int anchors, KvDtype dtype) {
        return Math.multiplyExact(2L * layers, dtype.tensorBytes(kvHeads, anchors, headDim));
    }

    private static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    /** CRC32C of the first {@code length} bytes of {@code bytes} (from index 0), leaving its position alone. */
    private static int crc(ByteBuffer bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate().position(0).limit(length));
        return (int) crc.getValue();
    }

    private static String shape(Header h) {
        return h.layers() + " layers x 2 x " + h.kvHeads() + " heads x " + h.anchorCount() + " anchors x "
                + h.headDim() + " dims of " + h.dtype();
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CorruptBlobException("model id is not valid UTF-8", e);
        }
    }

    private static int nonNegative(String what, int value) {
        if (value < 0) {
            throw new CorruptBlobException(what + " " + Integer.toUnsignedLong(value) + " exceeds " + Integer.MAX_VALUE);
        }
        return value;
    }

    private static void requireU16(String what, int value) {
        if (value < 0 || value > MAX_U16) {
            throw new IllegalArgumentException(what + " " + value + " does not fit the blob's u16 field");
        }
    }

    private AnchorKvCodec() {
    }
}
