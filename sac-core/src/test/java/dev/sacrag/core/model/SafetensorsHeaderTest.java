package dev.sacrag.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Header fields a file may get wrong are refused as an IOException naming the file, and a tensor read for a shape must have it. */
class SafetensorsHeaderTest {

    @TempDir
    Path tmp;

    /** A file of {@code header} (JSON) followed by {@code dataBytes} zero bytes. */
    private Path file(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return Files.write(tmp.resolve(name), b.array());
    }

    @Test
    void negativeOffsetsOrDimensionsAndMissingFieldsAreRefusedNamingTheFile() throws IOException {
        Path[] bad = {
            file("neg-offset.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8),
            file("neg-dims.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,-1],\"data_offsets\":[0,8]}}", 8),
            file("no-offsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8),
            file("not-object.safetensors", "{\"w\":[1,2]}", 8),
        };
        for (Path p : bad) {
            IOException e = assertThrows(IOException.class, () -> Safetensors.open(p).close(), p.toString());
            assertTrue(e.getMessage().contains(p.getFileName().toString()), e.getMessage());
        }
    }

    @Test
    void aTensorReadForAShapeMustHaveIt() throws IOException {
        Path f = tmp.resolve("w.safetensors");
        Safetensors.write(f, Map.of("w", new Safetensors.Tensor(new float[24], new long[] {6, 4}, Safetensors.DType.F32)));
        try (Safetensors.Reader r = Safetensors.open(f)) {
            IOException e = assertThrows(IOException.class, () -> r.readF32("w", new long[] {4, 4}, "the config"));
            assertTrue(e.getMessage().contains("tensor w has shape [6, 4] but the config implies [4, 4]"), e.getMessage());
            assertArrayEquals(new float[24], floats(r.readF32("w", new long[] {6, 4}, "the config")));
        }
    }

    private static float[] floats(java.nio.FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }
}
