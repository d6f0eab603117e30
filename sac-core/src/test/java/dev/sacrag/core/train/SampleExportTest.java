package dev.sacrag.core.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SampleExportTest {
    @TempDir
    Path tmp;

    @Test
    void writesTheDocumentedLayout() throws Exception {
        TokenSample qa = new TokenSample(new long[] {0, 5, 2047, 1}, new float[] {0.25f, 0.5f, 3f, 0f});
        TokenSample text = new TokenSample(new long[] {0, 9, 65535}, new float[] {1f, 1f, 1f});
        TokenSample dev = new TokenSample(new long[] {0, 7}, new float[] {1f, 0f});
        Path file = tmp.resolve("s.bin");
        assertEquals(9, SampleExport.write(file, List.of(List.of(qa), List.of(text), List.of(dev))));

        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        b.get(magic);
        assertArrayEquals(SampleExport.MAGIC, magic);
        assertEquals(3, b.getInt());
        assertEquals(9, b.getLong());
        assertEquals(List.of(0, 1, 2), List.of((int) b.get(), (int) b.get(), (int) b.get()));
        assertEquals(List.of(4, 3, 2), List.of(b.getInt(), b.getInt(), b.getInt()));
        int[] tokens = new int[9];
        for (int i = 0; i < 9; i++) {
            tokens[i] = Short.toUnsignedInt(b.getShort());
        }
        assertArrayEquals(new int[] {0, 5, 2047, 1, 0, 9, 65535, 0, 7}, tokens);
        byte[] w = new byte[9];
        b.get(w);
        assertArrayEquals(new byte[] {1, 2, 12, 0, 4, 4, 4, 4, 0}, w);
        assertEquals(0, b.remaining());
    }

    @Test
    void refusesWhatTheLayoutCannotHoldAndLeavesNoFileBehind() throws Exception {
        Path file = tmp.resolve("s.bin");
        TokenSample oddWeight = new TokenSample(new long[] {0, 1}, new float[] {0.3f, 0f});
        assertThrows(IllegalArgumentException.class, () -> SampleExport.write(file, List.of(List.of(oddWeight))));
        TokenSample bigToken = new TokenSample(new long[] {0, 70000}, new float[] {1f, 0f});
        assertThrows(IllegalArgumentException.class, () -> SampleExport.write(file, List.of(List.of(bigToken))));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString()).toList(), "left behind");
        }
        assertFalse(Files.exists(file));
    }
}
