package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.model.Safetensors;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) with global-norm gradient clipping, written with plain
 * NDArray ops so its state can be saved and restored exactly. DJL never zeroes gradients:
 * {@link #step} does it after each update.
 */
public final class AdamW {
    /** betas, eps and weight decay as in the paper's recipe (0.9, 0.95, wd 0.1), clip norm 2.0. */
    public record Settings(float beta1, float beta2, float eps, float weightDecay, float clipNorm) {
        public static Settings paper() {
            return new Settings(0.9f, 0.95f, 1e-8f, 0.1f, 2.0f);
        }
    }

    private final Map<String, NDArray> params;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final Settings s;
    private final NDManager manager;
    private final java.util.Set<String> noDecay;
    private long step;
    private List<String> lastNonFinite = List.of();

    /** {@code noDecay}: names exempt from weight decay (norms, biases, embeddings of special rows). */
    public AdamW(Map<String, NDArray> params, Settings settings, NDManager manager, java.util.Set<String> noDecay) {
        this.params = params;
        this.s = settings;
        this.manager = manager;
        this.noDecay = noDecay;
        for (var e : params.entrySet()) {
            e.getValue().setRequiresGradient(true);
            m.put(e.getKey(), manager.zeros(e.getValue().getShape()));
            v.put(e.getKey(), manager.zeros(e.getValue().getShape()));
        }
    }

    /**
     * Clips, updates every parameter in place, zeroes the gradients; returns the pre-clip norm.
     * A non-finite gradient (an overflow, or a NaN from one bad example) would poison the
     * moments and every weight for good, so that step is skipped: gradients zeroed, nothing
     * updated, the step count unchanged, and the non-finite norm returned for the caller to report.
     */
    public float step(float lr) {
        try (NDScope scope = new NDScope()) {
            double sq = 0;
            Map<String, NDArray> grads = new LinkedHashMap<>();
            for (var e : params.entrySet()) {
                NDArray g = e.getValue().getGradient();
                grads.put(e.getKey(), g);
                sq += g.square().sum().getFloat();
            }
            float norm = (float) Math.sqrt(sq);
            if (!Float.isFinite(norm)) {
                lastNonFinite = grads.entrySet().stream()
                        .filter(e -> e.getValue().isNaN().any().getBoolean() || e.getValue().isInfinite().any().getBoolean())
                        .map(Map.Entry::getKey).toList();
                grads.values().forEach(g -> g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f)); // 0 * NaN is NaN
                return norm;
            }
            step++;
            float clip = norm > s.clipNorm() ? s.clipNorm() / norm : 1f;
            float bc1 = (float) (1 - StrictMath.pow(s.beta1(), step));
            float bc2 = (float) (1 - StrictMath.pow(s.beta2(), step));
            for (var e : params.entrySet()) {
                String name = e.getKey();
                NDArray p = e.getValue();
                NDArray g = grads.get(name).mul(clip);
                m.get(name).muli(s.beta1()).addi(g.mul(1 - s.beta1()));
                v.get(name).muli(s.beta2()).addi(g.square().mul(1 - s.beta2()));
                NDArray update = m.get(name).div(bc1).div(v.get(name).div(bc2).sqrt().add(s.eps()));
                if (!noDecay.contains(name)) {
                    p.muli(1 - lr * s.weightDecay());
                }
                p.subi(update.mul(lr));
                NDArray raw = grads.get(name);
                raw.subi(raw);
            }
            return norm;
        }
    }

    /**
     * Parameters whose gradient held a NaN or an infinity at the last skipped step (empty when
     * every gradient was finite and only the sum of squares overflowed), to say where it broke.
     */
    public List<String> lastNonFinite() {
        return lastNonFinite;
    }

    /** The last skipped step, in words, for a training log. */
    public String skipReason() {
        return "non-finite gradient norm, update skipped (non-finite in: "
                + (lastNonFinite.isEmpty() ? "none, the sum of squares overflowed" : lastNonFinite) + ")";
    }

    public long steps() {
        return step;
    }

    public List<NDArray> parameters() {
        return List.copyOf(params.values());
    }

    /** Saves the moments and the step count beside the weights. */
    public void save(Path file) throws IOException {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            t.put("m." + name, tensor(m.get(name)));
            t.put("v." + name, tensor(v.get(name)));
        }
        t.put("step", new Safetensors.Tensor(new float[] {step}, new long[] {1}, Safetensors.DType.F32));
        Safetensors.write(file, t);
    }

    public void load(Path file) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            for (String name : params.keySet()) {
                copyInto(m.get(name), r.readF32("m." + name, m.get(name).getShape().getShape(), Checkpoints.TRAINED));
                copyInto(v.get(name), r.readF32("v." + name, v.get(name).getShape().getShape(), Checkpoints.TRAINED));
            }
            step = (long) r.readF32("step").get(0);
        }
    }

    /**
     * Overwrites a tensor's values in place, with arithmetic on its own storage, so the
     * parameter keeps its storage and autograd flags (NDArray.set swaps in a new buffer).
     */
    static void copyInto(NDArray target, FloatBuffer data) {
        float[] a = new float[data.remaining()];
        data.get(a);
        try (NDArray src = target.getManager().create(a, target.getShape())) {
            target.muli(0f).addi(src);
        }
    }

    private static Safetensors.Tensor tensor(NDArray a) {
        return new Safetensors.Tensor(a.toFloatArray(), a.getShape().getShape(), Safetensors.DType.F32);
    }

    public NDManager manager() {
        return manager;
    }
}
