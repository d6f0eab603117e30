package dev.sacrag.cli;

import dev.sacrag.core.data.MrqaJsonl;
import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.text.BpeTrainer;
import dev.sacrag.core.text.ByteLevelVocab;
import dev.sacrag.core.text.TextTokenizer;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.CapitalisedWords;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.core.train.BaseTrainer;
import dev.sacrag.core.train.SacExamples;
import dev.sacrag.core.train.SacTrainer;
import dev.sacrag.core.train.SampleExport;
import dev.sacrag.core.train.TokenSample;
import dev.sacrag.core.train.TrainingSamples;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, description = "Train the demo model: tokenizer + base model, then SAC adapters.",
        subcommands = {TrainCommand.Base.class, TrainCommand.Sac.class})
final class TrainCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "base", mixinStandardHelpOptions = true,
            description = {"Train a byte-level BPE tokenizer and a small Llama-architecture base model from scratch "
                    + "(language modelling on text + QA with the full context in the prompt).",
                    "Writes OUT/base (Hugging Face folder); checkpoints and logs go to OUT/train (resumable)."})
    static final class Base implements Callable<Integer> {
        /** The smallest tokenizer: every byte and the special tokens, no merges. */
        static final int MIN_VOCAB = 256 + RandomModelWriter.SPECIAL_TOKENS.size();

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--data", paramLabel = "DIR", defaultValue = RepoPaths.DATA,
                description = "Folder from 'sac data build' (default ${DEFAULT-VALUE}).")
        Path data;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = RepoPaths.DEMO_MODEL,
                description = "Model package folder (default ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--steps", paramLabel = "N", defaultValue = "4000",
                description = "Optimiser steps (default ${DEFAULT-VALUE}); the LR schedule spans them.")
        long steps;

        @Option(names = "--time-budget", paramLabel = "DURATION", defaultValue = "60m", converter = Durations.class,
                description = "Stop (after a checkpoint) when this much training time has passed, counting the runs a"
                        + " --resume continues (default ${DEFAULT-VALUE}).")
        Duration budget;

        @Option(names = "--resume", description = "Continue from OUT/train/checkpoint, with the same flags: another seed,"
                + " model shape, rate, batch or data is refused (--steps may stretch the schedule, --time-budget grow);"
                + " without a checkpoint there, refused too.")
        boolean resume;

        @Option(names = "--vocab", paramLabel = "N", defaultValue = "2048",
                description = "Tokenizer vocabulary size (default ${DEFAULT-VALUE}).")
        int vocab;

        @Option(names = "--layers", paramLabel = "N", defaultValue = "6",
                description = "Transformer layers of a new base (default ${DEFAULT-VALUE}).")
        int layers;
        @Option(names = "--hidden", paramLabel = "N", defaultValue = "256",
                description = "Hidden size, a multiple of --heads (default ${DEFAULT-VALUE}).")
        int hidden;
        @Option(names = "--heads", paramLabel = "N", defaultValue = "8",
                description = "Query heads per layer (default ${DEFAULT-VALUE}).")
        int heads;
        @Option(names = "--kv-heads", paramLabel = "N", defaultValue = "4",
                description = "Key/value heads per layer, dividing --heads (grouped-query attention; default ${DEFAULT-VALUE}).")
        int kvHeads;
        @Option(names = "--intermediate", paramLabel = "N", defaultValue = "704",
                description = "MLP intermediate size (default ${DEFAULT-VALUE}).")
        int intermediate;

        @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "4096",
                description = "Padded tokens per batch (default ${DEFAULT-VALUE}).")
        int batchTokens;

        @Option(names = "--lr", paramLabel = "RATE", defaultValue = "1e-3",
                description = "Peak learning rate (default ${DEFAULT-VALUE}).")
        float lr;

        @Option(names = "--train-contexts", paramLabel = "N", defaultValue = "20000",
                description = "Synthetic contexts to use (default ${DEFAULT-VALUE}).")
        int trainContexts;

        @Option(names = "--train-file", paramLabel = "FILE", defaultValue = "synthetic-train.jsonl",
                description = "QA training file inside --data (default ${DEFAULT-VALUE}; synthetic-train-short.jsonl for the short curriculum).")
        String trainFile;

        @Option(names = "--init-from", paramLabel = "FILE",
                description = "Start from these weights (safetensors), e.g. a first phase's checkpoint.")
        Path initFrom;

        @Option(names = "--qa-packing", paramLabel = "single|packed", defaultValue = "single",
                description = "single: one question per sample; packed: all questions of a context after it, "
                        + "context weight 0.25 (default ${DEFAULT-VALUE}).")
        String packing;

        @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
                description = "Warm-up steps (default ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--answer-prompt", paramLabel = "TEXT", defaultValue = "\n### Answer:\n", converter = NewlineEscapes.class,
                description = "Text before the answer (default: the paper's). One not ending in a newline puts a space "
                        + "before the answer, so names are tokenised as in the context.")
        String answerPrompt;

        @Option(names = "--stop-at-step", paramLabel = "N", defaultValue = "0",
                description = "End this run after this step, keeping the LR schedule of --steps (0 = no early stop).")
        long stopAt;

        @Option(names = "--qa-share", paramLabel = "SHARE", defaultValue = "0.7",
                description = "Share of QA batches vs plain text (default ${DEFAULT-VALUE}).")
        double qaShare;

        @Option(names = "--repeats", paramLabel = "N", defaultValue = "20000",
                description = "Induction drills (a text window, then the same window again) mixed into the text batches, "
                        + "half from the text corpus, half from synthetic contexts (default ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--plain-text", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Windows of the text corpus as language-modelling batches (default ${DEFAULT-VALUE}); "
                        + "--no-plain-text with --qa-share 0 trains on induction drills alone.")
        boolean plainText;

        @Option(names = "--eval-every", paramLabel = "N", defaultValue = "100",
                description = "Score held-out questions (answer loss, exact answers) every N steps; 0 = only at the end (default ${DEFAULT-VALUE}).")
        int evalEvery;

        @Option(names = "--eval-questions", paramLabel = "N", defaultValue = "96",
                description = "Held-out questions to score (default ${DEFAULT-VALUE}).")
        int evalQuestions;

        @Option(names = "--export-samples", paramLabel = "FILE",
                description = "Build the training samples exactly as for training (QA, text and drills, held-out QA), "
                        + "write them to FILE in the flat binary form of SampleExport and stop without training: "
                        + "the input of scripts/gpu/pretrain_base.py. Needs OUT/train/tokenizer.json or trains one.")
        Path exportSamples;

        @Option(names = "--eval-file", paramLabel = "FILE", defaultValue = "synthetic-dev.jsonl",
                description = "Held-out QA file inside --data scored during training (default ${DEFAULT-VALUE}).")
        String evalFile;

        /** Usage errors (exit 2) naming the flag, before the data is read and a tokenizer trained. */
        private void checkOptions() {
            UsageChecks.requireAtLeastOne(spec, "--steps", steps);
            UsageChecks.requireAtLeastOne(spec, "--batch-tokens", batchTokens);
            UsageChecks.requirePositive(spec, "--lr", lr);
            UsageChecks.requireAtLeastOne(spec, "--train-contexts", trainContexts);
            if (vocab < MIN_VOCAB) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--vocab must be >= " + MIN_VOCAB
                        + " (256 bytes and " + RandomModelWriter.SPECIAL_TOKENS.size() + " special tokens), got " + vocab);
            }
            if (!packing.equals("single") && !packing.equals("packed")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--qa-packing '" + packing
                        + "' is not one of single, packed");
            }
            UsageChecks.requireAtLeastOne(spec, "--layers", layers);
            UsageChecks.requireAtLeastOne(spec, "--hidden", hidden);
            UsageChecks.requireAtLeastOne(spec, "--heads", heads);
            UsageChecks.requireAtLeastOne(spec, "--kv-heads", kvHeads);
            UsageChecks.requireAtLeastOne(spec, "--intermediate", intermediate);
            if (hidden % heads != 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--hidden " + hidden
                        + " must be a multiple of --heads " + heads);
            }
            if (heads % kvHeads != 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--kv-heads " + kvHeads
                        + " must divide --heads " + heads);
            }
            if (hidden / heads % 2 != 0) {   // Rope pairs a head's values: an odd count leaves one unpaired, zeroed
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--hidden " + hidden + " / --heads "
                        + heads + " must be even (each head's dimension, which rotary positions split in halves), got "
                        + hidden / heads);
            }
            UsageChecks.requireAtLeast(spec, "--warmup", warmup, 0);
            UsageChecks.requireAtLeast(spec, "--stop-at-step", stopAt, 0);
            UsageChecks.requireShare(spec, "--qa-share", qaShare);
            UsageChecks.requireAtLeast(spec, "--repeats", repeats, 0);
            UsageChecks.requireAtLeast(spec, "--eval-every", evalEvery, 0);
            UsageChecks.requireAtLeast(spec, "--eval-questions", evalQuestions, 0);
        }

        @Override
        public Integer call() throws Exception {
            checkOptions();
            Path work = out.resolve("train");
            Files.createDirectories(work);
            List<MrqaRecord> qa = MrqaJsonl.read(data.resolve(trainFile));
            qa = qa.subList(0, Math.min(qa.size(), trainContexts));
            List<String> text = MrqaJsonl.read(data.resolve("text-train.jsonl")).stream().map(MrqaRecord::context).toList();
            Path tokenizer = work.resolve("tokenizer.json");
            // what the tokenizer was trained for, beside it: a later run with another --vocab or data
            // would otherwise go on with it silently (a tokenizer copied in, without this file, is used as is)
            Path tokenizerArgs = work.resolve("tokenizer.args");
            String wanted = "--vocab " + vocab + " --data " + RepoPaths.recorded(data) + " --train-file " + trainFile;
            if (!Files.exists(tokenizer)) {
                trainTokenizer(tokenizer, qa, text);
                dev.sacrag.core.io.AtomicFiles.writeString(tokenizerArgs, wanted + "\n");
            } else if (Files.exists(tokenizerArgs) && !Files.readString(tokenizerArgs).strip().equals(wanted)) {
                throw new IllegalArgumentException(tokenizer + " was trained for " + Files.readString(tokenizerArgs).strip()
                        + ", not " + wanted + ": give the same flags, train into another --out, or delete it (and "
                        + tokenizerArgs.getFileName() + ") to train a new one");
            }
            ModelConfig config;
            List<TokenSample> qaSamples;
            List<TokenSample> textSamples;
            List<TokenSample> devSamples;
            try (TextTokenizer tok = TextTokenizer.load(work)) {
                int size = tok.vocabularySize();
                config = new ModelConfig(ModelConfig.Architecture.LLAMA, (size + 63) / 64 * 64, hidden, layers, heads,
                        kvHeads, hidden / heads, intermediate, 10000, null, 1e-5, true, 2048, 0, List.of(1));
                System.err.println("tokenising training data ...");
                TrainingSamples samples = new TrainingSamples(tok, 0, 1, answerPrompt);
                qaSamples = switch (packing) {
                    case "single" -> samples.qa(qa, 3f);
                    case "packed" -> samples.qaPacked(qa, 3f, 0.25f, BaseTrainer.MAX_SAMPLE_TOKENS);
                    default -> throw new IllegalArgumentException("--qa-packing must be single or packed");
                };
                textSamples = new java.util.ArrayList<>(plainText ? samples.text(text, 384) : List.of());
                textSamples.addAll(samples.repeats(text, repeats / 2, seed));
                textSamples.addAll(samples.repeats(qa.stream().map(MrqaRecord::context).toList(), repeats - repeats / 2,
                        seed + 1));
                List<TokenSample> dev = samples.qaAnswers(MrqaJsonl.read(data.resolve(evalFile)));
                devSamples = dev.subList(0, Math.min(dev.size(), evalQuestions));
            }
            if (exportSamples != null) {
                long tokens = SampleExport.write(exportSamples, List.of(qaSamples, textSamples, devSamples));
                System.err.printf("wrote %s: %,d QA, %,d text and %,d held-out samples, %,d tokens%n", exportSamples,
                        qaSamples.size(), textSamples.size(), devSamples.size(), tokens);
                return 0;
            }
            ConsoleProgress progress = new ConsoleProgress(work.resolve("base-log.jsonl"), 10);
            BaseTrainer.Config c = new BaseTrainer.Config(out, config, seed, steps, budget, batchTokens, lr, warmup,
                    qaShare, Duration.ofMinutes(5), resume, initFrom, stopAt);
            new BaseTrainer(c, progress).describingData(java.util.Map.of("--data", RepoPaths.recorded(data), "--train-file", trainFile,
                            "--train-contexts", Integer.toString(trainContexts), "--qa-packing", packing,
                            "--repeats", Integer.toString(repeats), "--plain-text", Boolean.toString(plainText),
                            "--answer-prompt", answerPrompt))
                    .writingBeside(java.util.Map.of(BasePrompts.FILE, BasePrompts.json(answerPrompt)))
                    .train(qaSamples, textSamples, tokenizer, new BaseTrainer.Validation(devSamples, evalEvery));
            return 0;
        }

        private void trainTokenizer(Path file, List<MrqaRecord> qa, List<String> text) throws Exception {
            System.err.printf("training a %d-token byte-level BPE tokenizer ...%n", vocab);
            BpeTrainer bpe = new BpeTrainer();
            qa.stream().limit(5000).forEach(r -> bpe.add(r.context()));
            text.forEach(bpe::add);
            bpe.add(TrainingSamples.CONTEXT_PROMPT + TrainingSamples.QUESTION_PROMPT + TrainingSamples.ANSWER_PROMPT);
            int merges = vocab - RandomModelWriter.SPECIAL_TOKENS.size() - 256;
            List<String[]> m = bpe.train(merges, n -> {
                if (n % 200 == 0) {
                    System.err.printf("\r  %d/%d merges", n, merges);
                }
            });
            ByteLevelVocab.write(file, RandomModelWriter.SPECIAL_TOKENS, m);
            System.err.printf("%n  wrote %s (%d merges)%n", file, m.size());
        }
    }

    @Command(name = "sac", mixinStandardHelpOptions = true,
            description = {"Train a SAC adapter on the frozen base model of a package: stage 1 continuation LM, "
                    + "stage 2 QA on composed inputs of 1-4 documents (answer loss only).",
                    "Writes OUT/adapters/NAME (sac.json, sac.safetensors); checkpoints beside it (resumable)."})
    static final class Sac implements Callable<Integer> {
        /** The variants an adapter is trained as ({@code sac.json}'s "variant"). */
        static final List<String> VARIANTS = List.of("sac", "sac-causal", "sac-no-anchor-emb", SacSpec.NAMES_VARIANT);

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--model", paramLabel = "DIR", defaultValue = RepoPaths.DEMO_MODEL,
                description = "Model package (default ${DEFAULT-VALUE}).")
        Path model;

        @Option(names = "--data", paramLabel = "DIR", defaultValue = RepoPaths.DATA,
                description = "Folder from 'sac data build' (default ${DEFAULT-VALUE}).")
        Path data;

        @Option(names = "--variant", paramLabel = "VARIANT", defaultValue = "sac",
                description = "sac, sac-causal (causal compressor) or sac-no-anchor-emb (default ${DEFAULT-VALUE}); or the "
                        + "experiment sac-names: every token of a capitalised word an anchor too, beside the uniform ones "
                        + "(fewer context tokens per anchor than the ratio: names come through; scored by sac eval --methods "
                        + "sac-names; the compressor keeps those anchors when given such an adapter). --init may name a sac "
                        + "adapter for it.")
        String variant;

        @Option(names = "--name", paramLabel = "NAME", description = "Adapter folder name (default: the variant).")
        String name;

        @Option(names = "--ratio", paramLabel = "R", split = ",", defaultValue = "4,8,16",
                description = "Ratios; one is drawn per batch (default ${DEFAULT-VALUE}).")
        List<Integer> ratios;

        @Option(names = "--rank", paramLabel = "N", defaultValue = "16",
                description = "LoRA rank (default ${DEFAULT-VALUE}; the paper: 128 for a 1B model).")
        int rank;

        @Option(names = "--lora-targets", paramLabel = "PROJ", split = ",", defaultValue = "q_proj,v_proj",
                description = "Projections of the compressor that get LoRA (default ${DEFAULT-VALUE}, as the paper); "
                        + "'all' = every linear layer (q,k,v,o,gate,up,down_proj), more capacity for a small base.")
        List<String> loraTargets;

        @Option(names = "--stage1-steps", paramLabel = "N", defaultValue = "300",
                description = "Stage 1 (continuation LM) steps (default ${DEFAULT-VALUE}).") long stage1;
        @Option(names = "--stage2-steps", paramLabel = "N", defaultValue = "900",
                description = "Stage 2 (QA on composed documents) steps (default ${DEFAULT-VALUE}). A resumed run "
                        + "may raise it to train longer (the learning rates are constant after warm-up, without --lr2-decay); keep "
                        + "--stage1-steps as it was, or a run already in stage 2 goes back to stage 1.") long stage2;
        @Option(names = "--batch", paramLabel = "N", defaultValue = "8",
                description = "Examples per step (default ${DEFAULT-VALUE}).") int batch;
        @Option(names = "--lr1", paramLabel = "RATE", defaultValue = "1e-3",
                description = "Stage 1 peak learning rate (default ${DEFAULT-VALUE}; "
                + "the paper: 1e-4 for a 1B model).") float lr1;
        @Option(names = "--lr2", paramLabel = "RATE", defaultValue = "5e-4",
                description = "Stage 2 peak learning rate (default ${DEFAULT-VALUE}; "
                + "the paper: 5e-5 for a 1B model).") float lr2;
        @Option(names = "--lr2-decay",
                description = "Decay the stage-2 rate (cosine, to 10%% of --lr2) over --stage2-steps instead of keeping "
                        + "it constant as the paper does: for a last run of known length from a trained adapter "
                        + "(--init), with --stage2-steps what fits in --time-budget.")
        boolean lr2Decay;

        @Option(names = "--stop-at-step", paramLabel = "N", defaultValue = "0",
                description = "End this run after step N (counting stage 1's), with a checkpoint, the rates still "
                        + "scheduled over --stage1-steps and --stage2-steps (default 0: no early stop). E.g. to cut "
                        + "a decay short and go on from the weights with a shorter one (--init into another --name).")
        long stopAt;

        @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1",
                description = "Seeds the LoRA init and the data drawn at each step "
                + "(default ${DEFAULT-VALUE}).") long seed;

        @Option(names = "--time-budget", paramLabel = "DURATION", defaultValue = "90m", converter = Durations.class,
                description = "Stop (after a checkpoint) when this much training time has passed, counting the runs a"
                        + " --resume continues (default ${DEFAULT-VALUE}).")
        Duration budget;

        @Option(names = "--resume", description = "Continue from the adapter's checkpoint, with the same flags: another"
                + " seed, ratio, batch, rate, base model or data is refused; without a checkpoint (a package's adapters"
                + " come without theirs), refused too: --init goes on from an adapter's weights.")
        boolean resume;

        @Option(names = "--train-contexts", paramLabel = "N", defaultValue = "8000",
                description = "Use the first N training contexts of --data (default ${DEFAULT-VALUE}).") int trainContexts;

        @Option(names = "--questions-per-example", paramLabel = "N", defaultValue = "16",
                description = "Stage 2: questions decoded against one compressed set of documents, all about those "
                        + "documents (default ${DEFAULT-VALUE}; 1 = one question per compression). The compressor pass "
                        + "costs the same for one question or many.")
        int questionsPerExample;

        @Option(names = "--answer-prompt", paramLabel = "TEXT", converter = NewlineEscapes.class,
                description = "Text before the answer; default: what the base was trained with (base/prompts.json), "
                        + "else the paper's \"\\n### Answer:\\n\".")
        String answerPrompt;

        @Option(names = "--init", paramLabel = "ADAPTER_DIR",
                description = "Start from this adapter's weights (fresh optimiser; its base model, variant, LoRA rank, "
                        + "alpha and targets and anchor slots must be this run's), e.g. to go on training an adapter "
                        + "trained elsewhere. Ignored by --resume when a checkpoint exists.")
        Path init;

        @Option(names = "--continuation-share", paramLabel = "SHARE", defaultValue = "0",
                description = "Share of stage-2 examples that are stage-1 continuation examples instead of QA "
                        + "(default ${DEFAULT-VALUE}: QA only, as the paper). A small base forgets continuation "
                        + "in a QA-only stage 2; e.g. 0.3 keeps it.")
        double continuationShare;

        @Option(names = "--text-share", paramLabel = "P",
                description = "Share (0 to 1) of continuation examples drawn from the plain-text corpus (text-train.jsonl) "
                        + "instead of the fact documents (default: every text equally likely, about one in nine plain "
                        + "with 25,000 training contexts). Raise it to train for the perplexity evaluation. Not "
                        + "with --export-examples.")
        Double textShare;

        @Option(names = "--export-examples", paramLabel = "FILE",
                description = "Tokenise the training data as this run would, write it to FILE and the adapter's "
                        + "sac.json to FILE.sac.json, and stop without training (no adapter folder is touched): input "
                        + "for scripts/gpu/train_sac.py, the same training in PyTorch on a GPU.")
        Path exportExamples;

        /**
         * --lora-targets with "all" spelled out; a name that is no projection is a usage error here,
         * before the model loads: the trainer meets it only after the data is tokenised.
         */
        private List<String> loraTargets() {
            List<String> known = Arrays.stream(LowRank.Target.values()).map(LowRank.Target::hfName).toList();
            if (loraTargets.contains("all")) {
                if (loraTargets.size() > 1) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--lora-targets '"
                            + String.join(",", loraTargets) + "': 'all' stands alone (it already names every projection)");
                }
                return known;
            }
            for (String target : loraTargets) {
                if (!known.contains(target)) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--lora-targets: '" + target
                            + "' is not one of all, " + String.join(", ", known));
                }
            }
            return loraTargets;
        }

        @Override
        public Integer call() throws Exception {
            // usage errors (exit 2) naming the flag, before the model is looked for and the data read
            UsageChecks.requireEachAtLeastOne(spec, "--ratio", ratios);
            UsageChecks.requireAtLeastOne(spec, "--batch", batch);
            UsageChecks.requireAtLeastOne(spec, "--train-contexts", trainContexts);
            UsageChecks.requireAtLeastOne(spec, "--questions-per-example", questionsPerExample);
            UsageChecks.requireAtLeastOne(spec, "--rank", rank);
            // 0 stage-1 steps: stage 2 alone, from an --init adapter that has had its stage 1
            UsageChecks.requireAtLeast(spec, "--stage1-steps", stage1, 0);
            UsageChecks.requireAtLeastOne(spec, "--stage2-steps", stage2);
            UsageChecks.requireAtLeast(spec, "--stop-at-step", stopAt, 0);
            UsageChecks.requirePositive(spec, "--lr1", lr1);
            UsageChecks.requirePositive(spec, "--lr2", lr2);
            if (!VARIANTS.contains(variant)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--variant '" + variant
                        + "' is not one of " + String.join(", ", VARIANTS));
            }
            if ("sac".equals(name) && !"sac".equals(variant)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--name sac is the package's sac "
                        + "adapter, which the pipeline and sac eval read as variant sac; train " + variant
                        + " into another --name (default: " + variant + ")");
            }
            UsageChecks.requireShare(spec, "--continuation-share", continuationShare);
            if (textShare != null) {
                UsageChecks.requireShare(spec, "--text-share", textShare);
            }
            List<String> targets = loraTargets();
            if (SacSpec.NAMES_VARIANT.equals(variant) && exportExamples != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--variant " + SacSpec.NAMES_VARIANT
                        + " trains here only: scripts/gpu/train_sac.py places uniform anchors");
            }
            if (lr2Decay && exportExamples != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--lr2-decay applies to training"
                        + " here; scripts/gpu/train_sac.py has its own schedule and does not read it from an"
                        + " --export-examples file");
            }
            if (textShare != null && exportExamples != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--text-share applies to training"
                        + " here; an --export-examples file holds every text, and scripts/gpu/train_sac.py takes its own"
                        + " --text-share");
            }
            if (init != null && !Files.isRegularFile(init.resolve(SacSpec.FILE))) {
                throw new IllegalArgumentException("--init " + init + ": no " + SacSpec.FILE + " there (an adapter folder, "
                        + "e.g. models/sac-demo/adapters/sac)");
            }
            ModelPaths paths = ModelPaths.resolve(model, null);
            Path adapterDir = model.resolve("adapters").resolve(name != null ? name : variant);
            List<MrqaRecord> qa = MrqaJsonl.read(data.resolve("synthetic-train.jsonl"));
            qa = qa.subList(0, Math.min(qa.size(), trainContexts));
            List<String> text = MrqaJsonl.read(data.resolve("text-train.jsonl")).stream().map(MrqaRecord::context).toList();
            SacSpec spec = SacSpec.paperDefaults(variant, ratios, rank, Fingerprints.baseModel(paths.base()))
                    .withAnswerPrompt(answerPrompt != null ? answerPrompt : BasePrompts.answerPrompt(paths.base()))
                    .withLoraTargets(targets);
            try (Transformer base = Transformer.load(paths.base()); TextTokenizer tok = TextTokenizer.load(paths.base())) {
                System.err.println("tokenising training data ...");
                long bos = base.config().bosTokenId();
                long eos = base.config().eosTokenIds().get(0);
                long[] prefix = spec.contextPrefix(tok, bos);
                SacExamples examples = new SacExamples(tok, qa, text, prefix, eos, spec.questionPrompt(),
                        spec.answerPrompt(), spec.maxComposedTokens(), questionsPerExample);
                if (textShare != null) {
                    examples.plainTextShare(textShare);
                }
                if (exportExamples != null) {
                    examples.export(exportExamples, prefix);
                    Path specFile = exportExamples.resolveSibling(exportExamples.getFileName() + "." + SacSpec.FILE);
                    spec.saveAs(specFile);
                    System.err.printf("wrote %s (%,d bytes) and %s%n", exportExamples,
                            Files.size(exportExamples), specFile);
                    return 0;
                }
                SacTrainer.Config c = new SacTrainer.Config(adapterDir, spec, seed, stage1, stage2, batch, lr1, lr2, 30,
                        budget, Duration.ofMinutes(5), resume, init, continuationShare, lr2Decay, stopAt);
                java.nio.file.Files.createDirectories(adapterDir);
                new SacTrainer(c, new ConsoleProgress(adapterDir.resolve("train-log.jsonl"), 5))
                        .describingData(java.util.Map.of("--data", RepoPaths.recorded(data),
                                "--train-contexts", Integer.toString(trainContexts),
                                "--questions-per-example", Integer.toString(questionsPerExample),
                                "--text-share", String.valueOf(textShare)))
                        .train(base, examples, prefix,
                                spec.keepsCapitalisedWords() ? CapitalisedWords.marker(tok, prefix.length) : null);
            }
            return 0;
        }
    }

    /** Prompt options: "\\n" typed on a command line stands for a newline. */
    static final class NewlineEscapes implements picocli.CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            return value.replace("\\n", "\n");
        }
    }
}
