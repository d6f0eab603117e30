package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resumable training checkpoint: trainable tensors, optimiser moments and a small state
 * file (step, tokens, elapsed time). The state file is written last, so a checkpoint whose
 * state file exists is complete; writes go through temporary names.
 */
final class Checkpoints {
    static final String WEIGHTS = "weights.safetensors";
    static final String OPTIMIZER = "adamw.safetensors";
    static final String STATE = "state.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /**
     * @param schedule the learning-rate schedule a resumed run must keep (SAC training; null in
     *     the base's checkpoints and in checkpoints written before it was recorded)
     */
    record State(long step, long tokens, double elapsedSeconds, long seed, String stage, String schedule) {
        State(long step, long tokens, double elapsedSeconds, long seed, String stage) {
            this(step, tokens, elapsedSeconds, seed, stage, null);
        }
    }

    static void save(Path dir, Map<String, NDArray> tensors, AdamW optimizer, State state) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve(STATE));
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        tensors.forEach((name, a) -> t.put(name,
                new Safetensors.Tensor(a.toFloatArray(), a.getShape().getShape(), Safetensors.DType.F32)));
        Safetensors.write(dir.resolve(WEIGHTS), t);
        optimizer.save(dir.resolve(OPTIMIZER));
        AtomicFiles.writeString(dir.resolve(STATE), GSON.toJson(state));
    }

    static boolean exists(Path dir) {
        return Files.exists(dir.resolve(STATE));
    }

    static State load(Path dir, Map<String, NDArray> tensors, AdamW optimizer) throws IOException {
        State s = GSON.fromJson(Files.readString(dir.resolve(STATE)), State.class);
        try (Safetensors.Reader r = Safetensors.open(dir.resolve(WEIGHTS))) {
            for (var e : tensors.entrySet()) {
                AdamW.copyInto(e.getValue(), r.readF32(e.getKey()));
            }
        }
        optimizer.load(dir.resolve(OPTIMIZER));
        return s;
    }

    /** Weights only (a checkpoint's or an exported model's), into tensors of the same names. */
    static void loadWeights(Path file, Map<String, NDArray> tensors) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            for (var e : tensors.entrySet()) {
                AdamW.copyInto(e.getValue(), r.readF32(e.getKey()));
            }
        }
    }

    static JsonObject json(Object o) {
        return GSON.toJsonTree(o).getAsJsonObject();
    }

    private Checkpoints() {
    }
}
