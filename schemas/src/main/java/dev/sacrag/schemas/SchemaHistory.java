package dev.sacrag.schemas;

import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writer schemas of earlier versions of {@code DocumentEvent}, which every decoder of the
 * documents topic must still read: a producer built against an older schema jar writes records
 * whose single-object header carries that schema's fingerprint, and a decoder that does not know
 * the fingerprint cannot read them at all (they would be dead-lettered as "unknown schema").
 * When the schema changes, the version it replaces is added here (as a resource under
 * {@code dev/sacrag/schemas/history/}), and the schema tests check it stays readable.
 */
public final class SchemaHistory {

    /** Older DocumentEvent schemas, oldest first. */
    static final List<String> DOCUMENT_EVENT = List.of("DocumentEvent.v1.avsc");

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
