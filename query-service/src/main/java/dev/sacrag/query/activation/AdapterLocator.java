package dev.sacrag.query.activation;

import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds, on this replica's disk, the adapter and ratio whose model id (a hash of base weights,
 * adapter and ratio) is the one asked for. Looks at the activation's hint (a path, or a folder
 * name under {@code adapters/}), the configured adapter, its sibling folders, and every folder
 * of the model package's {@code adapters/}. Hashes are computed afresh each time, so an adapter
 * copied in after start-up (or while the service ran) is recognised.
 */
public final class AdapterLocator {

    private static final Logger log = LoggerFactory.getLogger(AdapterLocator.class);

    /** An adapter folder and the ratio that give the wanted model id. */
    public record Match(Path adapterDir, int ratio) {
    }

    private final Path baseDir;
    private final Path configuredAdapter;

    public AdapterLocator(Path baseDir, Path configuredAdapter) {
        this.baseDir = baseDir;
        this.configuredAdapter = configuredAdapter;
    }

    public Path baseDir() {
        return baseDir;
    }

    public Optional<Match> find(String modelId, Optional<String> hint) throws IOException {
        String base = Fingerprints.baseModel(baseDir);
        for (Path adapter : candidates(hint)) {
            try {
                Fingerprints.forget(adapter);
                String fingerprint = Fingerprints.adapter(adapter);
                for (int ratio : SacSpec.load(adapter).ratios()) {
                    if (Fingerprints.modelId(base, fingerprint, ratio).equals(modelId)) {
                        return Optional.of(new Match(adapter, ratio));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // a missing file's exception says only its path: name what is wrong
                log.warn("skipping adapter folder {} while looking for model {}: {}", adapter, modelId,
                        e instanceof java.nio.file.NoSuchFileException ? "no such file: " + e.getMessage()
                                : e instanceof java.nio.file.AccessDeniedException ? "permission denied: " + e.getMessage()
                                : e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Adapter folders (with a sac.json) to try, most likely first, each once. */
    List<Path> candidates(Optional<String> hint) throws IOException {
        List<Path> roots = new ArrayList<>();
        roots.add(configuredAdapter.toAbsolutePath().normalize().getParent());
        Path packageAdapters = baseDir.toAbsolutePath().normalize().resolveSibling("adapters");
        roots.add(packageAdapters);
        Set<Path> found = new LinkedHashSet<>();
        if (hint.isPresent() && !hint.get().isBlank()) {
            try {
                add(found, Path.of(hint.get()));
            } catch (InvalidPathException e) {
                log.warn("the activation's adapter hint '{}' is not a path: {}", hint.get(), e.getMessage());
            }
            for (Path root : roots) {
                if (root != null && !hint.get().contains("/")) {
                    add(found, root.resolve(hint.get()));
                }
            }
        }
        add(found, configuredAdapter);
        for (Path root : roots) {
            if (root != null && Files.isDirectory(root)) {
                try (Stream<Path> dirs = Files.list(root)) {
                    dirs.sorted().forEach(d -> add(found, d));
                }
            }
        }
        return List.copyOf(found);
    }

    private static void add(Set<Path> found, Path dir) {
        if (Files.isRegularFile(dir.resolve(SacSpec.FILE))) {
            found.add(dir.toAbsolutePath().normalize());
        }
    }
}
