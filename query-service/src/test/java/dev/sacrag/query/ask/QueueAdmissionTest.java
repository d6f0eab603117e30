package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.decode.InferenceExecutor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A question takes its place in the inference queue before its anchor KV is fetched: with every
 * place taken it is refused before any Redis read or decode, and the warm cache is left as it was.
 */
class QueueAdmissionTest {

    @Test
    void aFullQueueRefusesTheQuestionBeforeItsDocumentsAreFetched() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 30)) {
            rig.addCompressed("default", "doc-1", 1, "The loom wove silk in Lyon for the old guild.");
            AskQuery ask = new AskQuery("loom?", "default", List.of("doc-1"), 1, 2);
            List<InferenceExecutor.Place> taken = new ArrayList<>();
            for (int i = 0; i < 8; i++) {   // EngineRig's queue: 8 places, here held by questions still fetching
                taken.add(rig.inference.reserve());
            }

            QueryException refused = assertThrows(QueryException.class, () -> rig.engine.ask(ask, (id, text) -> { },
                    CallControl.NONE));
            assertEquals(QueryException.Reason.OVERLOADED, refused.reason());
            assertEquals(0, rig.blobs.reads.get(), "no Redis read for a question the queue refuses");
            assertEquals(0, rig.cache.size(), "nothing pushed into the warm cache");

            taken.remove(0).close();   // one of them gave up before submitting: its place is free again
            AskAnswer answered = rig.engine.ask(ask, (id, text) -> { }, CallControl.NONE);
            assertEquals("doc-1", answered.documents().get(0).docId());
            assertEquals(1, rig.blobs.reads.get());

            taken.forEach(InferenceExecutor.Place::close);
            // every place given back, the answered question's too (by the worker that took it)
            List<InferenceExecutor.Place> again = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                again.add(rig.inference.reserve());
            }
            assertThrows(dev.sacrag.query.decode.InferenceOverloadedException.class, rig.inference::reserve);
            again.forEach(InferenceExecutor.Place::close);
        }
    }
}
