package dev.sacrag.query.feed;

import dev.sacrag.metrics.Durations;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * What a {@link TopicFollower} does while the broker refuses this service's principal its topic:
 * an ACL without Describe on it (its partitions cannot be looked up, and the broker does not say
 * whether it exists) or without Read (every fetch fails). Unlike a broker that is away, this does
 * not pass by itself, and the replica would otherwise wait to become ready for ever with one
 * warning a second as its only word; so the operator is told once which permission is missing,
 * and the tries after that are logged at DEBUG.
 *
 * <p>A topic the replica can do without (the dead-letter topic, {@link TopicFollower#deniedMeansEmpty})
 * then counts as read, as an absent one does, and is tried again every {@link #QUIET_RETRY}; it is
 * read from its beginning once it may be. One the replica needs (the documents, catalog and control
 * topics: the control topic may name another model to serve, even where it may not say that it
 * exists) is tried for as long as any other failure Kafka does not retry, then the follower stops,
 * so that the replica reads NOT_SERVING for good and says why instead of never becoming ready.
 */
final class Denial {

    /** How often a topic the replica does without is tried again. */
    static final Duration QUIET_RETRY = Duration.ofSeconds(30);
    /**
     * How long polls must go without a refusal, and without a record, before a refusal counts as
     * over: a poll may return empty before the broker's refusal of it arrives, and taking that for
     * permission would warn again and restart the give-up time of a needed topic at every such poll.
     */
    static final Duration LIFTED_AFTER = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);   // the follower's own lines

    /** A needed topic was refused for the whole give-up time: the follower stops with this message. */
    static final class GaveUp extends RuntimeException {
        GaveUp(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String topic;
    private final Optional<String> wayOut;
    private final Duration giveUpAfter;
    private final Duration quietRetry;
    private final Runnable countAsRead;
    private LongSupplier nanoTime = System::nanoTime;
    private boolean refused;
    private long since;   // nanoTime of the first refusal of the current run
    private boolean clear;   // a poll has gone without a refusal since the last refusal
    private long clearSince;   // nanoTime of the first such poll
    private Duration liftedAfter = LIFTED_AFTER;

    /**
     * @param wayOut present: the topic may be done without, and this ends its warning (what doing without it
     *     costs, how to stop following it)
     * @param giveUpAfter how long a needed topic may be refused before the follower stops
     * @param quietRetry how often a topic done without is tried again
     * @param countAsRead makes the topic count as read (the follower's onCaughtUp runs once)
     */
    Denial(String topic, Optional<String> wayOut, Duration giveUpAfter, Duration quietRetry, Runnable countAsRead) {
        this.topic = topic;
        this.wayOut = wayOut;
        this.giveUpAfter = giveUpAfter;
        this.quietRetry = quietRetry;
        this.countAsRead = countAsRead;
    }

    /** Whether Kafka refused this service's principal something (anywhere in the cause chain: a client may wrap it). */
    static boolean isDenial(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AuthorizationException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes one refusal.
     *
     * @return how long to wait before trying again
     * @throws GaveUp when a needed topic has been refused for the give-up time
     */
    Duration refused(KafkaException e) {
        long now = nanoTime.getAsLong();
        clear = false;
        boolean first = !refused;
        if (first) {
            refused = true;
            since = now;
        }
        if (wayOut.isPresent()) {
            if (first) {
                log.warn("this service's principal may not read topic {} ({}): it needs Describe and Read on the topic."
                        + " Going on without it: it counts as read and is tried again every {}; {}", topic,
                        e.getMessage(), Durations.shown(quietRetry), wayOut.get());
                countAsRead.run();
            } else {
                log.debug("topic {} is still refused; trying again in {}: {}", topic, Durations.shown(quietRetry), e.toString());
            }
            return quietRetry;
        }
        if (now - since >= giveUpAfter.toNanos()) {
            throw new GaveUp("refused to this service's principal for " + Durations.shown(giveUpAfter) + " (" + e.getMessage()
                    + "): it needs Describe and Read on the topic", e);
        }
        if (first) {
            log.warn("this service's principal may not read topic {} ({}): it needs Describe and Read on the topic;"
                    + " trying again every {}, and the follower stops if it is still refused after {}", topic,
                    e.getMessage(), Durations.shown(TopicFollower.RETRY), Durations.shown(giveUpAfter));
        } else {
            log.debug("topic {} is still refused; trying again in {}: {}", topic, Durations.shown(TopicFollower.RETRY),
                    e.toString());
        }
        return TopicFollower.RETRY;
    }

    /** How long polls must go clear before a refusal counts as over (tests shorten it). */
    Denial liftedAfter(Duration after) {
        this.liftedAfter = after;
        return this;
    }

    /** The clock the give-up and lift times are read from, in nanoseconds ({@link System#nanoTime()}; tests move their own). */
    Denial clock(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        return this;
    }

    /**
     * A poll went without a refusal: a refusal before it is over (said at INFO, as its start was
     * said at WARN) once a poll brought records, or polls have gone clear for {@link #LIFTED_AFTER}.
     */
    void polled(boolean gotRecords) {
        if (!refused) {
            return;
        }
        long now = nanoTime.getAsLong();
        if (!clear) {
            clear = true;
            clearSince = now;
        }
        if (gotRecords || now - clearSince >= liftedAfter.toNanos()) {
            refused = false;
            clear = false;
            log.info("this service's principal may read topic {} now: reading it", topic);
        }
    }

    /** The broker said the topic does not exist: whatever it refused before, it answers for it now (said nowhere). */
    void absent() {
        refused = false;
        clear = false;
    }
}
