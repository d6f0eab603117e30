package dev.sacrag.query;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.GenerationOptions;
import dev.sacrag.core.sac.PromptPrefixCache;
import dev.sacrag.core.sac.SacEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A prompt-cache budget too small for a model's entries turns that model's cache off; it does not refuse the model. */
class PromptCacheBudgetTest {

    @TempDir
    Path tmp;

    @Test
    void aBudgetUnderOneEntryTurnsTheCacheOffAndOneEntryTurnsItOn() throws Exception {
        RandomPackage pkg = RandomPackage.write(tmp, "sac", List.of(4), 7);
        try (SacEngine engine = SacEngine.load(pkg.base(), pkg.adapter())) {
            long entry = engine.promptCacheEntryBytes();
            List<AnchorKv> docs = List.of(engine.compress("The lighthouse keeper rowed to Fennick every Tuesday.", 4));
            GenerationOptions o = engine.greedy(2);

            QueryServiceApp.enablePromptCache(engine, entry - 1);   // threw before: the model was refused
            engine.answer(docs, "doc", "Where?", o, t -> { });
            engine.answer(docs, "doc", "Where?", o, t -> { });
            assertEquals(new PromptPrefixCache.Stats(0, 0, 0, 0), engine.promptCacheStats(), "a cache that holds nothing is off");

            QueryServiceApp.enablePromptCache(engine, entry);
            engine.answer(docs, "doc", "Where?", o, t -> { });
            engine.answer(docs, "doc", "Where?", o, t -> { });
            assertEquals(new PromptPrefixCache.Stats(1, 1, 1, entry), engine.promptCacheStats());
        }
    }
}
