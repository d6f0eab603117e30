package dev.sacrag.cli;

/**
 * Defaults that name files of this checkout (the demo model, documents and questions, the data
 * folder), as picocli default values resolved against the checkout ({@code -Dsac.home}, which the
 * launcher and the Docker image set), not the working directory: a path the user types is read
 * from the folder the command was run in, as any command-line tool does, while the defaults still
 * find the checkout's files from anywhere. Without {@code sac.home} (tests, embedding) they are
 * relative to the working directory.
 */
final class RepoPaths {
    static final String HOME = "${sys:sac.home:-.}";
    static final String DEMO_MODEL = HOME + "/models/sac-demo";
    static final String DEMO_DOCUMENTS = HOME + "/demo/documents";
    static final String DEMO_QUESTIONS = HOME + "/demo/questions.jsonl";
    static final String DATA = HOME + "/data";
    /** The compressor's local state (RocksDB stores): the checkout's, git-ignored, whatever folder it is run from. */
    static final String STATE_DIR = HOME + "/.sac-cache/compressor-state";

    /**
     * {@code path} as a training run records it in its checkpoint's recipe: relative to the
     * checkout when it lies inside it (as the defaults do, and as checkpoints made before the
     * launcher kept the caller's folder recorded it), else absolute, so a resume from another
     * folder names the same data the same way.
     */
    static String recorded(java.nio.file.Path path) {
        java.nio.file.Path abs = path.toAbsolutePath().normalize();
        String home = System.getProperty("sac.home");
        if (home != null) {
            java.nio.file.Path root = java.nio.file.Path.of(home).toAbsolutePath().normalize();
            if (abs.startsWith(root)) {
                return root.relativize(abs).toString();
            }
        }
        return path.isAbsolute() || home != null ? abs.toString() : path.normalize().toString();
    }

    private RepoPaths() {
    }
}
