package dev.sacrag.ingest;

import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;
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

    record Listing(List<SourceFile> files, List<Skipped> skipped) {
    }

    /** Receives one line of a file: 1-based number, raw bytes without the line break. */
    interface LineConsumer {
        void accept(int number, byte[] line) throws IOException;
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
        try {
            forEachLine(file, (number, bytes) -> {
                String where = file.display() + ":" + number;
                try {
                    String line = utf8(bytes);
                    if (!line.isBlank()) {
                        consumer.accept(where, line);
                    }
                } catch (BadDocumentException e) {
                    out.bad(where, e);
                }
            });
        } catch (CorruptGzipException e) {
            out.bad(e.where(), e.asBadLine());
            return false;
        }
        return true;
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
        Set<Path> seen = new LinkedHashSet<>();
        for (Path path : paths) {
            if (!Files.exists(path)) {
                throw new NoSuchFileException(path.toString(), null, "input not found");
            }
            if (Files.isDirectory(path)) {
                Path root = path.toAbsolutePath().normalize();
                for (Path file : walk(path)) {
                    String relative = slashes(path.relativize(file));
                    String display = slashes(path.resolve(relative).normalize());
                    if (QuestionSet.isQuestionsFile(file)) {
                        skipped.add(new Skipped(display, SkipReason.UNSUPPORTED_FILE, "questions written by ingest, not documents"));
                    } else {
                        add(new SourceFile(file, relative, display, null, root), false, forced, files, skipped, seen);
                    }
                }
            } else {
                Path folder = path.toAbsolutePath().normalize().getParent();
                add(new SourceFile(path, path.getFileName().toString(), slashes(path.normalize()), null, folder),
                        true, forced, files, skipped, seen);
            }
        }
        return new Listing(files, skipped);
    }

    /** @param found the file with its format still null: decided here */
    private static void add(SourceFile found, boolean named, Optional<SourceFormat> forced,
                            List<SourceFile> files, List<Skipped> skipped, Set<Path> seen) throws IOException {
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
            skipped.add(new Skipped(found.display(), SkipReason.UNSUPPORTED_FILE, "unknown file type; name a format"));
        } else {
            SourceFile candidate = found.withFormat(byName.get());
            if (candidate.format() == SourceFormat.JSONL && hasMrqaHeader(candidate)) {
                candidate = found.withFormat(SourceFormat.MRQA);
            }
            files.add(candidate);
        }
    }

    /** MRQA files open with {"header": {..., "mrqa_split": ...}}: a header object naming MRQA. */
    private static boolean hasMrqaHeader(SourceFile file) throws IOException {
        byte[][] first = new byte[1][];
        try {
            forEachLine(file, (number, line) -> {
                if (first[0] == null && line.length > 0) {
                    first[0] = line;
                }
            }, 1);
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
        forEachLine(file, consumer, Integer.MAX_VALUE);
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

    /** Splits on '\n' itself, so a line that is not UTF-8 is reported with its own number. */
    private static void forEachLine(SourceFile file, LineConsumer consumer, int maxLines) throws IOException {
        int[] read = {0};
        try {
            forEachLine(file, consumer, maxLines, read);
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            if (!file.gzipped()) {
                throw e;
            }
            throw new CorruptGzipException(file.display() + ":" + (read[0] + 1), e);
        }
    }

    /** {@code read[0]}: the lines delivered so far. */
    private static void forEachLine(SourceFile file, LineConsumer consumer, int maxLines, int[] read) throws IOException {
        try (InputStream in = open(file)) {
            byte[] buffer = new byte[1 << 16];
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int number = 0;
            for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        line.write(buffer, start, i - start);
                        number++;
                        read[0] = number;
                        consumer.accept(number, trimLine(line.toByteArray(), number == 1));
                        if (number >= maxLines) {
                            return;
                        }
                        line.reset();
                        start = i + 1;
                    }
                }
                line.write(buffer, start, n - start);
            }
            if (line.size() > 0) {
                number++;
                read[0] = number;
                consumer.accept(number, trimLine(line.toByteArray(), number == 1));
            }
        }
    }

    static InputStream open(SourceFile file) throws IOException {
        InputStream in = Files.newInputStream(file.path());
        return file.gzipped() ? new GZIPInputStream(in, 1 << 16) : in;
    }

    /** Strict UTF-8: a replacement character would silently change the document. */
    static String utf8(byte[] bytes) throws BadDocumentException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadDocumentException(MALFORMED, "not valid UTF-8 text", e);
        }
    }

    /** Drops a trailing '\r' (CRLF files) and, on the first line, a UTF-8 byte-order mark. */
    static byte[] trimLine(byte[] line, boolean first) {
        int start = first && line.length >= 3 && line[0] == (byte) 0xEF && line[1] == (byte) 0xBB && line[2] == (byte) 0xBF ? 3 : 0;
        int end = line.length > start && line[line.length - 1] == '\r' ? line.length - 1 : line.length;
        return Arrays.copyOfRange(line, start, end);
    }

    /** The regular files below {@code root}, symbolic links followed (a link that loops back is left out). */
    private static List<Path> walk(Path root) throws IOException {
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
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof java.nio.file.FileSystemLoopException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        };
        Files.walkFileTree(root, java.util.EnumSet.of(java.nio.file.FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, visitor);
        files.sort(Comparator.comparing(file -> slashes(root.relativize(file))));
        return files;
    }

    private static boolean hidden(Path path) {
        return path.getFileName().toString().startsWith(".");
    }

    private static String slashes(Path path) {
        return path.toString().replace(path.getFileSystem().getSeparator(), "/");
    }

    private static String lower(SourceFormat format) {
        return format.name().toLowerCase(Locale.ROOT);
    }
}
