package dev.sacrag.ingest;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One input file and how to read it.
 *
 * @param relative path below the root it was found under (or the file name), '/' separated;
 *     text documents take their id from it
 * @param display the path as the user would write it, for messages
 * @param root the folder named that the file was found under, or the folder of a file named
 *     itself; absolute and normalized
 */
record SourceFile(Path path, String relative, String display, SourceFormat format, Path root) {

    SourceFile withFormat(SourceFormat newFormat) {
        return new SourceFile(path, relative, display, newFormat, root);
    }

    boolean gzipped() {
        return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
    }

    /**
     * The document source of what this file holds: its absolute, normalized path (the root it was
     * found under and the path below it), however the user spelled the folder. With the spelling
     * ({@link #display}), the same files ingested again from another directory, or by another path
     * to the folder, would say something new of every document and be published again.
     */
    String source() {
        return root.resolve(relative).normalize().toString();
    }

    /** The root folder's own name ({@code teamA} for {@code ../teamA/}), or "" for a file-system root. */
    String rootName() {
        return root.getFileName() == null ? "" : root.getFileName().toString();
    }
}
