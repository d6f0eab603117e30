package dev.sacrag.ingest;

import static dev.sacrag.schemas.BadDocumentException.Reason.INVALID_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;
import static dev.sacrag.schemas.BadDocumentException.Reason.TOO_LARGE;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/** .txt and .md files: one document per file, id from the path, title from the first heading. */
final class TextDocuments {

    private static final Pattern SETEXT_UNDERLINE = Pattern.compile("^ {0,3}(=+|-+)[ \\t]*$");
    private static final Pattern FENCE = Pattern.compile("^ {0,3}(```|~~~).*");

    /**
     * What a file name holds where its bytes did not decode in the JVM's file-name encoding: any name
     * outside ASCII under a POSIX locale (a cron job, a service without LANG), a Latin-1 name under a
     * UTF-8 one. An id slugged from it would depend on the locale ({@code café.md} is {@code cafe}
     * in one and {@code caf} in the other: two documents), or two names would give one id. A name
     * may hold the character itself (written by a tool that had replaced what it could not decode):
     * {@link #undecoded} tells the two apart.
     */
    private static final char UNDECODED = '\uFFFD';

    private TextDocuments() {
    }

    static void read(SourceFile file, String docId, DocumentLimits limits, BatchCollector out) throws IOException {
        if (file.gzipped()) {   // named with a forced --format txt or md: its bytes are not text
            out.bad(file.display(), new BadDocumentException(MALFORMED, "a gzipped file is read as text only in JSONL"
                    + " (.jsonl.gz, .ndjson.gz): gunzip it first"));
            return;
        }
        if (undecoded(file)) {
            out.bad(file.display(), new BadDocumentException(INVALID_FIELD, "its path holds a name that is not valid in"
                    + " the file-name encoding of this JVM (sun.jnu.encoding=" + System.getProperty("sun.jnu.encoding")
                    + "), and its id is taken from it: run with a UTF-8 locale (LANG=C.UTF-8), or rename it to UTF-8"
                    + " (e.g. convmv -f latin1 -t utf8)"));
            return;
        }
        if (Files.size(file.path()) > limits.maxValueBytes()) {
            out.bad(file.display(), new BadDocumentException(TOO_LARGE,
                    "file has " + Files.size(file.path()) + " bytes, limit " + limits.maxValueBytes()));
            return;
        }
        byte[] bytes = Files.readAllBytes(file.path());
        String text;
        try {
            text = SourceFiles.utf8(SourceFiles.trimLine(bytes, true));
        } catch (BadDocumentException e) {
            out.bad(file.display(), e);
            return;
        }
        // The same file checked out on Windows and Linux must be the same document (same hash).
        text = text.replace("\r\n", "\n");
        if (dev.sacrag.schemas.DocumentRules.hasNoContent(text)) {
            out.skip(new Skipped(file.display(), SkipReason.EMPTY_FILE, text.isBlank() ? ""
                    : "only invisible characters (control, format or space)"));
            return;
        }
        if (text.indexOf('\0') >= 0) {
            // valid UTF-8, but no text file holds NUL: UTF-16 without a byte-order mark ("h\0e\0..."), or a binary.
            // Where, as a byte offset of the file (od, xxd): an index of the text counts neither its byte-order
            // mark, nor the CRs folded, nor the bytes of what precedes it
            out.bad(file.display(), new BadDocumentException(MALFORMED, "a NUL character (at byte offset "
                    + firstNul(bytes) + "): UTF-16 text without a byte-order mark (convert it, e.g. iconv -f UTF-16LE"
                    + " -t UTF-8), or not text at all"));
            return;
        }
        String fileName = file.path().getFileName().toString();
        String title = file.format() == SourceFormat.MD ? markdownTitle(text).orElse(fileName) : fileName;
        out.add(file.display(), new DocumentDraft(docId, out.tenant(), OptionalLong.empty(), title, text,
                file.source(), Map.of()));
    }

    /**
     * Whether the path below the root holds a name whose bytes did not decode: it holds
     * {@link #UNDECODED}, and spelled from the decoded string it is not this file (no name in this
     * encoding, another file, or none). A name holding U+FFFD itself, in UTF-8, is the file it spells.
     */
    private static boolean undecoded(SourceFile file) throws IOException {
        if (file.relative().indexOf(UNDECODED) < 0) {
            return false;
        }
        Path spelled;
        try {
            spelled = file.root().resolve(file.relative());
        } catch (InvalidPathException e) {
            return true;   // U+FFFD has no bytes in this encoding (ASCII under a POSIX locale)
        }
        return !Files.exists(spelled, LinkOption.NOFOLLOW_LINKS) || !Files.isSameFile(spelled, file.path());
    }

    private static int firstNul(byte[] bytes) {
        int i = 0;
        while (bytes[i] != 0) {
            i++;
        }
        return i;
    }

    /** The first ATX ({@code # Title}) or setext (underlined) heading outside code fences. */
    static Optional<String> markdownTitle(String markdown) {
        String[] lines = markdown.split("\n", -1);
        int start = skipFrontMatter(lines);
        boolean inFence = false;
        for (int i = start; i < lines.length; i++) {
            String line = lines[i];
            if (FENCE.matcher(line).matches()) {
                inFence = !inFence;
                continue;
            }
            if (inFence) {
                continue;
            }
            Optional<String> atx = atxHeading(line);
            if (atx.isPresent()) {
                return atx;
            }
            boolean underlined = i + 1 < lines.length && SETEXT_UNDERLINE.matcher(lines[i + 1]).matches();
            if (underlined && !line.isBlank() && !line.startsWith("    ")) {
                return Optional.of(line.trim());
            }
        }
        return Optional.empty();
    }

    /**
     * The text of an ATX heading line ({@code ## Title ##}: up to three spaces, one to six '#', a
     * space or tab, the text, optionally a closing run of '#' after a space), trimmed; empty when
     * the line is no heading or one without text. Written out rather than as a regular expression:
     * a lazy group before optional trailing blanks backtracks quadratically on a line of many
     * spaces (seconds for a padded line of 20,000).
     */
    static Optional<String> atxHeading(String line) {
        int i = 0;
        while (i < 3 && i < line.length() && line.charAt(i) == ' ') {
            i++;
        }
        int hashes = 0;
        while (i < line.length() && line.charAt(i) == '#') {
            i++;
            hashes++;
        }
        if (hashes < 1 || hashes > 6 || i < line.length() && !blank(line.charAt(i))) {
            return Optional.empty();   // "#hashtag", "#######", or not a heading at all
        }
        int begin = i;
        int end = line.length();
        while (end > begin && blank(line.charAt(end - 1))) {
            end--;
        }
        int closing = end;
        while (closing > begin && line.charAt(closing - 1) == '#') {
            closing--;
        }
        if (closing < end && (closing == begin || blank(line.charAt(closing - 1)))) {
            end = closing;   // a closing sequence: "# Title ##", or "# ##" (no text)
        }
        String text = line.substring(begin, end).strip();
        return text.isEmpty() ? Optional.empty() : Optional.of(text);
    }

    private static boolean blank(char c) {
        return c == ' ' || c == '\t';
    }

    /** YAML front matter ({@code ---} ... {@code ---} on the first lines) is not a heading. */
    private static int skipFrontMatter(String[] lines) {
        if (lines.length > 0 && lines[0].equals("---")) {
            for (int i = 1; i < lines.length; i++) {
                if (lines[i].equals("---") || lines[i].equals("...")) {
                    return i + 1;
                }
            }
        }
        return 0;
    }
}
