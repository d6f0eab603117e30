package dev.sacrag.compressor;

import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.StreamPartitioner;

import java.util.Optional;
import java.util.Set;

/**
 * A document written back to the documents topic, on the partition it was read from: the
 * producer's partitioner need not be Kafka's (a non-Java client may hash keys otherwise), and
 * only the record that lands beside the stale one replaces it under compaction.
 *
 * @param partition the documents-topic partition the stale record came in on
 * @param value the document, encoded as the ingest publishes it (Avro single-object)
 */
record RestoredDocument(int partition, byte[] value) {

    /** The value's bytes; the partition travels to {@link #PARTITIONER} only. */
    static final Serializer<RestoredDocument> SERIALIZER = (topic, restored) -> restored == null ? null : restored.value();

    static final StreamPartitioner<byte[], RestoredDocument> PARTITIONER =
            (topic, key, restored, partitions) -> Optional.of(Set.of(restored.partition()));
}
