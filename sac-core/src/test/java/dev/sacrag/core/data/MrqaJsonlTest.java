package dev.sacrag.core.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MrqaJsonlTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsWithAHeaderLine() throws Exception {
        List<MrqaRecord> data = new SyntheticFacts(SyntheticFacts.Split.DEV, 5).generate(10);
        Path f = tmp.resolve("d.jsonl");
        MrqaJsonl.write(f, "x", "dev", data);
        assertTrue(Files.readAllLines(f).get(0).startsWith("{\"header\""));
        assertEquals(data, MrqaJsonl.read(f));
        assertFalse(Files.exists(tmp.resolve("d.jsonl.partial")));
    }

    @Test
    void malformedLineNamesFileAndLine() throws Exception {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, "{\"header\": {}}\n{\"context\": \"c\", \"qas\": []}\n{not json\n");
        IOException e = assertThrows(IOException.class, () -> MrqaJsonl.read(f));
        assertTrue(e.getMessage().contains("bad.jsonl:3"), e.getMessage());
        Files.writeString(f, "{\"context\": \"  \", \"qas\": []}\n");
        IOException empty = assertThrows(IOException.class, () -> MrqaJsonl.read(f));
        assertTrue(empty.getMessage().contains(":1") && empty.getMessage().contains("empty context"), empty.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> MrqaJsonl.read(tmp.resolve("missing.jsonl")));

        IOException folder = assertThrows(IOException.class, () -> MrqaJsonl.read(tmp));
        assertTrue(folder.getMessage().endsWith(": a folder, not an MRQA JSONL file"), folder.getMessage());
        Files.write(f, ("{\"header\": {}}\n{\"context\": \"caf" + "\u00e9\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        IOException latin1 = assertThrows(IOException.class, () -> MrqaJsonl.read(f));
        assertTrue(latin1.getMessage().contains("bad.jsonl:2: not UTF-8 text"), latin1.getMessage());
        Files.writeString(f, "{\"context\": \"c\", \"qas\": [{\"qid\": \"q1\", \"question\": \"?\", \"answers\": [\" \"]}]}\n");
        IOException blank = assertThrows(IOException.class, () -> MrqaJsonl.read(f));
        assertTrue(blank.getMessage().contains("bad.jsonl:1") && blank.getMessage().contains("q1 has a blank answer"),
                blank.getMessage());
    }
}
