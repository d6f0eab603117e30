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
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Stable document ids for inputs that carry none. An id depends only on the input itself (its
 * path below the folder named, or an MRQA context's text) and the tenant, so ingesting the same
 * files again updates the same documents instead of adding copies. Documents of a tenant other
 * than the default get the tenant as prefix ({@code acme:readme}): the documents topic is keyed
 * by doc id alone, so two tenants' {@code README.md} would otherwise be one document, the later
 * replacing the earlier. (':' occurs in neither slugs nor tenant names.)
 */
public final class DocIds {

    private DocIds() {
    }

    /**
     * Text files: the lowercase slug of the path below the root, without extension
     * ({@code Guides/Getting Started.md} gives {@code guides/getting-started}). Files whose slugs
     * collide in one run (e.g. {@code a.md} and {@code a.txt}) all get a short hash appended, so
     * no file silently overwrites another. The hash is of the path below the folder named, not as
     * typed ({@code docs/a.md} vs {@code /abs/docs/a.md}); where two files share that too
     * ({@code README.md} in two folders named), of the folder's own name and that path; where
     * those are equal too, of the absolute path. So a suffix never depends on the working directory.
     * {@code notes} hears of each collision: which files share a slug, the ids they got, and that a
     * document published under the plain id by an earlier run stays until deleted.
     */
    static Map<SourceFile, String> forTextFiles(List<SourceFile> files, String tenant,
                                                java.util.function.Consumer<String> notes) {
        Map<String, List<SourceFile>> bySlug = new LinkedHashMap<>();
        for (SourceFile file : files) {
            bySlug.computeIfAbsent(slug(file.relative()), s -> new ArrayList<>()).add(file);
        }
        Map<SourceFile, String> ids = new HashMap<>();
        bySlug.forEach((slug, sameSlug) -> {
            Map<SourceFile, String> suffixes = collisionSuffixes(sameSlug);
            for (SourceFile file : sameSlug) {
                boolean unique = sameSlug.size() == 1 && !slug.isEmpty();
                String suffix = suffixes.get(file);
                ids.put(file, scoped(tenant, unique ? slug : slug.isEmpty() ? "doc-" + suffix : slug + "-" + suffix));
            }
            if (sameSlug.size() > 1 && !slug.isEmpty()) {
                notes.accept(sameSlug.stream().map(f -> f.display() + " -> " + ids.get(f))
                        .collect(Collectors.joining(", ", "files sharing the id '" + scoped(tenant, slug) + "' get one each: ",
                                "; a document '" + scoped(tenant, slug) + "' published by an earlier run stays until"
                                        + " 'sac delete " + slug + (scoped(tenant, slug).equals(slug) ? "" : " --tenant " + tenant)
                                        + "'")));
            }
        });
        return ids;
    }

    /** Each file's suffix, from the first of its keys (see above) whose suffix no other file in the group shares. */
    private static Map<SourceFile, String> collisionSuffixes(List<SourceFile> sameSlug) {
        List<Function<SourceFile, String>> keys = List.of(
                SourceFile::relative,
                file -> file.rootName() + "/" + file.relative(),
                file -> file.path().toAbsolutePath().normalize().toString());
        Map<SourceFile, String> suffixes = new HashMap<>();
        for (SourceFile file : sameSlug) {
            suffixes.put(file, suffix(keys.get(0).apply(file)));
        }
        for (Function<SourceFile, String> key : keys.subList(1, keys.size())) {
            Map<String, Long> counts = suffixes.values().stream()
                    .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            for (SourceFile file : sameSlug) {
                if (counts.get(suffixes.get(file)) > 1) {
                    suffixes.put(file, suffix(key.apply(file)));
                }
            }
        }
        return suffixes;
    }

    /**
     * Of the NFC form: the same name stored decomposed (macOS writes NFD) or composed (Linux keeps
     * what it is given) gives the same id, as the slug, which is normalised too, already does.
     */
    private static String suffix(String key) {
        return sha256Hex(Normalizer.normalize(key, Normalizer.Form.NFC)).substring(0, 8);
    }

    /** MRQA contexts: the same text gives the same id in every run and every file. */
    static String forContext(String context, String tenant) {
        return scoped(tenant, "mrqa-" + sha256Hex(context).substring(0, 16));
    }

    /**
     * {@code id} as it is for the default tenant, {@code tenant:id} for any other ({@code sac delete
     * --tenant}); an id that already starts with {@code tenant:} (as {@code sac docs list} prints
     * it) is not prefixed twice.
     */
    public static String scoped(String tenant, String id) {
        boolean bare = !DocumentJson.DEFAULT_TENANT.equals(tenant) && !id.startsWith(tenant + ":");
        return bare ? tenant + ":" + id : id;
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
