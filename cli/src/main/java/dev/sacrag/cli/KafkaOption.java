package dev.sacrag.cli;

import picocli.CommandLine.Option;

/** {@code --bootstrap-servers}: the Kafka brokers, for every command that reads or writes the topics itself. */
final class KafkaOption {

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", defaultValue = "${env:SAC_KAFKA_BOOTSTRAP:-localhost:9092}",
            description = "Kafka brokers [env SAC_KAFKA_BOOTSTRAP, default ${DEFAULT-VALUE}].")
    String bootstrapServers;
}
