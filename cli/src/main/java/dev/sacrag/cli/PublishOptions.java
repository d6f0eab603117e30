package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorTopics;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where {@code sac ingest} and {@code sac delete} publish: the brokers and the documents topic. */
final class PublishOptions {

    @Mixin
    KafkaOption kafka;

    @Option(names = {"--documents-topic", "--topic"}, paramLabel = "TOPIC",
            defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-" + CompressorTopics.DOCUMENTS + "}",
            description = "Documents topic, as every other command names it; --topic is the older spelling"
                    + " [env SAC_DOCUMENTS_TOPIC, default ${DEFAULT-VALUE}].")
    String topic;

    String bootstrapServers() {
        return kafka.bootstrapServers;
    }
}
