package dev.sacrag.core.model;

import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors files of a Hugging Face model folder: {@code model.safetensors}, or the
 * shards listed in {@code model.safetensors.index.json}. Tensors are looked up by checkpoint
 * name and checked against the shape the caller expects.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final List<Safetensors.Reader> readers;
    private final Map<String, Safetensors.Reader> byName = new HashMap<>();

    private Checkpoint(List<Safetensors.Reader> readers) {
        this.readers = readers;
        for (Safetensors.Reader r : readers) {
            for (String name : r.entries().keySet()) {
                byName.put(name, r);
            }
        }
    }

    public static Checkpoint open(Path modelDir) throws IOException {
        Path single = modelDir.resolve(SINGLE_FILE);
        Path index = modelDir.resolve(INDEX_FILE);
        List<Path> files = new ArrayList<>();
        if (Files.exists(index)) {
            var weightMap = JsonParser.parseString(Files.readString(index))
                    .getAsJsonObject().getAsJsonObject("weight_map");
            Set<String> shardNames = new LinkedHashSet<>();
            weightMap.entrySet().forEach(e -> shardNames.add(e.getValue().getAsString()));
            for (String s : shardNames) {
                Path shard = modelDir.resolve(s);
                if (!Files.exists(shard)) {
                    throw new NoSuchFileException(shard.toString(), null, "shard listed in " + INDEX_FILE + " is missing");
                }
                files.add(shard);
            }
        } else if (Files.exists(single)) {
            files.add(single);
        } else {
            throw new NoSuchFileException(modelDir.toString(), null,
                    "no " + SINGLE_FILE + " or " + INDEX_FILE + " in the model folder");
        }
        List<Safetensors.Reader> readers = new ArrayList<>();
        try {
            for (Path f : files) {
                readers.add(Safetensors.open(f));
            }
        } catch (IOException | RuntimeException e) {
            for (Safetensors.Reader r : readers) {   // the shards opened before the bad one
                try {
                    r.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return new Checkpoint(readers);
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** Reads a tensor as f32, failing with both shapes named when it is not {@code expected}. */
    public FloatBuffer read(String name, long... expected) throws IOException {
        Safetensors.Reader r = byName.get(name);
        if (r == null) {
            throw new IOException("checkpoint has no tensor " + name);
        }
        return r.readF32(name, expected, "the config");
    }

    @Override
    public void close() throws IOException {
        for (Safetensors.Reader r : readers) {
            r.close();
        }
    }
}
