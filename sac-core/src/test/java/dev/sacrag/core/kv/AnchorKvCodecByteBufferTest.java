package dev.sacrag.core.kv;

import static dev.sacrag.core.kv.AnchorKvFixtures.MODEL;
import static dev.sacrag.core.kv.AnchorKvFixtures.assertEveryFlippedByteIsCorrupt;
import static dev.sacrag.core.kv.AnchorKvFixtures.randomKv;
import static dev.sacrag.core.kv.AnchorKvFixtures.smallBlob;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link AnchorKvCodec#decode(ByteBuffer, String)}: the same blob bytes seen through a buffer
 * (as the Redis store lends them: inside a larger, reused array, between position and limit)
 * decode to the same anchor KV and are refused for the same damage as the byte[] form.
 */
class AnchorKvCodecByteBufferTest {

    private static final int BEFORE = 13;
    private static final int AFTER = 29;

    /** blob[0, length) between position and limit of a bigger buffer whose other bytes are not a blob. */
    private static ByteBuffer inside(byte[] blob, int length, boolean direct) {
        byte[] junk = new byte[BEFORE + blob.length + AFTER];
        Arrays.fill(junk, (byte) 0x5a);
        System.arraycopy(blob, 0, junk, BEFORE, length);
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(junk.length) : ByteBuffer.allocate(junk.length);
        b.put(junk).clear();
        return b.position(BEFORE).limit(BEFORE + length);
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void decodesTheSameAnchorKvAsTheByteArrayAndLeavesTheBufferAsItWas(KvDtype dtype) {
        AnchorKv kv = randomKv(7, 3, 2, 8, 4, 1, 5);
        byte[] blob = AnchorKvCodec.encode(kv, dtype);
        AnchorKv expected = AnchorKvCodec.decode(blob, MODEL);
        for (boolean direct : new boolean[] {false, true}) {
            ByteBuffer buffer = inside(blob, blob.length, direct);
            AnchorKv back = AnchorKvCodec.decode(buffer, MODEL);
            assertEquals(BEFORE, buffer.position(), "position untouched");
            assertEquals(BEFORE + blob.length, buffer.limit(), "limit untouched");
            assertEquals(ByteOrder.BIG_ENDIAN, buffer.order(), "byte order untouched");
            assertEquals(expected.modelId(), back.modelId());
            assertEquals(expected.tokenCount(), back.tokenCount());
            assertArrayEquals(expected.chunkAnchors(), back.chunkAnchors());
            for (int l = 0; l < kv.layers(); l++) {
                assertArrayEquals(expected.keys()[l], back.keys()[l], "K layer " + l + (direct ? " direct" : " heap"));
                assertArrayEquals(expected.values()[l], back.values()[l], "V layer " + l + (direct ? " direct" : " heap"));
            }
            assertEquals(AnchorKvCodec.readHeader(blob).blobSize(), AnchorKvCodec.readHeader(buffer).blobSize());
            assertEquals(BEFORE, buffer.position(), "readHeader leaves the position too");
        }
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void anySingleFlippedByteIsRejectedAsCorrupt(KvDtype dtype) {
        assertEveryFlippedByteIsCorrupt(smallBlob(dtype),
                flipped -> AnchorKvCodec.decode(inside(flipped, flipped.length, false), MODEL));
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void everyTruncationIsRejectedEvenWithBytesBeyondTheLimit(KvDtype dtype) {
        byte[] blob = smallBlob(dtype);
        for (int length = 0; length < blob.length; length++) {
            // the rest of the blob is still in the array, past the limit: it must not be read
            ByteBuffer cut = inside(blob, blob.length, false);
            cut.limit(BEFORE + length);
            CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(cut, MODEL));
            assertTrue(e.getMessage().startsWith("truncated"), length + " bytes: " + e.getMessage());
        }
    }

    @Test
    void aByteBeyondTheBlobInsideTheLimitIsTrailingGarbage() {
        byte[] blob = smallBlob(KvDtype.F32);
        ByteBuffer longer = inside(blob, blob.length, false);
        longer.limit(longer.limit() + 1);
        CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(longer, MODEL));
        assertEquals("trailing garbage: header declares a " + blob.length + "-byte blob, found " + (blob.length + 1)
                + " bytes", e.getMessage());
    }

    @Test
    void blobOfAnotherModelIsRejected() {
        byte[] blob = smallBlob(KvDtype.F16);
        ModelMismatchException e = assertThrows(ModelMismatchException.class,
                () -> AnchorKvCodec.decode(inside(blob, blob.length, true), "qwen2.5-0.5b@deadbeef"));
        assertEquals(MODEL, e.foundModelId());
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void aCatalogChecksumRefusesAnotherIntactBlobOfTheSameModel(KvDtype dtype) {
        byte[] described = AnchorKvCodec.encode(randomKv(21, 2, 1, 4, 3), dtype);
        byte[] other = AnchorKvCodec.encode(randomKv(22, 2, 1, 4, 3), dtype);   // the same shape and model, other anchors
        long checksum = AnchorKvCodec.checksum(described);

        AnchorKv kv = AnchorKvCodec.decode(inside(described, described.length, false), MODEL, checksum);
        assertArrayEquals(AnchorKvCodec.decode(described, MODEL).values()[1], kv.values()[1]);
        UndescribedBlobException e = assertThrows(UndescribedBlobException.class,
                () -> AnchorKvCodec.decode(inside(other, other.length, true), MODEL, checksum));
        assertEquals(String.format("not the blob its catalog record describes: CRC32C 0x%08x, the record's 0x%08x"
                + " (another write replaced it under the same key)", AnchorKvCodec.checksum(other), checksum), e.getMessage());
        assertEquals(MODEL, AnchorKvCodec.decode(inside(other, other.length, false), MODEL, AnchorKvCodec.WHOLE_BLOB_RESIDUE)
                .modelId(), "a record of an earlier build takes any intact blob, as it did");
        assertThrows(ModelMismatchException.class, () -> AnchorKvCodec.decode(inside(described, described.length, false),
                "qwen2.5-0.5b@deadbeef", checksum), "another model's blob says so first");
        assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(inside(described, described.length - 1, false),
                MODEL, checksum), "a damaged one is corrupt first");
    }
}
