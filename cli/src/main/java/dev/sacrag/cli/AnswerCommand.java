package dev.sacrag.cli;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.sac.SacEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "answer", mixinStandardHelpOptions = true,
        description = "Compress context files with SAC, then answer a question from their anchor KV only (streams tokens).")
final class AnswerCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", required = true, description = "Model folder or model package.")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "SAC adapter folder (default: the package's adapters/sac).")
    Path adapter;

    @Option(names = "--context", paramLabel = "FILE", required = true, arity = "1..*",
            description = "Context text file(s); several are composed in order. The last argument is the question.")
    List<String> contexts;

    @Option(names = "--ratio", paramLabel = "R", description = "Compression ratio (default: the adapter's smallest).")
    Integer ratio;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "48",
            description = "Answer length limit (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Parameters(paramLabel = "QUESTION", index = "0", arity = "0..1", description = "The question.")
    String question;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        UsageChecks.requireAtLeastOne(spec, "--max-new-tokens", maxNewTokens);
        if (ratio != null) {
            UsageChecks.requireAtLeastOne(spec, "--ratio", ratio);
        }
        if (question == null && contexts.size() > 1) {
            question = contexts.remove(contexts.size() - 1); // --context a.txt b.txt "question"
        }
        if (question == null || question.isBlank()) {
            throw new IllegalArgumentException("the question is empty");
        }
        List<String> texts = new ArrayList<>();   // read before the model loads: a typo in a path must not wait for it
        for (String name : contexts) {
            Path p = Path.of(name);
            String text = CompressCommand.readText(p, "--context");
            if (text.isBlank()) {
                throw new IllegalArgumentException(p + " is empty");
            }
            texts.add(text);
        }
        ModelPaths paths = ModelPaths.resolve(model, adapter);
        try (SacEngine engine = SacEngine.load(paths.base(), paths.requireAdapter())) {
            int r = ratio != null ? ratio : engine.adapter().spec().ratios().stream().min(Integer::compare).orElseThrow();
            List<AnchorKv> docs = new ArrayList<>();
            long t0 = System.nanoTime();
            for (String text : texts) {
                docs.add(engine.compress(text, r));
            }
            long compressMs = (System.nanoTime() - t0) / 1_000_000;
            TokenPrinter printer = new TokenPrinter(engine.tokenizer());
            long[] first = {0};
            long t1 = System.nanoTime();
            Generator.Result res = engine.answer(docs, question, engine.greedy(maxNewTokens), tok -> {
                if (first[0] == 0) {
                    first[0] = System.nanoTime();
                }
                printer.accept(tok);
            });
            printer.finish();
            long decodeMs = (System.nanoTime() - t1) / 1_000_000;
            int anchors = docs.stream().mapToInt(AnchorKv::anchorCount).sum();
            int tokens = docs.stream().mapToInt(AnchorKv::tokenCount).sum();
            System.err.printf(Locale.ROOT, "[%d doc(s), %d tokens -> %d anchors at %dx; compress %d ms; "
                            + "first token %d ms; %d tokens in %d ms%s]%n",
                    docs.size(), tokens, anchors, r, compressMs,
                    first[0] == 0 ? -1 : (first[0] - t1) / 1_000_000, res.tokens().length, decodeMs,
                    res.stopped() ? "" : ", stopped at --max-new-tokens");
        }
        return 0;
    }
}
