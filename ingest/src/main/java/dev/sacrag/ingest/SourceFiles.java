package dev.sacrag.ingest;

import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;
import static dev.sacrag.schemas.BadDocumentException.Reason.TOO_LARGE;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;
import dev.sacrag.schemas.DocumentLimits;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/** Finds the input files under the given paths, decides their formats, and reads their bytes. */
final class SourceFiles {

    /**
     * @param refused files named on the command line that cannot be read as documents (an unknown
     *     type): bad input, where a walk would pass such a file over
     * @param unreadable files and folders that could not be read (a folder walked, an MRQA header checked)
     */
    record Listing(List<SourceFile> files, List<Skipped> skipped, List<Skipped> refused, List<Unreadable> unreadable) {
    }

    /** A file or folder that could not be read, and why. */
    record Unreadable(String where, IOException error) {
    }

    /** Receives one line of a file: 1-based number, raw bytes without the line break. */
    interface LineConsumer {
        void accept(int number, byte[] line) throws IOException;

        /** A line longer than the reader keeps in memory: {@code bytes} long, not read (an error by default). */
        default void oversized(int number, long bytes) throws IOException {
            throw new IOException("line " + number + " has " + bytes + " bytes, more than a line may have here");
        }
    }

    /** A decoded, non-blank line of a JSON-lines file and where it is ("file:line"). */
    interface JsonLineConsumer {
        void accept(String where, String line) throws BadDocumentException, IOException;
    }

    /**
     * The non-blank lines of a JSON-lines file (JSONL, MRQA), decoded as strict UTF-8. A line that is
     * not UTF-8, one the consumer refuses with a {@link BadDocumentException}, and the line a gzipped
     * file breaks in ({@link CorruptGzipException}) go to {@code out.bad} with their file:line.
     *
     * @return false when the file broke off (corrupt gzip): its lines after that one were never read
     */
    static boolean forEachJsonLine(SourceFile file, BatchCollector out, JsonLineConsumer consumer) throws IOException {
        long maxLineBytes = maxJsonLineBytes(out.limits());
        LineConsumer lines = new LineConsumer() {
            @Override
            public void accept(int number, byte[] bytes) throws IOException {
                String where = file.display() + ":" + number;
                try {
                    String line = utf8(bytes);
                    if (!line.isBlank()) {
                        consumer.accept(where, line);
                    }
                } catch (BadDocumentException e) {
                    out.bad(where, e);
                }
            }

            @Override
            public void oversized(int number, long bytes) throws IOException {
                out.bad(file.display() + ":" + number, new BadDocumentException(TOO_LARGE, "line has " + bytes
                        + " bytes, more than a document within the limits can take (" + maxLineBytes + ")"));
            }
        };
        try {
            forEachLine(file, lines, Integer.MAX_VALUE, maxLineBytes);
        } catch (CorruptGzipException e) {
            out.bad(e.where(), e.asBadLine());
            return false;
        }
        return true;
    }

    /**
     * The longest JSON line kept in memory: a document at the byte limit whose every character is
     * written as a 6-byte escape, with room for the other fields (an MRQA context's questions). A
     * longer line is not read; it is a TOO_LARGE line of its file.
     */
    static long maxJsonLineBytes(DocumentLimits limits) {
        return 6L * limits.maxValueBytes() + (16L << 20);
    }

    private SourceFiles() {
    }

    /**
     * Directories are walked recursively in sorted order (the same order on every machine);
     * hidden files and directories (.git, .DS_Store) are not inputs and are passed over silently.
     * Questions files that ingest itself wrote beside an MRQA input ({@code *.questions.jsonl},
     * see {@link QuestionSet#besideInput}) are not documents: a walk skips them (counted as
     * unsupported), so ingesting a folder twice reads the same inputs; named, one is read as told.
     * A file named twice is read once.
     */
    static Listing list(List<Path> paths, Optional<SourceFormat> forced) throws IOException {
        List<SourceFile> files = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        List<Skipped> refused = new ArrayList<>();
        List<Unreadable> unreadable = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        for (Path path : paths) {
            if (!Files.exists(path)) {
                throw new NoSuchFileException(path.toString(), null, "input not found");
            }
            if (!Files.isDirectory(path) && !Files.isRegularFile(path)) {
                // a pipe (<(zcat ...), /dev/stdin, a FIFO) reads once: ingest reads every input twice
                // (to check and count it, then to publish), so the second pass would find nothing or block
                throw new IllegalArgumentException(path + " is not a regular file or folder (a pipe or device): ingest "
                        + "reads its inputs twice, so write it to a file first (e.g. zcat docs.jsonl.gz > docs.jsonl, "
                        + "or name the .jsonl.gz itself)");
            }
            if (Files.isDirectory(path)) {
                Path root = path.toAbsolutePath().normalize();
                List<Path> brokenLinks = new ArrayList<>();
                for (Path file : walk(path, unreadable, brokenLinks, skipped)) {
                    String relative = slashes(path.relativize(file));
                    String display = displayed(path.resolve(relative).normalize());
                    if (QuestionSet.isQuestionsFile(file)) {
                        skipped.add(new Skipped(display, SkipReason.UNSUPPORTED_FILE, "questions written by ingest, not documents"));
                    } else {
                        add(new SourceFile(file, relative, display, null, root), false, forced,
                                new Found(files, skipped, refused, unreadable), seen);
                    }
                }
                for (Path link : brokenLinks) {
                    String target;
                    try {
                        target = Files.readSymbolicLink(link).toString();
                    } catch (IOException | UnsupportedOperationException e) {
                        target = "?";
                    }
                    String where = displayed(link.normalize());
                    try {
                        link.toRealPath();
                        continue;   // it resolves now (created meanwhile): not broken; the next run takes it
                    } catch (java.nio.file.NoSuchFileException gone) {
                        skipped.add(new Skipped(where, SkipReason.BROKEN_LINK, "a symbolic link to " + Printable.of(target)
                                + ", which does not exist"));
                    } catch (java.nio.file.AccessDeniedException denied) {
                        unreadable.add(new Unreadable(where, denied));   // as any file it may not read
                    } catch (IOException e) {   // a loop of links (ELOOP), another error of the file system
                        skipped.add(new Skipped(where, SkipReason.BROKEN_LINK, "a symbolic link to " + Printable.of(target)
                                + " that cannot be followed: " + e.getMessage()));
                    }
                }
            } else {
                Path folder = path.toAbsolutePath().normalize().getParent();
                add(new SourceFile(path, path.getFileName().toString(), displayed(path.normalize()), null, folder),
                        true, forced, new Found(files, skipped, refused, unreadable), seen);
            }
        }
        return new Listing(withoutLinkedTwins(files, skipped), skipped, refused, unreadable);
    }

    /**
     * One document per file on disk: a file reached again through a symbolic link (a link to a
     * sibling, a linked folder) would be published a second time under the link's id, and answer
     * twice. Its own path wins over a link's (else the first in order), whatever the names' order;
     * the others are skipped as DUPLICATE_FILE, naming the path kept. A path whose real path
     * cannot be read is kept as it is.
     */
    private static List<SourceFile> withoutLinkedTwins(List<SourceFile> files, List<Skipped> skipped) {
        java.util.Map<Path, SourceFile> kept = new java.util.LinkedHashMap<>();
        List<SourceFile> out = new ArrayList<>(files.size());
        java.util.Map<SourceFile, Path> realOf = new java.util.IdentityHashMap<>();
        for (SourceFile f : files) {
            Path real;
            try {
                real = f.path().toRealPath();
            } catch (IOException e) {
                continue;
            }
            realOf.put(f, real);
            SourceFile first = kept.get(real);
            if (first == null || !direct(first, real) && direct(f, real)) {
                kept.put(real, f);
            }
        }
        for (SourceFile f : files) {
            Path real = realOf.get(f);
            SourceFile keeper = real == null ? f : kept.get(real);
            if (keeper == f) {
                out.add(f);
            } else {
                skipped.add(new Skipped(f.display(), SkipReason.DUPLICATE_FILE, "the same file as " + keeper.display()
                        + " (through a symbolic link): published once, as that one"));
            }
        }
        return out;
    }

    /**
     * Whether {@code f} was reached by its own path below its root: no symbolic link between the
     * folder given (or a named file's folder) and the file. A link above it (the folder given is
     * itself a link, /tmp on some systems) does not count, or every file below it would lose to
     * whichever name came first.
     */
    private static boolean direct(SourceFile f, Path real) {
        try {
            return f.root().toRealPath().resolve(f.relative()).normalize().equals(real);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Where {@link #add} puts what it decides. */
    private record Found(List<SourceFile> files, List<Skipped> skipped, List<Skipped> refused, List<Unreadable> unreadable) {
    }

    /** @param found the file with its format still null: decided here */
    private static void add(SourceFile found, boolean named, Optional<SourceFormat> forced, Found out, Set<Path> seen)
            throws IOException {
        List<SourceFile> files = out.files();
        List<Skipped> skipped = out.skipped();
        Path file = found.path();
        if (!seen.add(file.toAbsolutePath().normalize())) {
            return;
        }
        Optional<SourceFormat> byName = SourceFormat.byExtension(file.getFileName().toString());
        if (forced.isPresent()) {
            // A file the user named is read as told; in a walked directory only matching types are.
            if (named || byName.filter(forced.get()::accepts).isPresent()) {
                files.add(found.withFormat(forced.get()));
            } else {
                skipped.add(new Skipped(found.display(), SkipReason.UNSUPPORTED_FILE, "not a " + lower(forced.get()) + " file"));
            }
        } else if (byName.isEmpty()) {
            // in a walked folder such a file is passed over; one named on purpose is a mistake to report
            (named ? out.refused() : skipped).add(new Skipped(found.display(), named ? SkipReason.BAD_INPUT
                    : SkipReason.UNSUPPORTED_FILE, "unknown file type; name a format with --format txt|md|jsonl|mrqa"));
        } else {
            SourceFile candidate = found.withFormat(byName.get());
            try {
                if (candidate.format() == SourceFormat.JSONL && hasMrqaHeader(candidate)) {
                    candidate = found.withFormat(SourceFormat.MRQA);
                }
            } catch (IOException e) {   // permissions, a disk error: the file, not the run
                out.unreadable().add(new Unreadable(found.display(), e));
                return;
            }
            files.add(candidate);
        }
    }

    /** A first line longer than this is not an MRQA header (it is not read into memory to find out). */
    private static final long MAX_HEADER_LINE_BYTES = 1 << 20;

    /** MRQA files open with {"header": {..., "mrqa_split": ...}}: a header object naming MRQA. */
    private static boolean hasMrqaHeader(SourceFile file) throws IOException {
        byte[][] first = new byte[1][];
        try {
            forEachLine(file, new LineConsumer() {
                @Override
                public void accept(int number, byte[] line) {
                    first[0] = line;
                }

                @Override
                public void oversized(int number, long bytes) {
                    // not a header line: the JSONL reader reports it
                }
            }, 1, MAX_HEADER_LINE_BYTES);
        } catch (CorruptGzipException e) {
            return false; // the JSONL reader reports it, with the line
        }
        if (first[0] == null) {
            return false;
        }
        try {
            String line = utf8(first[0]);
            return DocumentJson.parseObject(line).has("header") && line.toLowerCase(Locale.ROOT).contains("mrqa");
        } catch (BadDocumentException e) {
            return false; // not a header: the JSONL reader reports the line
        }
    }

    static void forEachLine(SourceFile file, LineConsumer consumer) throws IOException {
        forEachLine(file, consumer, Integer.MAX_VALUE, Long.MAX_VALUE);
    }

    /**
     * A gzipped input that is not gzip or ends early: a bad line of that file ({@link #where}, the
     * line it broke in), which the readers report as such, not an I/O failure of the whole run.
     */
    static final class CorruptGzipException extends IOException {
        private final String where;

        CorruptGzipException(String where, IOException cause) {
            super("corrupt or truncated gzip (" + cause.getMessage() + ")", cause);
            this.where = where;
        }

        String where() {
            return where;
        }

        BadDocumentException asBadLine() {
            return new BadDocumentException(MALFORMED, getMessage(), this);
        }
    }

    /**
     * Splits on '\n' itself, so a line that is not UTF-8 is reported with its own number. A line over
     * {@code maxLineBytes} is counted, not kept: {@link LineConsumer#oversized} gets its length. A
     * gzipped file that is not gzip or ends early throws {@link CorruptGzipException} naming the line
     * it broke in.
     */
    private static void forEachLine(SourceFile file, LineConsumer consumer, int maxLines, long maxLineBytes)
            throws IOException {
        int number = 0;   // lines delivered
        try (InputStream in = open(file)) {
            byte[] buffer = new byte[1 << 16];
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            long length = 0;   // of the line so far, kept or not
            for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        length = keep(line, length, buffer, start, i, maxLineBytes);
                        number++;
                        deliver(consumer, number, line, length, maxLineBytes);
                        if (number >= maxLines) {
                            return;
                        }
                        line.reset();
                        length = 0;
                        start = i + 1;
                    }
                }
                length = keep(line, length, buffer, start, n, maxLineBytes);
            }
            if (length > 0) {
                number++;
                deliver(consumer, number, line, length, maxLineBytes);
            }
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            if (!file.gzipped()) {
                throw e;
            }
            throw new CorruptGzipException(file.display() + ":" + (number + 1), e);
        }
    }

    /** Appends buffer[from, to) to the line while it stays within the limit; returns the line's new length. */
    private static long keep(ByteArrayOutputStream line, long length, byte[] buffer, int from, int to, long maxLineBytes) {
        long now = length + (to - from);
        if (now <= maxLineBytes) {
            line.write(buffer, from, to - from);
        } else {
            line.reset();   // over: only its length is counted from here
        }
        return now;
    }

    private static void deliver(LineConsumer consumer, int number, ByteArrayOutputStream line, long length,
                                long maxLineBytes) throws IOException {
        if (length > maxLineBytes) {
            consumer.oversized(number, length);
        } else {
            consumer.accept(number, trimLine(line.toByteArray(), number == 1));
        }
    }

    static InputStream open(SourceFile file) throws IOException {
        InputStream in = Files.newInputStream(file.path());
        if (!file.gzipped()) {
            return in;
        }
        try {
            return new GZIPInputStream(in, 1 << 16);   // reads the header: throws on an empty or non-gzip file
        } catch (IOException | RuntimeException e) {
            in.close();   // else every corrupt .gz left a file open (twice: the header check, then the read)
            throw e;
        }
    }

    /**
     * Strict UTF-8: a replacement character would silently change the document. What is not UTF-8
     * is named with how to convert it: UTF-16 by its byte-order mark, anything else by its first
     * byte that is not UTF-8 (most often Latin-1 or Windows-1252 text).
     */
    static String utf8(byte[] bytes) throws BadDocumentException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in).toString();
        } catch (CharacterCodingException e) {
            throw new BadDocumentException(MALFORMED, notUtf8(bytes, in.position()));
        }
    }

    /** Why {@code bytes} are not UTF-8; the decoder stopped at {@code at}. */
    static String notUtf8(byte[] bytes, int at) {
        if (bytes.length >= 2 && (bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE
                || bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF)) {
            return "UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8: convert it, e.g. iconv -f UTF-16 -t UTF-8";
        }
        return String.format(Locale.ROOT, "not valid UTF-8 text: byte 0x%02X at offset %d is not UTF-8 (Latin-1 or"
                + " Windows-1252 text? convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8)", bytes[Math.min(at, bytes.length - 1)] & 0xFF, at);
    }

    /** Drops a trailing '\r' (CRLF files) and, on the first line, a UTF-8 byte-order mark. */
    static byte[] trimLine(byte[] line, boolean first) {
        int start = first && line.length >= 3 && line[0] == (byte) 0xEF && line[1] == (byte) 0xBB && line[2] == (byte) 0xBF ? 3 : 0;
        int end = line.length > start && line[line.length - 1] == '\r' ? line.length - 1 : line.length;
        return Arrays.copyOfRange(line, start, end);
    }

    /**
     * The regular files below {@code root}, symbolic links followed (a link that loops back is left
     * out); a file or folder that cannot be read goes to {@code unreadable}. A pipe, socket or device
     * found there goes to {@code skipped}: it is not read (a FIFO blocks its reader, and ingest reads
     * every input twice), but said, as a file of an unknown type is.
     */
    private static List<Path> walk(Path root, List<Unreadable> unreadable, List<Path> brokenLinks, List<Skipped> skipped)
            throws IOException {
        List<Path> files = new ArrayList<>();
        SimpleFileVisitor<Path> visitor = new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return !dir.equals(root) && hidden(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !hidden(file)) {
                    files.add(file);
                } else if (attrs.isSymbolicLink() && !hidden(file)) {
                    brokenLinks.add(file);   // links are followed: one seen as a link has nothing behind it
                } else if (attrs.isOther() && !hidden(file)) {
                    skipped.add(new Skipped(displayed(file.normalize()), SkipReason.UNSUPPORTED_FILE,
                            "not a regular file (a pipe, socket or device): write what it holds to a file to ingest it"));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof java.nio.file.FileSystemLoopException) {
                    return FileVisitResult.CONTINUE;
                }
                unreadable.add(new Unreadable(displayed(file), e));   // the folder named too: its run may skip it
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                if (e != null) {   // listing the folder failed part way: what was listed is read
                    unreadable.add(new Unreadable(displayed(dir), e));
                }
                return FileVisitResult.CONTINUE;
            }
        };
        Files.walkFileTree(root, java.util.EnumSet.of(java.nio.file.FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, visitor);
        files.sort(Comparator.comparing(file -> slashes(root.relativize(file))));
        return files;
    }

    private static boolean hidden(Path path) {
        return path.getFileName().toString().startsWith(".");
    }

    /** A path as messages show it: slashes, control characters escaped ({@link Printable#of}). */
    private static String displayed(Path path) {
        return Printable.of(slashes(path));
    }

    private static String slashes(Path path) {
        return path.toString().replace(path.getFileSystem().getSeparator(), "/");
    }

    private static String lower(SourceFormat format) {
        return format.name().toLowerCase(Locale.ROOT);
    }
}
