package dev.sacrag.cli;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A separate JVM on this test's class path: for programs that must not run inside the test fork
 * (Kafka's console tools call {@code Exit}) or that a test kills without warning.
 */
final class ChildJava {

    /** System properties the launcher and Surefire set and a child needs too (Avro, DJL offline). */
    private static final List<String> PASSED_ON = List.of("org.apache.avro.SERIALIZABLE_PACKAGES", "ai.djl.offline",
            "ai.djl.pytorch.num_threads");

    private ChildJava() {
    }

    static ProcessBuilder of(String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:+UseSerialGC");
        for (String p : PASSED_ON) {
            String v = System.getProperty(p);
            if (v != null) {
                command.add("-D" + p + "=" + v);
            }
        }
        command.add("-cp");
        command.add(classPath());
        command.add(mainClass);
        command.addAll(args);
        return new ProcessBuilder(command);
    }

    /** Surefire runs tests from a manifest-only jar; it names the real class path in this property. */
    static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        if (!cp.contains("kafka-tools")) {
            throw new IllegalStateException("the test class path lacks kafka-tools (org.apache.kafka:kafka-tools, test scope"
                    + " in cli/pom.xml): " + cp.split(File.pathSeparator).length + " entries");
        }
        return cp;
    }
}
