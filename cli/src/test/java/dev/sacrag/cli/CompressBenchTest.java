package dev.sacrag.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompressBenchTest {
    @TempDir
    Path tmp;

    @Test
    void reportsCompressorAndPrefillThroughputPerRatio() throws Exception {
        Path json = tmp.resolve("compress.json");
        SacCliTest.Run r = SacCliTest.run("bench", "compress", "--shape", "tiny", "--tokens", "64", "--ratios", "4,8",
                "--repeat", "1", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals("tiny", o.get("shape").getAsString());
        assertEquals(64, o.get("tokens").getAsInt());
        JsonArray rows = o.getAsJsonArray("rows");
        assertEquals(2, rows.size(), rows.toString());
        for (int i = 0; i < rows.size(); i++) {
            JsonObject row = rows.get(i).getAsJsonObject();
            assertEquals(i == 0 ? 4 : 8, row.get("ratio").getAsInt());
            for (String field : new String[] {"compress_tok_s", "prefill_tok_s", "ratio_to_prefill"}) {
                assertTrue(row.get(field).getAsDouble() > 0, field + " in " + row);
            }
        }
    }

    @Test
    void unsupportedRatioIsAUsageErrorWithTheChoices() {
        SacCliTest.Run r = SacCliTest.run("bench", "compress", "--shape", "tiny", "--tokens", "8", "--ratios", "3",
                "--repeat", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--ratios: the random adapter supports [4, 8, 16], not 3"), r.err());
    }
}
