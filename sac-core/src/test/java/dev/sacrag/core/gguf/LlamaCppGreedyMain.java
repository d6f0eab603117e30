package dev.sacrag.core.gguf;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.TokenIdPrompt;
import de.kherud.llama.args.CacheType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs llama.cpp (de.kherud:llama) greedily on a GGUF file and prints the result on stdout.
 * Meant for a child JVM only: the binding's native server thread keeps a JVM alive, so this
 * main ends with an explicit exit.
 *
 * <p>Args: gguf path, n_predict, prompt ids "1,2,3", banned ids "4,5" (may be "-"), probe
 * text as UTF-8 hex. Prints {@code GENERATED_HEX <utf-8 hex>} and {@code ENCODED <ids>}
 * (llama.cpp's tokenization of the probe text, special tokens parsed).
 */
public final class LlamaCppGreedyMain {
    static final String GENERATED = "GENERATED_HEX ";
    static final String ENCODED = "ENCODED ";

    public static void main(String[] args) {
        int status = 1;
        try {
            run(args);
            status = 0;
        } catch (Throwable t) {
            t.printStackTrace();
        } finally {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }
    }

    private static void run(String[] args) throws Exception {
        if (args.length != 5) {
            throw new IllegalArgumentException("usage: <gguf> <n_predict> <prompt ids> <banned ids|-> <probe hex>");
        }
        ModelParameters model = new ModelParameters()
                .setModel(args[0])
                .setCtxSize(512)
                .setThreads(1)
                .setThreadsBatch(1)
                .setParallel(1)
                // an F16 KV cache would round K and V where our engine keeps f32
                .setCacheTypeK(CacheType.F32)
                .setCacheTypeV(CacheType.F32);
        InferenceParameters infer = new InferenceParameters("")
                .setNPredict(Integer.parseInt(args[1]))
                .setTemperature(0f)
                .setRepeatPenalty(1f)
                .setFrequencyPenalty(0f)
                .setPresencePenalty(0f)
                .setCachePrompt(false)
                .setSeed(1);
        if (!args[3].equals("-")) {
            infer.disableTokenIds(ids(args[3]));
        }
        TokenIdPrompt.set(infer, ids(args[2]).stream().mapToInt(Integer::intValue).toArray());
        String probe = new String(HexFormat.of().parseHex(args[4]), StandardCharsets.UTF_8);
        try (LlamaModel llama = new LlamaModel(model)) {
            String text = llama.complete(infer);
            System.out.println(GENERATED + HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)));
            System.out.println(ENCODED + Arrays.stream(llama.encode(probe))
                    .mapToObj(Integer::toString).collect(Collectors.joining(",")));
        }
    }

    private static List<Integer> ids(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            out.add(Integer.parseInt(s.trim()));
        }
        return out;
    }

    private LlamaCppGreedyMain() {
    }
}
