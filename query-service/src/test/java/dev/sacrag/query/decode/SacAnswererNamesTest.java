package dev.sacrag.query.decode;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.sac.AnchorPositions;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The query service reads a sac-names adapter's blobs as the compressor stores them: documents whose anchor
 * counts follow their capitalised words, not the ratio, answered one at a time and batched (padded anchor
 * masks), as the engine answers them directly.
 */
class SacAnswererNamesTest {

    @TempDir
    Path tmp;

    @Test
    void answersFromNamesBlobsAsTheEngineDoesAloneAndBatched() throws Exception {
        dev.sacrag.query.RandomPackage pkg = dev.sacrag.query.RandomPackage.write(tmp, SacSpec.NAMES_VARIANT, List.of(4, 8), 31);
        try (SacEngine engine = SacEngine.load(pkg.base(), pkg.adapter())) {
            String modelId = engine.modelId(4);
            List<String> texts = List.of("Mara Olen lives in Tessby and works at Hemlock Foods in Quillon.",
                    "the harbour was paved in 1911, long before anyone moved there.");
            List<AnchorKv> stored = texts.stream()   // compressed, encoded and read back as the blobs in Redis
                    .map(t -> AnchorKvCodec.decode(AnchorKvCodec.encode(engine.compress(t, 4), KvDtype.F16), modelId))
                    .toList();
            int uniform = AnchorPositions.total(engine.contextTokens(texts.get(0)).length, engine.adapter().spec().chunkSize(), 4);
            assertTrue(stored.get(0).anchorCount() > uniform, "the names add anchors: " + stored.get(0).anchorCount());

            SacAnswerer answerer = new SacAnswerer(engine, 4);
            StringBuilder[] streamed = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
            List<DecodeRequest> requests = List.of(
                    new DecodeRequest(List.of(stored.get(0)), "Where does Mara Olen live?", 5, (id, text) -> streamed[0].append(text)),
                    new DecodeRequest(stored, "Where does Mara Olen work?", 5, (id, text) -> streamed[1].append(text)),
                    new DecodeRequest(List.of(stored.get(1)), "When was the harbour paved?", 5, (id, text) -> streamed[2].append(text)));
            DecodeOutcome[] heard = new DecodeOutcome[requests.size()];
            String[] streamedWhenHeard = new String[requests.size()];
            List<DecodeOutcome> batched = answerer.answerBatch(requests, (i, outcome) -> {
                heard[i] = outcome;
                streamedWhenHeard[i] = streamed[i].toString();
            });
            int generated = 0;
            for (int i = 0; i < requests.size(); i++) {
                DecodeRequest r = requests.get(i);
                Answer alone = answerer.answer(r);
                var direct = engine.answer(r.docs(), r.question(), engine.greedy(5), t -> { });
                assertEquals(direct.tokens().length, alone.tokens(), "request " + i + ": tokens");
                assertEquals(engine.tokenizer().decode(direct.tokens()), alone.text(), "request " + i);
                assertNull(batched.get(i).failure(), "request " + i);
                assertEquals(alone, batched.get(i).answer(), "request " + i + ": batched as alone");
                assertTrue(heard[i] == batched.get(i), "request " + i + ": delivered as returned");
                assertEquals(alone.text(), streamedWhenHeard[i], "request " + i + ": its whole text streamed before delivery");
                generated += alone.tokens();
            }
            assertTrue(generated > requests.size(), "the random model must say something, or the comparison shows little");
        }
    }
}
