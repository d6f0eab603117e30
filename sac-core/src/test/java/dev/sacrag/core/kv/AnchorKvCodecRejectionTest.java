package dev.sacrag.core.kv;

import static dev.sacrag.core.kv.AnchorKvFixtures.MODEL;
import static dev.sacrag.core.kv.AnchorKvFixtures.assertEveryFlippedByteIsCorrupt;
import static dev.sacrag.core.kv.AnchorKvFixtures.smallBlob;
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
    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void anySingleFlippedByteIsRejectedAsCorrupt(KvDtype dtype) {
        // CorruptBlobException, not ModelMismatchException: a damaged model id is damage
        assertEveryFlippedByteIsCorrupt(smallBlob(dtype), flipped -> AnchorKvCodec.decode(flipped, MODEL));
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

    @Test
    void aTokenCountBelowTheAnchorsIsRejectedEvenWithAValidCrc() {
        byte[] blob = smallBlob(KvDtype.F32);   // 5 anchors in 3 chunks, 22 tokens
        int tokenCountField = 16 + MODEL.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        java.nio.ByteBuffer.wrap(blob).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(tokenCountField, 4);
        CorruptBlobException e = assertThrows(CorruptBlobException.class,
                () -> AnchorKvCodec.decode(withValidCrc(blob), MODEL));
        assertEquals("header declares 5 anchors in 3 chunks for 4 tokens", e.getMessage());
    }

    @Test
    void anchorKvWithMoreAnchorsOrChunksThanTokensIsNotEncoded() {
        AnchorKv kv = AnchorKvFixtures.randomKv(1, 1, 1, 2, 5);
        AnchorKv noTokens = new AnchorKv(kv.modelId(), 1, 1, 2, 0, kv.chunkAnchors(), kv.keys(), kv.values());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AnchorKvCodec.encode(noTokens, KvDtype.F32));
        assertTrue(e.getMessage().endsWith("anchor KV of 0 tokens cannot hold 5 anchors in 1 chunks"), e.getMessage());
        AnchorKv chunks = new AnchorKv(kv.modelId(), 1, 1, 2, 6, new int[] {0, 0, 0, 0, 0, 0, 0, 5}, kv.keys(), kv.values());
        assertThrows(IllegalArgumentException.class, () -> AnchorKvCodec.encode(chunks, KvDtype.F32));
    }
}
