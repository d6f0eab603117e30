package dev.sacrag.ingest;

import dev.sacrag.schemas.DocumentJson;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A document before it is published. Unlike {@link DocumentEvent} its version may be absent:
 * then the publisher stamps the publish time (architecture.md), so re-running an ingest never
 * goes backwards.
 *
 * @param title may be null
 * @param source may be null
 */
public record DocumentDraft(String docId, String tenant, OptionalLong version, String title, String text,
                            String source, Map<String, String> metadata) {

    public DocumentDraft {
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(text, "text");
        // Insertion order kept so that the published bytes are the same on every run.
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata, "metadata")));
    }

    /** The default tenant, no version (stamped at publish), no title, source or metadata. */
    public static DocumentDraft of(String docId, String text) {
        return new DocumentDraft(docId, DocumentJson.DEFAULT_TENANT, OptionalLong.empty(), null, text, null, Map.of());
    }

    public DocumentDraft withTenant(String newTenant) {
        return new DocumentDraft(docId, newTenant, version, title, text, source, metadata);
    }

    public DocumentDraft withVersion(long newVersion) {
        return new DocumentDraft(docId, tenant, OptionalLong.of(newVersion), title, text, source, metadata);
    }

    public DocumentDraft withTitle(String newTitle) {
        return new DocumentDraft(docId, tenant, version, newTitle, text, source, metadata);
    }

    public DocumentDraft withSource(String newSource) {
        return new DocumentDraft(docId, tenant, version, title, text, newSource, metadata);
    }

    public DocumentDraft withMetadata(Map<String, String> newMetadata) {
        return new DocumentDraft(docId, tenant, version, title, text, source, newMetadata);
    }

    /** The event to publish: this draft's version if it has one, else {@code versionIfAbsent}. */
    public DocumentEvent toEvent(long versionIfAbsent, Instant publishedAt) {
        return DocumentEvent.newBuilder()
                .setDocId(docId)
                .setTenant(tenant)
                .setVersion(version.orElse(versionIfAbsent))
                .setTitle(title)
                .setText(text)
                .setSource(source)
                .setMetadata(metadata)
                .setPublishedAt(publishedAt)
                .build();
    }
}
