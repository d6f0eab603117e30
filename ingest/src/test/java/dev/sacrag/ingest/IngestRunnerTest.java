package dev.sacrag.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.ingest.DocumentSources.OnBadInput;
import dev.sacrag.ingest.DocumentSources.Options;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestRunnerTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();

    @Test
    void publishesEveryDocumentAndSummarisesSkipsBytesAndProgress() throws IOException {
        Random random = new Random(7);
        for (int i = 0; i < 25; i++) {
            Files.writeString(dir.resolve("doc-" + i + ".txt"), "word ".repeat(1 + random.nextInt(50)));
        }
        Files.writeString(dir.resolve("empty.md"), "");
        MockProducer<byte[], byte[]> producer = DocumentPublisherTest.producer(true);

        IngestRunner runner = runner(producer, false);
        IngestSummary summary = runner.run(List.of(dir), Options.defaults());

        assertEquals(25, summary.published());
        assertEquals("25 of 25 documents acknowledged", runner.standing(), "what a run stopped part way would say");
        assertEquals(25, producer.history().size());
        assertEquals(Map.of(SkipReason.EMPTY_FILE, 1), summary.skippedByReason());
        assertTrue(summary.bytes() > 25 * 10, "bytes " + summary.bytes());
        assertTrue(summary.failures().isEmpty());
        String progress = console.toString(StandardCharsets.UTF_8);
        List<String> lines = progress.lines().toList();
        assertTrue(lines.get(0).contains("] 0/25 docs"), "the start: " + progress);
        assertTrue(lines.get(lines.size() - 1).contains("] 25/25 docs"), "the end: " + progress);
        assertTrue(lines.size() <= 11, "a line per tenth at most: " + progress);
        assertTrue(summary.line().startsWith("ingest: published 25 documents"), summary.line());
        assertTrue(summary.line().contains("skipped 1 (EMPTY_FILE 1)"), summary.line());
    }

    @Test
    void terminalProgressRedrawsOneLine() throws IOException {
        Files.writeString(dir.resolve("a.txt"), "a");
        Files.writeString(dir.resolve("b.txt"), "b");

        runner(DocumentPublisherTest.producer(true), true).run(List.of(dir), Options.defaults());

        String progress = console.toString(StandardCharsets.UTF_8);
        assertTrue(progress.startsWith("\r["), progress);
        assertTrue(progress.substring(progress.lastIndexOf('\r')).contains("] 2/2 docs"), progress);
        assertEquals(1, progress.chars().filter(c -> c == '\n').count(), "redraws stay on one line, ended once");
        assertTrue(progress.endsWith("\n"), progress);
    }

    @Test
    void rejectedDocumentsAreCountedWithTheirDocIdsNotThrown() throws IOException {
        Files.writeString(dir.resolve("a.txt"), "a");
        Files.writeString(dir.resolve("b.txt"), "b");
        MockProducer<byte[], byte[]> producer = DocumentPublisherTest.producer(true);
        // the broker's refusal, as the client reports it
        producer.sendException = new RecordTooLargeException(
                "The request included a message larger than the max message size the server will accept.");

        IngestSummary summary = runner(producer, false).run(List.of(dir), Options.defaults());

        assertEquals(0, summary.published());
        assertEquals(2, summary.failures().size());
        assertTrue(summary.failures().get(0).startsWith("a: publishing document a"), summary.failures().get(0));
        assertTrue(summary.failures().get(1).contains("server will accept. (the topic sac.documents takes smaller"
                + " records: raise its max.message.bytes"), summary.failures().get(1));
        assertTrue(summary.hasFailures());

        // the producer's own limit (sized from --max-doc-bytes): the topic is not to blame
        MockProducer<byte[], byte[]> own = DocumentPublisherTest.producer(true);
        own.sendException = new RecordTooLargeException("The message is 9000000 bytes when serialized which is larger"
                + " than 8454144, which is the value of the max.request.size configuration.");
        IngestSummary ownLimit = runner(own, false).run(List.of(dir), Options.defaults());
        assertTrue(ownLimit.failures().get(0).endsWith("max.request.size configuration."), ownLimit.failures().get(0));
    }

    @Test
    void afterABrokerTimeoutTheRemainingDocumentsAreNotSent() throws IOException {
        for (String name : List.of("a", "b", "c")) {
            Files.writeString(dir.resolve(name + ".txt"), name);
        }
        MockProducer<byte[], byte[]> producer = DocumentPublisherTest.producer(true);
        producer.sendException = new TimeoutException("Topic sac.documents not present in metadata after 60000 ms.");

        IngestSummary summary = runner(producer, false).run(List.of(dir), Options.defaults());

        // the first send timed out; the rest are not read again from disk, only counted
        assertEquals(List.of("2 document(s) not sent: an earlier send timed out (is the broker reachable?)"),
                summary.failures().subList(0, 1), summary.failures().toString());
        assertTrue(summary.failures().get(1).startsWith("a: ") && summary.failures().get(1).endsWith("after 60000 ms."),
                summary.failures().get(1));
        assertEquals(2, summary.failures().size());
        assertTrue(summary.line().contains("failed 3"), "every document counts: " + summary.line());
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("3/3 docs"));
    }

    /** A file emptied or deleted between the scan and the sending is a failure of the run, not a silent gap. */
    @Test
    void aFileThatChangedBetweenTheScanAndTheSendingIsAFailure() throws IOException {
        for (String name : List.of("a", "b", "c")) {
            Files.writeString(dir.resolve(name + ".txt"), name + " text");
        }
        MockProducer<byte[], byte[]> producer = DocumentPublisherTest.producer(true);
        DocumentSources.Scan scan = DocumentSources.withDefaults().scan(List.of(dir), Options.defaults());
        assertEquals(3, scan.count());
        Files.writeString(dir.resolve("b.txt"), "   ");   // emptied meanwhile
        Files.delete(dir.resolve("c.txt"));                // and gone

        IngestSummary summary = runner(producer, false).publish(scan, System.nanoTime());

        assertEquals(1, summary.published(), summary.failures().toString());
        assertEquals(2, summary.failures().size(), summary.failures().toString());
        assertTrue(summary.line().contains("failed 2"), summary.line());
        assertTrue(summary.failures().stream().anyMatch(f -> f.startsWith(dir.resolve("b.txt") + ": changed while ingest ran")),
                summary.failures().toString());
        assertTrue(summary.failures().stream().anyMatch(f -> f.startsWith(dir.resolve("c.txt") + ": changed while ingest ran")
                && f.contains("UNREADABLE")), summary.failures().toString());
    }

    @Test
    void aDeliveryTimeoutReportedByTheCallbackFailsEachDocumentItHeld() throws IOException {
        for (String name : List.of("a", "b", "c")) {
            Files.writeString(dir.resolve(name + ".txt"), name);
        }
        // send() accepted all three; the broker never acknowledged them, so the producer's
        // callback fails each when delivery.timeout.ms has passed (here: when the run flushes)
        MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public synchronized void flush() {
                while (errorNext(new TimeoutException(
                        "Expiring 1 record(s) for sac.documents-0:120000 ms has passed since batch creation"))) {
                    // the next pending send
                }
            }
        };

        IngestSummary summary = runner(producer, false).run(List.of(dir), Options.defaults());

        assertEquals(0, summary.published());
        assertEquals(3, summary.failures().size(), "every document the expired batch held, none dropped: " + summary.failures());
        for (int i = 0; i < 3; i++) {
            String line = summary.failures().get(i);
            assertTrue(line.startsWith(List.of("a", "b", "c").get(i) + ": publishing document "), line);
            assertTrue(line.endsWith("has passed since batch creation"), line);
        }
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("3/3 docs"));
    }

    @Test
    void badInputUnderFailPublishesNothing() throws IOException {
        Files.writeString(dir.resolve("a.jsonl"), "{\"docId\":\"a\",\"text\":\"ok\"}\n{broken\n");
        MockProducer<byte[], byte[]> producer = DocumentPublisherTest.producer(true);

        BadSourceException e = assertThrows(BadSourceException.class,
                () -> runner(producer, false).run(List.of(dir), Options.defaults()));

        assertTrue(e.getMessage().contains("a.jsonl:2"), e.getMessage());
        assertTrue(producer.history().isEmpty());
    }

    @Test
    void docIdGivenTwiceIsBadInputSoUnderFailNothingIsPublished() throws IOException {
        Files.writeString(dir.resolve("readme.md"), "# Readme\ntext");
        Files.writeString(dir.resolve("more.jsonl"), "{\"docId\":\"readme\",\"text\":\"a\"}\n{\"docId\":\"readme\",\"text\":\"b\"}\n");
        MockProducer<byte[], byte[]> producer = DocumentPublisherTest.producer(true);

        BadSourceException e = assertThrows(BadSourceException.class,
                () -> runner(producer, false).run(List.of(dir), Options.defaults()));
        assertTrue(e.getMessage().contains("more.jsonl:2") && e.getMessage().contains("more.jsonl:1"), e.getMessage());
        assertTrue(producer.history().isEmpty());

        IngestSummary skipping = runner(producer, false).run(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        assertEquals(1, skipping.published(), "one record per doc id, not three with the last winning");
        assertEquals(Map.of(SkipReason.BAD_INPUT, 2), skipping.skippedByReason());
    }

    @Test
    void mrqaRunReturnsQuestionsForTheCaller() throws IOException {
        Files.writeString(dir.resolve("dev.jsonl"), """
                {"header": {"dataset": "X", "mrqa_split": "dev"}}
                {"context": "Ada wrote notes.", "qas": [{"qid": "1", "question": "Who wrote notes?", "answers": ["Ada"]}]}
                """);

        IngestSummary summary = runner(DocumentPublisherTest.producer(true), false)
                .run(List.of(dir), Options.defaults().withOnBadInput(OnBadInput.SKIP));

        assertEquals(1, summary.published());
        assertEquals(1, summary.questions().size());
        assertTrue(summary.line().endsWith("; 1 questions"), summary.line());
    }

    @Test
    void aSecondRunSendsOnlyWhatChangedAndCountsTheRestUnchanged() throws Exception {
        for (int i = 0; i < 5; i++) {
            Files.writeString(dir.resolve("doc-" + i + ".md"), "# Doc " + i + "\n\nThe body of document " + i + ".");
        }
        PublishedDocuments topic = publishedAndCompressed();
        assertEquals(5, topic.documents());

        Files.writeString(dir.resolve("doc-1.md"), "# Doc 1\n\nThe body of document 1, amended.");
        Files.writeString(dir.resolve("doc-2.md"), "# Doc two\n\nThe body of document 2.");   // a new title only
        MockProducer<byte[], byte[]> second = DocumentPublisherTest.producer(true);
        IngestRunner runner = runner(second, false);
        IngestSummary summary = runner.publish(DocumentSources.withDefaults().scan(List.of(dir), Options.defaults()),
                System.nanoTime(), topic);

        assertEquals(List.of("doc-1", "doc-2"), second.history().stream()
                .map(r -> new String(r.key(), StandardCharsets.UTF_8)).sorted().toList());
        assertEquals(2, summary.published());
        assertEquals(3, summary.unchanged());
        assertEquals(0, summary.failedDocuments(), "an unchanged document is not a failed one");
        assertTrue(summary.line().contains(" docs/s); 3 unchanged (on the topic as they are: not sent); skipped 0;"),
                summary.line());
        assertEquals("2 of 5 documents acknowledged, 3 unchanged", runner.standing());
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("] 5/5 docs, 3 unchanged  "),
                "unchanged ones count as done, and are said so: " + console);
    }

    /**
     * A JSONL line naming a version below the topic's, or the topic's with other text, would be
     * ignored by the compressors and the index, and kept by compaction as its key's last record:
     * it is not sent, and the run fails naming it, where it was counted published.
     */
    @Test
    void aVersionTheTopicsReadersWouldIgnoreIsNotSentAndFailsTheRun() throws Exception {
        Files.writeString(dir.resolve("docs.jsonl"), """
                {"docId": "a", "version": 5, "text": "Ada wrote notes."}
                {"docId": "b", "version": 5, "text": "Bo wrote notes."}
                {"docId": "c", "version": 5, "text": "Cy wrote notes."}
                """);
        PublishedDocuments topic = publishedAndCompressed();
        Files.writeString(dir.resolve("docs.jsonl"), """
                {"docId": "a", "version": 4, "text": "Ada wrote notes, amended."}
                {"docId": "b", "version": 5, "text": "Bo wrote notes, amended."}
                {"docId": "c", "version": 6, "text": "Cy wrote notes, amended."}
                """);
        MockProducer<byte[], byte[]> second = DocumentPublisherTest.producer(true);
        IngestRunner runner = runner(second, false);
        IngestSummary summary = runner.publish(DocumentSources.withDefaults().scan(List.of(dir), Options.defaults()),
                System.nanoTime(), topic);

        assertEquals(List.of("c"), second.history().stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList());
        assertEquals(1, summary.published());
        assertEquals(2, summary.failures().size(), summary.failures().toString());
        assertTrue(summary.failures().get(0).startsWith("a: v4 is older than the topic's v5"), summary.failures().get(0));
        assertTrue(summary.failures().get(1).startsWith("b: v5 is on the topic with other text"), summary.failures().get(1));
        assertTrue(summary.line().contains("failed 2"), summary.line());
        assertEquals("1 of 3 documents acknowledged, 2 failed", runner.standing());
        assertTrue(console.toString(StandardCharsets.UTF_8).contains("] 3/3 docs"), console.toString(StandardCharsets.UTF_8));
    }

    /**
     * The topic's version ahead of this host's clock (a producer numbering its own versions, another
     * host's clock): a draft naming none is stamped above it, not at the time, which every reader would
     * ignore as older while the run counted it published. The highest version has no successor: said.
     */
    @Test
    void aDraftWithoutAVersionIsStampedAboveATopicVersionAheadOfTheClock() throws Exception {
        long ahead = System.currentTimeMillis() + java.util.concurrent.TimeUnit.DAYS.toMillis(3650);
        Files.writeString(dir.resolve("docs.jsonl"), """
                {"docId": "a", "version": %d, "text": "Ada wrote notes."}
                {"docId": "b", "version": %d, "text": "Bo wrote notes."}
                """.formatted(ahead, Long.MAX_VALUE));
        PublishedDocuments topic = publishedAndCompressed();
        Files.writeString(dir.resolve("docs.jsonl"), """
                {"docId": "a", "text": "Ada wrote notes, amended."}
                {"docId": "b", "text": "Bo wrote notes, amended."}
                """);
        MockProducer<byte[], byte[]> second = DocumentPublisherTest.producer(true);
        IngestSummary summary = runner(second, false).publish(DocumentSources.withDefaults().scan(List.of(dir),
                Options.defaults()), System.nanoTime(), topic);

        assertEquals(1, second.history().size(), second.history().toString());
        var sent = dev.sacrag.schemas.DocumentCodec.withDefaults().decode(second.history().get(0).value(), null);
        assertEquals("a", sent.getDocId());
        assertEquals(ahead + 1, sent.getVersion(), "above the topic's, not the clock's");
        assertEquals(List.of("b: the topic's v" + Long.MAX_VALUE + " is the highest version a document can have, so no"
                + " version can follow it: delete the document ('sac delete'), then publish it again"), summary.failures());
    }

    /** Unchanged documents are not sent: a rate of them is no rate of publishing, which the summary's is. */
    @Test
    void theProgressRateLeavesUnchangedDocumentsOut() throws Exception {
        for (int i = 0; i < 5; i++) {
            Files.writeString(dir.resolve("doc-" + i + ".md"), "# Doc " + i + "\n\nThe body of document " + i + ".");
        }
        PublishedDocuments topic = publishedAndCompressed();
        console.reset();
        IngestSummary summary = runner(DocumentPublisherTest.producer(true), false).publish(
                DocumentSources.withDefaults().scan(List.of(dir), Options.defaults()), System.nanoTime(), topic);

        assertEquals(5, summary.unchanged());
        List<String> lines = console.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals("[##############################] 5/5 docs, 5 unchanged  0.0 docs/s", lines.get(lines.size() - 1),
                "none sent: a rate of the unchanged is none of publishing: " + lines);
        assertTrue(summary.line().contains(" (0.0 docs/s); 5 unchanged"), summary.line());
    }

    /** What a run over {@link #dir} sends, as the topics say it once a compressor took every document. */
    private PublishedDocuments publishedAndCompressed() throws Exception {
        MockProducer<byte[], byte[]> first = DocumentPublisherTest.producer(true);
        runner(first, false).run(List.of(dir), Options.defaults());
        PublishedDocuments topic = new PublishedDocuments(dev.sacrag.schemas.DocumentCodec.withDefaults(), id -> true);
        for (var r : first.history()) {
            topic.accept(r.key(), r.value(), null, r.timestamp() == null ? 0 : r.timestamp());
            var event = dev.sacrag.schemas.DocumentCodec.withDefaults().decode(r.value(), null);   // and a compressor took it
            topic.acceptCatalog(dev.sacrag.schemas.CatalogKey.of(event.getDocId(), "abc123def456").getBytes(StandardCharsets.UTF_8),
                    PublishedDocumentsTest.catalogValue(event.getDocId(), event.getVersion(), event.getText()));
        }
        return topic;
    }

    private IngestRunner runner(MockProducer<byte[], byte[]> producer, boolean redraw) {
        DocumentPublisher publisher = new DocumentPublisher(producer, DocumentPublisher.Options.defaults(), Clock.systemUTC());
        return new IngestRunner(DocumentSources.withDefaults(), publisher, new PrintStream(console, true, StandardCharsets.UTF_8), redraw);
    }
}
