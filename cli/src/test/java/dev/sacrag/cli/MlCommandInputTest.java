package dev.sacrag.cli;

import static dev.sacrag.cli.PipelineRig.refused;
import static dev.sacrag.cli.PipelineRig.usageError;

import org.junit.jupiter.api.Test;

/** Values the training and evaluation commands cannot use are refused at once, naming the flag (not "/ by zero"). */
class MlCommandInputTest {

    @Test
    void evalRefusesALimitOrRatioBelowOne() {
        usageError("--limit must be at least 1, got -1", "eval", "--model", "models/sac-demo", "--data", "x.jsonl", "--json",
                "x.json", "--limit", "-1");
        usageError("--ratios must be at least 1 each, got [0]", "eval", "--model", "models/sac-demo", "--data", "x.jsonl",
                "--json", "x.json", "--ratios", "0");
    }

    @Test
    void evalRefusesAnUnknownMethodBeforeReadingTheData() {
        // no data file exists here: the method is refused before it is read (or minutes of adapters load)
        usageError("--methods: unknown method(s) [sac-int4]; known: [full, none, sac, sac-int8, truncate, uniform-kv,"
                + " sac-causal, sac-no-anchor-emb], experiments: [sac-names]", "eval", "--model", "models/sac-demo",
                "--data", "no-data.jsonl", "--json", "x.json", "--methods", "sac,sac-int4");
    }

    @Test
    void trainSacRefusesAValueOutOfRangeAsAUsageErrorBeforeTheModelIsLookedFor() {
        // no model folder exists here: each flag is refused before one is looked for or the data read
        String[][] cases = {
            {"--ratio must be at least 1 each, got [4, 0]", "--ratio", "4,0"},
            {"--batch must be >= 1, got 0", "--batch", "0"},
            {"--train-contexts must be >= 1, got 0", "--train-contexts", "0"},
            {"--questions-per-example must be >= 1, got 0", "--questions-per-example", "0"},
            {"--rank must be >= 1, got 0", "--rank", "0"},
            {"--stage1-steps must be >= 0, got -1", "--stage1-steps", "-1"},
            {"--stage2-steps must be >= 1, got 0", "--stage2-steps", "0"},
            {"--stop-at-step must be >= 0, got -5", "--stop-at-step", "-5"},
            {"--lr1 must be a positive number, got 0.0", "--lr1", "0"},
            {"--lr1 must be a positive number, got -0.001", "--lr1", "-1e-3"},
            {"--lr2 must be a positive number, got NaN", "--lr2", "NaN"},
            {"--lr2 must be a positive number, got Infinity", "--lr2", "1e39"},
            {"--continuation-share must be in [0, 1], got 1.5", "--continuation-share", "1.5"},
            {"--text-share must be in [0, 1], got -0.1", "--text-share", "-0.1"},
            {"--text-share must be in [0, 1], got NaN", "--text-share", "NaN"},
            {"--lora-targets 'all,k_proj': 'all' stands alone", "--lora-targets", "all,k_proj"},
            {"--lora-targets: 'qproj' is not one of all, q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj",
                "--lora-targets", "qproj,v_proj"},
        };
        for (String[] c : cases) {
            usageError(c[0], "train", "sac", "--model", "no-model", c[1], c[2]);
        }
    }

    @Test
    void trainSacTakesNoStage1StepsAsStage2Alone() {
        // what scripts/train-demo-model.sh runs from an --init adapter: past the checks, to the missing model
        PipelineRig.Run r = PipelineRig.sac(java.util.List.of("train", "sac", "--model", "no-model", "--stage1-steps", "0"));
        org.junit.jupiter.api.Assertions.assertEquals(1, r.code(), r.err());
        org.junit.jupiter.api.Assertions.assertTrue(r.err().contains("no-model"), r.err());
    }

    @Test
    void trainSacRefusesWhatAnExportCannotCarryAsAUsageErrorBeforeTheModelIsLookedFor() {
        String[][] cases = {
            {"--variant sac-names trains here only", "--variant", "sac-names", "--name", "names"},
            {"--lr2-decay applies to training here", "--lr2-decay"},
            {"--text-share applies to training here", "--text-share", "0.5"},
        };
        for (String[] c : cases) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "sac", "--model", "no-model",
                    "--export-examples", "no-out/examples.bin"));
            args.addAll(java.util.List.of(c).subList(1, c.length));
            usageError(c[0], args.toArray(String[]::new));
        }
    }

    @Test
    void trainSacRefusesTheNameSacForAnotherVariantAsAUsageError() {
        // --name sac is the package's adapter, read as variant sac by the pipeline and eval
        usageError("--name sac is the package's sac adapter, which the pipeline and sac eval read as variant sac; train"
                + " sac-causal into another --name (default: sac-causal)", "train", "sac", "--model", "no-model",
                "--name", "sac", "--variant", "sac-causal");
    }

    @Test
    void trainBaseRefusesAValueOutOfRangeAsAUsageErrorBeforeReadingTheData() {
        // no --data folder exists here: each flag is refused before any data is read or a tokenizer trained
        String[][] cases = {
            {"--steps must be >= 1, got 0", "--steps", "0"},
            {"--batch-tokens must be >= 1, got 0", "--batch-tokens", "0"},
            {"--lr must be a positive number, got 0.0", "--lr", "0"},
            {"--lr must be a positive number, got -5.0E-4", "--lr", "-5e-4"},
            {"--lr must be a positive number, got NaN", "--lr", "NaN"},
            {"--lr must be a positive number, got Infinity", "--lr", "Infinity"},
            {"--train-contexts must be >= 1, got -1", "--train-contexts", "-1"},
            {"--vocab must be >= 259 (256 bytes and 3 special tokens), got 100", "--vocab", "100"},
            {"--qa-packing 'pack' is not one of single, packed", "--qa-packing", "pack"},
            {"--layers must be >= 1, got 0", "--layers", "0"},
            {"--hidden must be >= 1, got 0", "--hidden", "0"},
            {"--heads must be >= 1, got 0", "--heads", "0"},
            {"--kv-heads must be >= 1, got 0", "--kv-heads", "0"},
            {"--intermediate must be >= 1, got -1", "--intermediate", "-1"},
            {"--hidden 250 must be a multiple of --heads 8", "--hidden", "250"},
            {"--kv-heads 3 must divide --heads 8", "--kv-heads", "3"},
            {"--hidden 24 / --heads 8 must be even (each head's dimension, which rotary positions split in halves), got 3",
                "--hidden", "24"},
            {"--warmup must be >= 0, got -1", "--warmup", "-1"},
            {"--stop-at-step must be >= 0, got -1", "--stop-at-step", "-1"},
            {"--qa-share must be in [0, 1], got 1.5", "--qa-share", "1.5"},
            {"--repeats must be >= 0, got -2", "--repeats", "-2"},
            {"--eval-every must be >= 0, got -1", "--eval-every", "-1"},
            {"--eval-questions must be >= 0, got -1", "--eval-questions", "-1"},
        };
        for (String[] c : cases) {
            usageError(c[0], "train", "base", "--data", "no-data", "--out", "no-out", c[1], c[2]);
        }
    }

    @Test
    void trainSacRefusesAnUnknownVariantBeforeTheModelIsLookedFor() {
        usageError("--variant 'sac-big' is not one of sac, sac-causal, sac-no-anchor-emb, sac-names", "train", "sac",
                "--model", "no-model", "--variant", "sac-big");
    }

    @Test
    void aModelFolderThatIsThereButIsNoModelIsNotCalledMissing() throws Exception {
        java.nio.file.Path empty = java.nio.file.Files.createTempDirectory("not-a-model");
        try {
            refused("model folder " + empty + " is neither a Hugging Face folder (config.json) nor a model package"
                    + " (base/config.json)", "generate", "--model", empty.toString(), "hello");
            refused("no such file: " + empty.resolve("nope"), "generate", "--model", empty.resolve("nope").toString(), "hello");
        } finally {
            java.nio.file.Files.delete(empty);
        }
    }

    @Test
    void compressNamesAFileThatIsNotUtf8OrAFolder() throws Exception {
        java.nio.file.Path bad = java.nio.file.Files.createTempFile("latin1", ".txt");
        try {
            java.nio.file.Files.write(bad, new byte[] {'c', 'a', 'f', (byte) 0xe9});
            refused("FILE " + bad + ": not UTF-8 text", "compress", "--model", "models/sac-demo", bad.toString());
            refused("FILE " + bad.getParent() + ": a folder, not a text file", "compress", "--model", "models/sac-demo",
                    bad.getParent().toString());
        } finally {
            java.nio.file.Files.delete(bad);
        }
    }

    @Test
    void anUnknownBlobDtypeIsAUsageErrorBeforeAModelLoads() {
        // neither the model nor the file exists here: the flag is refused before either is looked for
        usageError("--dtype must be f32, f16 or int8, not 'bf16'", "compress", "--model", "no-model", "--dtype", "bf16",
                "no-file.txt");
        usageError("--dtype must be f32, f16 or int8, not 'f8'", "bench", "ttft", "--model", "no-model", "--dtype", "f8");
    }

    @Test
    void benchCompressRefusesARatioBelowOneOrNoneAsAUsageErrorBeforeAnyModelIsWritten() {
        // an unknown --shape too: the ratios are refused first, before a random model would be written
        usageError("--ratios must be at least 1 each, got [0]", "bench", "compress", "--shape", "no-shape", "--ratios", "0");
        usageError("--ratios must be at least 1 each, got [4, -8]", "bench", "compress", "--shape", "no-shape",
                "--ratios", "4,-8");
        usageError("--ratios must name at least one value, got none", "bench", "compress", "--shape", "no-shape",
                "--ratios", ",");
    }

    @Test
    void benchCompressAndTtftRefuseARatioTheRandomAdapterLacksAsAUsageErrorBeforeAnyModelIsWritten() {
        // an unknown --shape too: the ratios are refused first, before a random model would be written
        usageError("--ratios: the random adapter supports [4, 8, 16], not 2", "bench", "compress", "--shape", "no-shape",
                "--ratios", "2");
        usageError("--ratios: the random adapter supports [4, 8, 16], not 2, 32", "bench", "ttft", "--shape", "no-shape",
                "--ratios", "4,2,32");
        // a --model package's adapter has its own ratios: not checked against the random one's
        PipelineRig.Run r = PipelineRig.sac(java.util.List.of("bench", "ttft", "--model", "no-model", "--ratios", "2"));
        org.junit.jupiter.api.Assertions.assertEquals(1, r.code(), r.err());
        org.junit.jupiter.api.Assertions.assertTrue(r.err().contains("no-model"), r.err());
    }

    @Test
    void evalAndTrainSacRefuseAnEmptyRatioListAsAUsageError() {
        usageError("--ratios must name at least one value, got none", "eval", "--model", "no-model", "--data", "x.jsonl",
                "--json", "x.json", "--ratios", ",");
        usageError("--ratio must name at least one value, got none", "train", "sac", "--model", "no-model", "--ratio", ",");
    }

    @Test
    void anUnknownShapeIsAUsageErrorBeforeAnyModelIsWritten() {
        String accepted = "is not one of tiny, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b";
        usageError("--shape 'smollm2-1b' " + accepted, "bench", "compress", "--shape", "smollm2-1b");
        usageError("--shape 'smollm2-1b' " + accepted, "bench", "engine", "--shape", "smollm2-1b", "--no-llama-cpp");
        usageError("--shape 'smollm2-1b' " + accepted, "bench", "ttft", "--shape", "smollm2-1b");
        usageError("--shape 'huge' " + accepted, "model", "random", "--shape", "huge", "--out", "no-out");
    }

    @Test
    void benchCompressAndEngineRefuseACountBelowOneAsAUsageErrorBeforeAnyModelIsWritten() {
        // an unknown --shape too: the count is refused first, before a random model would be written
        String[][] cases = {
            {"compress", "--tokens", "0"},
            {"compress", "--repeat", "-1"},
            {"engine", "--tokens", "0"},
            {"engine", "--decode", "0"},
            {"engine", "--repeat", "0"},
            {"engine", "--threads", "0"},
        };
        for (String[] c : cases) {
            usageError(c[1] + " must be >= 1, got " + c[2], "bench", c[0], "--shape", "no-shape", c[1], c[2]);
        }
    }

    @Test
    void benchTtftNamesTheFlagAndValueOfACountBelowOneOrAnEmptyListBeforeAnyModelIsWritten() {
        // an unknown --shape too: each flag is refused first, before a random model would be written or Redis started
        String[][] cases = {
            {"--repeat must be >= 1, got 0", "--repeat", "0"},
            {"--new-tokens must be >= 1, got -1", "--new-tokens", "-1"},
            {"--doc-tokens must be >= 1, got 0", "--doc-tokens", "0"},
            {"--docs must be at least 1 each, got [1, 0]", "--docs", "1,0"},
            {"--docs must name at least one value, got none", "--docs", ","},
            {"--ratios must be at least 1 each, got [-4]", "--ratios", "-4"},
            {"--ratios must name at least one value, got none", "--ratios", ","},
        };
        for (String[] c : cases) {
            usageError(c[0], "bench", "ttft", "--shape", "no-shape", c[1], c[2]);
        }
    }

    @Test
    void modelRandomChecksItsNumbersBeforeWritingAnything() throws Exception {
        java.nio.file.Path out = java.nio.file.Files.createTempDirectory("random-model");
        try {
            refused("--std must be a positive number, got 0.0", "model", "random", "--shape", "tiny", "--std", "0",
                    "--out", out.toString());
            refused("--lora-rank must be 1 or more, got 0", "model", "random", "--shape", "tiny", "--lora-rank", "0",
                    "--out", out.toString());
            org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(out.resolve("base")), "nothing written");
        } finally {
            java.nio.file.Files.deleteIfExists(out);
        }
    }

    @Test
    void generateAndAnswerNameTheFlagOfABadNumberBeforeLoadingAModel() {
        // no model folder exists here: the flag is refused before one is looked for
        refused("--max-new-tokens must be >= 1, got 0", "generate", "--model", "no-model", "--max-new-tokens", "0", "hi");
        refused("--top-p must be in (0, 1], got 1.5", "generate", "--model", "no-model", "--top-p", "1.5", "hi");
        refused("--temperature must be 0 or more, got -1.0", "generate", "--model", "no-model", "--temperature", "-1", "hi");
        refused("--max-new-tokens must be >= 1, got 0", "answer", "--model", "no-model", "--context", "a.txt",
                "--max-new-tokens", "0", "Where?");
        refused("--ratio must be >= 1, got 0", "answer", "--model", "no-model", "--context", "a.txt", "--ratio", "0", "Where?");
    }

    @Test
    void demoAndBenchPipelineRefuseAPartitionCountBelowOneBeforeStartingTheStack() {
        refused("--partitions (SAC_PARTITIONS) must be >= 1, got 0", "demo", "--partitions", "0");
        refused("--partitions must be >= 1", "bench", "pipeline", "--partitions", "0",
                "--model", "../models/sac-demo", "--documents", "../demo/documents", "--questions", "../demo/questions.jsonl");
    }

    /** 0s would bound the stack's first answers too: "no broker answered within 0s" from a stack that is starting. */
    @Test
    void demoAndBenchPipelineRefuseATimeoutUnderASecondAndNameEachCount() {
        refused("--timeout must be at least 1s, got 0s", "demo", "--timeout", "0s");
        refused("--timeout must be at least 1s, got 0s", "bench", "pipeline", "--timeout", "0s",
                "--model", "../models/sac-demo", "--documents", "../demo/documents", "--questions", "../demo/questions.jsonl");
        refused("--rounds must be >= 1, got 0", "bench", "pipeline", "--rounds", "0",
                "--model", "../models/sac-demo", "--documents", "../demo/documents", "--questions", "../demo/questions.jsonl");
    }

    @Test
    void benchPipelineChecksTheQueryServicesSettingsBeforeStartingTheStack() {
        refused("--batch-wait (SAC_BATCH_WAIT): 'soon' is not a duration", "bench", "pipeline", "--batch-wait", "soon",
                "--model", "../models/sac-demo", "--documents", "../demo/documents", "--questions", "../demo/questions.jsonl");
    }
}
