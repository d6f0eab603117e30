package dev.sacrag.cli;

import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.query.catalog.CatalogRecords;
import dev.sacrag.schemas.CatalogKey;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Records as the compressors and ingest write them, put straight on a topic: for the commands
 * that only read the topics, a broker is all they need, not the pipeline.
 */
final class TopicRecords {

    private TopicRecords() {
    }

    /** A document's record on the documents topic. */
    static void document(String bootstrapServers, String topic, String tenant, String docId, long version) throws Exception {
        send(bootstrapServers, topic, docId, DocumentCodec.encodeAvro(DocumentEvent.newBuilder().setDocId(docId)
                .setTenant(tenant).setVersion(version).setText("text of " + docId).setMetadata(Map.of())
                .setPublishedAt(Instant.EPOCH).build()));
    }

    /** A catalog entry of the document's version for the model, naming its blob's key. */
    static void catalogEntry(String bootstrapServers, String topic, String tenant, String docId, long version,
                             String modelId) throws Exception {
        send(bootstrapServers, topic, CatalogKey.of(docId, modelId), CatalogRecords.encode(AnchorCacheRecord.newBuilder()
                .setDocId(docId).setTenant(tenant).setDocVersion(version).setModelId(modelId).setRatio(4)
                .setTokenCount(10).setAnchorCount(3).setChunkCount(1)
                .setRedisKey(RedisKeys.blobKey(tenant, modelId, docId, version)).setBytes(100).setDtype("f16")
                .setChecksum(1).setCompressedAt(Instant.EPOCH).setCompressMillis(5).build()));
    }

    /** The tombstone a compressor writes for the document's entry of the model when it is deleted (and a retire writes). */
    static void catalogTombstone(String bootstrapServers, String topic, String docId, String modelId) throws Exception {
        send(bootstrapServers, topic, CatalogKey.of(docId, modelId), null);
    }

    private static void send(String bootstrapServers, String topic, String key, byte[] value) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrapServers),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get(30, TimeUnit.SECONDS);
        }
    }
}
