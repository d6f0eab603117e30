package dev.sacrag.core.kv;

import static dev.sacrag.core.kv.AnchorKvFixtures.MODEL;
import static dev.sacrag.core.kv.AnchorKvFixtures.randomKv;
import static dev.sacrag.core.kv.AnchorKvFixtures.withValidCrc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AnchorKvCodecRejectionTest {

    /** Small enough to try every byte, large enough to have several chunks, layers and heads. */
    private static byte[] smallBlob(KvDtype dtype) {
        return AnchorKvCodec.encode(randomKv(42, 2, 2, 4, 2, 0, 3), dtype);
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void anySingleFlippedByteIsRejectedAsCorrupt(KvDtype dtype) {
        byte[] blob = smallBlob(dtype);
        for (int pos = 0; pos < blob.length; pos++) {
            for (int mask : new int[] {0x01, 0x80, 0xff}) {
                byte[] flipped = blob.clone();
                flipped[pos] ^= (byte) mask;
                int at = pos;
                // CorruptBlobException, not ModelMismatchException: a damaged model id is damage
                assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(flipped, MODEL),
                        () -> "byte " + at + " of " + blob.length + " xor 0x" + Integer.toHexString(mask));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void everyTruncationIsRejected(KvDtype dtype) {
        byte[] blob = smallBlob(dtype);
        for (int length = 0; length < blob.length; length++) {
            byte[] cut = Arrays.copyOf(blob, length);
            CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(cut, MODEL));
            assertTrue(e.getMessage().startsWith("truncated"), length + " bytes: " + e.getMessage());
        }
    }

    @Test
    void trailingByteIsRejected() {
        byte[] blob = smallBlob(KvDtype.F32);
        byte[] longer = Arrays.copyOf(blob, blob.length + 1);
        CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(longer, MODEL));
        assertEquals("trailing garbage: header declares a " + blob.length + "-byte blob, found " + longer.length
                + " bytes", e.getMessage());
    }

    @Test
    void blobOfAnotherModelIsRejectedNamingBothIds() {
        byte[] blob = smallBlob(KvDtype.F16);
        ModelMismatchException e = assertThrows(ModelMismatchException.class,
                () -> AnchorKvCodec.decode(blob, "qwen2.5-0.5b@deadbeef"));
        assertEquals("qwen2.5-0.5b@deadbeef", e.expectedModelId());
        assertEquals(MODEL, e.foundModelId());
        assertTrue(e.getMessage().contains(MODEL) && e.getMessage().contains("qwen2.5-0.5b@deadbeef"), e.getMessage());
    }

    @Test
    void badMagicIsRejected() {
        byte[] blob = smallBlob(KvDtype.F32);
        blob[0] = 'X';
        CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(blob, MODEL));
        assertTrue(e.getMessage().startsWith("bad magic 0x5841434b"), e.getMessage());
    }

    @Test
    void otherFormatVersionIsRejectedEvenWithAValidCrc() {
        byte[] blob = smallBlob(KvDtype.F32);
        blob[4] = 2;
        CorruptBlobException e = assertThrows(CorruptBlobException.class,
                () -> AnchorKvCodec.decode(withValidCrc(blob), MODEL));
        assertEquals("unsupported format version 2, this build reads 1", e.getMessage());
    }

    @Test
    void unknownDtypeIsRejectedEvenWithAValidCrc() {
        byte[] blob = smallBlob(KvDtype.F32);
        blob[6] = 9;
        CorruptBlobException e = assertThrows(CorruptBlobException.class,
                () -> AnchorKvCodec.decode(withValidCrc(blob), MODEL));
        assertTrue(e.getMessage().startsWith("unknown dtype code 9"), e.getMessage());
    }

    @Test
    void unknownFlagsAreRejectedEvenWithAValidCrc() {
        byte[] blob = smallBlob(KvDtype.F32);
        blob[7] = 1;
        CorruptBlobException e = assertThrows(CorruptBlobException.class,
                () -> AnchorKvCodec.decode(withValidCrc(blob), MODEL));
        assertEquals("unknown flags 0x1, expected 0", e.getMessage());
    }

    @Test
    void payloadLengthFieldThatDisagreesWithTheShapeIsRejected() {
        byte[] blob = smallBlob(KvDtype.F32);
        int payloadField = AnchorKvCodec.readHeader(blob).headerLength() - 8;
        blob[payloadField] += 4;
        CorruptBlobException e = assertThrows(CorruptBlobException.class,
                () -> AnchorKvCodec.decode(withValidCrc(blob), MODEL));
        assertTrue(e.getMessage().startsWith("payload length field says"), e.getMessage());
    }

    @Test
    void crcMismatchNamesBothChecksums() {
        byte[] blob = smallBlob(KvDtype.INT8);
        blob[blob.length / 2] ^= 1;
        CorruptBlobException e = assertThrows(CorruptBlobException.class, () -> AnchorKvCodec.decode(blob, MODEL));
        assertTrue(e.getMessage().matches("CRC32C mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}"), e.getMessage());
    }
}
