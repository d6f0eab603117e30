package dev.sacrag.schemas;

import dev.sacrag.schemas.avro.AnchorCacheRecord;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writer schemas of earlier versions of {@code DocumentEvent} and {@code AnchorCacheRecord},
 * which every decoder of the documents topic and of the catalog must still read: a producer built against an older schema jar writes records
 * whose single-object header carries that schema's fingerprint, and a decoder that does not know
 * the fingerprint cannot read them at all (they would be dead-lettered as "unknown schema").
 * When the schema changes, the version it replaces is added here (as a resource under
 * {@code dev/sacrag/schemas/history/}), and the schema tests check it stays readable.
 */
public final class SchemaHistory {

    /** Older DocumentEvent schemas, oldest first. */
    static final List<String> DOCUMENT_EVENT = List.of("DocumentEvent.v1.avsc");

    /**
     * Older AnchorCacheRecord schemas, oldest first: none yet. The catalog outlives builds twice
     * over (the catalog topic, and the compressor's store of what it compressed, restored from
     * its changelog), and a record the decoder cannot read counts there as "never compressed":
     * an older version would no longer be skipped and blobs of replaced versions never retired.
     */
    static final List<String> ANCHOR_CACHE_RECORD = List.of();

    private SchemaHistory() {
    }

    /** The older DocumentEvent schemas, parsed. */
    public static List<Schema> olderDocumentEvents() {
        return DOCUMENT_EVENT.stream().map(SchemaHistory::load).toList();
    }

    /** A store holding every older DocumentEvent schema, for {@link DocumentCodec}. */
    public static SchemaStore.Cache documentEvents() {
        SchemaStore.Cache store = new SchemaStore.Cache();
        olderDocumentEvents().forEach(store::addSchema);
        return store;
    }

    /** A decoder of catalog records written with the current AnchorCacheRecord schema or any listed above. */
    public static BinaryMessageDecoder<AnchorCacheRecord> anchorCacheRecordDecoder() {
        return anchorCacheRecordDecoder(ANCHOR_CACHE_RECORD.stream().map(SchemaHistory::load).toList());
    }

    static BinaryMessageDecoder<AnchorCacheRecord> anchorCacheRecordDecoder(List<Schema> older) {
        SchemaStore.Cache store = new SchemaStore.Cache();
        older.forEach(store::addSchema);
        return new BinaryMessageDecoder<>(SpecificData.getForClass(AnchorCacheRecord.class),
                AnchorCacheRecord.getClassSchema(), store);
    }

    private static Schema load(String name) {
        String path = "history/" + name;
        try (InputStream in = SchemaHistory.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("schema " + path + " is missing from the schemas jar");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading schema " + path, e);
        }
    }
}
