package dev.sacrag.core.sac;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Content hashes that make caches of different models never mix: the base model (config and
 * every safetensors file), an adapter (sac.json and sac.safetensors), and the model id of
 * (base, adapter, ratio) that appears in Redis keys and blob headers.
 */
public final class Fingerprints {
    /**
     * Hashes by folder, each with the name, size and modification time of the files it hashed: a
     * file replaced in place (new weights under the same path) is hashed again, so an adapter
     * trained on the old base is not taken for one of the new base, nor its blobs for the new
     * base's, by a process that hashed the old files once.
     */
    private static final Map<Path, Cached> CACHE = new ConcurrentHashMap<>();

    private record Cached(String stamp, String hash) {
    }

    /** SHA-256 (hex) of config.json and the model's *.safetensors files, in name order. */
    public static String baseModel(Path modelDir) throws IOException {
        List<Path> parts;
        try (Stream<Path> files = Files.list(modelDir)) {
            parts = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("config.json") || n.endsWith(".safetensors");
            }).sorted().toList();
        }
        return cached(modelDir, parts);
    }

    /** SHA-256 (hex) of an adapter folder's sac.json and sac.safetensors. */
    public static String adapter(Path adapterDir) throws IOException {
        return cached(adapterDir, List.of(adapterDir.resolve(SacSpec.FILE), adapterDir.resolve(SacAdapter.WEIGHTS_FILE)));
    }

    /** 12 hex digits naming (base weights, adapter, ratio); safe in Redis keys. */
    public static String modelId(String baseFingerprint, String adapterFingerprint, int ratio) {
        MessageDigest md = sha256();
        md.update((baseFingerprint + "|" + adapterFingerprint + "|r" + ratio).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(md.digest()).substring(0, 12);
    }

    private static String cached(Path dir, List<Path> files) throws IOException {
        Path key = dir.toAbsolutePath().normalize();
        StringBuilder stamp = new StringBuilder();
        for (Path f : files) {
            stamp.append(f.getFileName()).append(':').append(Files.size(f)).append(':')
                    .append(Files.getLastModifiedTime(f).toMillis()).append('|');
        }
        Cached hit = CACHE.get(key);
        if (hit != null && hit.stamp().contentEquals(stamp)) {
            return hit.hash();
        }
        String value = hash(files);
        CACHE.put(key, new Cached(stamp.toString(), value));
        return value;
    }

    private static String hash(List<Path> files) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 20];
        for (Path f : files) {
            md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** Forget cached hashes (after files were rewritten in place, e.g. by training). */
    public static void forget(Path dir) {
        CACHE.remove(dir.toAbsolutePath().normalize());
    }

    private Fingerprints() {
    }
}
