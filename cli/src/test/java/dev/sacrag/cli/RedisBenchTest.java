package dev.sacrag.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisBenchTest {
    @TempDir
    Path tmp;

    @Test
    void reportsOursAndRedisBenchmarkPerSizeAndMode() throws Exception {
        Path json = tmp.resolve("redis.json");
        SacCliTest.Run r = SacCliTest.run("bench", "redis", "--sizes", "4k,64k", "--docs", "2", "--seconds", "0.2",
                "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonArray rows = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("rows");
        assertEquals(8, rows.size(), rows.toString());
        String[] modes = {"single", "single-read", "pipelined", "pipelined-read"};
        int[] sizes = {4096, 65536};
        for (int i = 0; i < rows.size(); i++) {
            JsonObject row = rows.get(i).getAsJsonObject();
            assertEquals(sizes[i / 4], row.get("size_bytes").getAsInt(), row.toString());
            assertEquals(modes[i % 4], row.get("mode").getAsString(), row.toString());
            for (String field : new String[] {"gb_s", "redis_benchmark_gb_s", "ratio"}) {
                assertTrue(row.get(field).getAsDouble() > 0, field + " in " + row);
            }
            if (i % 2 == 1) { // a read row shares the redis-benchmark figure of its get row
                assertEquals(rows.get(i - 1).getAsJsonObject().get("redis_benchmark_gb_s").getAsDouble(),
                        row.get("redis_benchmark_gb_s").getAsDouble(), row.toString());
            }
        }
    }

    @Test
    void sizesTakeKibAndMibSuffixesAndRefuseNonsense() {
        assertEquals(65536, RedisBench.parseSize("64k"));
        assertEquals(4 << 20, RedisBench.parseSize("4M"));
        assertEquals(1000, RedisBench.parseSize("1000"));
        for (String bad : new String[] {"0", "k", "4g", "-1k", "600m"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RedisBench.parseSize(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }
}
