package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.query.activation.ModelActivation;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Kafka and the pipeline's topics, for the commands that read and write them directly (warm, model activate). */
final class TopicOptions {

    @Mixin
    KafkaOption kafka;

    @Option(names = "--documents-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-" + CompressorTopics.DOCUMENTS + "}",
            description = "Documents topic, the source of truth [env SAC_DOCUMENTS_TOPIC, default ${DEFAULT-VALUE}].")
    String documents;

    @Option(names = "--catalog-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CATALOG_TOPIC:-" + CompressorTopics.CATALOG + "}",
            description = "Catalog topic [env SAC_CATALOG_TOPIC, default ${DEFAULT-VALUE}].")
    String catalog;

    @Option(names = "--dead-letter-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_DEAD_LETTER_TOPIC:-" + CompressorTopics.DEAD_LETTER + "}",
            description = "Dead-letter topic: documents there are never waited for [env SAC_DEAD_LETTER_TOPIC, default ${DEFAULT-VALUE}].")
    String deadLetter;

    @Option(names = "--recompress-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_RECOMPRESS_TOPIC:-" + CompressorTopics.RECOMPRESS + "}",
            description = "Recompress requests [env SAC_RECOMPRESS_TOPIC, default ${DEFAULT-VALUE}].")
    String recompress;

    @Option(names = "--control-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CONTROL_TOPIC:-" + ModelActivation.DEFAULT_TOPIC + "}",
            description = "Control topic naming the active model [env SAC_CONTROL_TOPIC, default ${DEFAULT-VALUE}].")
    String control;

    String bootstrapServers() {
        return kafka.bootstrapServers;
    }

    CompressorTopics compressorTopics() {
        return new CompressorTopics(documents, catalog, deadLetter, recompress);
    }
}
