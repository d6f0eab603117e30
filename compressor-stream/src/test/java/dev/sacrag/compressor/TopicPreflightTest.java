package dev.sacrag.compressor;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which cleanup policies keep a document for good (the broker cases are in CompressorIntegrationTest). */
class TopicPreflightTest {

    private static Config config(String policy, String retentionMs, String retentionBytes) {
        return new Config(List.of(new ConfigEntry("cleanup.policy", policy), new ConfigEntry("retention.ms", retentionMs),
                new ConfigEntry("retention.bytes", retentionBytes)));
    }

    @Test
    void compactedTopicsPass() {
        assertDoesNotThrow(() -> TopicPreflight.checkCompacted("t", config("compact", "604800000", "-1")));
        assertDoesNotThrow(() -> TopicPreflight.checkCompacted("t", config("compact,delete", "-1", "-1")));
        assertDoesNotThrow(() -> TopicPreflight.checkCompacted("t", config("[compact, delete]", "-1", "-1")));
    }

    @Test
    void retentionThatDeletesDocumentsFails() {
        assertThrows(IllegalStateException.class, () -> TopicPreflight.checkCompacted("t", config("delete", "-1", "-1")));
        assertThrows(IllegalStateException.class,
                () -> TopicPreflight.checkCompacted("t", config("compact,delete", "86400000", "-1")));
        IllegalStateException bySize = assertThrows(IllegalStateException.class,
                () -> TopicPreflight.checkCompacted("t", config("compact, delete", "-1", "1073741824")));
        assertTrue(bySize.getMessage().contains("retention.bytes=1073741824"), bySize.getMessage());
    }

    @Test
    void aConfigTheBrokerDidNotReportCountsAsKafkasDefault() {
        assertThrows(IllegalStateException.class, () -> TopicPreflight.checkCompacted("t", new Config(List.of())));
    }

    @Test
    void aStoreChangelogCreatedUnderLowerDocumentLimitsIsRefusedWithTheFix() {
        Config created = new Config(List.of(new org.apache.kafka.clients.admin.ConfigEntry("max.message.bytes", "17825792")));
        assertDoesNotThrow(() -> TopicPreflight.checkChangelogFits("app-latest-documents-changelog", created, 17825792));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TopicPreflight.checkChangelogFits("app-latest-documents-changelog", created, 42991616));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().endsWith("--entity-name app-latest-documents-changelog"
                + " --add-config max.message.bytes=42991616"), e.getMessage());
    }
}
