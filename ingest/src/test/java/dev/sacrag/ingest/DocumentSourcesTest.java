package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.ingest.DocumentSources.OnBadInput;
import dev.sacrag.ingest.DocumentSources.Options;
import dev.sacrag.schemas.BadDocumentException.Reason;
import dev.sacrag.schemas.DocumentLimits;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocumentSourcesTest {

    @TempDir
    Path dir;

    private final DocumentSources sources = DocumentSources.withDefaults();

    @Test
    void textFileBecomesOneDocumentTitledByItsNameWithoutVersion() throws IOException {
        write("notes.txt", "Line one.\r\nLine two.\r\n");

        DocumentDraft doc = only(read(dir));

        assertEquals("notes", doc.docId());
        assertEquals("notes.txt", doc.title());
        assertEquals("Line one.\nLine two.\n", doc.text(), "CRLF is normalised so both checkouts give one document");
        assertEquals(OptionalLong.empty(), doc.version());
        assertEquals("default", doc.tenant());
        assertTrue(doc.source().endsWith("notes.txt"), doc.source());
    }

    @Test
    void markdownIsTitledByItsFirstHeadingOutsideCodeAndFrontMatter() throws IOException {
        write("guide.md", "---\ntitle: x\n---\n```\n# not this\n```\nintro\n\n## Getting started ##\n\nbody\n");
        assertEquals("Getting started", only(read(dir)).title());

        assertEquals(Optional.of("Setext title"), TextDocuments.markdownTitle("Setext title\n=====\ntext"));
        assertEquals(Optional.empty(), TextDocuments.markdownTitle("no heading here\n#hashtag"));
    }

    @Test
    void atxHeadingsAreReadAsCommonMarkReadsThem() {
        assertEquals(Optional.of("Title"), TextDocuments.atxHeading("# Title"));
        assertEquals(Optional.of("Title"), TextDocuments.atxHeading("   ###\tTitle \t## \t"));
        assertEquals(Optional.of("C#"), TextDocuments.atxHeading("## C#"), "a '#' inside the text is kept");
        assertEquals(Optional.of("a # b"), TextDocuments.atxHeading("# a # b"));
        assertEquals(Optional.empty(), TextDocuments.atxHeading("# ##"), "a closing sequence alone: no text");
        assertEquals(Optional.empty(), TextDocuments.atxHeading("#"));
        assertEquals(Optional.empty(), TextDocuments.atxHeading("####### seven"));
        assertEquals(Optional.empty(), TextDocuments.atxHeading("    # four spaces is code"));
        assertEquals(Optional.empty(), TextDocuments.atxHeading("#hashtag"));
        // a heading padded with spaces before its last word (backtracked quadratically as a regular expression)
        String padded = "# a" + " ".repeat(40_000) + "x";
        assertEquals(Optional.of("a" + " ".repeat(40_000) + "x"), TextDocuments.atxHeading(padded));
    }

    @Test
    void docIdsAreSlugsOfThePathBelowTheRootAndStableAcrossRuns() throws IOException {
        write("Guides/Getting Started.md", "# Start\ntext");
        write("Guides/Ünïcode Notes.txt", "text");
        write("api/v2/REST_API.md", "text");

        List<String> first = ids(read(dir));
        List<String> second = ids(read(dir));

        // Walk order is by path string (code units): upper case sorts before lower case.
        assertEquals(List.of("guides/getting-started", "guides/unicode-notes", "api/v2/rest-api"), first);
        assertEquals(first, second);
    }

    @Test
    void fileGivenDirectlyIsIdentifiedByItsName() throws IOException {
        Path file = write("deep/er/Read Me.md", "# R\ntext");
        assertEquals("read-me", only(sources.read(List.of(file), Options.defaults())).docId());
    }

    @Test
    void collidingSlugsAllGetAStableHashSuffix() throws IOException {
        write("a.md", "markdown");
        write("a.txt", "text");

        SourceBatch batch = read(dir);
        List<String> ids = ids(batch);

        assertEquals(2, ids.size());
        assertNotEquals(ids.get(0), ids.get(1));
        assertTrue(ids.stream().allMatch(id -> id.matches("a-[0-9a-f]{8}")), ids.toString());
        assertEquals(1, batch.notes().size(), "the user is told: " + batch.notes());
        assertTrue(batch.notes().get(0).contains("'a'") && batch.notes().get(0).contains(ids.get(0))
                && batch.notes().get(0).contains("sac delete a'"), batch.notes().get(0));
        assertTrue(sources.read(List.of(dir), Options.defaults().withTenant("acme")).notes().get(0)
                .contains("'sac delete a --tenant acme'"), "a tenant's delete names it");
        assertEquals(ids, ids(read(dir)));
        // the folder named another way (relative, with a detour) gives the same ids
        Path sameFolder = Path.of("").toAbsolutePath().relativize(dir.resolve("sub/..").toAbsolutePath());
        assertEquals(ids, ids(sources.read(List.of(sameFolder), Options.defaults())));
    }

    @Test
    void aNameWithoutLatinLettersGetsTheSameIdComposedOrDecomposed() throws IOException {
        // Korean syllables have no ASCII slug, so the id is doc-<hash of the path>; macOS stores names
        // decomposed (NFD), Linux as given: both spellings of one name must give one document
        String composed = java.text.Normalizer.normalize("한국어", java.text.Normalizer.Form.NFC);
        String decomposed = java.text.Normalizer.normalize("한국어", java.text.Normalizer.Form.NFD);
        assertNotEquals(composed, decomposed);
        write("nfc/" + composed + ".txt", "text");
        write("nfd/" + decomposed + ".txt", "text");
        String fromComposed = only(sources.read(List.of(dir.resolve("nfc")), Options.defaults())).docId();
        String fromDecomposed = only(sources.read(List.of(dir.resolve("nfd")), Options.defaults())).docId();
        assertTrue(fromComposed.matches("doc-[0-9a-f]{8}"), fromComposed);
        assertEquals(fromComposed, fromDecomposed);
    }

    @Test
    void sameFileNameInTwoFoldersNamedInOneRunGivesTwoDocuments() throws IOException {
        write("teamA/README.md", "team A");
        write("teamA/notes.md", "only in A");
        write("teamB/README.md", "team B");
        write("x/docs/README.md", "docs of x");
        write("y/docs/README.md", "docs of y");

        List<String> ids = ids(sources.read(List.of(dir.resolve("teamA"), dir.resolve("teamB")), Options.defaults()));

        assertEquals(3, ids.size(), ids.toString());
        assertTrue(ids.get(0).matches("readme-[0-9a-f]{8}") && ids.get(2).matches("readme-[0-9a-f]{8}"), ids.toString());
        assertNotEquals(ids.get(0), ids.get(2), "README.md of teamA and of teamB must stay two documents");
        assertEquals("notes", ids.get(1), "a file whose slug no other shares keeps its plain id");
        assertEquals(ids.get(0), "readme-" + DocIds.sha256Hex("teamA/README.md").substring(0, 8),
                "the folder's own name and the path below it: the same wherever the command runs");
        // the same folders named another way (relative to the working directory, with a detour) give the same ids
        Path cwd = Path.of("").toAbsolutePath();
        List<Path> relative = List.of(cwd.relativize(dir.resolve("teamA/../teamA")), cwd.relativize(dir.resolve("teamB")));
        assertEquals(ids, ids(sources.read(relative, Options.defaults())));

        // two folders of the same name: the absolute paths tell them apart
        List<String> docs = ids(sources.read(List.of(dir.resolve("x/docs"), dir.resolve("y/docs")), Options.defaults()));
        assertEquals(2, docs.size());
        assertNotEquals(docs.get(0), docs.get(1));
        // and two files named directly, from two folders
        List<String> named = ids(sources.read(List.of(dir.resolve("teamA/README.md"), dir.resolve("teamB/README.md")),
                Options.defaults()));
        assertEquals(List.of(ids.get(0), ids.get(2)), named);
    }

    @Test
    void docIdGivenTwiceInOneRunIsBadInputNamingBothSources() throws IOException {
        write("readme.md", "from markdown");
        Path jsonl = write("docs.jsonl", "{\"docId\":\"readme\",\"text\":\"first line\"}\n"
                + "{\"docId\":\"readme\",\"text\":\"second line\"}\n");

        BadSourceException e = assertThrows(BadSourceException.class, () -> read(dir));
        assertEquals(jsonl + ":2", e.where());
        assertTrue(e.getMessage().contains("'readme' is already the id of " + jsonl + ":1"), e.getMessage());

        SourceBatch batch = sources.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(1, batch.documents().size(), "one document per id is published: " + batch);
        assertEquals("first line", batch.documents().get(0).text(), "the first in walk order");
        assertEquals(List.of(jsonl + ":2", dir.resolve("readme.md").toString()),
                batch.skipped().stream().map(Skipped::where).toList());
        assertEquals(Map.of(SkipReason.BAD_INPUT, 2), batch.skippedByReason());
        assertTrue(batch.skipped().get(1).detail().contains(jsonl + ":1"), batch.skipped().get(1).detail());
    }

    @Test
    void questionsFilesIngestWroteAreSkippedWhenAFolderIsWalked() throws IOException {
        Path input = write("dev.jsonl", "{\"header\": {\"dataset\": \"X\", \"mrqa_split\": \"dev\"}}\n"
                + "{\"context\": \"Ada wrote notes.\", \"qas\": [{\"qid\": \"1\", \"question\": \"Who?\", \"answers\": [\"Ada\"]}]}\n");
        SourceBatch first = read(dir);
        Path questions = QuestionSet.besideInput(input);
        first.questions().writeJsonl(questions);

        SourceBatch again = read(dir);

        assertEquals(ids(first), ids(again));
        assertEquals(first.questions(), again.questions());
        assertEquals(List.of(questions.toString()), again.skipped().stream().map(Skipped::where).toList());
        assertEquals(Map.of(SkipReason.UNSUPPORTED_FILE, 1), again.skippedByReason());
        // also when every file is read as MRQA, which JSONL names would otherwise be
        assertEquals(ids(first), ids(sources.read(List.of(dir), Options.defaults().withFormat(SourceFormat.MRQA))));
        // named on the command line, it is read as told, and is not a document
        BadSourceException e = assertThrows(BadSourceException.class, () -> read(questions));
        assertEquals(Reason.MISSING_FIELD, e.reason());
    }

    @Test
    void documentOverTheByteLimitOfItsRecordValueIsBadInput() throws IOException {
        write("docs.jsonl", "{\"docId\":\"small\",\"text\":\"ok\"}\n"
                + "{\"docId\":\"big\",\"text\":\"" + "\u00e9".repeat(150) + "\"}\n");
        DocumentSources limited = new DocumentSources(new DocumentLimits(200, 1000), DocumentPublisher.Format.AVRO);

        BadSourceException e = assertThrows(BadSourceException.class, () -> limited.read(List.of(dir), Options.defaults()));

        assertEquals(dir.resolve("docs.jsonl") + ":2", e.where());
        assertEquals(Reason.TOO_LARGE, e.reason(), "150 characters, but 300 bytes of UTF-8: over the 200-byte value limit");
        SourceBatch skipping = limited.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(List.of("small"), ids(skipping));
    }

    @Test
    void documentsOfAnotherTenantGetItAsPrefixSoTwoTenantsReadmesStayTwoDocuments() throws IOException {
        write("README.md", "team notes");
        write("data.jsonl", "{\"docId\":\"given\",\"text\":\"its own id\"}\n");
        assertEquals(List.of("readme", "given"), ids(read(dir)));
        assertEquals(List.of("acme:readme", "given"), ids(sources.read(List.of(dir), Options.defaults().withTenant("acme"))),
                "generated ids are scoped to the tenant; an id the input gives stays as given");
    }

    @Test
    void directoriesAreWalkedInSortedOrderSkippingHiddenEntries() throws IOException {
        write("b/2.txt", "two");
        write("a/1.txt", "one");
        write("b/10.txt", "ten");
        write(".git/config.txt", "hidden dir");
        write(".hidden.txt", "hidden file");

        assertEquals(List.of("a/1", "b/10", "b/2"), ids(read(dir)));
    }

    @Test
    void emptyAndUnsupportedFilesAreSkippedWithTheirReason() throws IOException {
        write("empty.txt", " \n\t\n");
        write("nul.txt", "\u0000\u0000\u0000");
        write("spaces.txt", "\u00a0\u2003\u200b\n");
        write("image.png", "\u0089PNG");
        write("ok.md", "text");

        SourceBatch batch = read(dir);

        assertEquals(1, batch.documents().size());
        assertEquals(Map.of(SkipReason.EMPTY_FILE, 3, SkipReason.UNSUPPORTED_FILE, 1), batch.skippedByReason());
    }

    @Test
    void aFileNameWithControlCharactersIsShownEscapedAndStillRead() throws IOException {
        write("x\ningest: published 999 documents; failed 0\n.txt", " \n");
        write("bell\u0007.txt", "text");

        SourceBatch batch = read(dir);

        assertEquals(1, batch.documents().size(), "the name does not stop the file being read");
        String where = batch.skipped().get(0).where();
        assertTrue(where.endsWith("/x\\ningest: published 999 documents; failed 0\\n.txt") && !where.contains("\n"),
                "a newline in a name cannot forge a line of output: " + where);
        assertEquals("a\\u0007b\\tc", Printable.of("a\u0007b\tc"));
        assertEquals("café 東京 😀", Printable.of("café 東京 😀"));
    }

    @Test
    void aFileNamedOnPurposeOfAnUnknownTypeIsBadInputNotPassedOver() throws IOException {
        Path notes = write("notes.rst", "Title\n=====\ntext");
        BadSourceException e = assertThrows(BadSourceException.class, () -> read(notes));
        assertEquals(notes.toString(), e.where());
        assertTrue(e.getMessage().contains("--format"), e.getMessage());
        SourceBatch skipped = sources.read(List.of(notes), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(Map.of(SkipReason.BAD_INPUT, 1), skipped.skippedByReason());
        assertEquals(Map.of(SkipReason.UNSUPPORTED_FILE, 1), read(dir).skippedByReason(), "walked, it is passed over");
        assertEquals(1, sources.read(List.of(notes), Options.defaults().withFormat(SourceFormat.TXT)).documents().size(),
                "with a format it is read as told");
    }

    @Test
    void gzippedNdjsonIsReadAndGzippedTextIsRefusedSayingToGunzipIt() throws IOException {
        gzip(dir.resolve("a.ndjson.gz"), "{\"docId\":\"a\",\"text\":\"gzipped ndjson\"}\n");
        assertEquals("gzipped ndjson", only(read(dir)).text());

        Path notes = gzip(dir.resolve("notes.txt.gz"), "plain words");
        BadSourceException e = assertThrows(BadSourceException.class,
                () -> sources.read(List.of(notes), Options.defaults().withFormat(SourceFormat.TXT)));
        assertTrue(e.getMessage().contains("gunzip it first"), e.getMessage());
    }

    @Test
    void aFileThatCannotBeReadFailsTheRunOrIsCountedUnreadableUnderSkip() throws IOException {
        java.nio.file.AccessDeniedException denied = new java.nio.file.AccessDeniedException("/data/secret.txt");
        BatchCollector failing = new BatchCollector(Options.defaults(), DocumentLimits.defaults(), DocumentPublisher.Format.AVRO);
        assertEquals(denied, assertThrows(java.nio.file.AccessDeniedException.class,
                () -> failing.unreadable("/data/secret.txt", denied)));
        BatchCollector skipping = new BatchCollector(Options.defaults().withOnBadInput(OnBadInput.SKIP),
                DocumentLimits.defaults(), DocumentPublisher.Format.AVRO);
        skipping.unreadable("/data/secret.txt", denied);
        assertEquals(List.of(new Skipped("/data/secret.txt", SkipReason.UNREADABLE, "permission denied")),
                skipping.build().skipped());

        // a read that fails (as root no permission is refused; /proc/self/mem refuses a read at offset 0 with EIO)
        Path mem = Path.of("/proc/self/mem");
        Options asText = Options.defaults().withFormat(SourceFormat.TXT);
        IOException thrown = assertThrows(IOException.class, () -> sources.read(List.of(mem), asText));
        assertFalse(thrown instanceof BadSourceException, "not bad input: " + thrown);
        SourceBatch skipped = sources.read(List.of(mem, write("ok.txt", "fine")), asText.withOnBadInput(OnBadInput.SKIP));
        assertEquals(Map.of(SkipReason.UNREADABLE, 1), skipped.skippedByReason(), skipped.skipped().toString());
        assertEquals(1, skipped.documents().size(), "the run goes on");
    }

    @Test
    void aJsonlDocIdWrittenDecomposedIsPublishedComposed() throws IOException {
        String decomposed = java.text.Normalizer.normalize("café", java.text.Normalizer.Form.NFD);
        write("docs.jsonl", "{\"docId\":\"" + decomposed + "\",\"text\":\"menu\"}\n");
        String id = only(sources.read(List.of(dir), Options.defaults())).docId();
        assertEquals(java.text.Normalizer.normalize("café", java.text.Normalizer.Form.NFC), id);
        assertNotEquals(decomposed, id);
    }

    @Test
    void jsonlLinesKeepTheirVersionAndTenantAndOthersTakeTheRunTenant() throws IOException {
        write("docs.jsonl", """
                {"docId":"a","text":"first","version":5,"tenant":"acme","metadata":{"k":"v"}}

                {"docId":"b","text":"second","title":"B","source":"http://x/b"}
                """);

        List<DocumentDraft> docs = sources.read(List.of(dir), Options.defaults().withTenant("team-1")).documents();

        assertEquals(2, docs.size());
        assertEquals(OptionalLong.of(5), docs.get(0).version());
        assertEquals("acme", docs.get(0).tenant());
        assertEquals(Map.of("k", "v"), docs.get(0).metadata());
        assertEquals(OptionalLong.empty(), docs.get(1).version());
        assertEquals("team-1", docs.get(1).tenant());
        assertEquals("http://x/b", docs.get(1).source());
    }

    @Test
    void textThatIsNotUtf8IsNamedWithHowToConvertIt() throws IOException {
        Path latin1 = dir.resolve("latin1.txt");
        java.nio.file.Files.write(latin1, "caf\u00e9 au lait".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        BadSourceException e = assertThrows(BadSourceException.class, () -> read(latin1));
        assertTrue(e.getMessage().contains("MALFORMED: not valid UTF-8 text: byte 0xE9 at offset 3 is not UTF-8 (Latin-1 or"
                + " Windows-1252 text? convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8)"), e.getMessage());
        assertTrue(!e.getMessage().contains("Input length"), "not the decoder's own words: " + e.getMessage());

        Path utf16 = dir.resolve("utf16.txt");
        java.nio.file.Files.write(utf16, "\ufeffhello".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        BadSourceException e16 = assertThrows(BadSourceException.class, () -> read(utf16));
        assertTrue(e16.getMessage().contains("UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8: convert it"),
                e16.getMessage());

        // without the mark, UTF-16 of ASCII is valid UTF-8 with a NUL after each letter: it was published so
        Path bare16 = dir.resolve("bare16.txt");
        java.nio.file.Files.write(bare16, "hello".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        BadSourceException bare = assertThrows(BadSourceException.class, () -> read(bare16));
        assertTrue(bare.getMessage().contains("MALFORMED: a NUL character (at byte offset 1): UTF-16 text without a"
                + " byte-order mark (convert it, e.g. iconv -f UTF-16LE -t UTF-8)"), bare.getMessage());
        // where, as od and xxd count: the file's bytes, its byte-order mark, CRs and letters of two bytes included
        Path late = dir.resolve("late.txt");
        java.nio.file.Files.write(late, "\uFEFFcaf\u00e9\r\nx\0".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        BadSourceException at = assertThrows(BadSourceException.class, () -> read(late));
        assertTrue(at.getMessage().contains("a NUL character (at byte offset 11)"), at.getMessage());
    }

    @Test
    void malformedJsonlLineFailsNamingFileAndLine() throws IOException {
        write("docs.jsonl", "{\"docId\":\"a\",\"text\":\"ok\"}\n\n{\"docId\":\"b\",\"text\":\n");

        BadSourceException e = assertThrows(BadSourceException.class, () -> read(dir));

        assertTrue(e.getMessage().startsWith(dir.resolve("docs.jsonl") + ":3: MALFORMED"), e.getMessage());
        assertEquals(Reason.MALFORMED, e.reason());
    }

    @Test
    void badJsonlLinesAreSkippedAndCountedWhenAsked() throws IOException {
        write("docs.jsonl", String.join("\n",
                "{\"docId\":\"a\",\"text\":\"ok\"}",
                "not json",
                "{\"docId\":\"b\"}",
                "{\"docId\":\"c\",\"text\":\"  \"}",
                "{\"docId\":\"d{x}\",\"text\":\"t\"}",
                "{\"docId\":\"e\",\"text\":\"also ok\"}"));

        SourceBatch batch = sources.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));

        assertEquals(List.of("a", "e"), ids(batch));
        assertEquals(4, batch.skipped().size());
        String where = dir.resolve("docs.jsonl").toString();
        assertEquals(List.of(where + ":2", where + ":3", where + ":4", where + ":5"),
                batch.skipped().stream().map(Skipped::where).toList());
        assertTrue(batch.skipped().get(1).detail().startsWith("MISSING_FIELD"), batch.skipped().get(1).detail());
        assertTrue(batch.skipped().get(2).detail().startsWith("EMPTY_TEXT"), batch.skipped().get(2).detail());
    }

    @Test
    void lineThatIsNotUtf8IsReportedWithItsOwnNumber() throws IOException {
        byte[] good = java.util.stream.IntStream.range(0, 3000).mapToObj(i -> "{\"docId\":\"a" + i + "\",\"text\":\"ok\"}\n")
                .collect(java.util.stream.Collectors.joining()).getBytes(UTF_8);
        byte[] bad = {'{', '"', (byte) 0xFF, '"', '}', '\n'};
        Path file = dir.resolve("big.jsonl");
        Files.write(file, concat(good, bad));

        BadSourceException e = assertThrows(BadSourceException.class, () -> read(dir));

        assertEquals(file + ":3001", e.where());
    }

    @Test
    void aTruncatedOrFakeGzipIsABadLineOfItsFileNotAFailureOfTheRun() throws IOException {
        Path whole = gzip(dir.resolve("a.jsonl.gz"), java.util.stream.IntStream.range(0, 2000)
                .mapToObj(i -> "{\"docId\":\"a" + i + "\",\"text\":\"" + "word ".repeat(i % 7 + 1) + i + "\"}\n")
                .collect(java.util.stream.Collectors.joining()));
        byte[] bytes = Files.readAllBytes(whole);
        Files.write(whole, java.util.Arrays.copyOf(bytes, bytes.length / 2));   // cut in the middle
        write("b.jsonl.gz", "{\"docId\":\"b\",\"text\":\"plain text, not gzip\"}\n");
        write("c.jsonl", "{\"docId\":\"c\",\"text\":\"ok\"}\n");

        SourceBatch batch = sources.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));

        assertTrue(batch.documents().size() > 1 && batch.documents().size() < 2001, "a's lines before the cut, and c");
        assertEquals("c", batch.documents().get(batch.documents().size() - 1).docId());
        List<Skipped> bad = batch.skipped();
        assertEquals(2, bad.size(), bad.toString());
        int cut = batch.documents().size();   // a's lines read (all but c), then the line it broke in
        assertEquals(dir.resolve("a.jsonl.gz") + ":" + cut, bad.get(0).where());
        assertEquals(dir.resolve("b.jsonl.gz") + ":1", bad.get(1).where());
        assertTrue(bad.stream().allMatch(x -> x.detail().startsWith("MALFORMED") && x.detail().contains("gzip")), bad.toString());

        BadSourceException e = assertThrows(BadSourceException.class, () -> read(dir.resolve("b.jsonl.gz")));
        assertTrue(e.getMessage().startsWith(dir.resolve("b.jsonl.gz") + ":1: MALFORMED"), e.getMessage());
    }

    @Test
    void corruptGzipFilesLeaveNoFileOpen() throws IOException {
        for (int i = 0; i < 40; i++) {
            write("fake-" + i + ".jsonl.gz", "not gzip " + i + "\n");
        }
        write("empty.jsonl.gz", "");
        long before = openFiles();
        SourceBatch batch = sources.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(41, batch.skipped().size(), batch.skipped().toString());
        assertTrue(openFiles() < before + 10, "each corrupt .gz left a file open: " + before + " -> " + openFiles());
    }

    /** File descriptors this JVM has open (Linux). */
    private static long openFiles() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aLineLongerThanAnyDocumentWithinTheLimitsIsNotReadButReportedTooLarge() throws IOException {
        DocumentLimits limits = new DocumentLimits(1000, 1000);
        long max = SourceFiles.maxJsonLineBytes(limits);
        Path file = dir.resolve("docs.jsonl");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write("{\"docId\":\"a\",\"text\":\"ok\"}\n{\"docId\":\"big\",\"text\":\"".getBytes(UTF_8));
            byte[] chunk = "x".repeat(1 << 16).getBytes(UTF_8);
            for (long written = 0; written <= max; written += chunk.length) {
                out.write(chunk);
            }
            out.write("\"}\n{\"docId\":\"c\",\"text\":\"also ok\"}".getBytes(UTF_8));
        }
        DocumentSources small = new DocumentSources(limits, DocumentPublisher.Format.AVRO);

        SourceBatch batch = small.read(List.of(file), Options.defaults().withOnBadInput(OnBadInput.SKIP));

        assertEquals(List.of("a", "c"), ids(batch), "the lines around it are read");
        assertEquals(1, batch.skipped().size());
        assertEquals(file + ":2", batch.skipped().get(0).where());
        // judged by its length alone: the line was never held in memory to be parsed
        assertTrue(batch.skipped().get(0).detail().startsWith("TOO_LARGE: line has "), batch.skipped().get(0).detail());
        BadSourceException e = assertThrows(BadSourceException.class, () -> small.read(List.of(file), Options.defaults()));
        assertEquals(Reason.TOO_LARGE, e.reason());
    }

    @Test
    void aSymbolicLinkInAFolderIsFollowed() throws IOException {
        Path target = Files.writeString(Files.createDirectories(dir.resolve("elsewhere")).resolve("real.txt"), "linked text");
        Path docs = Files.createDirectories(dir.resolve("docs"));
        write("docs/own.txt", "own text");
        Files.createSymbolicLink(docs.resolve("linked.txt"), target);
        Files.createSymbolicLink(docs.resolve("loop"), docs);   // a folder link back to its parent: left out

        assertEquals(List.of("linked", "own"), ids(read(docs)));
    }

    @Test
    void aFileReachedTwiceThroughLinksIsPublishedOnceUnderItsOwnPath() throws IOException {
        Path docs = Files.createDirectories(dir.resolve("docs"));
        write("docs/a.txt", "alpha text");
        write("docs/z-real.txt", "zulu text");
        write("docs/sub/inner.txt", "inner text");
        Files.createSymbolicLink(docs.resolve("alias.txt"), docs.resolve("a.txt"));      // after its target
        Files.createSymbolicLink(docs.resolve("b-link.txt"), docs.resolve("z-real.txt")); // before its target
        Files.createSymbolicLink(docs.resolve("sub-again"), docs.resolve("sub"));         // a linked folder
        Files.createSymbolicLink(docs.resolve("dangling.txt"), dir.resolve("nowhere.txt"));

        SourceBatch batch = read(docs);

        assertEquals(List.of("a", "sub/inner", "z-real"), ids(batch), "one document per file, under its own path");
        assertEquals(Map.of(SkipReason.DUPLICATE_FILE, 3, SkipReason.BROKEN_LINK, 1), batch.skippedByReason());
        Skipped twin = batch.skipped().stream().filter(k -> k.where().endsWith("/b-link.txt")).findFirst().orElseThrow();
        assertTrue(twin.detail().contains("the same file as " + docs.resolve("z-real.txt")), twin.detail());
        Skipped dangling = batch.skipped().stream().filter(k -> k.reason() == SkipReason.BROKEN_LINK).findFirst().orElseThrow();
        assertTrue(dangling.where().endsWith("/dangling.txt") && dangling.detail().contains(dir.resolve("nowhere.txt")
                + ", which does not exist"), dangling.toString());
    }

    @Test
    void belowAFolderThatIsItselfALinkEachFileStillKeepsItsOwnPath() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real"));
        write("real/z-real.txt", "zulu text");
        Files.createSymbolicLink(real.resolve("b-link.txt"), real.resolve("z-real.txt"));
        Files.createSymbolicLink(real.resolve("self.txt"), real.resolve("self.txt"));   // a loop of one
        Path docs = Files.createSymbolicLink(dir.resolve("docs"), real);

        SourceBatch viaLink = read(docs);

        assertEquals(List.of("z-real"), ids(viaLink), "the same id as through the real folder: " + viaLink.skipped());
        assertEquals(List.of("z-real"), ids(read(real)));
        Skipped loop = viaLink.skipped().stream().filter(k -> k.where().endsWith("/self.txt")).findFirst().orElseThrow();
        assertEquals(SkipReason.BROKEN_LINK, loop.reason());
        assertTrue(loop.detail().contains("that cannot be followed"), "not 'does not exist': " + loop.detail());
    }

    @Test
    void oversizedTextFileIsBadInput() throws IOException {
        write("huge.txt", "x".repeat(200));
        DocumentSources small = new DocumentSources(new DocumentLimits(100, 100), DocumentPublisher.Format.AVRO);

        BadSourceException e = assertThrows(BadSourceException.class, () -> small.read(List.of(dir), Options.defaults()));
        assertEquals(Reason.TOO_LARGE, e.reason());
    }

    @Test
    void missingPathFailsBeforeAnythingIsRead() {
        assertThrows(NoSuchFileException.class, () -> read(dir.resolve("nope")));
    }

    @Test
    void aPipeIsRefusedSayingToWriteItToAFileFirst() throws Exception {
        Path fifo = dir.resolve("docs.jsonl");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor(), "mkfifo (coreutils) is needed for this test");
        // a FIFO without a writer blocks whoever opens it: bounded, so reading it fails the test instead of hanging
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> assertThrows(IllegalArgumentException.class, () -> read(fifo)));
        assertTrue(e.getMessage().contains("not a regular file or folder") && e.getMessage().contains("write it to a file first"),
                e.getMessage());
    }

    /** Not read (a FIFO without a writer blocks its reader), but said: it was passed over without a word. */
    @Test
    void aPipeInAWalkedFolderIsSkippedAsUnsupportedAndSaid() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "a");
        Path fifo = dir.resolve("feed.jsonl");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor(), "mkfifo (coreutils) is needed for this test");

        SourceBatch batch = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> read(dir));

        assertEquals(List.of("a"), batch.documents().stream().map(DocumentDraft::docId).toList());
        Skipped skipped = batch.skipped().stream().filter(s -> s.where().endsWith("feed.jsonl")).findFirst()
                .orElseThrow(() -> new AssertionError("the pipe is not said: " + batch.skipped()));
        assertEquals(SkipReason.UNSUPPORTED_FILE, skipped.reason());
        assertTrue(skipped.detail().startsWith("not a regular file (a pipe"), skipped.detail());
    }

    /**
     * A name the JVM cannot decode (here Latin-1 bytes under a UTF-8 locale; under a POSIX locale any
     * name outside ASCII) reads with U+FFFD in it: its slug would depend on the locale ('caf' here,
     * 'cafe' where it decodes), so the same file would be two documents.
     */
    @Test
    void aTextFileWhoseNameTheJvmCannotDecodeIsBadInputNotAnIdOfTheLocale() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "a");
        Process touch = new ProcessBuilder("sh", "-c", "printf 'text' > \"$(printf 'caf\\351.md')\"")
                .directory(dir.toFile()).start();
        assertEquals(0, touch.waitFor(), "sh and printf are needed for this test");
        try (var names = Files.list(dir)) {
            assertTrue(names.anyMatch(p -> p.toString().indexOf('\uFFFD') >= 0), "this JVM decodes byte 0xE9 alone in a"
                    + " file name (sun.jnu.encoding=" + System.getProperty("sun.jnu.encoding") + "): run it with LANG=C.UTF-8");
        }

        BadSourceException e = assertThrows(BadSourceException.class, () -> read(dir));
        assertTrue(e.getMessage().contains("not valid in the file-name encoding of this JVM"), e.getMessage());

        SourceBatch skipping = sources.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(List.of("a"), skipping.documents().stream().map(DocumentDraft::docId).toList());
        assertEquals(Map.of(SkipReason.BAD_INPUT, 1), skipping.skippedByReason());
    }

    /**
     * A name holding U+FFFD itself (a tool that could not decode a name wrote the character in its
     * place) decodes to the file it names, in every UTF-8 locale: it is a document, not bad input.
     */
    @Test
    void aTextFileNamedWithTheReplacementCharacterItselfIsADocument() throws Exception {
        assertEquals("UTF-8", System.getProperty("sun.jnu.encoding"), "run it with LANG=C.UTF-8");
        Files.writeString(dir.resolve("caf\uFFFD.md"), "text");
        Files.createDirectories(dir.resolve("sub\uFFFD"));
        Files.writeString(dir.resolve("sub\uFFFD/notes.txt"), "notes");

        SourceBatch batch = read(dir);

        assertEquals(2, batch.documents().size(), batch.documents().toString());
        assertEquals(List.of(), batch.skipped());
        SourceBatch named = read(dir.resolve("caf\uFFFD.md"));
        assertEquals(1, named.documents().size(), "named as a file too");

        // beside it, a Latin-1 name decodes to the same string, which spells the other file
        Process touch = new ProcessBuilder("sh", "-c", "printf 'text' > \"$(printf 'caf\\351.md')\"")
                .directory(dir.toFile()).start();
        assertEquals(0, touch.waitFor(), "sh and printf are needed for this test");
        SourceBatch both = sources.read(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(2, both.documents().size(), both.documents().toString());
        assertEquals(1, both.skipped().size(), both.skipped().toString());
        assertTrue(both.skipped().get(0).detail().contains("not valid in the file-name encoding of this JVM"),
                "the Latin-1 name, not an id taken twice: " + both.skipped());
    }

    @Test
    void invalidRunTenantIsRejectedUpFront() {
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().withTenant("a:b"));
    }

    private SourceBatch read(Path path) throws IOException {
        return sources.read(List.of(path), Options.defaults());
    }

    private Path write(String relative, String content) throws IOException {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content);
    }

    static Path gzip(Path file, String content) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content.getBytes(UTF_8));
        }
        return file;
    }

    private static DocumentDraft only(SourceBatch batch) {
        assertEquals(1, batch.documents().size(), batch.toString());
        assertFalse(batch.documents().isEmpty());
        return batch.documents().get(0);
    }

    private static List<String> ids(SourceBatch batch) {
        return batch.documents().stream().map(DocumentDraft::docId).toList();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** sac ingest leaves out what the topic holds as it is, source included: one folder is one source, however named. */
    @Test
    void aDocumentsSourceIsItsFilesAbsolutePathHoweverTheFolderIsSpelled() throws Exception {
        Files.createDirectories(dir.resolve("docs/sub"));
        Files.writeString(dir.resolve("docs/sub/a.md"), "# A\n\nText.");
        Files.writeString(dir.resolve("docs/dev.jsonl"), """
                {"header": {"dataset": "X", "mrqa_split": "dev"}}
                {"context": "Ada wrote notes.", "qas": [{"qid": "1", "question": "Who?", "answers": ["Ada"]}]}
                """);
        Files.writeString(dir.resolve("docs/more.jsonl"), "{\"docId\": \"more\", \"text\": \"Bo wrote notes.\"}\n");
        Path relative = Path.of("").toAbsolutePath().relativize(dir.resolve("docs"));
        Path roundabout = dir.resolve("docs/sub/../../docs");
        List<List<String>> seen = new java.util.ArrayList<>();
        for (Path spelling : List.of(dir.resolve("docs"), relative, roundabout)) {
            seen.add(sources.read(List.of(spelling), DocumentSources.Options.defaults()).documents().stream()
                    .map(d -> d.docId() + " " + d.source()).sorted().toList());
        }
        assertEquals(seen.get(0), seen.get(1));
        assertEquals(seen.get(0), seen.get(2));
        assertTrue(seen.get(0).contains("sub/a " + dir.resolve("docs/sub/a.md").toAbsolutePath().normalize()), seen.get(0).toString());
        assertTrue(seen.get(0).stream().anyMatch(l -> l.endsWith(" " + dir.resolve("docs/dev.jsonl").toAbsolutePath().normalize()
                + ":2")), "an MRQA context's source is its file and line: " + seen.get(0));
        assertTrue(seen.get(0).contains("more " + dir.resolve("docs/more.jsonl").toAbsolutePath().normalize()),
                "a JSONL line naming no source takes its file's: " + seen.get(0));
    }
}
