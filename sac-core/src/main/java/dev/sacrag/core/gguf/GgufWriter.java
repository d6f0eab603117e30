package dev.sacrag.core.gguf;

import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.Half;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Writes the GGUF v3 container (little-endian): magic "GGUF", version, tensor count, KV count,
 * the metadata KVs, the tensor infos, padding to {@link #ALIGNMENT}, then each tensor's data
 * padded to the alignment. Tensors are produced one at a time, so a model larger than the heap
 * can be written; the file appears atomically when complete.
 */
final class GgufWriter {
    static final int ALIGNMENT = 32;
    private static final int VERSION = 3;
    private static final int CHUNK_BYTES = 1 << 20;

    /** A tensor's name, dims innermost-first (ne[0] = columns) and stored type. */
    record TensorInfo(String name, long[] ne, GgufType type) {
        long elements() {
            long n = 1;
            for (long d : ne) {
                n *= d;
            }
            return n;
        }

        long bytes() {
            return elements() * type.bytes;
        }
    }

    /** Produces a tensor's f32 values in row-major order when its turn comes. */
    interface TensorData {
        FloatBuffer values(TensorInfo tensor) throws IOException;
    }

    /** Typed metadata KVs in insertion order, already encoded. */
    static final class Metadata {
        // GGUF value type ids (gguf_type)
        private static final int UINT32 = 4;
        private static final int INT32 = 5;
        private static final int FLOAT32 = 6;
        private static final int BOOL = 7;
        private static final int STRING = 8;
        private static final int ARRAY = 9;

        private final LeBytes out = new LeBytes();
        private int count;

        Metadata u32(String key, long value) {
            key(key, UINT32).u32(value);
            return this;
        }

        Metadata f32(String key, double value) {
            key(key, FLOAT32).f32((float) value);
            return this;
        }

        Metadata bool(String key, boolean value) {
            key(key, BOOL).u8(value ? 1 : 0);
            return this;
        }

        Metadata string(String key, String value) {
            key(key, STRING).string(value);
            return this;
        }

        Metadata strings(String key, List<String> values) {
            key(key, ARRAY).u32(STRING).u64(values.size());
            values.forEach(out::string);
            return this;
        }

        Metadata i32s(String key, int[] values) {
            key(key, ARRAY).u32(INT32).u64(values.length);
            for (int v : values) {
                out.u32(v);
            }
            return this;
        }

        private LeBytes key(String key, int type) {
            count++;
            return out.string(key).u32(type);
        }
    }

    static void write(Path file, Metadata metadata, List<TensorInfo> tensors, TensorData data) throws IOException {
        LeBytes head = new LeBytes();
        head.u8('G').u8('G').u8('U').u8('F').u32(VERSION).u64(tensors.size()).u64(metadata.count);
        head.raw(metadata.out.toByteArray());
        long offset = 0;
        for (TensorInfo t : tensors) {
            head.string(t.name()).u32(t.ne().length);
            for (long d : t.ne()) {
                head.u64(d);
            }
            head.u32(t.type().ggmlType).u64(offset);
            offset = align(offset + t.bytes());
        }
        head.raw(new byte[(int) (align(head.size()) - head.size())]);

        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, ByteBuffer.wrap(head.toByteArray()));
                ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (TensorInfo t : tensors) {
                    FloatBuffer v = data.values(t);
                    if (v.remaining() != t.elements()) {
                        throw new IOException("tensor " + t.name() + ": got " + v.remaining()
                                + " values for " + t.elements() + " elements");
                    }
                    writeValues(ch, chunk, v, t.type());
                    writeFully(ch, ByteBuffer.wrap(new byte[(int) (align(t.bytes()) - t.bytes())]));
                }
            }
        });
    }

    private static void writeValues(FileChannel ch, ByteBuffer chunk, FloatBuffer v, GgufType type)
            throws IOException {
        int start = v.position();
        int n = v.remaining();
        for (int i = 0; i < n; i++) {
            if (chunk.remaining() < type.bytes) {
                writeFully(ch, chunk.flip());
                chunk.clear();
            }
            float f = v.get(start + i);
            if (type == GgufType.F16) {
                chunk.putShort(Half.fromFloat(f));
            } else {
                chunk.putFloat(f);
            }
        }
        writeFully(ch, chunk.flip());
        chunk.clear();
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class LeBytes extends ByteArrayOutputStream {
        LeBytes u8(int v) {
            write(v);
            return this;
        }

        LeBytes u32(long v) {
            for (int i = 0; i < 4; i++) {
                write((int) (v >>> (8 * i)));
            }
            return this;
        }

        LeBytes u64(long v) {
            for (int i = 0; i < 8; i++) {
                write((int) (v >>> (8 * i)));
            }
            return this;
        }

        LeBytes f32(float v) {
            return u32(Float.floatToRawIntBits(v));
        }

        LeBytes string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            return raw(b);
        }

        LeBytes raw(byte[] b) {
            write(b, 0, b.length);
            return this;
        }
    }

    private GgufWriter() {
    }
}
