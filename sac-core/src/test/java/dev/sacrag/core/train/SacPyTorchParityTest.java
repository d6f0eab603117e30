package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.TestModels;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.AnchorPositions;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU trainer ({@code scripts/gpu/train_sac.py}, PyTorch) and {@link AnchorGraph} compute
 * the same thing. {@code models/sac-demo/parity/sac-pytorch-parity.json} holds the stage-2 loss
 * the script's graph gives the committed adapter (float32, CPU) on three composed documents and
 * four questions at each ratio; the Java graph must give the same loss on the same tokens. An
 * adapter trained by the script is served by the Java engine, so a difference here (chunking,
 * anchor positions, anchor slots, masks, LoRA scale, RoPE offsets, the [LM] position, the loss
 * weighting) would be train/serve skew. The fixture is made for the package's own {@code adapters/sac}
 * (its SHA-256 is in the fixture): every step that changes that adapter rewrites it with the script,
 * which runs on a CPU too (Debian's python3-torch). Until session 16 a copy of the adapter the fixture
 * was made for was kept beside it, since a CPU fine-tune had changed {@code adapters/sac} on a machine
 * without PyTorch; the copy of the wider adapter would have cost the package 9.7 MB.
 */
class SacPyTorchParityTest {

    @Test
    void pytorchTrainerAndJavaGraphGiveTheSameLoss() throws Exception {
        Path pkg = TestModels.demoPackage();
        Path adapterDir = pkg.resolve("adapters/sac");
        JsonObject fx = JsonParser.parseString(Files.readString(pkg.resolve("parity/sac-pytorch-parity.json")))
                .getAsJsonObject();
        assertEquals(fx.get("adapter_sha256").getAsString(), sha256(adapterDir.resolve(SacAdapter.WEIGHTS_FILE)), "the fixture was made for another adapter; "
                + "regenerate it with scripts/gpu/train_sac.py --parity --init models/sac-demo/adapters/sac/sac.safetensors (see models/sac-demo/MODEL_CARD.md)");

        List<long[]> docs = new ArrayList<>();
        for (var d : fx.getAsJsonArray("documents")) {
            docs.add(longs(d.getAsJsonArray()));
        }
        List<long[][]> questions = new ArrayList<>();
        for (var q : fx.getAsJsonArray("questions")) {
            questions.add(new long[][] {longs(q.getAsJsonArray().get(0).getAsJsonArray()),
                    longs(q.getAsJsonArray().get(1).getAsJsonArray())});
        }
        assertTrue(docs.stream().mapToInt(d -> d.length).max().orElseThrow() > 510, "the fixture needs a multi-chunk document");

        try (Transformer base = Transformer.load(pkg.resolve("base"));
             SacAdapter adapter = SacAdapter.load(adapterDir, base.config(), base.manager())) {
            AnchorGraph g = new AnchorGraph(base, adapter.spec(), adapter.lora(), adapter.anchorTable(), adapter.lmToken());
            assertEquals(adapter.spec().ratios().stream().map(String::valueOf).toList(),
                    List.copyOf(fx.getAsJsonObject("ratios").keySet()), "the fixture covers every ratio of the adapter");
            for (Map.Entry<String, com.google.gson.JsonElement> e : fx.getAsJsonObject("ratios").entrySet()) {
                int ratio = Integer.parseInt(e.getKey());
                double expected = e.getValue().getAsJsonObject().get("loss").getAsDouble();
                assertSameLoss(expected, loss(g, docs, questions, ratio), "stage-2 loss at " + ratio + "x");
            }
        }
    }

    /**
     * The same check on tiny seeded models of every architecture the engine runs (an untied
     * Llama, Qwen2 with q/k/v biases, Qwen3 with q/k norms, Llama 3 RoPE scaling), with the
     * causal and no-anchor-embedding variants and LoRA on every linear layer among them, on
     * 16-token chunks so documents span several. The fixtures in
     * {@code src/test/resources/pytorch-parity/} are the script's output for these exact weights
     * (their hashes are checked). To regenerate: run this test with
     * {@code -Dsac.parity.keep=DIR} (it copies each case's base, adapter and input.json to
     * DIR/NAME), then per case {@code python3 scripts/gpu/train_sac.py --base DIR/NAME/base
     * --spec DIR/NAME/adapter/sac.json --init DIR/NAME/adapter/sac.safetensors --parity-input
     * DIR/NAME/input.json --parity sac-core/src/test/resources/pytorch-parity/NAME.json}.
     */
    @Test
    void pytorchTrainerMatchesTheJavaGraphOnEveryArchitecture(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        List<String> qv = List.of("q_proj", "v_proj");
        List<String> all = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        record Case(String name, ModelConfig config, String variant, List<String> targets) { }
        List<Case> cases = List.of(
                new Case("llama-untied", TestModels.tiny(ModelConfig.Architecture.LLAMA), "sac", qv),
                new Case("qwen2-causal", TestModels.tiny(ModelConfig.Architecture.QWEN2), "sac-causal", qv),
                new Case("qwen3-all-targets", TestModels.tiny(ModelConfig.Architecture.QWEN3), "sac", all),
                new Case("llama3-no-anchor-emb", TestModels.tinyLlama3(), "sac-no-anchor-emb", qv));
        String keep = System.getProperty("sac.parity.keep");
        record Prepared(Case k, Path base, Path adapterDir, SacSpec spec, List<long[]> docs, List<long[][]> questions) { }
        List<Prepared> prepared = new ArrayList<>();
        for (Case k : cases) {
            Path dir = tmp.resolve(k.name());
            Path base = TestModels.write(k.config(), dir.resolve("base"), 11);
            SacSpec spec = new SacSpec(SacSpec.FORMAT, k.variant(), List.of(4, 8), 16, "### Context:\n",
                    "\n### Question:\n", "\n### Answer:", !k.variant().equals("sac-causal"),
                    !k.variant().equals("sac-no-anchor-emb"), k.targets(), 4, 8f, AnchorPositions.count(16, 4), 512,
                    Fingerprints.baseModel(base));
            Path adapterDir = dir.resolve("adapter");
            SacAdapter.writeRandom(adapterDir, spec, k.config(), 9);
            java.util.Random rnd = new java.util.Random(5);
            int vocab = k.config().vocabSize();
            List<long[]> docs = List.of(tokens(rnd, 41, vocab), tokens(rnd, 23, vocab), tokens(rnd, 7, vocab));
            List<long[][]> questions = List.of(new long[][] {tokens(rnd, 6, vocab), tokens(rnd, 3, vocab)},
                    new long[][] {tokens(rnd, 9, vocab), tokens(rnd, 2, vocab)});
            if (keep != null) {
                copyTree(dir, Path.of(keep).resolve(k.name()));
                JsonObject input = new JsonObject();
                input.add("documents", new com.google.gson.Gson().toJsonTree(docs));
                input.add("questions", new com.google.gson.Gson().toJsonTree(questions));
                Files.writeString(Path.of(keep).resolve(k.name()).resolve("input.json"), input.toString());
            }
            prepared.add(new Prepared(k, base, adapterDir, spec, docs, questions));
        }
        for (Prepared c : prepared) {
            Case k = c.k();
            Path base = c.base();
            Path adapterDir = c.adapterDir();
            SacSpec spec = c.spec();
            List<long[]> docs = c.docs();
            List<long[][]> questions = c.questions();
            String resource = "/pytorch-parity/" + k.name() + ".json";
            try (var in = SacPyTorchParityTest.class.getResourceAsStream(resource)) {
                assertTrue(in != null, "missing fixture " + resource + ": regenerate it (see this test's javadoc)");
                JsonObject fx = JsonParser.parseString(new String(in.readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject();
                assertEquals(fx.get("base_sha256").getAsString(), sha256(base.resolve("model.safetensors")),
                        k.name() + ": the seeded base is not the one the fixture was made from; regenerate it");
                assertEquals(fx.get("adapter_sha256").getAsString(),
                        sha256(adapterDir.resolve(SacAdapter.WEIGHTS_FILE)), k.name() + ": adapter differs; regenerate");
                assertEquals(new com.google.gson.Gson().toJsonTree(docs), fx.get("documents"), k.name());
                assertEquals(new com.google.gson.Gson().toJsonTree(questions), fx.get("questions"), k.name());
                try (Transformer t = Transformer.load(base);
                     SacAdapter adapter = SacAdapter.load(adapterDir, t.config(), t.manager())) {
                    AnchorGraph g = new AnchorGraph(t, spec, adapter.lora(), adapter.anchorTable(), adapter.lmToken());
                    for (int ratio : spec.ratios()) {
                        double expected = fx.getAsJsonObject("ratios").getAsJsonObject(String.valueOf(ratio))
                                .get("loss").getAsDouble();
                        assertSameLoss(expected, loss(g, docs, questions, ratio), k.name() + " at " + ratio + "x");
                    }
                }
            }
        }
    }

    private static long[] tokens(java.util.Random rnd, int n, int vocab) {
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = 2 + rnd.nextInt(vocab - 2);
        }
        return t;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** SacTrainer's stage-2 loss on these documents and questions (its rows, its forward, its loss). */
    private static double loss(AnchorGraph g, List<long[]> docs, List<long[][]> questions, int ratio) {
        try (NDScope scope = new NDScope()) {
            SacTrainer.QaRows rows = SacTrainer.QaRows.of(questions);
            return SacTrainer.loss(g, docs, rows.inputs(), rows.targets(), rows.weights(), ratio).getFloat();
        }
    }

    /** The one tolerance: 1e-4 of the loss (the two float32 implementations agree to about 1e-6). */
    private static void assertSameLoss(double expected, double ours, String what) {
        assertEquals(expected, ours, 1e-4 * Math.max(1, Math.abs(expected)), what + ": PyTorch " + expected + ", Java " + ours);
    }

    private static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }
}
