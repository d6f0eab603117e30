package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.SacAdapter;
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
 * weighting) would be train/serve skew.
 */
class SacPyTorchParityTest {

    @Test
    void pytorchTrainerAndJavaGraphGiveTheSameLoss() throws Exception {
        Path pkg = demoPackage();
        Path adapterDir = pkg.resolve("adapters/sac");
        JsonObject fx = JsonParser.parseString(Files.readString(pkg.resolve("parity/sac-pytorch-parity.json")))
                .getAsJsonObject();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(adapterDir.resolve(SacAdapter.WEIGHTS_FILE))));
        assertEquals(fx.get("adapter_sha256").getAsString(), sha, "the fixture was made for another adapter; "
                + "regenerate it with scripts/gpu/train_sac.py --parity (see models/sac-demo/MODEL_CARD.md)");

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
            for (Map.Entry<String, com.google.gson.JsonElement> e : fx.getAsJsonObject("ratios").entrySet()) {
                int ratio = Integer.parseInt(e.getKey());
                double expected = e.getValue().getAsJsonObject().get("loss").getAsDouble();
                double ours = loss(g, docs, questions, ratio);
                assertEquals(expected, ours, 2e-4, "stage-2 loss at " + ratio + "x: PyTorch " + expected + ", Java " + ours);
            }
        }
    }

    /** SacTrainer's stage-2 loss: its rows ([LM] + prompt + answer, scored on the answer and EOS), its loss. */
    private static double loss(AnchorGraph g, List<long[]> docs, List<long[][]> questions, int ratio) {
        try (NDScope scope = new NDScope()) {
            List<NDArray[][]> kv = new ArrayList<>();
            List<Integer> lengths = new ArrayList<>();
            for (long[] d : docs) {
                kv.add(g.compress(d, ratio));
                lengths.add(d.length);
            }
            SacTrainer.QaRows rows = SacTrainer.QaRows.of(questions);
            NDArray logits = g.decodeBatch(g.compose(kv, lengths), rows.inputs());
            return Losses.crossEntropy(logits, rows.targets(), rows.weights()).getFloat();
        }
    }

    /** models/sac-demo, from the module folder Maven runs tests in or from the repository root. */
    private static Path demoPackage() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("models/sac-demo/parity/sac-pytorch-parity.json"))) {
                return p.resolve("models/sac-demo");
            }
        }
        throw new IllegalStateException("models/sac-demo/parity/sac-pytorch-parity.json not found above "
                + Path.of("").toAbsolutePath());
    }

    private static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }
}
