package dev.sacrag.core.sac;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.LowRank;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code sac.json} of a trained SAC adapter: everything model-specific about compression
 * (chunk size, prompt strings, LoRA targets and rank, ratios, ablation switches) lives here,
 * never in code.
 *
 * @param variant           "sac", or an ablation: "sac-causal", "sac-no-anchor-emb"; or the experiment
 *                          "sac-names" (trained with every token of a capitalised word an anchor too,
 *                          {@link CapitalisedWords}: fewer context tokens per anchor than the ratio, names
 *                          kept; {@code SacEngine.compressTokens} places them)
 * @param bidirectional     compressor attention inside a chunk (false = causal ablation)
 * @param anchorEmbedding   whether the anchor embedding table is added at layer 0
 * @param anchorSlots       rows of the anchor table: the most uniform anchors one chunk can have (an anchor
 *                          the names experiment adds takes a uniform one's row, {@link AnchorPositions#slotOf})
 * @param maxComposedTokens largest composed context (sum of document lengths) trained on
 * @param baseModel         fingerprint of the base weights the adapter was trained on
 */
public record SacSpec(
        int format,
        String variant,
        List<Integer> ratios,
        int chunkSize,
        String contextPrompt,
        String questionPrompt,
        String answerPrompt,
        boolean bidirectional,
        boolean anchorEmbedding,
        List<String> loraTargets,
        int loraRank,
        float loraAlpha,
        int anchorSlots,
        int maxComposedTokens,
        String baseModel) {

    public static final String FILE = "sac.json";
    public static final int FORMAT = 1;

    public SacSpec {
        ratios = List.copyOf(ratios);
        loraTargets = List.copyOf(loraTargets);
        if (ratios.isEmpty() || ratios.stream().anyMatch(r -> r < 1)) {
            throw new IllegalArgumentException("sac.json: ratios must be >= 1, got " + ratios);
        }
        if (chunkSize < 1 || loraRank < 1) {
            throw new IllegalArgumentException("sac.json: chunkSize and loraRank must be >= 1");
        }
        if (loraTargets.isEmpty() || loraTargets.stream().distinct().count() != loraTargets.size()) {
            throw new IllegalArgumentException("sac.json: loraTargets must name each projection once, got " + loraTargets);
        }
        loraTargets.forEach(LowRank.Target::of); // unknown names fail here, listing the known ones
        int needed = AnchorPositions.count(chunkSize, ratios.stream().mapToInt(Integer::intValue).min().orElseThrow());
        if (anchorSlots < needed) {
            throw new IllegalArgumentException("sac.json: anchorSlots " + anchorSlots + " < " + needed
                    + " anchors of a full chunk at the smallest ratio");
        }
    }

    /** The paper's defaults (chunk 510, prompts of the released code), for a new adapter. */
    public static SacSpec paperDefaults(String variant, List<Integer> ratios, int rank, String baseModel) {
        int minRatio = ratios.stream().mapToInt(Integer::intValue).min().orElseThrow();
        return new SacSpec(FORMAT, variant, ratios, 510, "### Context:\n", "\n### Question:\n", "\n### Answer:\n",
                !variant.equals("sac-causal"), !variant.equals("sac-no-anchor-emb"), List.of("q_proj", "v_proj"),
                rank, 2f * rank, AnchorPositions.count(510, minRatio), 2048, baseModel);
    }

    /** LoRA scale alpha / rank (paper: 2). */
    public float loraScale() {
        return loraAlpha / loraRank;
    }

    /** What the compressor reads before a context: {@code bos} and the context prompt's tokens under {@code tok}. */
    public long[] contextPrefix(dev.sacrag.core.text.TextTokenizer tok, long bos) {
        long[] prompt = tok.encode(contextPrompt);
        long[] prefix = new long[1 + prompt.length];
        prefix[0] = bos;
        System.arraycopy(prompt, 0, prefix, 1, prompt.length);
        return prefix;
    }

    /** Where the context starts in the compressor's input: the length of {@link #contextPrefix}. */
    public int contextStart(dev.sacrag.core.text.TextTokenizer tok) {
        return contextPrefix(tok, 0).length;
    }

    /** The variant of the EXPERIMENT that keeps capitalised words' tokens as anchors ({@link CapitalisedWords}). */
    public static final String NAMES_VARIANT = "sac-names";

    /**
     * Whether this adapter was trained with capitalised words' tokens as anchors beside the uniform ones
     * ({@link #NAMES_VARIANT}): its documents are compressed that way ({@code SacEngine.compressTokens}).
     */
    public boolean keepsCapitalisedWords() {
        return NAMES_VARIANT.equals(variant);
    }

    public boolean supports(int ratio) {
        return ratios.contains(ratio);
    }

    /** The same spec with another answer prompt (the one the base model was trained with). */
    public SacSpec withAnswerPrompt(String prompt) {
        return new SacSpec(format, variant, ratios, chunkSize, contextPrompt, questionPrompt, prompt,
                bidirectional, anchorEmbedding, loraTargets, loraRank, loraAlpha, anchorSlots, maxComposedTokens,
                baseModel);
    }

    /**
     * The same spec with LoRA on other projections. The paper's are q_proj and v_proj; a small
     * base may need more (every linear layer) for the compressor to learn in a short budget.
     * Serving merges the deltas into a copy of each targeted weight, so every-linear LoRA costs
     * the compressor a second copy of the layer weights (q/v only: about a tenth of them).
     * The last layer's q, o and MLP never reach the anchor K/V, so their factors stay at zero.
     */
    public SacSpec withLoraTargets(List<String> targets) {
        return new SacSpec(format, variant, ratios, chunkSize, contextPrompt, questionPrompt, answerPrompt,
                bidirectional, anchorEmbedding, targets, loraRank, loraAlpha, anchorSlots, maxComposedTokens,
                baseModel);
    }

    /** {@link #loraTargets()} as engine targets, in the order given. */
    public List<LowRank.Target> targets() {
        return loraTargets.stream().map(LowRank.Target::of).toList();
    }

    public SacSpec withBaseModel(String fingerprint) {
        return new SacSpec(format, variant, ratios, chunkSize, contextPrompt, questionPrompt, answerPrompt,
                bidirectional, anchorEmbedding, loraTargets, loraRank, loraAlpha, anchorSlots, maxComposedTokens,
                fingerprint);
    }

    public static SacSpec load(Path adapterDir) throws IOException {
        Path file = adapterDir.resolve(FILE);
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "adapter folder has no " + FILE);
        }
        try {
            SacSpec s = GSON.fromJson(Files.readString(file), SacSpec.class);
            if (s == null || s.format() != FORMAT) {
                throw new IOException(file + ": unsupported format " + (s == null ? "?" : s.format())
                        + " (this build reads format " + FORMAT + ")");
            }
            return s;
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IOException(file + ": invalid adapter spec: " + root.getMessage(), e);
        }
    }

    public void save(Path adapterDir) throws IOException {
        Files.createDirectories(adapterDir);
        saveAs(adapterDir.resolve(FILE));
    }

    /** Writes this spec to {@code file} (e.g. beside exported training examples). */
    public void saveAs(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        AtomicFiles.writeString(file, GSON.toJson(this));
    }

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
}
