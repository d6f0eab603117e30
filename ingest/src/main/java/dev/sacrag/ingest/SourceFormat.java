package dev.sacrag.ingest;

import java.util.Locale;
import java.util.Optional;

/** How an input file turns into documents. */
public enum SourceFormat {
    /** Plain text: one document per file. */
    TXT,
    /** Markdown: one document per file, titled by its first heading. */
    MD,
    /** One JSON document per line, with the architecture.md fields. */
    JSONL,
    /** MRQA JSONL: a header line, then one context with its questions per line. */
    MRQA;

    /** Parses a --format value such as {@code mrqa}. */
    public static SourceFormat parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown format '" + name + "': expected txt, md, jsonl or mrqa", e);
        }
    }

    /**
     * The format a file name suggests, before looking inside. MRQA files are JSONL by name and
     * are told apart by their header line (see {@link SourceFiles}).
     */
    static Optional<SourceFormat> byExtension(String fileName) {
        String name = fileName.toLowerCase(Locale.ROOT);
        if (name.endsWith(".txt")) {
            return Optional.of(TXT);
        }
        if (name.endsWith(".md") || name.endsWith(".markdown")) {
            return Optional.of(MD);
        }
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".jsonl.gz") || name.endsWith(".ndjson.gz")) {
            return Optional.of(JSONL);
        }
        return Optional.empty();
    }

    /** Whether a file of extension format {@code byName} can be read as this format. */
    boolean accepts(SourceFormat byName) {
        return this == byName || (this == MRQA && byName == JSONL);
    }
}
