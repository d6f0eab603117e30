package dev.sacrag.cli;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Values the training and evaluation commands cannot use are refused at once, naming the flag (not "/ by zero"). */
class MlCommandInputTest {

    private static void refused(String expected, String... args) {
        PipelineRig.Run r = PipelineRig.sac(List.of(args));
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in:\n" + r.err());
    }

    @Test
    void evalRefusesALimitOrRatioBelowOne() {
        refused("--limit must be at least 1, got -1", "eval", "--model", "models/sac-demo", "--data", "x.jsonl", "--json",
                "x.json", "--limit", "-1");
        refused("--ratios must be at least 1 each, got [0]", "eval", "--model", "models/sac-demo", "--data", "x.jsonl",
                "--json", "x.json", "--ratios", "0");
    }

    @Test
    void trainRefusesSizesBelowOne() {
        refused("--ratio must be at least 1 each, got [4, 0]", "train", "sac", "--ratio", "4,0");
        refused("--batch, --train-contexts and --questions-per-example must be at least 1, got 0", "train", "sac",
                "--batch", "0");
        refused("--steps, --batch-tokens and --train-contexts must be at least 1", "train", "base", "--steps", "0");
        refused("--vocab at least 259", "train", "base", "--vocab", "100");
    }
}
