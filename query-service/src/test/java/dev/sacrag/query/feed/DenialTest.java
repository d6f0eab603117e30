package dev.sacrag.query.feed;

import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** When a refusal of a needed topic is over, and when it has lasted the give-up time. */
class DenialTest {

    private static final TopicAuthorizationException REFUSED = new TopicAuthorizationException(Set.of("t"));

    private static Denial needed(Duration giveUpAfter) {
        return new Denial("t", Optional.empty(), giveUpAfter, Duration.ofSeconds(30), () -> { });
    }

    /** A poll that comes back empty before the broker's refusal arrives is no permission: the give-up time runs on. */
    @Test
    void emptyPollsBetweenRefusalsDoNotRestartTheGiveUpTime() throws InterruptedException {
        Denial denial = needed(Duration.ofMillis(300)).liftedAfter(Duration.ofSeconds(10));
        denial.refused(REFUSED);
        for (int i = 0; i < 4; i++) {
            Thread.sleep(100);
            denial.polled(false);
            if (i < 2) {
                denial.refused(REFUSED);
            }
        }
        assertThrows(Denial.GaveUp.class, () -> denial.refused(REFUSED), "refused for 400 ms of a 300 ms give-up time");
    }

    @Test
    void recordsOrPollsClearForTheLiftTimeEndARefusal() throws InterruptedException {
        Denial read = needed(Duration.ofMillis(200)).liftedAfter(Duration.ofSeconds(10));
        read.refused(REFUSED);
        Thread.sleep(300);
        read.polled(true);   // records: it may read
        assertDoesNotThrow(() -> read.refused(REFUSED), "a new refusal, with its own give-up time");

        Denial quiet = needed(Duration.ofMillis(200)).liftedAfter(Duration.ofMillis(50));
        quiet.refused(REFUSED);
        Thread.sleep(300);
        quiet.polled(false);
        Thread.sleep(100);
        quiet.polled(false);   // clear for 100 ms of 50
        assertDoesNotThrow(() -> quiet.refused(REFUSED));

        Denial absent = needed(Duration.ofMillis(200));
        absent.refused(REFUSED);
        Thread.sleep(300);
        absent.absent();   // the broker answered for the topic: it does not exist
        assertDoesNotThrow(() -> absent.refused(REFUSED));
    }
}
