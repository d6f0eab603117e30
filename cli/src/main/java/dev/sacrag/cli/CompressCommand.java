package dev.sacrag.cli;

import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.sac.SacEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Compress a text file into SAC anchor KV and report its size per dtype.")
final class CompressCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "Model folder or model package.")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "SAC adapter folder (default: the package's adapters/sac).")
    Path adapter;

    @Option(names = "--ratio", paramLabel = "R", description = "Compression ratio (default: the adapter's smallest).")
    Integer ratio;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the anchor-KV blob here.")
    Path out;

    @Option(names = "--dtype", paramLabel = "f32|f16|int8", defaultValue = "f16",
            description = "Blob dtype for --out: f32, f16, int8 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Parameters(paramLabel = "FILE", index = "0", description = "UTF-8 text file to compress.")
    Path file;

    @Override
    public Integer call() throws Exception {
        KvDtype type = parseDtype(spec, "--dtype", dtype);
        String text = readText(file, "FILE");
        if (text.isBlank()) {
            throw new IllegalArgumentException(file + " is empty: nothing to compress");
        }
        ModelPaths paths = ModelPaths.resolve(model, adapter);
        try (SacEngine engine = SacEngine.load(paths.base(), paths.requireAdapter())) {
            int r = ratio != null ? ratio : engine.adapter().spec().ratios().stream().min(Integer::compare).orElseThrow();
            long t0 = System.nanoTime();
            AnchorKv kv = engine.compress(text, r);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf(Locale.ROOT, "file        %s%n", file);
            System.out.printf(Locale.ROOT, "model id    %s (ratio %dx, adapter %s)%n", kv.modelId(), r,
                    engine.adapter().spec().variant());
            System.out.printf(Locale.ROOT, "tokens      %d (incl. BOS and context prompt), %d chunk(s)%n",
                    kv.tokenCount(), kv.chunkAnchors().length);
            if (kv.tokenCount() > engine.config().maxPositions()) {
                System.err.printf(Locale.ROOT, "compress: warning: %d tokens is past the model's %d positions: the"
                        + " compressor dead-letters such a document (--max-doc-tokens) and the query service cannot"
                        + " compose it%n", kv.tokenCount(), engine.config().maxPositions());
            }
            System.out.printf(Locale.ROOT, "anchors     %d (%.2fx fewer KV entries)%n", kv.anchorCount(),
                    kv.tokenCount() / (double) kv.anchorCount());
            System.out.printf(Locale.ROOT, "compressed  in %d ms (%.0f tokens/s)%n", ms, kv.tokenCount() * 1000.0 / Math.max(1, ms));
            System.out.println("bytes       dtype   anchor blob    full KV (same dtype)");
            for (KvDtype d : KvDtype.values()) {
                long blob = AnchorKvCodec.encodedSize(kv.layers(), kv.kvHeads(), kv.headDim(), kv.anchorCount(),
                        kv.chunkAnchors().length, kv.modelId().length(), d);
                long full = AnchorKvCodec.encodedSize(kv.layers(), kv.kvHeads(), kv.headDim(), kv.tokenCount(),
                        1, kv.modelId().length(), d);
                System.out.printf(Locale.ROOT, "            %-15s %12d %12d%n", d.name().toLowerCase(Locale.ROOT), blob, full);
            }
            if (out != null) {
                byte[] blob = AnchorKvCodec.encode(kv, type);
                AtomicFiles.write(out, tmp -> Files.write(tmp, blob));
                System.out.println("wrote       " + out + " (" + Files.size(out) + " bytes, " + dtype + ")");
            }
        }
        return 0;
    }

    /** The layout {@code flag} names for new blobs; a bad value is an error naming the flag. */
    static KvDtype parseDtype(String flag, String value) {
        try {
            return KvDtype.forNewBlobs(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage(), e);
        }
    }

    /** As {@link #parseDtype(String, String)}, a bad value being a usage error (exit 2) of the command. */
    static KvDtype parseDtype(picocli.CommandLine.Model.CommandSpec spec, String flag, String value) {
        try {
            return parseDtype(flag, value);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /**
     * A UTF-8 text file, or an error naming it and the argument it came from: "Input length = 1"
     * (bytes that are not UTF-8) and "Is a directory" named neither.
     */
    static String readText(Path file, String argument) throws java.io.IOException {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(argument + " " + file + ": a folder, not a text file");
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException(argument + " " + file + ": not UTF-8 text (" + e.getMessage() + ")");
        }
    }
}
