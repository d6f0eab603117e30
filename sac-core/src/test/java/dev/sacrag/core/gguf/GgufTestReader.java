package dev.sacrag.core.gguf;

import dev.sacrag.core.model.Half;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A plain GGUF v3 reader written from the format description, to check what the exporter wrote. */
final class GgufTestReader {
    record Tensor(String name, long[] ne, int ggmlType, long offset) { }

    final int version;
    final Map<String, Object> metadata = new LinkedHashMap<>();
    final Map<String, Tensor> tensors = new LinkedHashMap<>();
    final long dataStart;
    private final ByteBuffer buf;

    GgufTestReader(Path file) throws IOException {
        buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        buf.get(magic);
        if (!new String(magic, StandardCharsets.US_ASCII).equals("GGUF")) {
            throw new IOException("bad magic");
        }
        version = buf.getInt();
        long nTensors = buf.getLong();
        long nKv = buf.getLong();
        for (long i = 0; i < nKv; i++) {
            String key = string();
            metadata.put(key, value(buf.getInt()));
        }
        for (long i = 0; i < nTensors; i++) {
            String name = string();
            long[] ne = new long[buf.getInt()];
            for (int d = 0; d < ne.length; d++) {
                ne[d] = buf.getLong();
            }
            tensors.put(name, new Tensor(name, ne, buf.getInt(), buf.getLong()));
        }
        dataStart = (buf.position() + 31) / 32 * 32;
    }

    long fileSize() {
        return buf.capacity();
    }

    /** The tensor's values as f32, row-major (ne[0] fastest). */
    float[] floats(String name) {
        Tensor t = tensors.get(name);
        long n = 1;
        for (long d : t.ne()) {
            n *= d;
        }
        float[] out = new float[(int) n];
        int at = (int) (dataStart + t.offset());
        for (int i = 0; i < out.length; i++) {
            out[i] = t.ggmlType() == 0 ? buf.getFloat(at + 4 * i) : Half.toFloat(buf.getShort(at + 2 * i));
        }
        return out;
    }

    private Object value(int type) {
        return switch (type) {
            case 4 -> Integer.toUnsignedLong(buf.getInt());
            case 5 -> buf.getInt();
            case 6 -> buf.getFloat();
            case 7 -> buf.get() != 0;
            case 8 -> string();
            case 9 -> {
                int elemType = buf.getInt();
                long n = buf.getLong();
                List<Object> list = new ArrayList<>();
                for (long i = 0; i < n; i++) {
                    list.add(value(elemType));
                }
                yield list;
            }
            default -> throw new IllegalStateException("unexpected GGUF value type " + type);
        };
    }

    private String string() {
        byte[] b = new byte[(int) buf.getLong()];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
