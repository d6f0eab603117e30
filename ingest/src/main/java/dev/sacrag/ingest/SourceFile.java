package dev.sacrag.ingest;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One input file and how to read it.
 *
 * @param relative path below the root it was found under (or the file name), '/' separated;
 *     text documents take their id from it
 * @param display the path as the user would write it, for messages and the document source
 */
record SourceFile(Path path, String relative, String display, SourceFormat format) {

    boolean gzipped() {
        return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
    }
}
