package dev.sacrag.compressor;

import java.time.Clock;
import java.util.Objects;

/**
 * The services the topology calls: the model, the blob store, metrics and the clock that stamps
 * catalog records. Fakes of the first two make {@code TopologyTestDriver} tests of the
 * production topology possible.
 */
public record Collaborators(DocumentCompressor compressor, BlobStore blobs, CompressorMetrics metrics, Clock clock) {

    public Collaborators {
        Objects.requireNonNull(compressor, "compressor");
        Objects.requireNonNull(blobs, "blobs");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(clock, "clock");
    }
}
