package dev.sacrag.compressor;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentJson;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Value formats of the compressor's topics and stores. Null stays null (tombstones).
 *
 * <ul>
 * <li>Catalog records: Avro single-object encoding of {@link AnchorCacheRecord}, as every
 * event of this system (the payload names its schema fingerprint).</li>
 * <li>The latest-document store: the architecture's JSON document form. JSON, not Avro, because
 * this store outlives upgrades: a newer build reads an older build's entries without knowing
 * the old writer schema (unknown fields are ignored, new ones get their defaults).</li>
 * </ul>
 */
public final class CompressorSerdes {

    private CompressorSerdes() {
    }

    public static Serde<AnchorCacheRecord> anchorCacheRecord() {
        // every catalog schema version this build knows: the store of what was compressed outlives builds
        var decoder = dev.sacrag.schemas.SchemaHistory.anchorCacheRecordDecoder();
        Serializer<AnchorCacheRecord> serializer = (topic, record) -> {
            if (record == null) {
                return null;
            }
            try {
                ByteBuffer buffer = AnchorCacheRecord.getEncoder().encode(record);
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                return bytes;
            } catch (IOException e) {
                throw new SerializationException("encoding the catalog record of " + record.getDocId(), e);
            }
        };
        Deserializer<AnchorCacheRecord> deserializer = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return decoder.decode(bytes);
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("undecodable AnchorCacheRecord on " + topic, e);
            }
        };
        return Serdes.serdeFrom(serializer, deserializer);
    }

    static Serde<DocumentEvent> documentJson() {
        Serializer<DocumentEvent> serializer = (topic, event) -> event == null ? null
                : DocumentCodec.encodeJson(event).getBytes(StandardCharsets.UTF_8);
        Deserializer<DocumentEvent> deserializer = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                // Entries always carry version and publishedAt, so "now" is never used.
                return DocumentJson.fromJson(DocumentJson.parseObject(new String(bytes, StandardCharsets.UTF_8)), 0L);
            } catch (BadDocumentException e) {
                throw new SerializationException("undecodable stored document on " + topic, e);
            }
        };
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
