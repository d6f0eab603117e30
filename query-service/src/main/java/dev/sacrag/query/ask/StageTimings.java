package dev.sacrag.query.ask;

import java.time.Duration;

/**
 * Wall-clock time of each stage of one question.
 *
 * @param queued waiting for the inference executor
 * @param decode from the executor starting the request to the last token
 * @param firstToken from the request's arrival to the first streamed token (to the end when no token came)
 * @param total from arrival to the answer
 */
public record StageTimings(Duration retrieve, Duration fetch, Duration queued, Duration decode, Duration firstToken,
                           Duration total) {
}
