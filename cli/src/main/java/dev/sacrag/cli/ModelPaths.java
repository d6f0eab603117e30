package dev.sacrag.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where a model's parts are. {@code --model} names either a Hugging Face style folder
 * (config.json inside) or a model package: {@code base/} plus {@code adapters/<name>/}.
 * Without {@code --adapter}, a package's {@code adapters/sac} is used.
 */
record ModelPaths(Path base, Path adapter) {
    static final String DEFAULT_ADAPTER = "sac";

    static ModelPaths resolve(Path model, Path adapter) throws NoSuchFileException {
        if (!Files.isDirectory(model)) {
            throw new NoSuchFileException(model.toString(), null, "--model must be a model folder");
        }
        Path base = Files.exists(model.resolve("config.json")) ? model : model.resolve("base");
        if (!Files.exists(base.resolve("config.json"))) {
            // the folder is there: "no such file" would send the user looking for it
            throw new IllegalArgumentException("model folder " + model + " is neither a Hugging Face folder (config.json)"
                    + " nor a model package (base/config.json)");
        }
        Path a = adapter != null ? adapter : model.resolve("adapters").resolve(DEFAULT_ADAPTER);
        return new ModelPaths(base, a);
    }

    Path requireAdapter() throws NoSuchFileException {
        if (adapter == null || !Files.isDirectory(adapter)) {
            throw new NoSuchFileException(String.valueOf(adapter), null,
                    "no SAC adapter folder there; pass --adapter DIR");
        }
        if (!Files.exists(adapter.resolve("sac.json"))) {
            throw new IllegalArgumentException("adapter folder " + adapter + " has no sac.json: not a SAC adapter (a"
                    + " half-copied one?); pass --adapter DIR");
        }
        return adapter;
    }

    /**
     * The sub-folders of {@code folder} that hold a sac.json, by name: where a path to an adapter
     * that is none was meant for one of its neighbours, these are what it could have named. Empty
     * when the folder is not there or cannot be listed.
     */
    static List<Path> adaptersIn(Path folder) {
        try (Stream<Path> children = Files.list(folder)) {
            return children.filter(c -> Files.isRegularFile(c.resolve("sac.json"))).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();   // a hint for an error being reported: that error stands without it
        }
    }
}
