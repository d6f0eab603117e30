package dev.sacrag.core.kv;

import static dev.sacrag.core.kv.AnchorKvFixtures.MODEL;
import static dev.sacrag.core.kv.AnchorKvFixtures.randomKv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AnchorKvCodecTest {

    @Test
    void f32RoundTripIsExact() {
        AnchorKv kv = randomKv(1, 3, 2, 8, 4, 5, 3);
        AnchorKv back = AnchorKvCodec.decode(AnchorKvCodec.encode(kv, KvDtype.F32), MODEL);
        assertSameShape(kv, back);
        for (int l = 0; l < kv.layers(); l++) {
            assertArrayEquals(kv.keys()[l], back.keys()[l], "K layer " + l);
            assertArrayEquals(kv.values()[l], back.values()[l], "V layer " + l);
        }
    }

    @Test
    void f16RoundTripIsWithinHalfPrecisionRounding() {
        AnchorKv kv = randomKv(2, 3, 2, 8, 4, 5, 3);
        AnchorKv back = AnchorKvCodec.decode(AnchorKvCodec.encode(kv, KvDtype.F16), MODEL);
        assertSameShape(kv, back);
        for (int l = 0; l < kv.layers(); l++) {
            for (float[][] pair : new float[][][] {{kv.keys()[l], back.keys()[l]}, {kv.values()[l], back.values()[l]}}) {
                for (int i = 0; i < pair[0].length; i++) {
                    float x = pair[0][i];
                    // relative 2^-11 for normal halves; the absolute term covers subnormals (spacing 2^-24)
                    assertEquals(x, pair[1][i], 1e-3 * Math.abs(x) + 3e-8, "layer " + l + " index " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = KvDtype.class, names = {"INT8", "INT8_F32_SCALES"})
    void int8ErrorPerChannelIsAtMostHalfItsScale(KvDtype int8) {
        int heads = 2;
        int n = 40;
        int dim = 16;
        AnchorKv kv = randomKv(3, 2, heads, dim, 15, 25);
        AnchorKv back = AnchorKvCodec.decode(AnchorKvCodec.encode(kv, int8), MODEL);
        assertSameShape(kv, back);
        for (int l = 0; l < kv.layers(); l++) {
            for (float[][] pair : new float[][][] {{kv.keys()[l], back.keys()[l]}, {kv.values()[l], back.values()[l]}}) {
                for (int h = 0; h < heads; h++) {
                    for (int d = 0; d < dim; d++) {
                        float maxAbs = 0;
                        for (int a = 0; a < n; a++) {
                            maxAbs = Math.max(maxAbs, Math.abs(pair[0][(h * n + a) * dim + d]));
                        }
                        // scale / 2, scale = maxAbs / 127; an f16 scale is off by at most 2^-11 relative
                        double bound = maxAbs / 254 * (int8 == KvDtype.INT8 ? 1 + 127.0 / 1024 : 1) + 1e-6;
                        for (int a = 0; a < n; a++) {
                            int i = (h * n + a) * dim + d;
                            assertTrue(Math.abs(pair[0][i] - pair[1][i]) <= bound,
                                    "layer " + l + " head " + h + " dim " + d + " anchor " + a + ": " + pair[0][i]
                                            + " came back as " + pair[1][i] + ", bound " + bound);
                        }
                    }
                }
            }
        }
    }

    @Test
    void int8BlobIsAQuarterOfF32PlusPerChannelScales() {
        AnchorKv kv = randomKv(4, 4, 2, 32, 50, 50);
        int f32 = AnchorKvCodec.encode(kv, KvDtype.F32).length;
        int f16 = AnchorKvCodec.encode(kv, KvDtype.F16).length;
        int int8 = AnchorKvCodec.encode(kv, KvDtype.INT8).length;
        int int8Old = AnchorKvCodec.encode(kv, KvDtype.INT8_F32_SCALES).length;
        long channels = 2L * kv.layers() * kv.kvHeads() * kv.headDim();   // K and V of every layer
        assertEquals(f32 - 3 * kv.valueCount() + 2 * channels, int8, "f16 scales");
        assertEquals(f32 - 3 * kv.valueCount() + 4 * channels, int8Old, "f32 scales");
        // 100 anchors per tensor: the f16 scales add 2 %, the f32 ones 4 %, over half of f16
        assertTrue(int8 < 0.51 * f16 + 200, int8 + " bytes vs f16 " + f16);
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void encodedSizeEqualsEncodedLength(KvDtype dtype) {
        for (AnchorKv kv : new AnchorKv[] {randomKv(5, 3, 2, 8, 4, 5, 3), randomKv(6, 1, 1, 1, 1), randomKv(7, 2, 3, 4, 0)}) {
            long predicted = AnchorKvCodec.encodedSize(kv.layers(), kv.kvHeads(), kv.headDim(), kv.anchorCount(),
                    kv.chunkAnchors().length, kv.modelId().getBytes(StandardCharsets.UTF_8).length, dtype);
            byte[] blob = AnchorKvCodec.encode(kv, dtype);
            assertEquals(blob.length, predicted);
            assertEquals(blob.length, AnchorKvCodec.readHeader(blob).blobSize());
        }
    }

    @Test
    void headerFieldsReadBackFromAPrefixWithoutTheTensors() {
        AnchorKv kv = randomKv(8, 3, 2, 8, 4, 0, 6);
        byte[] blob = AnchorKvCodec.encode(kv, KvDtype.F16);
        int headerLength = AnchorKvCodec.readHeader(blob).headerLength();
        AnchorKvCodec.Header h = AnchorKvCodec.readHeader(Arrays.copyOf(blob, headerLength));
        assertEquals(AnchorKvCodec.FORMAT_VERSION, h.formatVersion());
        assertEquals(KvDtype.F16, h.dtype());
        assertEquals(0, h.flags());
        assertEquals(MODEL, h.modelId());
        assertEquals(3, h.layers());
        assertEquals(2, h.kvHeads());
        assertEquals(8, h.headDim());
        assertEquals(kv.tokenCount(), h.tokenCount());
        assertArrayEquals(new int[] {4, 0, 6}, h.chunkAnchors());
        assertEquals(10, h.anchorCount());
        assertEquals(2L * 3 * 2 * 10 * 8 * 2, h.payloadLength());
        assertEquals(32 + MODEL.length() + 3 * 4, headerLength);
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void chunksWithOneOrZeroAnchorsRoundTrip(KvDtype dtype) {
        for (int[] chunks : new int[][] {{1}, {0, 1, 0}, {0}, {}}) {
            AnchorKv kv = randomKv(9, 2, 2, 4, chunks);
            AnchorKv back = AnchorKvCodec.decode(AnchorKvCodec.encode(kv, dtype), MODEL);
            assertSameShape(kv, back);
            // one anchor per channel is that channel's max, so int8 keeps it up to float rounding;
            // f16 rounds values up to ~6 by at most 3e-3
            float delta = dtype == KvDtype.F32 ? 0f : 0.01f;
            for (int l = 0; l < kv.layers(); l++) {
                assertArrayEquals(kv.keys()[l], back.keys()[l], delta, Arrays.toString(chunks));
                assertArrayEquals(kv.values()[l], back.values()[l], delta, Arrays.toString(chunks));
            }
        }
    }

    /**
     * A crafted header whose payload size wraps a 64-bit count (4 x 2^62 bytes) would pass the size
     * and CRC checks on a few hundred bytes: it is corrupt, as a corrupt blob (so it is compressed
     * again), not an IllegalArgumentException from deep inside.
     */
    @Test
    void aHeaderWhosePayloadSizeOverflowsIsCorrupt() {
        byte[] id = MODEL.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(32 + id.length + 4 + 320 + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("SACK".getBytes(StandardCharsets.US_ASCII)).putShort((short) 1).put((byte) 0).put((byte) 0);
        b.putShort((short) id.length).put(id);
        b.putShort((short) 1).putShort((short) 44797).putShort((short) 65384);   // layers, kv heads, head dim
        b.putInt(Integer.MAX_VALUE).putInt(1).putInt(1574487853);              // tokens, one chunk of that many anchors
        b.putLong(320);                                                        // what the wrapped product comes to
        b.position(b.position() + 320);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(b.array(), MODEL));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
    }

    /** Speed is measured by the benchmarks, not here: a blob of tens of megabytes round-trips exactly. */
    @Test
    void largeBlobRoundTripsExactly() {
        AnchorKv kv = randomKv(10, 30, 3, 64, 500, 700, 800);
        byte[] blob = AnchorKvCodec.encode(kv, KvDtype.F32);
        assertEquals(4 * kv.valueCount(), AnchorKvCodec.readHeader(blob).payloadLength());
        AnchorKv back = AnchorKvCodec.decode(blob, MODEL);
        for (int l = 0; l < kv.layers(); l++) {
            assertArrayEquals(kv.keys()[l], back.keys()[l]);
            assertArrayEquals(kv.values()[l], back.values()[l]);
        }
    }

    @Test
    void nullExpectedModelIdSkipsTheModelCheck() {
        AnchorKv kv = randomKv(11, 1, 1, 4, 2);
        assertEquals(MODEL, AnchorKvCodec.decode(AnchorKvCodec.encode(kv, KvDtype.F32), null).modelId());
    }

    @Test
    void headerIfDescribedHoldsTheBlobToItsCatalogChecksumFormatAndModel() {
        byte[] blob = AnchorKvCodec.encode(randomKv(12, 1, 1, 4, 2), KvDtype.F16);
        long checksum = AnchorKvCodec.checksum(blob);

        assertEquals(KvDtype.F16, AnchorKvCodec.headerIfDescribed(blob, checksum, MODEL).orElseThrow().dtype());
        assertTrue(AnchorKvCodec.headerIfDescribed(blob, checksum ^ 1, MODEL).isEmpty(), "other bytes than the catalog's");
        assertTrue(AnchorKvCodec.headerIfDescribed(blob, checksum, "0123456789ab").isEmpty(), "another model's");
        byte[] cut = Arrays.copyOf(blob, 6);
        assertTrue(AnchorKvCodec.headerIfDescribed(cut, AnchorKvCodec.checksum(cut), MODEL).isEmpty(), "a truncated value");
        assertTrue(AnchorKvCodec.headerIfDescribed(new byte[3], checksum, MODEL).isEmpty(), "too short to hold a CRC");
    }

    @Test
    void aChecksumTellsApartIntactBlobsOfTheSameModelAndShape() {
        // what a record names is one blob: another written under its key since (a late write of a
        // compressor that lost the partition, the document deleted and published again at that
        // version) must not pass for it, nor share its warm cache or prompt cache entries
        byte[] described = AnchorKvCodec.encode(randomKv(13, 1, 1, 4, 2), KvDtype.F16);
        byte[] other = AnchorKvCodec.encode(randomKv(14, 1, 1, 4, 2), KvDtype.F16);
        long checksum = AnchorKvCodec.checksum(described);

        assertTrue(checksum != AnchorKvCodec.checksum(other));
        assertEquals(Integer.toUnsignedLong(java.nio.ByteBuffer.wrap(described).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getInt(described.length - 4)), checksum, "the CRC the blob carries");
        assertTrue(AnchorKvCodec.headerIfDescribed(described, checksum, MODEL).isPresent());
        assertTrue(AnchorKvCodec.headerIfDescribed(other, checksum, MODEL).isEmpty(), "another intact blob of the model");
    }

    @Test
    void aRecordOfAnEarlierBuildVouchesForAnyIntactBlobAsItDid() {
        byte[] blob = AnchorKvCodec.encode(randomKv(15, 1, 1, 4, 2), KvDtype.F32);
        java.util.zip.CRC32C whole = new java.util.zip.CRC32C();
        whole.update(blob);
        assertEquals(AnchorKvCodec.WHOLE_BLOB_RESIDUE, whole.getValue(), "what those records carry, for every intact blob");

        assertTrue(AnchorKvCodec.headerIfDescribed(blob, AnchorKvCodec.WHOLE_BLOB_RESIDUE, MODEL).isPresent());
        blob[blob.length / 2] ^= 1;
        assertTrue(AnchorKvCodec.headerIfDescribed(blob, AnchorKvCodec.WHOLE_BLOB_RESIDUE, MODEL).isEmpty(), "not a damaged one");
    }

    @Test
    void dtypeCodesKeepTheirMeaning() {
        // the code byte in stored blobs decides the layout: code 2 must stay f32 scales for old blobs
        assertEquals(KvDtype.F32, KvDtype.fromCode(0).orElseThrow());
        assertEquals(KvDtype.F16, KvDtype.fromCode(1).orElseThrow());
        assertEquals(KvDtype.INT8_F32_SCALES, KvDtype.fromCode(2).orElseThrow());
        assertEquals(KvDtype.INT8, KvDtype.fromCode(3).orElseThrow());
    }

    @Test
    void newBlobsAreWrittenOnlyInTheCurrentLayouts() {
        assertEquals(KvDtype.F32, KvDtype.forNewBlobs("f32"));
        assertEquals(KvDtype.F16, KvDtype.forNewBlobs("F16"));
        assertEquals(KvDtype.INT8, KvDtype.forNewBlobs("int8"));
        // the legacy int8 layout is read, never chosen for writing
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvDtype.forNewBlobs("int8_f32_scales"));
        assertTrue(e.getMessage().contains("f32, f16 or int8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KvDtype.forNewBlobs("bf16"));
    }

    @Test
    void int8WithF16ScalesKeepsTinyChannelsAndRefusesHugeOnes() {
        AnchorKv kv = randomKv(13, 1, 1, 4, 6);
        for (int i = 0; i < kv.keys()[0].length; i++) {
            kv.keys()[0][i] *= 1e-6f;   // scales far below f16's normal range
        }
        AnchorKv back = AnchorKvCodec.decode(AnchorKvCodec.encode(kv, KvDtype.INT8), MODEL);
        int largest = 0;
        for (int i = 0; i < kv.keys()[0].length; i++) {
            float x = kv.keys()[0][i];
            assertTrue(Math.abs(back.keys()[0][i] - x) <= 1e-7f, x + " came back as " + back.keys()[0][i]);
            largest = Math.abs(x) > Math.abs(kv.keys()[0][largest]) ? i : largest;
        }
        // the scale is rounded up, never to zero: the largest value keeps its sign, it is not flattened
        assertEquals(Math.signum(kv.keys()[0][largest]), Math.signum(back.keys()[0][largest]));
        kv.values()[0][3] = 1e7f;
        assertThrows(IllegalArgumentException.class, () -> AnchorKvCodec.encode(kv, KvDtype.INT8));
    }

    @Test
    void int8RefusesNonFiniteValues() {
        AnchorKv kv = randomKv(12, 1, 1, 4, 2);
        kv.values()[0][5] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> AnchorKvCodec.encode(kv, KvDtype.INT8));
    }

    @Test
    void everyDtypeRefusesValuesItCannotHold() {
        for (KvDtype dtype : KvDtype.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                AnchorKv kv = randomKv(14, 1, 1, 4, 2);
                kv.keys()[0][2] = bad;
                assertThrows(IllegalArgumentException.class, () -> AnchorKvCodec.encode(kv, dtype), dtype + " " + bad);
            }
        }
        AnchorKv large = randomKv(15, 1, 1, 4, 2);
        large.keys()[0][1] = 70_000f;   // beyond f16: it would be stored as infinity
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnchorKvCodec.encode(large, KvDtype.F16));
        assertTrue(e.getMessage().contains("70000.0") && e.getMessage().contains("f16"), e.getMessage());
        AnchorKvCodec.encode(large, KvDtype.F32);   // f32 holds it
    }

    @Test
    void encodeRefusesModelIdTooLongForItsU16Length() {
        AnchorKv kv = randomKv(13, 1, 1, 4, 2);
        AnchorKv longId = new AnchorKv("m".repeat(70_000), kv.layers(), kv.kvHeads(), kv.headDim(), kv.tokenCount(),
                kv.chunkAnchors(), kv.keys(), kv.values());
        assertThrows(IllegalArgumentException.class, () -> AnchorKvCodec.encode(longId, KvDtype.F32));
    }

    private static void assertSameShape(AnchorKv expected, AnchorKv actual) {
        assertEquals(expected.modelId(), actual.modelId());
        assertEquals(expected.layers(), actual.layers());
        assertEquals(expected.kvHeads(), actual.kvHeads());
        assertEquals(expected.headDim(), actual.headDim());
        assertEquals(expected.tokenCount(), actual.tokenCount());
        assertArrayEquals(expected.chunkAnchors(), actual.chunkAnchors());
    }
}
