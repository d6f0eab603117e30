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
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resumable training checkpoint: trainable tensors, optimiser moments and a small state
 * file (step, tokens, elapsed time, the run's recipe). The state file is written last, so a
 * checkpoint whose state file exists is complete. A new checkpoint is written whole into
 * {@code NAME.partial} and then takes the old one's place ({@code NAME.previous} for the moment
 * between the two renames): a crash while saving leaves the previous checkpoint to resume from.
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
    /**
     * @param recipe what a resumed run must keep the same (seed, data, rates, shape...), by the
     *     flag that sets it; null in checkpoints written before it was recorded
     */
    record State(long step, long tokens, double elapsedSeconds, long seed, String stage, String schedule,
                 Map<String, String> recipe) {
        State(long step, long tokens, double elapsedSeconds, long seed, String stage) {
            this(step, tokens, elapsedSeconds, seed, stage, null, null);
        }
    }

    static void save(Path dir, Map<String, NDArray> tensors, AdamW optimizer, State state) throws IOException {
        recover(dir);   // a save cut short must not lose the checkpoint it was replacing
        Path partial = sibling(dir, ".partial");
        Path previous = sibling(dir, ".previous");
        AtomicFiles.deleteTree(partial);
        Files.createDirectories(partial);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        tensors.forEach((name, a) -> t.put(name,
                new Safetensors.Tensor(a.toFloatArray(), a.getShape().getShape(), Safetensors.DType.F32)));
        Safetensors.write(partial.resolve(WEIGHTS), t);
        optimizer.save(partial.resolve(OPTIMIZER));
        AtomicFiles.writeString(partial.resolve(STATE), GSON.toJson(state));
        AtomicFiles.deleteTree(previous);
        if (Files.exists(dir)) {
            Files.move(dir, previous, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.deleteTree(previous);
    }

    /** Whether a complete checkpoint is there (after {@link #recover}ing one a crash left beside it). */
    static boolean exists(Path dir) throws IOException {
        recover(dir);
        return Files.exists(dir.resolve(STATE));
    }

    /**
     * After a crash in {@link #save}: {@code dir} holds no complete checkpoint, but the new one
     * ({@code .partial}, complete once its state file is there) or the one being replaced
     * ({@code .previous}) is whole beside it. The newest whole one becomes {@code dir} again.
     */
    static void recover(Path dir) throws IOException {
        if (Files.exists(dir.resolve(STATE))) {
            return;
        }
        Path partial = sibling(dir, ".partial");
        Path previous = sibling(dir, ".previous");
        Path whole = Files.exists(partial.resolve(STATE)) ? partial : Files.exists(previous.resolve(STATE)) ? previous : null;
        if (whole == null) {
            return;
        }
        AtomicFiles.deleteTree(dir);
        Files.move(whole, dir, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.deleteTree(partial);
        AtomicFiles.deleteTree(previous);
    }


    private static Path sibling(Path dir, String suffix) {
        return dir.resolveSibling(dir.getFileName() + suffix);
    }

    /** The checkpoint's state file alone (no tensors read). */
    static State state(Path dir) throws IOException {
        if (!exists(dir)) {
            throw new java.nio.file.NoSuchFileException(dir.resolve(STATE).toString(), null, "no complete checkpoint");
        }
        return GSON.fromJson(Files.readString(dir.resolve(STATE)), State.class);
    }

    /**
     * Refuses a resume whose recipe differs from the checkpoint's, naming each difference: a
     * resume with another seed, data or rate would go on as if it were the same run (and record
     * itself as that run), while its first steps were another's.
     *
     * @param elsewhere how to train it anyway, e.g. "train into another --name"
     */
    static void requireSameRecipe(Path dir, State saved, Map<String, String> now, String elsewhere) {
        if (saved.recipe() == null) {
            return;
        }
        List<String> differences = new ArrayList<>();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(saved.recipe().keySet());
        keys.addAll(now.keySet());
        for (String k : keys) {
            String was = saved.recipe().get(k);
            String is = now.get(k);
            if (!java.util.Objects.equals(was, is)) {
                differences.add(k + " " + was + " (now " + is + ")");
            }
        }
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException(dir + " was trained with " + String.join(", ", differences)
                    + ": a resume continues that run, so give the same flags, or " + elsewhere);
        }
    }

    static State load(Path dir, Map<String, NDArray> tensors, AdamW optimizer) throws IOException {
        State s = state(dir);   // recovered, if a crash left it beside dir
        try (Safetensors.Reader r = Safetensors.open(dir.resolve(WEIGHTS))) {
            for (var e : tensors.entrySet()) {
                AdamW.copyInto(e.getValue(), r.readF32(e.getKey(), e.getValue().getShape().getShape(), TRAINED));
            }
        }
        optimizer.load(dir.resolve(OPTIMIZER));
        return s;
    }

    /** Weights only (a checkpoint's or an exported model's), into tensors of the same names. */
    static void loadWeights(Path file, Map<String, NDArray> tensors) throws IOException {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            for (var e : tensors.entrySet()) {
                AdamW.copyInto(e.getValue(), r.readF32(e.getKey(), e.getValue().getShape().getShape(), TRAINED));
            }
        }
    }

    /** What implies a trained tensor's shape, as a shape mismatch names it. */
    static final String TRAINED = "the model being trained (its --hidden, --intermediate, --layers and --vocab)";

    static JsonObject json(Object o) {
        return GSON.toJsonTree(o).getAsJsonObject();
    }

    private Checkpoints() {
    }
}
