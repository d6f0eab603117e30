package dev.sacrag.core.kv;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** Seeded anchor KV for codec tests. */
final class AnchorKvFixtures {

    static final String MODEL = "llama-3.2-1b-instruct@4e20de36";

    /**
     * Gaussian K/V whose head-dim channels differ in magnitude by up to 128x (0.01 .. 1.28),
     * like real K after RoPE; that is what per-channel int8 scales are for.
     */
    static AnchorKv randomKv(long seed, int layers, int kvHeads, int headDim, int... chunkAnchors) {
        Random rnd = new Random(seed);
        int n = Arrays.stream(chunkAnchors).sum();
        float[][] keys = new float[layers][];
        float[][] values = new float[layers][];
        for (int l = 0; l < layers; l++) {
            keys[l] = tensor(rnd, kvHeads * n, headDim);
            values[l] = tensor(rnd, kvHeads * n, headDim);
        }
        return new AnchorKv(MODEL, layers, kvHeads, headDim, 3 * n + 7, chunkAnchors, keys, values);
    }

    /** A blob of 2 layers, 2 KV heads, head dim 4 and 5 anchors in two chunks. */
    static byte[] smallBlob(KvDtype dtype) {
        return AnchorKvCodec.encode(randomKv(42, 2, 2, 4, 2, 0, 3), dtype);
    }

    /**
     * Flips each byte of {@code blob} in turn (xor 0x01, 0x80, 0xff) and asserts that decoding the
     * damaged copy, as {@code decode} does it, fails with {@link CorruptBlobException}.
     */
    static void assertEveryFlippedByteIsCorrupt(byte[] blob, Consumer<byte[]> decode) {
        for (int pos = 0; pos < blob.length; pos++) {
            for (int mask : new int[] {0x01, 0x80, 0xff}) {
                byte[] flipped = blob.clone();
                flipped[pos] ^= (byte) mask;
                int at = pos;
                assertThrows(CorruptBlobException.class, () -> decode.accept(flipped),
                        () -> "byte " + at + " of " + blob.length + " xor 0x" + Integer.toHexString(mask));
            }
        }
    }

    /** A copy of blob with its trailing CRC32C recomputed, to test checks other than the CRC. */
    static byte[] withValidCrc(byte[] blob) {
        byte[] copy = blob.clone();
        CRC32C crc = new CRC32C();
        crc.update(copy, 0, copy.length - 4);
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(copy.length - 4, (int) crc.getValue());
        return copy;
    }

    private static float[] tensor(Random rnd, int rows, int headDim) {
        float[] t = new float[rows * headDim];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) rnd.nextGaussian() * 0.01f * (1 << (i % headDim % 8));
        }
        return t;
    }

    private AnchorKvFixtures() {
    }
}
