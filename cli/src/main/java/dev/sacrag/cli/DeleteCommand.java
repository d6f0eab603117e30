package dev.sacrag.cli;

import dev.sacrag.ingest.DocumentPublisher;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@code sac delete}: publishes tombstones; the compressor drops the blobs, the query service the documents. */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Delete documents: publish a tombstone (null value) per doc id to the documents topic.")
final class DeleteCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "ID", description = "Doc ids to delete.")
    List<String> docIds;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...",
            defaultValue = "${env:SAC_KAFKA_BOOTSTRAP:-localhost:9092}",
            description = "Kafka brokers (env SAC_KAFKA_BOOTSTRAP, default ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-sac.documents}",
            description = "Documents topic (env SAC_DOCUMENTS_TOPIC, default ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
            description = "Give up waiting for the broker after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        try (DocumentPublisher publisher = DocumentPublisher.connect(bootstrapServers,
                DocumentPublisher.Options.defaults().withTopic(topic))) {
            List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
            for (String id : docIds) {
                sent.add(publisher.delete(id));
            }
            for (int i = 0; i < docIds.size(); i++) {
                RecordMetadata m = sent.get(i).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                System.out.printf("deleted %s (tombstone at %s-%d@%d)%n", docIds.get(i), m.topic(), m.partition(), m.offset());
            }
        }
        return 0;
    }
}
