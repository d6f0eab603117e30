package dev.sacrag.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs, not timings: the command must time both engines and write sane JSON. */
class EngineBenchTest {
    @TempDir
    Path tmp;

    @Test
    void timesTheEngineAndLlamaCppOnTheSameWeights() throws Exception {
        Path json = tmp.resolve("engine.json");
        SacCliTest.Run r = SacCliTest.run("bench", "engine", "--shape", "tiny", "--tokens", "32", "--decode", "4",
                "--repeat", "1", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals("tiny", o.get("shape").getAsString());
        assertEquals(32, o.get("tokens").getAsInt());
        assertEquals(4, o.get("decode").getAsInt());
        assertTrue(o.get("machine").getAsString().contains("cores"), o.toString());
        assertTrue(o.get("llama_cpp").getAsString().contains("de.kherud:llama"), o.toString());
        JsonArray rows = o.getAsJsonArray("rows");
        assertEquals(2, rows.size(), rows.toString());
        assertEquals(EngineBench.ENGINE, rows.get(0).getAsJsonObject().get("engine").getAsString());
        assertEquals(EngineBench.LLAMA_CPP, rows.get(1).getAsJsonObject().get("engine").getAsString());
        for (int i = 0; i < rows.size(); i++) {
            JsonObject row = rows.get(i).getAsJsonObject();
            for (String field : new String[] {"prefill_tok_s", "decode_tok_s", "prefill_ms", "decode_ms_per_token"}) {
                double v = row.get(field).getAsDouble();
                assertTrue(v > 0 && Double.isFinite(v), field + " in " + row);
            }
        }
        JsonObject ratio = o.getAsJsonObject("sac_over_llama_cpp");
        assertTrue(ratio.get("prefill").getAsDouble() > 0 && ratio.get("decode").getAsDouble() > 0, ratio.toString());
    }

    @Test
    void noLlamaCppTimesTheEngineAlone() throws Exception {
        Path json = tmp.resolve("engine-only.json");
        SacCliTest.Run r = SacCliTest.run("bench", "engine", "--shape", "tiny", "--tokens", "16", "--decode", "2",
                "--repeat", "1", "--no-llama-cpp", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals(1, o.getAsJsonArray("rows").size(), o.toString());
        assertFalse(o.has("sac_over_llama_cpp"), o.toString());
    }
}
