package dev.sacrag.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeleteCommandTest {

    @Test
    void unreachableBrokerFailsWithinTheTimeoutNamingIt() {
        long start = System.nanoTime();
        SacCliTest.Run r = SacCliTest.run("delete", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5s", "readme", "guide");
        double seconds = (System.nanoTime() - start) / 1e9;

        assertNotEquals(0, r.code(), r.out());
        assertTrue(seconds < 20, "took " + seconds + " s: send() waited past --timeout 5s");
        assertTrue(r.err().contains("127.0.0.1:1") && r.err().contains("5s"), r.err());
        assertTrue(r.out().isEmpty(), "nothing was deleted: " + r.out());
    }

    @Test
    void tenantScopesIdsAsIngestDoesAndTheTopicFlagIsNamedAsElsewhere() {
        assertEquals(List.of("readme"), parse("readme").keys());
        assertEquals(List.of("acme:readme", "acme:guides/intro"), parse("--tenant", "acme", "readme", "guides/intro").keys());
        // an id pasted from 'sac docs list' already carries its tenant: not prefixed twice
        assertEquals(List.of("acme:readme", "acme:beta:x"), parse("--tenant", "acme", "acme:readme", "beta:x").keys());
        // an id typed decomposed: its NFC form (what documents carry now) and, for one published before, itself
        String decomposed = java.text.Normalizer.normalize("café", java.text.Normalizer.Form.NFD);
        String composed = java.text.Normalizer.normalize("café", java.text.Normalizer.Form.NFC);
        assertEquals(List.of(decomposed, composed), parse(decomposed).keys());
        assertEquals(List.of(composed), parse(composed).keys());
        assertEquals("docs.v2", parse("--documents-topic", "docs.v2", "readme").target.topic);
        assertEquals("docs.v1", parse("--topic", "docs.v1", "readme").target.topic);
        assertEquals("broker-a:9092,broker-b:9092", parse("--bootstrap-servers", "broker-a:9092,broker-b:9092", "readme").target.bootstrapServers());
    }

    @Test
    void invalidTenantOrTimeoutIsAUsageError() {
        SacCliTest.Run tenant = SacCliTest.run("delete", "--tenant", "a:b", "readme");
        assertEquals(2, tenant.code(), tenant.err());
        assertTrue(tenant.err().contains("--tenant 'a:b'"), tenant.err());
        SacCliTest.Run timeout = SacCliTest.run("delete", "--timeout", "0s", "readme");
        assertEquals(2, timeout.code(), timeout.err());
        assertTrue(timeout.err().contains("--timeout"), timeout.err());
        SacCliTest.Run empty = SacCliTest.run("delete", "--bootstrap-servers", "127.0.0.1:1", "");
        assertEquals(2, empty.code(), "an empty id is a usage error, before any broker is asked: " + empty.err());
        assertTrue(empty.err().contains("a document id must not be empty"), empty.err());
    }

    private static DeleteCommand parse(String... args) {
        DeleteCommand command = new DeleteCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }
}
