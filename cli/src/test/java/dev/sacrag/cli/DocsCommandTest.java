package dev.sacrag.cli;

import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sac docs} without a broker: what it says of what it read (the reads are PipelineEndToEndTest's);
 * and sweep's note of the blobs Redis lost, against an in-process broker and redis-server.
 */
class DocsCommandTest {

    @Test
    void anUnknownModelIdIsNamedWithTheIdsTheDeadLettersAndTheCatalogName() {
        assertEquals("--model ffffffffffff: no dead letter in sac.documents.dlq and no catalog entry in sac.anchor-caches"
                        + " names this model id (mistyped?); the model ids they name: 0123456789ab, abc123def456",
                DocsCommand.Refused.unknownModel("ffffffffffff", Set.of("abc123def456"), "sac.documents.dlq",
                        Optional.of(Set.of("abc123def456", "0123456789ab")), "sac.anchor-caches"));
        assertEquals("--model ffffffffffff: no dead letter in sac.documents.dlq and no catalog entry in no.catalog names"
                        + " this model id (mistyped?); the model ids they name: none (the catalog topic no.catalog does not"
                        + " exist: name the one in use with --catalog-topic)",
                DocsCommand.Refused.unknownModel("ffffffffffff", Set.of(), "sac.documents.dlq", Optional.empty(),
                        "no.catalog"));
    }

    @Test
    void listRefusesAModelIdNoCatalogEntryNamesAsAUsageErrorNamingTheIdsItHolds() {
        Catalog catalog = catalog(entry("t1", "d1", "abc123def456"), entry("t1", "d2", "0123456789ab"));
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> list("--model", "ffffffffffff", "--catalog-topic", "sac.anchor-caches").listed(catalog));
        assertEquals("--model ffffffffffff: no catalog entry in sac.anchor-caches names this model id (mistyped?); the"
                + " model ids it names: 0123456789ab, abc123def456", e.getMessage());
        e = assertThrows(CommandLine.ParameterException.class,
                () -> list("--model", "ffffffffffff", "--catalog-topic", "sac.anchor-caches").listed(new Catalog()));
        assertEquals("--model ffffffffffff: no catalog entry in sac.anchor-caches names this model id (mistyped?); the"
                + " model ids it names: none", e.getMessage());
    }

    @Test
    void listTakesAKnownModelIdWithoutEntriesOfTheTenantAsNone() {
        Catalog catalog = catalog(entry("t1", "d2", "abc123def456"), entry("t1", "d1", "abc123def456"),
                entry("t1", "d1", "0123456789ab"));
        assertEquals(List.of("d1", "d2"), list("--model", "abc123def456").listed(catalog).stream()
                .map(CatalogEntry::docId).toList());
        assertEquals(List.of(), list("--model", "abc123def456", "--tenant", "t2").listed(catalog),
                "the model is known: no entry of this tenant is an answer, not a mistyped id");
    }

    @Test
    void listNotesATenantNoCatalogEntryNames() {
        Catalog catalog = catalog(entry("t1", "d1", "abc123def456"), entry("t3", "d2", "abc123def456"));
        assertEquals(Optional.of("sac docs list: note: no catalog entry in sac.anchor-caches names tenant 't2' (mistyped, or"
                + " none of its documents compressed yet); the tenants it names: t1, t3"),
                list("--tenant", "t2", "--catalog-topic", "sac.anchor-caches").unknownTenant(catalog));
        assertEquals(Optional.empty(), list("--tenant", "t3").unknownTenant(catalog));
        assertEquals(Optional.empty(), list().unknownTenant(catalog));
    }

    private static DocsCommand.ListDocs list(String... args) {
        DocsCommand.ListDocs list = new DocsCommand.ListDocs();
        new CommandLine(list).parseArgs(args);
        return list;
    }

    private static Catalog catalog(CatalogEntry... entries) {
        Catalog catalog = new Catalog();
        for (CatalogEntry e : entries) {
            catalog.apply(e.tenant() + "/" + e.docId() + "/" + e.modelId(), Optional.of(e));
        }
        return catalog;
    }

    private static CatalogEntry entry(String tenant, String docId, String modelId) {
        return new CatalogEntry(tenant, docId, 1, modelId, 4, 100, 25, 1, "sac:" + tenant + ":" + modelId + ":" + docId
                + ":1", 1000, "f16", 0, Instant.parse("2026-01-01T00:00:00Z"), 10);
    }

    /**
     * After a Redis restart the catalog still names every blob: the sweep has just scanned them all,
     * so it says how many are gone and what rebuilds them, where it said nothing.
     */
    @Test
    void sweepNotesTheCatalogEntriesOfLiveDocumentsWhoseBlobRedisDoesNotHold() throws Exception {
        String model = "3f9a0c1d2e4b";
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start();
             dev.sacrag.stack.RedisServer redis = dev.sacrag.stack.RedisServer.launch()) {
            kafka.createTopics(dev.sacrag.stack.TopicSpec.compacted("t.documents"),
                    dev.sacrag.stack.TopicSpec.compacted("t.catalog"));
            for (String doc : List.of("a", "b", "c")) {
                TopicRecords.document(kafka.bootstrapServers(), "t.documents", "acme", doc, 1);
                TopicRecords.catalogEntry(kafka.bootstrapServers(), "t.catalog", "acme", doc, 1, model);
            }
            redis.call("SET", dev.sacrag.kvstore.RedisKeys.blobKey("acme", model, "a", 1), "a's blob");
            List<String> sweep = List.of("docs", "sweep", "--bootstrap-servers", kafka.bootstrapServers(),
                    "--documents-topic", "t.documents", "--catalog-topic", "t.catalog", "--redis", redis.url(),
                    "--timeout", "30s");
            for (List<String> args : List.of(sweep, java.util.stream.Stream.concat(sweep.stream(),
                    java.util.stream.Stream.of("--dry-run")).toList())) {
                SacCliTest.Run r = SacCliTest.run(args.toArray(String[]::new));
                assertEquals(0, r.code(), r.out() + r.err());
                assertTrue(r.out().contains("scanned 1 blob keys: 1 live"), r.out());
                assertTrue(r.err().contains("docs sweep: note: 2 catalog entries of live documents name a blob Redis"
                        + " does not hold (2 of model " + model + ")") && r.err().contains("'sac warm --rebuild"
                        + " --model-id " + model + "' compresses them again"), String.join(" ", args) + ": " + r.err());
            }
        }
    }

    /** 0s bounded the broker's first answer too: "no broker at ... answered within 0s", where one was running. */
    @Test
    void aTimeoutUnderASecondIsAUsageError() {
        for (String command : List.of("list", "refused", "sweep")) {
            SacCliTest.Run r = SacCliTest.run("docs", command, "--bootstrap-servers", "127.0.0.1:1", "--timeout", "0s");
            assertEquals(2, r.code(), command + ": " + r.err());
            assertTrue(r.err().contains("--timeout must be at least 1s, got 0s"), command + ": " + r.err());
        }
    }
}
