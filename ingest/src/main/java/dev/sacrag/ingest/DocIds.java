package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.sacrag.schemas.DocumentJson;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Stable document ids for inputs that carry none. An id depends only on the input itself (its
 * path below the folder named, or an MRQA context's text) and the tenant, so ingesting the same
 * files again updates the same documents instead of adding copies. Documents of a tenant other
 * than the default get the tenant as prefix ({@code acme:readme}): the documents topic is keyed
 * by doc id alone, so two tenants' {@code README.md} would otherwise be one document, the later
 * replacing the earlier. (':' occurs in neither slugs nor tenant names.)
 */
final class DocIds {

    private DocIds() {
    }

    /**
     * Text files: the lowercase slug of the path below the root, without extension
     * ({@code Guides/Getting Started.md} gives {@code guides/getting-started}). Files whose slugs
     * collide in one run (e.g. {@code a.md} and {@code a.txt}) all get a short hash of their
     * display path appended, so no file silently overwrites another.
     */
    static Map<SourceFile, String> forTextFiles(List<SourceFile> files, String tenant) {
        Map<String, List<SourceFile>> bySlug = new LinkedHashMap<>();
        for (SourceFile file : files) {
            bySlug.computeIfAbsent(slug(file.relative()), s -> new ArrayList<>()).add(file);
        }
        Map<SourceFile, String> ids = new HashMap<>();
        bySlug.forEach((slug, sameSlug) -> {
            for (SourceFile file : sameSlug) {
                boolean unique = sameSlug.size() == 1 && !slug.isEmpty();
                // the path below the folder named, not as typed ("docs/a.md" vs "/abs/docs/a.md")
                String suffix = sha256Hex(file.relative()).substring(0, 8);
                ids.put(file, scoped(tenant, unique ? slug : slug.isEmpty() ? "doc-" + suffix : slug + "-" + suffix));
            }
        });
        return ids;
    }

    /** MRQA contexts: the same text gives the same id in every run and every file. */
    static String forContext(String context, String tenant) {
        return scoped(tenant, "mrqa-" + sha256Hex(context).substring(0, 16));
    }

    /** {@code id} as it is for the default tenant, {@code tenant:id} for any other. */
    static String scoped(String tenant, String id) {
        return DocumentJson.DEFAULT_TENANT.equals(tenant) ? id : tenant + ":" + id;
    }

    /** Lowercase ASCII letters and digits per path segment, other runs become '-'. */
    static String slug(String relativePath) {
        String withoutExtension = relativePath.replaceFirst("\\.[^./]*$", "");
        String ascii = Normalizer.normalize(withoutExtension, Normalizer.Form.NFKD).replaceAll("\\p{M}", "");
        List<String> segments = new ArrayList<>();
        for (String segment : ascii.toLowerCase(Locale.ROOT).split("/")) {
            String slug = segment.replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
            if (!slug.isEmpty()) {
                segments.add(slug);
            }
        }
        return String.join("/", segments);
    }

    static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
