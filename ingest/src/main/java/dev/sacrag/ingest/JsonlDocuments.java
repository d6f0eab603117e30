package dev.sacrag.ingest;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;
import dev.sacrag.schemas.DocumentRules;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.IOException;
import java.util.OptionalLong;

/**
 * JSONL input: one document per line with the architecture.md JSON fields. A line without
 * {@code version} is stamped at publish time; one without {@code tenant} takes the run's tenant;
 * one without {@code source} takes its file's absolute path ({@link SourceFile#source}), as text
 * and MRQA documents do, so that the same file named another way says nothing new of it.
 * Its {@code docId} is published in Unicode NFC, the form the compressor requires.
 */
final class JsonlDocuments {

    private JsonlDocuments() {
    }

    static void read(SourceFile file, BatchCollector out) throws IOException {
        int[] documents = {0};
        boolean whole = SourceFiles.forEachJsonLine(file, out, (where, line) -> {
            documents[0]++;
            out.add(where, draft(DocumentJson.parseObject(line), file, out.tenant()));
        });
        if (whole && documents[0] == 0) {
            out.skip(new Skipped(file.display(), SkipReason.EMPTY_FILE, "no JSON lines"));
        }
    }

    private static DocumentDraft draft(JsonObject json, SourceFile file, String runTenant) throws BadDocumentException {
        // Version 0 is a placeholder, replaced below when the line has no version of its own.
        DocumentEvent event = DocumentJson.fromJson(json, 0L);
        return new DocumentDraft(
                DocumentRules.canonicalDocId(event.getDocId()),   // a decomposed id (macOS) is published composed
                given(json, "tenant") ? event.getTenant() : runTenant,
                given(json, "version") ? OptionalLong.of(event.getVersion()) : OptionalLong.empty(),
                event.getTitle(),
                event.getText(),
                event.getSource() != null ? event.getSource() : file.source(),
                event.getMetadata());
    }

    private static boolean given(JsonObject json, String field) {
        JsonElement element = json.get(field);
        return element != null && !element.isJsonNull();
    }
}
