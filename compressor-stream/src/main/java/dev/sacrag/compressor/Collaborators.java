package dev.sacrag.compressor;

import java.time.Clock;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * The services the topology calls: the model, the blob store, metrics and the clock that stamps
 * catalog records. Fakes of the first two make {@code TopologyTestDriver} tests of the
 * production topology possible.
 *
 * @param closing true once the app is shutting down: a failed Redis call is then not retried
 *                (the record's transaction aborts and the record is processed again after the
 *                restart), so an outage does not add the retry budget to the shutdown
 */
public record Collaborators(DocumentCompressor compressor, BlobStore blobs, CompressorMetrics metrics, Clock clock,
                            BooleanSupplier closing) {

    public Collaborators {
        Objects.requireNonNull(compressor, "compressor");
        Objects.requireNonNull(blobs, "blobs");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(closing, "closing");
    }

    /** Collaborators of an app that never shuts down (topology tests). */
    public Collaborators(DocumentCompressor compressor, BlobStore blobs, CompressorMetrics metrics, Clock clock) {
        this(compressor, blobs, metrics, clock, () -> false);
    }
}
