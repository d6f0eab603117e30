package dev.sacrag.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "demo", description = "Run the whole pipeline (Kafka, compressor, Redis, query service) on the embedded stack.")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("demo: not yet available — the streaming pipeline (Kafka -> compressor -> Redis -> "
                + "query service) is still being built. The engine works today: see './sac --help' "
                + "(generate, compress, answer, model, bench).");
        return 2;
    }
}
