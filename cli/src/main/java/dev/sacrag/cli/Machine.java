package dev.sacrag.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** One line describing where a benchmark ran, printed beside its numbers. */
final class Machine {

    static String describe() {
        String cpu = "unknown CPU";
        long memKb = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            cpu = "unknown CPU (" + e.getMessage() + ")";
        }
        return String.format(Locale.ROOT, "%s, %d cores, %.0f GiB RAM, %s %s, Java %s, torch threads %s",
                cpu, Runtime.getRuntime().availableProcessors(), memKb / 1024.0 / 1024.0,
                System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.version"),
                System.getProperty("ai.djl.pytorch.num_threads", "default"));
    }

    private Machine() {
    }
}
