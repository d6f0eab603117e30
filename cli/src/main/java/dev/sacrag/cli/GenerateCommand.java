package dev.sacrag.cli;

import ai.djl.ndarray.NDScope;
import dev.sacrag.core.model.GenerationOptions;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.text.TextTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with the base model (no SAC), streaming tokens.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Model folder (Hugging Face style) or model package.")
    Path model;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "Stop after this many tokens (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "TEMPERATURE", defaultValue = "0",
            description = "0 = greedy (default); > 0 samples.")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1",
            description = "Nucleus for sampling (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "0",
            description = "Sampling seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Parameters(paramLabel = "PROMPT", index = "0", description = "The prompt text.")
    String prompt;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // usage errors naming the flag, before the model loads
        UsageChecks.requireAtLeastOne(spec, "--max-new-tokens", maxNewTokens);
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--temperature must be 0 or more, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--top-p must be in (0, 1], got " + topP);
        }
        ModelPaths paths = ModelPaths.resolve(model, null);
        try (Transformer m = Transformer.load(paths.base()); TextTokenizer tok = TextTokenizer.load(paths.base());
             KvCache cache = new KvCache(m.manager(), m.config().layers())) {
            long[] body = tok.encode(prompt);
            long[] ids = new long[body.length + 1];
            ids[0] = m.config().bosTokenId();
            System.arraycopy(body, 0, ids, 1, body.length);
            int[] pos = new int[ids.length];
            for (int i = 0; i < pos.length; i++) {
                pos[i] = i;
            }
            Set<Long> stops = new HashSet<>();
            m.config().eosTokenIds().forEach(e -> stops.add((long) e));
            GenerationOptions o = new GenerationOptions(maxNewTokens, temperature, topP, seed, stops);
            TokenPrinter printer = new TokenPrinter(tok);
            System.out.print(prompt);
            try (NDScope scope = new NDScope()) {
                Generator.generate(m, cache, m.embed(new long[][] {ids}), pos, o, printer);
            }
            printer.finish();
        }
        return 0;
    }
}
