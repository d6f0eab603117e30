package dev.sacrag.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExitCleanupTest {

    private final AtomicInteger cleanups = new AtomicInteger();

    @Test
    void withoutAnOwnerTheHookCleansUpAtOnce() {
        ExitCleanup exit = new ExitCleanup("t", cleanups::incrementAndGet);
        exit.hook().run();
        assertEquals(1, cleanups.get());
    }

    @Test
    void anOwnerThatClosesInTimeLeavesTheHookNothingToDo() {
        ExitCleanup exit = new ExitCleanup("t", cleanups::incrementAndGet);
        exit.ownerClosesOnExit(Duration.ofMinutes(10));
        exit.closed();
        exit.hook().run();
        assertEquals(0, cleanups.get(), "the owner's close stopped the service; stopping it again is not the hook's job");
    }

    @Test
    void anOwnerThatNeverClosesIsWaitedForOnlySoLong() {
        ExitCleanup exit = new ExitCleanup("t", cleanups::incrementAndGet);
        exit.ownerClosesOnExit(Duration.ofMillis(50));
        exit.hook().run();
        assertEquals(1, cleanups.get(), "after the wait the hook cleans up itself");
    }
}
