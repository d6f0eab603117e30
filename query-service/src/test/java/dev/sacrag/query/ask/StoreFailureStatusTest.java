package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A Redis read that fails is UNAVAILABLE for a caller still waiting, but a caller whose deadline
 * passed (or who cancelled) while the read was timing out gets its own status: the read is
 * bounded by the Redis timeout, not by the call's deadline.
 */
class StoreFailureStatusTest {

    @Test
    void aStoreFailureOutlastingTheCallReportsTheCallersStatus() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 30)) {
            rig.addCompressed("default", "doc-1", 1, "The loom wove silk in Lyon for the old guild.");
            rig.blobs.down = true;
            AskQuery ask = new AskQuery("loom?", "default", List.of("doc-1"), 1, 2);
            WarmQuery warm = new WarmQuery("default", List.of("doc-1"), Optional.empty(), 1);

            QueryException waiting = assertThrows(QueryException.class, () -> rig.engine.ask(ask, (id, text) -> { },
                    CallControl.NONE));
            assertEquals(QueryException.Reason.STORE_UNAVAILABLE, waiting.reason());

            AtomicBoolean gone = new AtomicBoolean();
            rig.blobs.duringRead = () -> gone.set(true);   // the deadline passes while Redis times out
            CallControl deadline = () -> {
                if (gone.get()) {
                    throw new QueryException(QueryException.Reason.DEADLINE_EXCEEDED, "deadline passed");
                }
            };
            QueryException late = assertThrows(QueryException.class, () -> rig.engine.ask(ask, (id, text) -> { }, deadline));
            assertEquals(QueryException.Reason.DEADLINE_EXCEEDED, late.reason());
            gone.set(false);
            QueryException lateWarm = assertThrows(QueryException.class, () -> rig.engine.warm(warm, deadline));
            assertEquals(QueryException.Reason.DEADLINE_EXCEEDED, lateWarm.reason());
        }
    }
}
