package dev.sacrag.cli;

import dev.sacrag.ingest.DocIds;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.ingest.DocumentsTopic;
import dev.sacrag.schemas.DocumentRules;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@code sac delete}: publishes tombstones; the compressor drops the blobs, the query service the documents. */
@Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Delete documents: publish a tombstone (null value) per doc id to the documents topic.",
                "With --tenant T other than the default, ID names the document as 'sac ingest --tenant T' named it"
                        + " (T:ID; an ID that already starts with T: is taken as is, so ids from 'sac docs list' work)."
                        + " Ids a JSONL line or an application chose are keys as written: delete those without --tenant.",
                "A tombstone for an id the topic does not hold is harmless, and is not detected."})
final class DeleteCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "ID", description = "Doc ids to delete.")
    List<String> docIds;

    @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "default",
            description = "Tenant the ids were ingested for, as 'sac ingest --tenant' (default ${DEFAULT-VALUE}).")
    String tenant;

    @picocli.CommandLine.Mixin
    PublishOptions target;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
            description = "Give up waiting for the broker after this long, in all (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        List<String> keys = keys();
        Durations.requireTimeout(spec, timeout);
        Durations.requireAtMost(spec, "--timeout", timeout, Duration.ofHours(24));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long deadline = System.nanoTime() + timeout.toNanos();   // --timeout is in all: the check takes its share
        DocumentsTopic.check(target.bootstrapServers(), target.topic, 0, timeout)   // a missing topic named as such
                .forEach(w -> err.println("delete: warning: " + w));
        err.flush();
        try (DocumentPublisher publisher = DocumentPublisher.connect(target.bootstrapServers(),
                DocumentPublisher.Options.defaults().withTopic(target.topic).withDeliveryTimeout(timeout))) {
            List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
            for (String key : keys) {
                sent.add(publisher.delete(key));
                if (sent.get(sent.size() - 1).isCompletedExceptionally()) {
                    break;   // send() gave up waiting for the broker: every further one would wait as long
                }
            }
            for (int i = 0; i < sent.size(); i++) {
                RecordMetadata m = acknowledged(sent.get(i), keys.get(i), deadline);
                out.printf("deleted %s (tombstone at %s-%d@%d)%n", keys.get(i), m.topic(), m.partition(), m.offset());
                out.flush();
            }
        }
        return 0;
    }

    /** The ids as the topic keys them: scoped to --tenant as ingest scoped them. */
    List<String> keys() {
        if (!DocumentRules.isValidTenant(tenant)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--tenant '" + tenant + "' must be 1-64 characters of letters, digits, '.', '_' or '-'");
        }
        for (String id : docIds) {
            if (id.isBlank()) {   // a tombstone under an empty key deletes nothing and is dead-lettered as a bad record
                throw new CommandLine.ParameterException(spec.commandLine(), "a document id must not be empty or blank");
            }
        }
        // the id as typed and, when it differs, its NFC form: documents carry NFC ids now, but one
        // published decomposed before that rule is only reached by its own key
        return docIds.stream().flatMap(id -> java.util.stream.Stream.of(id, DocumentRules.canonicalDocId(id)))
                .map(id -> DocIds.scoped(tenant, id)).distinct().toList();
    }

    private RecordMetadata acknowledged(CompletableFuture<RecordMetadata> sent, String key, long deadline)
            throws InterruptedException {
        try {
            return sent.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw noAcknowledgement(key, e);
        } catch (ExecutionException e) {
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof org.apache.kafka.common.errors.TimeoutException) {   // no broker answered in time
                    throw noAcknowledgement(key, e.getCause());
                }
            }
            // the broker answered and refused it: authorization, a topic that does not take it, ...
            throw new IllegalStateException("deleting " + key + ": refused by " + target.bootstrapServers()
                    + " (topic " + target.topic + ")", e.getCause());
        }
    }

    private IllegalStateException noAcknowledgement(String key, Throwable cause) {
        return new IllegalStateException("deleting " + key + ": no acknowledgement from " + target.bootstrapServers()
                + " (topic " + target.topic + ") within --timeout " + timeout.toSeconds() + "s", cause);
    }
}
