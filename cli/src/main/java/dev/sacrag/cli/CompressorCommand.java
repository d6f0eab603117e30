package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorApp;
import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.compressor.CompressorConfig.Flags;
import dev.sacrag.compressor.CompressorTopics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;

/**
 * {@code sac compressor}: the Kafka Streams app that compresses every document on the documents
 * topic into an anchor-KV blob in Redis and a catalog record. Each option has an environment
 * variable; a flag wins. Validation happens once, in {@link CompressorConfig}, and names the flag.
 */
@Command(name = "compressor", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compress documents from Kafka into SAC anchor KV in Redis (Kafka Streams, exactly-once).",
                "Reads the documents and recompress topics; writes blobs to Redis, catalog records, and bad input to the"
                        + " dead-letter topic. Runs until interrupted; more instances with the same application id share"
                        + " the partitions. Every option can also be set with the environment variable shown; a flag wins."})
final class CompressorCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = Flags.BOOTSTRAP_SERVERS, paramLabel = "HOST:PORT[,...]", defaultValue = "${env:SAC_KAFKA_BOOTSTRAP:-localhost:9092}",
            description = "Kafka brokers [env SAC_KAFKA_BOOTSTRAP, default ${DEFAULT-VALUE}].")
    String bootstrapServers;

    @picocli.CommandLine.Mixin
    RedisOption redis;

    @Option(names = Flags.APPLICATION_ID, paramLabel = "ID", defaultValue = "${env:SAC_COMPRESSOR_APP_ID:-sac-compressor}",
            description = "Kafka Streams application id: consumer group and internal topic prefix; instances with the same id"
                    + " share the work [env SAC_COMPRESSOR_APP_ID, default ${DEFAULT-VALUE}].")
    String applicationId;

    @Option(names = Flags.MODEL, paramLabel = "DIR", defaultValue = "${env:SAC_MODEL:-" + RepoPaths.DEMO_MODEL + "}",
            description = "Model package (base/ + adapters/sac/) or Hugging Face model folder [env SAC_MODEL, default ${DEFAULT-VALUE}].")
    Path model;

    @Option(names = Flags.ADAPTER, paramLabel = "DIR", defaultValue = "${env:SAC_ADAPTER}",
            description = "SAC adapter folder [env SAC_ADAPTER, default: the package's adapters/sac]. An adapter of"
                    + " variant sac-names (sac train sac --variant sac-names) keeps every token of a capitalised word as an"
                    + " anchor too: names come through, at fewer context tokens per anchor than the ratio; its blob and"
                    + " token limits are sized for one anchor per token, the worst case.")
    Path adapter;

    @Option(names = Flags.RATIO, paramLabel = "R", defaultValue = "${env:SAC_RATIO}",
            description = "Compression ratio, one of the adapter's [env SAC_RATIO, default: the adapter's smallest].")
    Integer ratio;

    @Option(names = Flags.DOCUMENTS_TOPIC, paramLabel = "TOPIC", defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-" + CompressorTopics.DOCUMENTS + "}",
            description = "Documents to compress, key = docId, compacted [env SAC_DOCUMENTS_TOPIC, default ${DEFAULT-VALUE}].")
    String documentsTopic;

    @Option(names = Flags.CATALOG_TOPIC, paramLabel = "TOPIC", defaultValue = "${env:SAC_CATALOG_TOPIC:-" + CompressorTopics.CATALOG + "}",
            description = "Catalog of compressed documents, key = docId|modelId, compacted [env SAC_CATALOG_TOPIC, default ${DEFAULT-VALUE}].")
    String catalogTopic;

    @Option(names = Flags.DEAD_LETTER_TOPIC, paramLabel = "TOPIC", defaultValue = "${env:SAC_DEAD_LETTER_TOPIC:-" + CompressorTopics.DEAD_LETTER + "}",
            description = "Bad input with the reason in sac.error.* headers [env SAC_DEAD_LETTER_TOPIC, default ${DEFAULT-VALUE}].")
    String deadLetterTopic;

    @Option(names = Flags.RECOMPRESS_TOPIC, paramLabel = "TOPIC", defaultValue = "${env:SAC_RECOMPRESS_TOPIC:-" + CompressorTopics.RECOMPRESS + "}",
            description = "Requests to rebuild missing blobs, key = docId; as many partitions as the documents topic"
                    + " [env SAC_RECOMPRESS_TOPIC, default ${DEFAULT-VALUE}].")
    String recompressTopic;

    @Option(names = Flags.STATE_DIR, paramLabel = "DIR", defaultValue = "${env:SAC_COMPRESSOR_STATE_DIR:-" + RepoPaths.STATE_DIR + "}",
            description = "Kafka Streams state (the stores; restored from changelogs if lost) [env SAC_COMPRESSOR_STATE_DIR,"
                    + " default ${DEFAULT-VALUE}].")
    Path stateDir;

    @Option(names = Flags.METRICS_PORT, paramLabel = "PORT", defaultValue = "${env:SAC_COMPRESSOR_METRICS_PORT:-9401}",
            converter = MetricsPort.class,
            description = "Port of http://HOST:PORT/metrics (Prometheus) and /health, /health/live; 0 = any free port,"
                    + " 'off' = none of them, as the query service's [env SAC_COMPRESSOR_METRICS_PORT, default ${DEFAULT-VALUE}].")
    OptionalInt metricsPort;

    @Option(names = Flags.METRICS_BIND, paramLabel = "HOST", defaultValue = "${env:SAC_COMPRESSOR_METRICS_BIND:-0.0.0.0}",
            description = "Address the metrics endpoint listens on: 0.0.0.0 = every interface, 127.0.0.1 = this host only"
                    + " [env SAC_COMPRESSOR_METRICS_BIND, default ${DEFAULT-VALUE}].")
    String metricsBind;

    @CommandLine.Mixin
    CompressionOptions compression;

    @Override
    public Integer call() throws Exception {
        ModelPaths paths = ModelPaths.resolve(model, adapter);
        CompressorConfig config = config(paths);
        CompressorApp app = CompressorApp.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "sac-compressor-shutdown"));
        System.out.printf(Locale.ROOT, "compressor: %s, model %s (ratio %d), %s -> Redis %s + %s, metrics %s; Ctrl-C stops%n",
                config.applicationId(), app.modelId(), app.ratio(), config.topics().documents(), config.redis(),
                config.topics().catalog(), app.metricsPort().map(p -> "on :" + p + "/metrics").orElse("off"));
        return app.awaitStopped();
    }

    private CompressorConfig config(ModelPaths paths) throws java.nio.file.NoSuchFileException {
        try {
            CompressorConfig.Builder builder = CompressorConfig.builder();
            metricsPort.ifPresentOrElse(builder::metricsPort, builder::metricsOff);
            return compression.applyTo(builder
                    .bootstrapServers(bootstrapServers)
                    .redis(redis.target())
                    .applicationId(applicationId)
                    .model(paths.base(), paths.requireAdapter())
                    .ratio(ratio == null ? OptionalInt.empty() : OptionalInt.of(ratio))
                    .topics(new CompressorTopics(documentsTopic, catalogTopic, deadLetterTopic, recompressTopic))
                    .stateDir(stateDir)
                    .metricsBind(metricsBind))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** A port number, or 'off' (empty). */
    static final class MetricsPort implements CommandLine.ITypeConverter<OptionalInt> {
        @Override
        public OptionalInt convert(String value) {
            if (value.strip().equalsIgnoreCase("off")) {
                return OptionalInt.empty();
            }
            try {
                return OptionalInt.of(Integer.parseInt(value.strip()));
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a port (0 = any free port) or 'off'");
            }
        }
    }

}
