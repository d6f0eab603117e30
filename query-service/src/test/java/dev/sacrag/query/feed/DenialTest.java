package dev.sacrag.query.feed;

import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When a refusal of a needed topic is over, and when it has lasted the give-up time (on a clock the test moves). */
class DenialTest {

    private static final TopicAuthorizationException REFUSED = new TopicAuthorizationException(Set.of("t"));

    /** Starts at 0, which a clock of {@link System#nanoTime()} may read too: 0 means nothing special. */
    private final AtomicLong nanos = new AtomicLong();

    private Denial needed(Duration giveUpAfter) {
        return new Denial("t", Optional.empty(), giveUpAfter, Duration.ofSeconds(30), () -> { }).clock(nanos::get);
    }

    private void pass(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    /** A poll that comes back empty before the broker's refusal arrives is no permission: the give-up time runs on. */
    @Test
    void emptyPollsBetweenRefusalsDoNotRestartTheGiveUpTime() {
        Denial denial = needed(Duration.ofSeconds(15)).liftedAfter(Duration.ofSeconds(10));
        denial.refused(REFUSED);
        for (int i = 0; i < 4; i++) {
            pass(Duration.ofSeconds(5));
            denial.polled(false);
            if (i < 2) {
                denial.refused(REFUSED);
            }
        }
        assertThrows(Denial.GaveUp.class, () -> denial.refused(REFUSED), "refused for 20 s of a 15 s give-up time");
    }

    @Test
    void refusedForLessThanTheGiveUpTimeGoesOn() {
        Denial denial = needed(Duration.ofSeconds(60));
        denial.refused(REFUSED);
        pass(Duration.ofSeconds(59));
        assertDoesNotThrow(() -> denial.refused(REFUSED));
        pass(Duration.ofSeconds(1));
        String why = assertThrows(Denial.GaveUp.class, () -> denial.refused(REFUSED)).getMessage();
        assertTrue(why.contains("refused to this service's principal for 1m ("), "as the flags write it, not PT1M: " + why);
    }

    @Test
    void recordsOrPollsClearForTheLiftTimeEndARefusal() {
        Denial read = needed(Duration.ofSeconds(60)).liftedAfter(Duration.ofSeconds(10));
        read.refused(REFUSED);
        pass(Duration.ofSeconds(90));
        read.polled(true);   // records: it may read
        assertDoesNotThrow(() -> read.refused(REFUSED), "a new refusal, with its own give-up time");

        Denial quiet = needed(Duration.ofSeconds(60)).liftedAfter(Duration.ofSeconds(10));
        quiet.refused(REFUSED);
        pass(Duration.ofSeconds(90));
        quiet.polled(false);
        pass(Duration.ofSeconds(10));
        quiet.polled(false);   // clear for the 10 s
        assertDoesNotThrow(() -> quiet.refused(REFUSED));

        Denial absent = needed(Duration.ofSeconds(60));
        absent.refused(REFUSED);
        pass(Duration.ofSeconds(90));
        absent.absent();   // the broker answered for the topic: it does not exist
        assertDoesNotThrow(() -> absent.refused(REFUSED));
    }

    /** Clear polls shorter than the lift time, then a refusal: the refusal never ended, so the give-up time ran on. */
    @Test
    void clearPollsShorterThanTheLiftTimeDoNotEndARefusal() {
        Denial denial = needed(Duration.ofSeconds(60)).liftedAfter(Duration.ofSeconds(10));
        denial.refused(REFUSED);
        pass(Duration.ofSeconds(55));
        denial.polled(false);
        pass(Duration.ofSeconds(9));
        denial.polled(false);
        assertThrows(Denial.GaveUp.class, () -> denial.refused(REFUSED));
    }
}
