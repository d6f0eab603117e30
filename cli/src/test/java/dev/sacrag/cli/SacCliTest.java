package dev.sacrag.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.List;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacCliTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) { }

    static Run run(String... args) {
        CommandLine cl = Sac.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /**
     * The launcher runs the JVM in the caller's folder, so typed paths are read from there, and
     * sets sac.home to the checkout, which the defaults that name its files resolve against.
     */
    @Test
    void defaultsNamingTheCheckoutsFilesResolveAgainstSacHome() {
        String before = System.getProperty("sac.home");
        System.setProperty("sac.home", "/opt/sac-checkout");
        try {
            DemoCommand demo = new DemoCommand();
            new picocli.CommandLine(demo).parseArgs();
            assertEquals(java.nio.file.Path.of("/opt/sac-checkout/models/sac-demo"), demo.model);
            assertEquals(java.nio.file.Path.of("/opt/sac-checkout/demo/documents"), demo.documents);
            DemoCommand typed = new DemoCommand();
            new picocli.CommandLine(typed).parseArgs("--documents", "mydocs");
            assertEquals(java.nio.file.Path.of("mydocs"), typed.documents, "a typed path stays the caller's");
            // a training run records its data as the checkout's when it is there: a resume from another folder matches
            assertEquals("data", RepoPaths.recorded(java.nio.file.Path.of("/opt/sac-checkout/data")));
            assertEquals("/srv/corpus", RepoPaths.recorded(java.nio.file.Path.of("/srv/corpus/.")));
        } finally {
            if (before == null) {
                System.clearProperty("sac.home");
            } else {
                System.setProperty("sac.home", before);
            }
        }
    }

    @Test
    void dataBuildRefusesAnUnknownNameStyleBeforeWritingAnything() {
        Run r = run("data", "build", "--names", "wordz", "--out", tmp.resolve("data").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--names 'wordz' is not one of syllables, words, mixed"), r.err());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("data")), "nothing written");
        assertTrue(run("data", "build", "--help").out().contains("--names=syllables|words|mixed"), "--help shows the choice");
    }

    @Test
    void aDataBuildThatFailsLeavesTheEarlierBuildsFilesAsTheyWere() throws Exception {
        Path data = java.nio.file.Files.createDirectories(tmp.resolve("built"));
        java.nio.file.Files.writeString(data.resolve("synthetic-train.jsonl"), "the earlier build's\n");
        Run r = run("data", "build", "--out", data.toString(), "--brown", tmp.resolve("no-brown").toString(),
                "--train", "2", "--dev", "1", "--test", "1", "--short-train", "0");
        assertTrue(r.code() != 0, r.out() + r.err());
        assertEquals("the earlier build's\n", java.nio.file.Files.readString(data.resolve("synthetic-train.jsonl")),
                "the corpora are read before anything is written");
        assertFalse(java.nio.file.Files.exists(data.resolve("synthetic-dev.jsonl")));
        assertFalse(java.nio.file.Files.exists(data.resolve(".partial")));
    }

    @Test
    void dataBuildRefusesACountOutOfRangeAsAUsageErrorBeforeReadingTheCorpora() {
        Path data = tmp.resolve("data");
        String[][] cases = {
            {"--train=-1", "--train must be >= 1, got -1"},
            {"--dev=0", "--dev must be >= 1, got 0"},
            {"--test=-5", "--test must be >= 1, got -5"},
            {"--short-train=-1", "--short-train must be >= 0, got -1"},
            {"--train-questions=0", "--train-questions must be >= 1, got 0"},
        };
        for (String[] c : cases) {
            // no corpora here either: the count is refused before they are looked for
            Run r = run("data", "build", "--out", data.toString(), "--brown", tmp.resolve("no-brown").toString(), c[0]);
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().contains(c[1]), r.err());
        }
        assertFalse(java.nio.file.Files.exists(data), "nothing written");
    }

    @Test
    void compressorRefusesABlankMetricsAddressNamingTheFlag() {
        Run r = run("compressor", "--model", Path.of("..", "models", "sac-demo").toString(), "--metrics-bind", " ",
                "--state-dir", tmp.resolve("state").toString());
        assertEquals(2, r.code(), "a usage error, as every invalid flag value: " + r.err());
        assertTrue(r.err().contains("--metrics-bind must be an address to listen on"), r.err());
        assertTrue(run("compressor", "--help").out().contains("SAC_COMPRESSOR_METRICS_BIND"), "--help names the variable");
    }

    @Test
    void compressorRefusesNoFailuresBeforeARecordIsSetAsideNamingTheFlag() {
        Run r = run("compressor", "--model", Path.of("..", "models", "sac-demo").toString(), "--max-record-failures", "0",
                "--state-dir", tmp.resolve("state").toString());
        assertEquals(2, r.code(), "a usage error, as every invalid flag value: " + r.err());
        assertTrue(r.err().contains("--max-record-failures must be >= 1, got 0"), r.err());
        assertTrue(run("compressor", "--help").out().contains("SAC_MAX_RECORD_FAILURES"), "--help names the variable");
    }

    @Test
    void helpListsEveryCommandWithADescription() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String c : new String[] {"demo", "generate", "compress", "answer", "model", "bench", "test"}) {
            assertTrue(r.out().contains("  " + c + " "), "--help should list " + c + ":\n" + r.out());
        }
    }

    /** The top-level list shows each command's first description line only: it must say what the command does. */
    @Test
    void everyCommandsFirstDescriptionLineStandsAlone() {
        picocli.CommandLine root = Sac.commandLine();
        java.util.List<String> cut = new java.util.ArrayList<>();
        java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(root.getSubcommands().values());
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            String[] d = c.getCommandSpec().usageMessage().description();
            if (d.length == 0 || d[0].strip().endsWith(":")) {
                cut.add(c.getCommandSpec().qualifiedName() + ": " + (d.length == 0 ? "(none)" : d[0]));
            }
            todo.addAll(c.getSubcommands().values());
        }
        assertEquals(java.util.List.of(), cut);
    }

    @Test
    void oneShotCommandsDropGrpcClientWarningsAndThoseRunningAServerKeepThem() {
        assertTrue(Sac.quietsGrpcLog(new String[] {"ask", "q"}));
        assertTrue(Sac.quietsGrpcLog(new String[] {"warm", "--docs", "a"}));
        for (String serving : List.of("query-service", "compressor", "demo", "bench")) {
            assertFalse(Sac.quietsGrpcLog(new String[] {serving}), serving + " runs a server: its warnings stay");
        }
        java.util.logging.Logger grpc = java.util.logging.Logger.getLogger("io.grpc");
        java.util.logging.Level before = grpc.getLevel();
        try {
            Sac.quietGrpcClientLog();
            java.util.logging.Logger channel = java.util.logging.Logger.getLogger("io.grpc.internal.ManagedChannelImpl");
            assertFalse(channel.isLoggable(java.util.logging.Level.WARNING),
                    "a name that does not resolve: 'sac ask' says so in one line, without gRPC's stack trace before it");
            assertTrue(channel.isLoggable(java.util.logging.Level.SEVERE));
        } finally {
            grpc.setLevel(before);   // this JVM runs servers in other tests
        }
    }

    @Test
    void docsRefusedWithNoBrokerFailsWithinItsTimeout() {
        long t0 = System.nanoTime();
        Run r = run("docs", "refused", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "2s");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("no broker at 127.0.0.1:1 answered about topic sac.documents.dlq within 2s"), r.err());
        assertTrue(seconds < 20, "not TopicScan's 30 s: " + seconds + " s");
        Run list = run("docs", "list", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "2s");
        assertEquals(1, list.code(), list.err());
        assertTrue(list.err().contains("no broker at 127.0.0.1:1 answered about topic sac.anchor-caches within 2s"), list.err());
    }

    /** Nothing listens at 127.0.0.1:1: a broker's answer is waited for --timeout (at most 30 s), where it took 30 s. */
    @Test
    void docsSweepWithNoBrokerFailsWithinItsTimeout() {
        try (dev.sacrag.stack.RedisServer redis = dev.sacrag.stack.RedisServer.launch()) {   // the sweep connects to Redis first
            PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.documents within 2s",
                    List.of("docs", "sweep", "--dry-run"), "--bootstrap-servers", "127.0.0.1:1", "--timeout", "2s",
                    "--redis", redis.url());
        }
    }

    @Test
    void aQueryServiceSettingOutOfRangeIsAUsageError() {
        Run r = run("query-service", "--port", "-1");
        assertEquals(2, r.code(), "a usage error, before anything starts: " + r.err());
        assertTrue(r.err().contains("--port (SAC_QUERY_PORT)") && r.err().contains("Run 'sac query-service --help'"), r.err());
    }

    @Test
    void everySubcommandPrintsTheVersion() {
        assertEquals("sac 0.1.0", run("ingest", "-V").out().strip());
        assertEquals("sac 0.1.0", run("docs", "list", "-V").out().strip());
    }

    @Test
    void oneShotCommandsDropKafkasReconnectWarningsAndTheServicesKeepThem() {
        assertEquals("error", Sac.logLevelsFor(new String[] {"warm", "--rebuild"}).get(Sac.KAFKA_NETWORK_LOG_LEVEL));
        assertEquals("error", Sac.logLevelsFor(new String[0]).get(Sac.KAFKA_NETWORK_LOG_LEVEL));
        for (String service : new String[] {"compressor", "query-service"}) {
            java.util.Map<String, String> levels = Sac.logLevelsFor(new String[] {service});
            assertEquals(null, levels.get(Sac.KAFKA_NETWORK_LOG_LEVEL), service);
            assertEquals("info", levels.get(Sac.PROJECT_LOG_LEVEL), service);
        }
    }

    /** The compressor's --metrics-port reads as the query service's: 0 = any free port, 'off' = none. */
    @Test
    void theCompressorsMetricsPortIsAPortZeroForAnyOrOff() {
        CompressorCommand.MetricsPort port = new CompressorCommand.MetricsPort();
        assertEquals(java.util.OptionalInt.empty(), port.convert("off"));
        assertEquals(java.util.OptionalInt.empty(), port.convert(" OFF "));
        assertEquals(java.util.OptionalInt.of(0), port.convert("0"));
        assertEquals(java.util.OptionalInt.of(9401), port.convert("9401"));
        Run r = run("compressor", "--metrics-port", "none");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("'none' is not a port (0 = any free port) or 'off'"), r.err());
    }

    /** A usage error prints its message and where to look, not the whole help above or below it. */
    @Test
    void aUsageErrorIsItsMessageAndAPointerToHelpNotTheWholeHelp() {
        Run r = run("warm", "--rebuild", "--bogus");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("sac warm: Unknown option: '--bogus'"), r.err());
        assertTrue(r.err().contains("Run 'sac warm --help' for its options."), r.err());
        assertFalse(r.err().contains("Usage:"), r.err());
        assertTrue(r.err().lines().count() < 6, r.err());
        Run typo = run("demo", "--retreive");
        assertTrue(typo.err().contains("--retrieve"), "picocli's suggestion stays: " + typo.err());
    }

    /**
     * picocli runs help texts through String.format, so a bare '%' ("80% of ...") makes --help
     * print a warning and the raw text. Renders every command's help and watches for that.
     */
    @Test
    void everyHelpTextFormats() {
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        java.util.List<String> commands = new java.util.ArrayList<>();
        try {
            System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
            java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Sac.commandLine()));
            while (!todo.isEmpty()) {
                CommandLine c = todo.pop();
                todo.addAll(c.getSubcommands().values());
                assertTrue(c.getUsageMessage().length() > 0);
                commands.add(c.getCommandSpec().qualifiedName());
            }
        } finally {
            System.setErr(stderr);
        }
        assertTrue(commands.size() > 20, "walked " + commands);
        assertEquals("", warnings.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void unknownShapeIsRefusedWithTheChoices() {
        Run r = run("model", "random", "--shape", "gpt-9", "--out", tmp.resolve("x").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("gpt-9") && r.err().contains("smollm2-135m"), r.err());
    }

    @Test
    void answerNamesAMissingContextFileBeforeLookingForTheModel() {
        Run r = run("answer", "--model", tmp.resolve("no-model").toString(), "--context",
                tmp.resolve("missing.txt").toString(), "Where?");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("missing.txt"), r.err());
    }

    @Test
    void emptyContextFileIsRefusedByName() throws Exception {
        assertEquals(0, run("model", "random", "--shape", "tiny", "--out", tmp.resolve("m").toString()).code());
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "  \n");
        Run r = run("compress", "--model", tmp.resolve("m").toString(), empty.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("empty.txt") && r.err().contains("empty"), r.err());
    }

    @Test
    void compressReportsAnchorsAndBytes() throws Exception {
        assertEquals(0, run("model", "random", "--shape", "tiny", "--out", tmp.resolve("m").toString()).code());
        Path doc = Files.writeString(tmp.resolve("doc.txt"), "The quick brown fox jumps over the lazy dog. ".repeat(20));
        Path blob = tmp.resolve("doc.sack");
        java.io.PrintStream old = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        Run r;
        try {
            r = run("compress", "--model", tmp.resolve("m").toString(), "--ratio", "8", "--out", blob.toString(), doc.toString());
        } finally {
            System.setOut(old);
        }
        assertEquals(0, r.code(), r.err());
        String out = buf.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(out.contains("anchors") && out.contains("ratio 8x"), out);
        assertTrue(Files.size(blob) > 0);
    }

    /** The GPU trainer's input: examples and sac.json written, nothing trained. */
    @Test
    void trainSacExportExamplesWritesTheFileAndSpecWithoutTraining() throws Exception {
        Path model = tmp.resolve("m");
        assertEquals(0, run("model", "random", "--shape", "tiny", "--out", model.toString()).code());
        Path data = Files.createDirectories(tmp.resolve("data"));
        String header = "{\"header\":{\"dataset\":\"t\",\"split\":\"train\"}}\n";
        Files.writeString(data.resolve("synthetic-train.jsonl"), header
                + "{\"id\":\"c1\",\"context\":\"Ada Lind lives in Porta. She was born in 1990.\",\"qas\":["
                + "{\"qid\":\"q1\",\"question\":\"Where does Ada Lind live?\",\"answers\":[\"Porta\"]}]}\n");
        Files.writeString(data.resolve("text-train.jsonl"), header
                + "{\"id\":\"t1\",\"context\":\"" + "A plain sentence of text goes here. ".repeat(30) + "\",\"qas\":[]}\n");
        Path file = tmp.resolve("examples.bin");
        Run r = run("train", "sac", "--model", model.toString(), "--data", data.toString(), "--name", "gpu",
                "--ratio", "8", "--export-examples", file.toString());
        assertEquals(0, r.code(), r.err());
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(file), 8);
        assertEquals("SACEXMP2", new String(head, java.nio.charset.StandardCharsets.US_ASCII));
        com.google.gson.JsonObject spec = com.google.gson.JsonParser.parseString(
                Files.readString(tmp.resolve("examples.bin.sac.json"))).getAsJsonObject();
        assertEquals("[8]", spec.get("ratios").toString());
        assertEquals("sac", spec.get("variant").getAsString());
        assertTrue(Files.notExists(model.resolve("adapters/gpu")), "no adapter folder is made or touched");
        assertTrue(Files.exists(model.resolve("adapters/sac/sac.safetensors")), "the package's adapter is left alone");

        for (String[] trainingOnly : new String[][] {{"--lr2-decay"}, {"--text-share", "0.5"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "sac", "--model", model.toString(), "--data",
                    data.toString(), "--name", "gpu", "--ratio", "8", "--export-examples", tmp.resolve("other.bin").toString()));
            args.addAll(java.util.List.of(trainingOnly));
            Run refused = run(args.toArray(String[]::new));
            assertTrue(refused.code() != 0 && refused.err().contains(trainingOnly[0] + " applies to training here"),
                    trainingOnly[0] + ": " + refused.err());
            assertTrue(Files.notExists(tmp.resolve("other.bin")), "nothing written");
        }
        Run names = run("train", "sac", "--model", model.toString(), "--data", data.toString(), "--variant", "sac-names",
                "--ratio", "8", "--export-examples", tmp.resolve("names.bin").toString());
        assertTrue(names.code() != 0 && names.err().contains("sac-names trains here only"), names.err());
        assertTrue(Files.notExists(tmp.resolve("names.bin")), "nothing written");
    }
}
