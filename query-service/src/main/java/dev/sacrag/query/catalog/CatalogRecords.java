package dev.sacrag.query.catalog;

import dev.sacrag.schemas.avro.AnchorCacheRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Values of the catalog topic: {@link AnchorCacheRecord} in Avro single-object encoding (the
 * bytes name their schema fingerprint); a null value is a tombstone.
 */
public final class CatalogRecords {

    /** Reads every catalog schema version this build knows (see SchemaHistory). */
    private static final org.apache.avro.message.BinaryMessageDecoder<AnchorCacheRecord> DECODER =
            dev.sacrag.schemas.SchemaHistory.anchorCacheRecordDecoder();

    private CatalogRecords() {
    }

    /**
     * @return the entry, or empty for a tombstone
     * @throws IllegalArgumentException when the bytes are not a valid catalog record
     */
    public static Optional<CatalogEntry> decode(byte[] value) {
        if (value == null) {
            return Optional.empty();
        }
        AnchorCacheRecord record;
        try {
            record = DECODER.decode(value);
        } catch (IOException | RuntimeException e) { // corrupt Avro surfaces as EOF, index or length errors
            throw new IllegalArgumentException("not an Avro AnchorCacheRecord (" + value.length + " bytes): " + e.getMessage(), e);
        }
        return Optional.of(CatalogEntry.of(record));
    }

    public static byte[] encode(AnchorCacheRecord record) {
        try {
            ByteBuffer buffer = AnchorCacheRecord.getEncoder().encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new IllegalStateException("encoding the catalog record of doc " + record.getDocId(), e);
        }
    }
}
