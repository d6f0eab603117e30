package dev.sacrag.query.feed;

import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The documents-topic partition each live document was last seen on. A recompress request must
 * land on the partition of its document, because the compressor task that owns that partition
 * is the one holding the document: the request topic is co-partitioned with the documents
 * topic, but the producer of a document chose its partition with its own partitioner (Java
 * clients hash keys with murmur2, librdkafka clients with CRC32 by default), so hashing the
 * request's key again is right only for Java producers. Written by {@link DocumentFeed}'s
 * thread, read by the threads that answer questions.
 */
public final class DocumentPartitions {

    private final ConcurrentHashMap<String, Integer> partitions = new ConcurrentHashMap<>();

    void seen(String docId, int partition) {
        partitions.put(docId, partition);
    }

    void deleted(String docId) {
        partitions.remove(docId);
    }

    /** Empty when the document was never seen (or was deleted): the caller falls back to its key's hash. */
    public OptionalInt of(String docId) {
        Integer p = partitions.get(docId);
        return p == null ? OptionalInt.empty() : OptionalInt.of(p);
    }
}
