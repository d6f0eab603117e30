package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.query.activation.ModelActivation;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Kafka and the pipeline's topics, for the commands that read and write them directly (warm, model
 * activate and retire, docs sweep). Each command takes the subclass whose --dead-letter-topic says
 * what the topic is to it: warm and activate leave a dead-lettered document out of what they wait
 * for; retire and sweep read no dead letter, and take the flag so that one set of topic flags serves
 * every command.
 */
abstract class TopicOptions {

    @Mixin
    KafkaOption kafka;

    @Option(names = "--documents-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-" + CompressorTopics.DOCUMENTS + "}",
            description = "Documents topic, the source of truth [env SAC_DOCUMENTS_TOPIC, default ${DEFAULT-VALUE}].")
    String documents;

    @Option(names = "--catalog-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CATALOG_TOPIC:-" + CompressorTopics.CATALOG + "}",
            description = "Catalog topic [env SAC_CATALOG_TOPIC, default ${DEFAULT-VALUE}].")
    String catalog;

    @Option(names = "--recompress-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_RECOMPRESS_TOPIC:-" + CompressorTopics.RECOMPRESS + "}",
            description = "Recompress requests [env SAC_RECOMPRESS_TOPIC, default ${DEFAULT-VALUE}].")
    String recompress;

    @Option(names = "--control-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CONTROL_TOPIC:-" + ModelActivation.DEFAULT_TOPIC + "}",
            description = "Control topic naming the active model [env SAC_CONTROL_TOPIC, default ${DEFAULT-VALUE}].")
    String control;

    String bootstrapServers() {
        return kafka.bootstrapServers;
    }

    /** For the commands that wait for documents to be compressed (warm, model activate). */
    static final class Waiting extends TopicOptions {
        @Option(names = "--dead-letter-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_DEAD_LETTER_TOPIC:-"
                + CompressorTopics.DEAD_LETTER + "}", description = "Dead-letter topic: documents there are never waited"
                + " for [env SAC_DEAD_LETTER_TOPIC, default ${DEFAULT-VALUE}].")
        String deadLetter;

        CompressorTopics compressorTopics() {
            return new CompressorTopics(documents, catalog, deadLetter, recompress);
        }
    }

    /** For the commands that wait for no document and read no dead letter (model retire, docs sweep). */
    static final class NotWaiting extends TopicOptions {
        @Option(names = "--dead-letter-topic", paramLabel = "TOPIC", description = "Not read by this command, which waits"
                + " for no document: taken, as by every command that reads the topics, so that one set of topic flags"
                + " serves them all.")
        String deadLetter;
    }
}
