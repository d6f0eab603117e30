package dev.sacrag.ingest;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.DocumentRules;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads input files into document drafts: .txt and .md (one document per file), .jsonl (one
 * per line) and MRQA JSONL (one per context, plus its questions). Directories are walked
 * recursively in sorted order, so the same inputs give the same documents in the same order.
 *
 * <p>{@link #read} holds the whole batch in memory (tests, small inputs); {@link #scan} reads the
 * inputs twice instead, so that bad input is still reported before anything is published and
 * the progress bar has an exact total, while the corpus is never in memory at once.
 */
public final class DocumentSources {

    /** What to do with a file or line that is not a valid document. */
    public enum OnBadInput {
        /** Stop with a {@link BadSourceException} naming the file and line. */
        FAIL,
        /** Count it under {@link SkipReason#BAD_INPUT} and go on. */
        SKIP
    }

    /**
     * @param format the format of every input, or empty to decide per file from its extension
     *     (.txt, .md, .jsonl; MRQA by its header line)
     * @param tenant tenant of documents that do not name one
     */
    public record Options(Optional<SourceFormat> format, String tenant, OnBadInput onBadInput) {
        public Options {
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(onBadInput, "onBadInput");
            if (!DocumentRules.isValidTenant(tenant)) {
                throw new IllegalArgumentException("tenant '" + tenant
                        + "' must be 1-64 characters of letters, digits, '.', '_' or '-'");
            }
        }

        /** Formats from file names, the default tenant, fail on the first bad input. */
        public static Options defaults() {
            return new Options(Optional.empty(), DocumentJson.DEFAULT_TENANT, OnBadInput.FAIL);
        }

        public Options withFormat(SourceFormat newFormat) {
            return new Options(Optional.of(newFormat), tenant, onBadInput);
        }

        public Options withTenant(String newTenant) {
            return new Options(format, newTenant, onBadInput);
        }

        public Options withOnBadInput(OnBadInput newOnBadInput) {
            return new Options(format, tenant, newOnBadInput);
        }
    }

    private final DocumentLimits limits;
    private final DocumentPublisher.Format valueFormat;

    /**
     * @param limits the compressors' limits
     * @param valueFormat how the documents will be published: the byte limit applies to the record value
     */
    public DocumentSources(DocumentLimits limits, DocumentPublisher.Format valueFormat) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.valueFormat = Objects.requireNonNull(valueFormat, "valueFormat");
    }

    /** Checks documents as {@code publishing} will: its limits, its value format. */
    public static DocumentSources forPublishing(DocumentPublisher.Options publishing) {
        return new DocumentSources(publishing.limits(), publishing.format());
    }

    public static DocumentSources withDefaults() {
        return forPublishing(DocumentPublisher.Options.defaults());
    }

    /**
     * A file named that is not of a known type ({@code notes.rst}) is bad input; in a walked folder
     * it is passed over (UNSUPPORTED_FILE). A file or folder that cannot be read fails the run, or
     * under {@link OnBadInput#SKIP} is counted as UNREADABLE.
     *
     * @throws java.nio.file.NoSuchFileException when a path does not exist
     * @throws BadSourceException on the first bad file or line when {@link OnBadInput#FAIL}
     * @throws java.nio.file.FileSystemException on a file or folder that cannot be read when {@link OnBadInput#FAIL}
     */
    public SourceBatch read(List<Path> paths, Options options) throws IOException {
        return read(SourceFiles.list(paths, options.format()), options, null, true).build();
    }

    /**
     * Reads the inputs twice instead of holding every text in memory: once now, to report bad
     * input before anything is published and to count the documents ({@code batch().documents()}
     * is empty, {@link Scan#count} says how many), and again, file by file, when {@link Scan#forEach}
     * hands each document to its consumer (e.g. the publisher) as it is read. Memory then holds
     * one document's text at a time; what grows with the corpus is its ids (and MRQA questions).
     *
     * @throws java.nio.file.NoSuchFileException when a path does not exist
     * @throws BadSourceException on the first bad file or line when {@link OnBadInput#FAIL}
     */
    public Scan scan(List<Path> paths, Options options) throws IOException {
        SourceFiles.Listing listing = SourceFiles.list(paths, options.format());
        BatchCollector first = read(listing, options, draft -> { }, true);
        return new Scan(first.build(), first.accepted(), first.docIds(), listing, options);
    }

    /** What {@link #scan} found: the batch without its documents' texts, their count, and a second read. */
    public final class Scan {
        private final SourceBatch batch;
        private final int count;
        private final java.util.Set<String> docIds;
        private final SourceFiles.Listing listing;
        private final Options options;

        private Scan(SourceBatch batch, int count, java.util.Set<String> docIds, SourceFiles.Listing listing,
                     Options options) {
            this.batch = batch;
            this.count = count;
            this.docIds = docIds;
            this.listing = listing;
            this.options = options;
        }

        /** Skipped inputs, questions and notes, as {@link #read} gives them; {@code documents()} is empty. */
        public SourceBatch batch() {
            return batch;
        }

        /** Documents the first read found valid. */
        public int count() {
            return count;
        }

        /** The ids of the documents the first read found valid. */
        public java.util.Set<String> docIds() {
            return docIds;
        }

        /**
         * Reads the files of the first read again (a file added since is not read) and hands each
         * valid document to {@code consumer}, in the order of the first read. A file changed in
         * between is read as it is now: what is bad or unreadable now is passed over and returned,
         * for the caller to report (the first read decided whether the run may go on).
         *
         * @return what the second read passed over that the first did not (empty when nothing changed)
         */
        public List<Skipped> forEach(java.util.function.Consumer<DocumentDraft> consumer) throws IOException {
            BatchCollector again = read(listing, options.withOnBadInput(OnBadInput.SKIP), consumer, false);
            java.util.Set<Skipped> before = new java.util.HashSet<>(batch.skipped());
            return again.build().skipped().stream().filter(s -> !before.contains(s)).toList();
        }
    }

    /** @param questions whether MRQA questions are kept (a second read has them already) */
    private BatchCollector read(SourceFiles.Listing listing, Options options, java.util.function.Consumer<DocumentDraft> sink,
                                boolean questions) throws IOException {
        BatchCollector out = new BatchCollector(options, limits, valueFormat, sink, questions);
        listing.skipped().forEach(out::skip);
        for (Skipped named : listing.refused()) {
            out.bad(named.where(), new BadDocumentException(BadDocumentException.Reason.UNSUPPORTED_CONTENT_TYPE,
                    named.detail()));
        }
        for (SourceFiles.Unreadable u : listing.unreadable()) {
            out.unreadable(u.where(), u.error());
        }
        Map<SourceFile, String> textIds = DocIds.forTextFiles(listing.files().stream()
                .filter(f -> f.format() == SourceFormat.TXT || f.format() == SourceFormat.MD)
                .toList(), options.tenant(), out::note);
        for (SourceFile file : listing.files()) {
            try {
                switch (file.format()) {
                    case TXT, MD -> TextDocuments.read(file, textIds.get(file), limits, out);
                    case JSONL -> JsonlDocuments.read(file, out);
                    case MRQA -> MrqaDocuments.read(file, out);
                }
            } catch (BadSourceException e) {
                throw e;
            } catch (IOException e) {   // permissions, a file gone since it was listed, a disk error (EIO)
                out.unreadable(file.display(), e);
            }
        }
        return out;
    }
}
