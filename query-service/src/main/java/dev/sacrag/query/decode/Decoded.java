package dev.sacrag.query.decode;

import java.time.Duration;

/**
 * An answer and where its time went inside the executor.
 *
 * @param queued from submission until a worker took the request
 * @param decoding from then until the answer was complete
 */
public record Decoded(Answer answer, Duration queued, Duration decoding) {
}
