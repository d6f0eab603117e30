package dev.sacrag.core.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.sacrag.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format ourselves: an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets}}, then raw little-endian bytes.
 *
 * <p>We do not use DJL's decoder because any bf16 tensor aborts the JVM in DJL-PyTorch 0.36;
 * here bf16 and f16 are widened to f32 in Java. Files are memory-mapped, so opening a large
 * checkpoint costs nothing until a tensor is read.
 */
public final class Safetensors {

    public enum DType {
        F32(4), F16(2), BF16(2);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor's place in a file. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** An opened (memory-mapped) safetensors file. */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, Entry> entries;

        private Reader(Path file) throws IOException {
            this.file = file;
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
            try {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                readFully(len, 0);
                long headerLen = len.flip().getLong();
                if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > channel.size()) {
                    throw new IOException(file + ": not a safetensors file (header length " + headerLen + ")");
                }
                ByteBuffer header = ByteBuffer.allocate((int) headerLen);
                readFully(header, 8);
                this.dataStart = 8 + headerLen;
                this.entries = parseHeader(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                channel.close();   // a file that is not safetensors must not keep a descriptor open
                throw e;
            }
        }

        private void readFully(ByteBuffer buf, long pos) throws IOException {
            while (buf.hasRemaining()) {
                int n = channel.read(buf, pos + buf.position());
                if (n < 0) {
                    throw new IOException(file + ": truncated safetensors file");
                }
            }
        }

        private Map<String, Entry> parseHeader(String json) throws IOException {
            try {
                return parseHeaderFields(json);
            } catch (RuntimeException e) {   // not JSON, a field missing or of another type: name the file
                throw new IOException(file + ": unreadable safetensors header: " + e, e);
            }
        }

        private Map<String, Entry> parseHeaderFields(String json) throws IOException {
            Map<String, Entry> out = new LinkedHashMap<>();
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            for (Map.Entry<String, JsonElement> e : o.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                JsonObject t = e.getValue().getAsJsonObject();
                for (String field : new String[] {"dtype", "shape", "data_offsets"}) {
                    if (!t.has(field)) {
                        throw new IOException(file + ": tensor " + e.getKey() + " has no " + field);
                    }
                }
                String dt = t.get("dtype").getAsString();
                DType dtype;
                try {
                    dtype = DType.valueOf(dt);
                } catch (IllegalArgumentException ex) {
                    throw new IOException(file + ": tensor " + e.getKey() + " has unsupported dtype " + dt
                            + " (supported: F32, F16, BF16)", ex);
                }
                var shapeJson = t.getAsJsonArray("shape");
                long[] shape = new long[shapeJson.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shapeJson.get(i).getAsLong();
                }
                var off = t.getAsJsonArray("data_offsets");
                Entry entry = new Entry(e.getKey(), dtype, shape, off.get(0).getAsLong(), off.get(1).getAsLong());
                if (java.util.Arrays.stream(shape).anyMatch(d -> d < 0) || entry.begin < 0 || entry.end < entry.begin) {
                    throw new IOException(file + ": tensor " + e.getKey() + " has a negative dimension or offsets out of order "
                            + java.util.Arrays.toString(shape) + " [" + entry.begin + ", " + entry.end + "]");
                }
                if (entry.end - entry.begin != entry.elements() * dtype.bytes
                        || dataStart + entry.end > channel.size()) {
                    throw new IOException(file + ": tensor " + e.getKey() + " has inconsistent offsets");
                }
                out.put(e.getKey(), entry);
            }
            return out;
        }

        public Map<String, Entry> entries() {
            return entries;
        }

        public Path file() {
            return file;
        }

        /**
         * As {@link #readF32(String)}, for a tensor that must have {@code shape}, as {@code implier}
         * (e.g. "the config") implies: one of another shape (another model size's file) is refused,
         * naming the file, the tensor, both shapes and what implies the expected one.
         */
        public FloatBuffer readF32(String name, long[] shape, String implier) throws IOException {
            Entry e = entries.get(name);
            if (e != null && !java.util.Arrays.equals(e.shape(), shape)) {
                throw new IOException(file + ": tensor " + name + " has shape " + java.util.Arrays.toString(e.shape())
                        + " but " + implier + " implies " + java.util.Arrays.toString(shape));
            }
            return readF32(name);
        }

        /** The tensor widened to f32, in a native-order direct buffer (zero-copy into DJL). */
        public FloatBuffer readF32(String name) throws IOException {
            Entry e = entries.get(name);
            if (e == null) {
                throw new IOException(file + ": no tensor named " + name);
            }
            long n = e.elements();
            if (n > Integer.MAX_VALUE / 4) {
                throw new IOException(file + ": tensor " + name + " too large (" + n + " values)");
            }
            var src = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin, e.end - e.begin)
                    .order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer dst = ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder());
            FloatBuffer out = dst.asFloatBuffer();
            switch (e.dtype) {
                case F32 -> out.put(src.asFloatBuffer());
                case BF16 -> {
                    var s = src.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        out.put(i, Float.intBitsToFloat((s.get(i) & 0xffff) << 16));
                    }
                }
                case F16 -> {
                    var s = src.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        out.put(i, Half.toFloat(s.get(i)));
                    }
                }
            }
            out.rewind();
            return out;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    public static Reader open(Path file) throws IOException {
        return new Reader(file);
    }

    /** A tensor to write: f32 values in row-major order, stored as {@code dtype}. */
    public record Tensor(float[] values, long[] shape, DType dtype) { }

    /** A tensor's name, stored dtype and shape, written before its values are produced. */
    public record Spec(String name, long[] shape, DType dtype) {
        long bytes() {
            long n = dtype.bytes;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Writes tensors held in memory (sorted by name, like the reference implementation). */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        java.util.List<Spec> specs = new java.util.ArrayList<>();
        for (var e : new TreeMap<>(tensors).entrySet()) {
            specs.add(new Spec(e.getKey(), e.getValue().shape(), e.getValue().dtype()));
        }
        write(file, specs, spec -> tensors.get(spec.name()).values());
    }

    /**
     * Writes tensors whose values are produced one at a time by {@code values}, so a model
     * larger than the heap can be written. The file appears atomically when complete.
     */
    public static void write(Path file, java.util.List<Spec> specs,
                             java.util.function.Function<Spec, float[]> values) throws IOException {
        JsonObject header = new JsonObject();
        long offset = 0;
        for (Spec spec : specs) {
            JsonObject h = new JsonObject();
            h.addProperty("dtype", spec.dtype().name());
            var shape = new com.google.gson.JsonArray();
            for (long d : spec.shape()) {
                shape.add(d);
            }
            h.add("shape", shape);
            var off = new com.google.gson.JsonArray();
            off.add(offset);
            off.add(offset + spec.bytes());
            h.add("data_offsets", off);
            header.add(spec.name(), h);
            offset += spec.bytes();
        }
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - headerBytes.length % 8) % 8;
        AtomicFiles.write(file, tmp -> {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(8 + headerBytes.length + pad).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(headerBytes.length + pad).put(headerBytes);
                for (int i = 0; i < pad; i++) {
                    head.put((byte) ' ');
                }
                writeFully(out, head.flip());
                for (Spec spec : specs) {
                    float[] v = values.apply(spec);
                    if (v.length * (long) spec.dtype().bytes != spec.bytes()) {
                        throw new IOException("tensor " + spec.name() + ": " + v.length + " values do not fit its shape");
                    }
                    writeFully(out, encode(v, spec.dtype()));
                }
            }
        });
    }

    private static ByteBuffer encode(float[] v, DType dtype) {
        ByteBuffer buf = ByteBuffer.allocateDirect(v.length * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().put(v);
            case F16 -> {
                var s = buf.asShortBuffer();
                for (float f : v) {
                    s.put(Half.fromFloat(f));
                }
            }
            case BF16 -> {
                var s = buf.asShortBuffer();
                for (float f : v) {
                    s.put(bf16(f));
                }
            }
        }
        return buf;
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    /** Round-to-nearest-even truncation of f32 to bf16. */
    static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) 0x7fc0;
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private Safetensors() {
    }
}
