package dev.sacrag.core.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file through a temporary sibling ({@code NAME.partial}) that is moved over it only
 * once complete, so a reader never sees a half-written model, checkpoint or report: after a
 * crash or a failed write the previous file (or none) is still there, and a failed write
 * leaves no temporary behind. Parent folders are created. The temporary file is forced to disk
 * before the move and the folder after it, so that after a power loss or a kernel crash too the
 * name points at the whole new content or at the old (a file system may otherwise write the
 * rename before the data: an empty checkpoint under the final name).
 */
public final class AtomicFiles {

    /** Writes the whole content to the path it is given (the temporary file). */
    @FunctionalInterface
    public interface Writer {
        void write(Path tmp) throws IOException;
    }

    private AtomicFiles() {
    }

    public static void write(Path file, Writer writer) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        try {
            writer.write(tmp);
            try (FileChannel data = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                data.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            if (parent != null) {
                forceFolder(parent);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Makes the folder's entries (the rename) durable; a platform that cannot open a folder skips it. */
    private static void forceFolder(Path folder) {
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException notOnThisPlatform) {
            // the content is on disk already; only the rename's durability is left to the OS
        }
    }

    /** Deletes a folder and everything in it; nothing when it is not there. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** {@link #write} of a UTF-8 string. */
    public static void writeString(Path file, String content) throws IOException {
        write(file, tmp -> Files.writeString(tmp, content, StandardCharsets.UTF_8));
    }
}
