package dev.sacrag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {

    private static final Path DEMO_SPEC = Path.of("..", "models", "sac-demo", "adapters", "sac", "sac.json");

    @TempDir
    Path dir;

    @Test
    void onlyOneAdapterPerVariantIsChosenPreferringTheFolderNamedAsTheVariant() throws IOException {
        Path adapters = dir.resolve("adapters");
        adapter(adapters.resolve("a-trial"), "sac");          // sorts before adapters/sac
        adapter(adapters.resolve("sac"), "sac");
        adapter(adapters.resolve("causal-2"), "sac-causal");
        adapter(adapters.resolve("causal-1"), "sac-causal");  // neither named as its variant: the first by name
        Files.createDirectories(adapters.resolve("notes"));   // no sac.json: not an adapter

        Map<String, Path> chosen = EvalCommand.adapterPerVariant(adapters);

        assertEquals(Map.of("sac", adapters.resolve("sac"), "sac-causal", adapters.resolve("causal-1")), chosen);
    }

    @Test
    void anOutThatIsAFileIsRefusedBeforeAnythingIsScoredOrWritten() throws IOException {
        Path data = dir.resolve("d.jsonl");
        dev.sacrag.core.data.MrqaJsonl.write(data, "synthetic", "test", java.util.List.of(new dev.sacrag.core.data.MrqaRecord(
                "c0", "Ann lives in Oslo.", java.util.List.of(new dev.sacrag.core.data.MrqaRecord.Qa("q0", "Where?",
                        java.util.List.of("Oslo"), java.util.List.of())))));
        Path file = Files.writeString(dir.resolve("out"), "not a folder");
        Path json = dir.resolve("r/eval.json");
        // the demo package is found (cheap file checks), then the outputs are checked before any model loads
        SacCliTest.Run r = SacCliTest.run("eval", "--model", "../models/sac-demo", "--data", data.toString(),
                "--json", json.toString(), "--out", file.toString());
        org.junit.jupiter.api.Assertions.assertNotEquals(0, r.code());
        org.junit.jupiter.api.Assertions.assertTrue(r.err().contains("--out " + file + " is a file"), r.err());
        org.junit.jupiter.api.Assertions.assertFalse(Files.exists(json), "a report was written");

        // a mistyped model leaves no output folders behind
        Path out = dir.resolve("never");
        SacCliTest.Run typo = SacCliTest.run("eval", "--model", dir.resolve("no-model").toString(), "--data", data.toString(),
                "--json", out.resolve("eval.json").toString(), "--out", out.toString());
        org.junit.jupiter.api.Assertions.assertNotEquals(0, typo.code());
        org.junit.jupiter.api.Assertions.assertFalse(Files.exists(out), typo.err());
    }

    @Test
    void aPackageWithoutAdaptersSaysSo() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> EvalCommand.adapterPerVariant(dir.resolve("adapters")));
        assertEquals("model package has no adapters/", e.getReason());
    }

    private static void adapter(Path folder, String variant) throws IOException {
        Files.createDirectories(folder);
        String spec = Files.readString(DEMO_SPEC).replace("\"variant\": \"sac\"", "\"variant\": \"" + variant + "\"");
        Files.writeString(folder.resolve("sac.json"), spec);
    }

    @Test
    void theMethodRatioPairsNoAdapterGivesAreNamed() {
        java.util.function.BiFunction<String, Integer, dev.sacrag.core.eval.Evaluator.Row> row = (m, r) ->
                new dev.sacrag.core.eval.Evaluator.Row(m, r, 0, 0, 0, 0, 1, null, null, 0);
        java.util.List<dev.sacrag.core.eval.Evaluator.Row> rows = java.util.List.of(row.apply("full", 0),
                row.apply("sac", 4), row.apply("sac", 8), row.apply("sac-causal", 8));
        assertEquals(java.util.List.of("sac@16x", "sac-causal@4x", "sac-causal@16x"),
                EvalCommand.unscored(java.util.List.of("full", "sac", "sac-causal"), java.util.List.of(4, 8, 16), rows));
    }
}
