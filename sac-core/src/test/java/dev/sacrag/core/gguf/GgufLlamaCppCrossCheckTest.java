package dev.sacrag.core.gguf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.ModelConfig.Architecture;
import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.text.TextTokenizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An independent check of our forward (RoPE layout, q/k/v bias, llama3 RoPE scaling) and of
 * the GGUF export: llama.cpp, run on the exported file, must continue a prompt greedily with
 * exactly the tokens our engine picks.
 *
 * <p>llama.cpp runs in a child JVM ({@link LlamaCppGreedyMain}): its native server thread would
 * keep the Surefire fork alive. The binding returns only text, and a lone byte of a byte-level
 * token is not valid UTF-8, so both engines choose among the printable-ASCII byte tokens only
 * (llama.cpp through a -inf logit bias on the rest): then text and ids map one to one.
 */
class GgufLlamaCppCrossCheckTest {
    private static final int PROMPT_LENGTH = 72; // with 16 new tokens, well past the llama3 original context (64)
    private static final int NEW_TOKENS = 16;
    private static final float WEIGHT_STD = 0.4f; // peaked logits: greedy ties are then far apart
    /** Text, then a special token's text: llama.cpp parses that as the token (its vocab marks it control). */
    private static final String PROBE_TEXT = "Hé, wörld! 42";
    private static final String PROBE = PROBE_TEXT + "<|eos|>";
    private static final long EOS = 1;
    private static final long CHILD_TIMEOUT_S = 180;

    @TempDir
    Path tmp;

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("llama", shape(Architecture.LLAMA, 10000, null, false), GgufType.F32),
                Arguments.of("qwen2", shape(Architecture.QWEN2, 1000000, null, true), GgufType.F32),
                Arguments.of("llama3-rope-scaling", shape(Architecture.LLAMA, 500000,
                        new ModelConfig.RopeScaling(8, 1, 4, 64), true), GgufType.F32),
                Arguments.of("llama-f16", shape(Architecture.LLAMA, 10000, null, false), GgufType.F16));
    }

    /** 3 layers, hidden 128, 4 heads of 32, 2 kv heads, 320-token vocabulary (61 unused ids). */
    static ModelConfig shape(Architecture arch, double theta, ModelConfig.RopeScaling scaling, boolean tied) {
        return new ModelConfig(arch, 320, 128, 3, 4, 2, 32, 256, theta, scaling, 1e-5, tied, 4096, 0, List.of(1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void llamaCppContinuesThePromptLikeOurEngine(String name, ModelConfig config, GgufType type) throws Exception {
        long start = System.nanoTime();
        Path dir = tmp.resolve(name);
        // an F16 checkpoint makes our weights exactly the F16 values llama.cpp reads
        Safetensors.DType dtype = type == GgufType.F16 ? Safetensors.DType.F16 : Safetensors.DType.F32;
        RandomModelWriter.write(config, dir, new RandomModelWriter.Options(11, WEIGHT_STD, dtype, 1));
        Path gguf = tmp.resolve(name + ".gguf");
        GgufExporter.export(dir, gguf, type);

        long[] prompt = prompt(new Random(5), config.vocabSize());
        boolean[] allowed = printableAsciiTokens(config.vocabSize());
        Greedy ours = greedy(dir, prompt, allowed);
        LlamaCpp theirs = runLlamaCpp(gguf, prompt, allowed);

        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            long[] theirIds = tok.encode(theirs.text());
            assertArrayEquals(ours.ids(), theirIds, name + ": greedy continuations differ\n ours:   "
                    + Arrays.toString(ours.ids()) + "\n llama:  " + Arrays.toString(theirIds)
                    + "\n our top-1 margins: " + Arrays.toString(ours.margins()));
            // our encode keeps a special token's text as text (TextTokenizer), so the token is placed by id here
            long[] expected = java.util.stream.LongStream.concat(Arrays.stream(tok.encode(PROBE_TEXT)),
                    java.util.stream.LongStream.of(EOS)).toArray();
            assertArrayEquals(expected, theirs.probeIds(), name + ": tokenizations of \"" + PROBE + "\" differ");
        }
        System.out.printf("%s: llama.cpp matched %d greedy tokens (min top-1 margin %.3f) in %.1f s%n", name,
                NEW_TOKENS, Arrays.stream(ours.margins()).min().orElse(0), (System.nanoTime() - start) / 1e9);
    }

    private static long[] prompt(Random r, int vocab) {
        long[] p = new long[PROMPT_LENGTH];
        p[0] = 0; // BOS
        for (int i = 1; i < p.length; i++) {
            p[i] = 3 + r.nextInt(vocab - 3);
        }
        return p;
    }

    /** Byte tokens follow the 3 specials in byte order, so byte b is token 3 + b. */
    private static boolean[] printableAsciiTokens(int vocab) {
        boolean[] allowed = new boolean[vocab];
        for (int b = 0x20; b <= 0x7e; b++) {
            allowed[3 + b] = true;
        }
        return allowed;
    }

    record Greedy(long[] ids, double[] margins) { }

    /** Our greedy continuation at positions 0..n-1 (as llama.cpp numbers them), restricted to allowed ids. */
    private static Greedy greedy(Path dir, long[] prompt, boolean[] allowed) throws IOException {
        long[] ids = new long[NEW_TOKENS];
        double[] margins = new double[NEW_TOKENS];
        try (Transformer model = Transformer.load(dir);
             KvCache cache = new KvCache(model.manager(), model.config().layers())) {
            NDManager m = model.manager();
            long[] input = prompt;
            for (int step = 0; step < NEW_TOKENS; step++) {
                int past = cache.length();
                int[] positions = new int[input.length];
                Arrays.setAll(positions, i -> past + i);
                float[] logits;
                try (NDScope scope = new NDScope()) {
                    logits = model.forward(new Transformer.Input(model.embed(new long[][] {input}),
                            new int[][] {positions}, Masks.causal(m, input.length, past), Transformer.Logits.LAST),
                            cache).toFloatArray();
                }
                int best = -1;
                int second = -1;
                for (int v = 0; v < logits.length; v++) {
                    if (!allowed[v]) {
                        continue;
                    }
                    if (best < 0 || logits[v] > logits[best]) {
                        second = best;
                        best = v;
                    } else if (second < 0 || logits[v] > logits[second]) {
                        second = v;
                    }
                }
                ids[step] = best;
                margins[step] = logits[best] - logits[second];
                input = new long[] {best};
            }
        }
        return new Greedy(ids, margins);
    }

    record LlamaCpp(String text, long[] probeIds) { }

    private LlamaCpp runLlamaCpp(Path gguf, long[] prompt, boolean[] allowed) throws Exception {
        List<Integer> banned = new ArrayList<>();
        for (int v = 0; v < allowed.length; v++) {
            if (!allowed[v]) {
                banned.add(v);
            }
        }
        Path libDir = Files.createDirectories(tmp.resolve("llama-lib"));
        Path out = tmp.resolve(gguf.getFileName() + ".out");
        Path err = tmp.resolve(gguf.getFileName() + ".err");
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dde.kherud.llama.tmpdir=" + libDir,
                LlamaCppGreedyMain.class.getName(),
                gguf.toString(),
                Integer.toString(NEW_TOKENS),
                LongStream.of(prompt).mapToObj(Long::toString).collect(Collectors.joining(",")),
                banned.stream().map(Object::toString).collect(Collectors.joining(",")),
                HexFormat.of().formatHex(PROBE.getBytes(StandardCharsets.UTF_8)));
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("llama.cpp child JVM did not finish within " + CHILD_TIMEOUT_S + " s; stderr tail:\n" + tail(err));
        }
        List<String> lines = Files.readAllLines(out);
        String generated = find(lines, LlamaCppGreedyMain.GENERATED);
        String encoded = find(lines, LlamaCppGreedyMain.ENCODED);
        if (p.exitValue() != 0 || generated == null || encoded == null) {
            fail("llama.cpp (de.kherud:llama, test scope in sac-core/pom.xml) could not run " + gguf.getFileName()
                    + ": exit code " + p.exitValue() + ". It needs the de.kherud:llama jar on the test class path and"
                    + " an x86_64 CPU with AVX2 for its bundled native library.\nstdout:\n" + String.join("\n", lines)
                    + "\nstderr tail:\n" + tail(err));
        }
        String text = new String(HexFormat.of().parseHex(generated), StandardCharsets.UTF_8);
        long[] probe = encoded.isEmpty() ? new long[0]
                : Arrays.stream(encoded.split(",")).mapToLong(Long::parseLong).toArray();
        return new LlamaCpp(text, probe);
    }

    private static String find(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()))
                .findFirst().orElse(null);
    }

    private static String tail(Path file) throws IOException {
        List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.ISO_8859_1) : List.of();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
