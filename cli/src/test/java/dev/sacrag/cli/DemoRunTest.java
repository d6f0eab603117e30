package dev.sacrag.cli;

import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sac demo} end to end on the real embedded stack (in-process KRaft broker, redis-server
 * process; {@code -Dsac.stack} switches to containers), with a tiny random model package and
 * three small documents. Random answers are wrong, so this checks the plumbing — every question
 * answered over gRPC, the summary's shape and counts, exit 1 — and the real demo model is
 * checked by running {@code ./sac demo} itself.
 */
class DemoRunTest {

    private static final Pattern SUMMARY =
            Pattern.compile("demo: (\\d+)/(\\d+) answers match, ratio (\\d+), (\\d+) bytes/doc vs (\\d+) full KV");

    @TempDir
    Path tmp;

    @Test
    void runsThePipelineAndReportsEveryAnswer() throws Exception {
        Path model = randomModelPackage(tmp.resolve("model"));
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(docs.resolve("alpha.txt"), "Alpha Station was founded in 1901 by Mira Kolb. It studies glaciers.");
        Files.writeString(docs.resolve("beta.txt"), "The Beta river flows north through Orvale and ends in a cold lake.");
        Files.writeString(docs.resolve("gamma.txt"), "Gamma Works builds small boats from larch wood in the town of Tessa.");
        Path questions = Files.writeString(tmp.resolve("questions.jsonl"), String.join("\n",
                "{\"qid\":\"q-alpha\",\"docId\":\"alpha\",\"question\":\"Who founded Alpha Station?\",\"answers\":[\"Mira Kolb\"]}",
                "{\"qid\":\"q-beta\",\"docId\":\"beta\",\"question\":\"Where does the Beta river end?\",\"answers\":[\"a cold lake\"]}",
                "{\"qid\":\"q-gamma\",\"docId\":\"gamma\",\"question\":\"What wood does Gamma Works use?\",\"answers\":[\"larch\"]}")
                + "\n");

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Sac.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        long t0 = System.nanoTime();
        int code = cl.execute("demo", "--model", model.toString(), "--documents", docs.toString(),
                "--questions", questions.toString(), "--retrieve", "--max-new-tokens", "4", "--timeout", "3m");
        String text = out.toString();
        System.out.printf("DemoRunTest: sac demo took %.1f s%n%s", (System.nanoTime() - t0) / 1e9, text);

        assertEquals(1, code, "random answers are wrong, so the demo must fail:\n" + text + err);
        List<String> lines = Arrays.stream(text.split("\\R")).filter(l -> !l.isBlank()).toList();
        Matcher summary = SUMMARY.matcher(lines.get(lines.size() - 1));
        assertTrue(summary.matches(), "the last line is the summary:\n" + text);
        assertTrue(lines.get(lines.size() - 2).startsWith("demo: fewer than 80% of the answers match (exit status 1)")
                        && lines.get(lines.size() - 2).contains("the misses are the model's answers"),
                "a failed demo says why it exits with 1, before the summary:\n" + text);
        assertEquals(3, Integer.parseInt(summary.group(2)), "three questions");
        assertTrue(Integer.parseInt(summary.group(1)) < 3, text);
        assertEquals(4, Integer.parseInt(summary.group(3)), "the adapter's smallest ratio");
        long bytes = Long.parseLong(summary.group(4));
        long full = Long.parseLong(summary.group(5));
        assertTrue(bytes > 0 && bytes < full, "anchor KV is smaller than a full KV cache: " + bytes + " vs " + full);

        assertTrue(text.contains("compress: 3/3 documents compressed"), text);
        Matcher reference = Pattern.compile("reference: (\\d+)/3 answers match when the base model reads each whole"
                + " document in its prompt").matcher(text);
        assertTrue(reference.find(), "the reference line comes before the summary:\n" + text);
        assertTrue(text.indexOf("reference: ") < text.indexOf("demo: fewer than"), text);
        for (String qid : List.of("q-alpha", "q-beta", "q-gamma")) {
            long answered = lines.stream().filter(l -> l.matches("\\s+\\[(ok|miss)\\s*] " + qid + " .*")).count();
            assertEquals(2, answered, qid + " answered once naming its document and once by retrieval:\n" + text);
        }
        assertTrue(lines.stream().noneMatch(l -> l.contains("[error]")), text);
        assertTrue(text.contains("retrieve: "), text);
        assertTrue(text.contains("stopped: "), text);
        assertRedisStopped(text);
    }

    /**
     * The demo's Redis (its port in the "stack:" line) no longer answers. (Its process is not this
     * JVM's child but a watchdog shell's, and reports another command name: a port is what is sure.)
     */
    static void assertRedisStopped(String demoOutput) {
        Matcher port = Pattern.compile("Redis at redis://127\\.0\\.0\\.1:(\\d+)").matcher(demoOutput);
        assertTrue(port.find(), "the stack line names Redis's port:\n" + demoOutput);
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(port.group(1))), 1000);
            org.junit.jupiter.api.Assertions.fail("redis-server still answers on port " + port.group(1));
        } catch (java.io.IOException refused) {
            // stopped
        }
    }

    @Test
    void noReferenceSkipsTheBaseModelsPass() throws Exception {
        Path model = randomModelPackage(tmp.resolve("model"));
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(docs.resolve("alpha.txt"), "Alpha Station was founded in 1901 by Mira Kolb. It studies glaciers.");
        Path questions = Files.writeString(tmp.resolve("questions.jsonl"),
                "{\"qid\":\"q-alpha\",\"docId\":\"alpha\",\"question\":\"Who founded Alpha Station?\",\"answers\":[\"Mira Kolb\"]}\n");
        StringWriter out = new StringWriter();
        CommandLine cl = Sac.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        int code = cl.execute("demo", "--model", model.toString(), "--documents", docs.toString(),
                "--questions", questions.toString(), "--max-new-tokens", "2", "--timeout", "3m", "--no-reference");
        String text = out.toString();
        assertEquals(1, code, text);
        assertTrue(SUMMARY.matcher(text).find(), "the summary still comes:\n" + text);
        assertTrue(!text.contains("reference:") && !text.contains("whole document in its prompt"),
                "no reference line, and the shortfall does not speak of one:\n" + text);
    }

    @Test
    void aFailedDemoSaysWhetherThePipelineOrTheModelFellShort() throws Exception {
        DemoReport misses = new DemoReport(6, 24, 0, 4, 100, 400, null);
        assertTrue(!misses.passed() && new DemoReport(20, 24, 0, 4, 100, 400, null).passed(), "the bar is 80 %");
        String line = misses.shortfallLine(tmp, Optional.empty());
        assertTrue(line.contains("the misses are the model's answers") && !line.contains("MODEL_CARD"), line);
        assertEquals(line, misses.shortfallLine(tmp, Optional.of(new DemoReference(20, 24))),
                "a base model that passes reading whole documents adds nothing");
        String weakBase = misses.shortfallLine(tmp, Optional.of(new DemoReference(19, 24)));
        assertTrue(weakBase.contains("even with each whole document in its prompt the base model matches only 19/24"),
                weakBase);
        Path card = Files.writeString(tmp.resolve("MODEL_CARD.md"), "# card\n");
        assertTrue(misses.shortfallLine(tmp, Optional.empty()).endsWith("(how it scores on held-out data: " + card + ")"),
                misses.shortfallLine(tmp, Optional.empty()));

        String faults = new DemoReport(6, 24, 3, 4, 100, 400, null).shortfallLine(tmp, Optional.of(new DemoReference(1, 24)));
        assertTrue(faults.contains("3 of the 24 questions got no answer") && faults.contains("exit status 3")
                && !faults.contains("model's answers"), faults);
        assertTrue(!new DemoReport(20, 24, 1, 4, 100, 400, null).passed(), "a question with no answer is a fault, bar or not");
    }

    @Test
    void missingModelSaysHowToGetIt() {
        StringWriter err = new StringWriter();
        CommandLine cl = Sac.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("demo", "--model", tmp.resolve("nothing").toString());
        assertEquals(DemoCommand.PIPELINE_FAILED, code, "the demo could not run");
        assertTrue(err.toString().contains("./sac train base") && err.toString().contains("git pull"), err.toString());
    }

    /** base/ + adapters/sac/ as the trainer writes them, with seeded random weights. */
    static Path randomModelPackage(Path dir) throws Exception {
        Path base = dir.resolve("base");
        RandomModelWriter.write(ModelShape.TINY.config, base, new RandomModelWriter.Options(31, 0.08f, Safetensors.DType.F32, 1));
        SacAdapter.writeRandom(dir.resolve("adapters").resolve("sac"),
                SacSpec.paperDefaults("sac", List.of(4, 8, 16), 8, Fingerprints.baseModel(base)), ModelShape.TINY.config, 32);
        return dir;
    }
}
