package dev.sacrag.cli;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code sac docs} without a broker: what it says of what it read (the reads are PipelineEndToEndTest's). */
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
}
