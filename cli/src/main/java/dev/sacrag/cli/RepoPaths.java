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

    private RepoPaths() {
    }
}
