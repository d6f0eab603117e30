package dev.sacrag.core.sac;

import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.TestModels;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacSpecTest {
    @TempDir
    Path tmp;

    private static final SacSpec PAPER = SacSpec.paperDefaults("sac", List.of(4, 8), 4, "base");

    @Test
    void loraTargetsAreTheAdaptersConfiguration() {
        assertEquals(List.of(LowRank.Target.Q_PROJ, LowRank.Target.V_PROJ), PAPER.targets());
        assertEquals(List.of(LowRank.Target.K_PROJ, LowRank.Target.DOWN_PROJ),
                PAPER.withLoraTargets(List.of("k_proj", "down_proj")).targets());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> PAPER.withLoraTargets(List.of("q_proj", "lm_head")));
        assertTrue(unknown.getMessage().contains("lm_head"), unknown.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> PAPER.withLoraTargets(List.of("q_proj", "q_proj")));
        assertTrue(twice.getMessage().contains("once"), twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PAPER.withLoraTargets(List.of()));
    }

    @Test
    void anAdapterOnEveryLinearLayerSavesAndLoadsItsFactors() throws Exception {
        ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        List<String> all = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        SacSpec spec = PAPER.withLoraTargets(all);
        SacAdapter.writeRandom(tmp.resolve("a"), spec, c, 3);
        assertEquals(all, SacSpec.load(tmp.resolve("a")).loraTargets());
        try (NDManager m = NDManager.newBaseManager(); SacAdapter a = SacAdapter.load(tmp.resolve("a"), c, m)) {
            for (int layer = 0; layer < c.layers(); layer++) {
                assertEquals(all.size(), a.lora().layers().get(layer).size());
                for (LowRank.Target t : LowRank.Target.values()) {
                    LowRank.Pair p = a.lora().at(layer, t);
                    assertArrayEquals(new long[] {4, t.in(c)}, p.a().getShape().getShape(), t.hfName());
                    assertArrayEquals(new long[] {t.out(c), 4}, p.b().getShape().getShape(), t.hfName());
                }
            }
        }
        // an adapter on q/v only, as the paper, still reads as before
        SacAdapter.writeRandom(tmp.resolve("b"), PAPER, c, 3);
        try (NDManager m = NDManager.newBaseManager(); SacAdapter b = SacAdapter.load(tmp.resolve("b"), c, m)) {
            assertEquals(java.util.Set.of(LowRank.Target.Q_PROJ, LowRank.Target.V_PROJ), b.lora().layers().get(0).keySet());
        }
    }
}
