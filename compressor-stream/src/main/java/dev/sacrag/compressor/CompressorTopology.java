package dev.sacrag.compressor;

import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.SchemaHistory;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

import java.util.Map;

/**
 * The compressor's Kafka Streams topology, built from typed collaborators so that
 * {@code TopologyTestDriver} tests run exactly what production runs.
 *
 * <pre>
 *   documents-source ──► compress-document ──┬─► catalog-sink      (catalog topic)
 *   recompress-source ─► recompress-request ─┴─► dead-letter-sink  (dead-letter topic)
 *              stores: compressed-docs, latest-documents (both processors), refused-versions (documents)
 * </pre>
 *
 * Both sources feed one sub-topology, so partition p of the documents topic and partition p of
 * the recompress topic go to the same task: a recompress request (keyed by docId) finds the
 * document in that task's store. The changelog topics are named after the stores
 * ({@code <application.id>-compressed-docs-changelog}, {@code <application.id>-latest-documents-changelog},
 * {@code <application.id>-refused-versions-changelog}).
 */
public final class CompressorTopology {

    public static final String DOCUMENTS_SOURCE = "documents-source";
    public static final String RECOMPRESS_SOURCE = "recompress-source";
    public static final String COMPRESS_PROCESSOR = "compress-document";
    public static final String RECOMPRESS_PROCESSOR = "recompress-request";
    public static final String CATALOG_SINK = "catalog-sink";
    public static final String DEAD_LETTER_SINK = "dead-letter-sink";
    public static final String COMPRESSED_STORE = "compressed-docs";
    public static final String DOCUMENTS_STORE = "latest-documents";
    public static final String REFUSED_STORE = "refused-versions";

    private CompressorTopology() {
    }

    public static Topology build(CompressorTopics topics, CompressionSettings settings, Collaborators collaborators) {
        AnchorCacheWriter writer = new AnchorCacheWriter(settings, collaborators);
        DocumentCodec codec = new DocumentCodec(settings.limits(), SchemaHistory.documentEvents(), collaborators.clock());
        CompressorMetrics metrics = collaborators.metrics();
        // one for the whole topology: a failed thread's replacement builds new processors, and the count must outlive them
        RecordFailures failures = new RecordFailures(settings.maxRecordFailures(), collaborators.clock());
        Topology topology = new Topology();
        topology.addSource(DOCUMENTS_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.documents());
        topology.addSource(RECOMPRESS_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.recompress());
        topology.addProcessor(COMPRESS_PROCESSOR,
                () -> new DocumentProcessor(writer, metrics, failures, codec), DOCUMENTS_SOURCE);
        topology.addProcessor(RECOMPRESS_PROCESSOR, () -> new RecompressProcessor(writer, metrics, failures), RECOMPRESS_SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(COMPRESSED_STORE),
                        Serdes.String(), CompressorSerdes.anchorCacheRecord())
                .withLoggingEnabled(Map.of()), COMPRESS_PROCESSOR, RECOMPRESS_PROCESSOR);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DOCUMENTS_STORE),
                        Serdes.String(), CompressorSerdes.documentJson())
                .withLoggingEnabled(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                        Integer.toString(settings.limits().maxStoredBytes()))),
                COMPRESS_PROCESSOR, RECOMPRESS_PROCESSOR);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REFUSED_STORE),
                Serdes.String(), Serdes.String()).withLoggingEnabled(Map.of()), COMPRESS_PROCESSOR);
        topology.addSink(CATALOG_SINK, topics.catalog(), new StringSerializer(),
                CompressorSerdes.anchorCacheRecord().serializer(), COMPRESS_PROCESSOR, RECOMPRESS_PROCESSOR);
        topology.addSink(DEAD_LETTER_SINK, topics.deadLetter(), new ByteArraySerializer(), new ByteArraySerializer(),
                COMPRESS_PROCESSOR, RECOMPRESS_PROCESSOR);
        return topology;
    }
}
