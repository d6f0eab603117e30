package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The trainable part of SAC on top of a frozen base model: LoRA on the compressor (q/v as the
 * paper, or the targets sac.json names), the anchor embedding table [slots, E] and the [LM]
 * token embedding [E]. Stored as
 * {@code sac.json} + {@code sac.safetensors}; weight names appear only here.
 */
public final class SacAdapter implements AutoCloseable {
    public static final String WEIGHTS_FILE = "sac.safetensors";

    private final SacSpec spec;
    private final LowRank lora;
    private final NDArray anchorTable;
    private final NDArray lmToken;
    private final NDManager manager;
    private final String fingerprint;

    /** {@code manager} owns the tensors and is closed with the adapter; null when the caller owns them. */
    public SacAdapter(SacSpec spec, LowRank lora, NDArray anchorTable, NDArray lmToken, NDManager manager,
                      String fingerprint) {
        this.spec = spec;
        this.lora = lora;
        this.anchorTable = anchorTable;
        this.lmToken = lmToken;
        this.manager = manager;
        this.fingerprint = fingerprint;
    }

    public static SacAdapter load(Path dir, ModelConfig base, NDManager parent) throws IOException {
        SacSpec spec = SacSpec.load(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "adapter folder has no " + WEIGHTS_FILE);
        }
        NDManager m = parent.newSubManager();
        try (Safetensors.Reader r = Safetensors.open(file)) {
            int rank = spec.loraRank();
            int e = base.hiddenSize();
            LowRank lora = LowRank.build(base.layers(), spec.targets(), spec.loraScale(), (i, t) -> new LowRank.Pair(
                    read(r, m, tensorName(i, t) + "lora_A", rank, t.in(base)),
                    read(r, m, tensorName(i, t) + "lora_B", t.out(base), rank)));
            NDArray table = read(r, m, "anchor_embedding", spec.anchorSlots(), e);
            NDArray lm = read(r, m, "lm_token", e);
            return new SacAdapter(spec, lora, table, lm, m, Fingerprints.adapter(dir));
        } catch (IOException | RuntimeException ex) {
            m.close();
            throw ex;
        }
    }

    private static NDArray read(Safetensors.Reader r, NDManager m, String name, long... shape) throws IOException {
        Safetensors.Entry e = r.entries().get(name);
        if (e == null) {
            throw new IOException(r.file() + ": adapter has no tensor " + name);
        }
        return dev.sacrag.core.model.Owned.floats(m, r.readF32(name, shape, "the base model"), new Shape(shape));
    }

    /** Writes sac.json and sac.safetensors (f32). */
    public static void save(Path dir, SacSpec spec, LowRank lora, NDArray anchorTable, NDArray lmToken)
            throws IOException {
        Files.createDirectories(dir);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (int i = 0; i < lora.layers().size(); i++) {
            for (LowRank.Target target : spec.targets()) {
                LowRank.Pair pair = lora.at(i, target);
                if (pair == null) {
                    throw new IllegalArgumentException("sac.json names LoRA target " + target.hfName()
                            + " but layer " + i + " has no factors for it");
                }
                put(t, tensorName(i, target) + "lora_A", pair.a());
                put(t, tensorName(i, target) + "lora_B", pair.b());
            }
        }
        put(t, "anchor_embedding", anchorTable);
        put(t, "lm_token", lmToken);
        Safetensors.write(dir.resolve(WEIGHTS_FILE), t);
        spec.save(dir);
        Fingerprints.forget(dir);
    }

    /** "lora.layers.{i}.{q_proj|...}." (PEFT's names without its model prefix). */
    public static String tensorName(int layer, LowRank.Target target) {
        return "lora.layers." + layer + "." + target.hfName() + ".";
    }

    private static void put(Map<String, Safetensors.Tensor> t, String name, NDArray a) {
        t.put(name, new Safetensors.Tensor(a.toFloatArray(), a.getShape().getShape(), Safetensors.DType.F32));
    }

    /**
     * A seeded random adapter (for tests and speed runs). LoRA A is kaiming-uniform and B is
     * small random instead of the paper's zeros, so the adapter actually changes the compressor;
     * the anchor table and [LM] token are drawn around the word-embedding statistics, as the
     * paper initialises them.
     */
    public static void writeRandom(Path dir, SacSpec spec, ModelConfig base, long seed) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int e = base.hiddenSize();
            int rank = spec.loraRank();
            LowRank lora = LowRank.build(base.layers(), spec.targets(), spec.loraScale(), (i, t) -> new LowRank.Pair(
                    uniform(m, rnd, (float) Math.sqrt(1.0 / t.in(base)), rank, t.in(base)), // kaiming_uniform(a=sqrt(5))
                    uniform(m, rnd, 0.01f, t.out(base), rank)));
            save(dir, spec, lora,
                    uniform(m, rnd, 0.05f, spec.anchorSlots(), e), uniform(m, rnd, 0.05f, e));
        }
    }

    private static NDArray uniform(NDManager m, SplittableRandom rnd, float bound, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-bound, bound);
        }
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            s[i] = shape[i];
        }
        return m.create(v, new Shape(s));
    }

    public SacSpec spec() {
        return spec;
    }

    public LowRank lora() {
        return lora;
    }

    public NDArray anchorTable() {
        return anchorTable;
    }

    public NDArray lmToken() {
        return lmToken;
    }

    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
