package dev.sacrag.core.train;

import dev.sacrag.core.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes training samples in a flat binary form an outside trainer can read with a few array
 * views (the GPU pretraining script in {@code scripts/gpu/} does), so the samples are built
 * once, by {@link TrainingSamples}, exactly as {@link BaseTrainer} would see them.
 *
 * <p>Layout, little-endian: the 8 bytes {@code SACSAMP1}; int32 sample count N; int64 token
 * count T; uint8 kind[N] (0 = QA, 1 = text and induction drills, 2 = held-out QA scored on
 * its answers); int32 length[N]; uint16 token[T]; uint8 weight[T] as weight x 4 (the trainer's
 * weights are 0, 0.25, 0.5, 1, 2 and 3, all exact in quarters; anything else is refused).
 */
public final class SampleExport {
    public static final byte[] MAGIC = {'S', 'A', 'C', 'S', 'A', 'M', 'P', '1'};
    public static final int QA = 0;
    public static final int TEXT = 1;
    public static final int HELD_OUT = 2;

    private SampleExport() { }

    /** Writes {@code groups[k]} with kind k to {@code file} (through a temporary file, so a half-written one never looks complete). */
    public static long write(Path file, List<List<TokenSample>> groups) throws IOException {
        int count = 0;
        long tokens = 0;
        for (List<TokenSample> g : groups) {
            count += g.size();
            for (TokenSample s : g) {
                tokens += s.length();
            }
        }
        int n = count;
        long total = tokens;
        AtomicFiles.write(file, tmp -> writeTo(tmp, groups, n, total));
        return tokens;
    }

    private static void writeTo(Path tmp, List<List<TokenSample>> groups, int count, long tokens) throws IOException {
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            ByteBuffer head = le(8 + 4 + 8);
            head.put(MAGIC).putInt(count).putLong(tokens);
            out.write(head.array());
            for (int kind = 0; kind < groups.size(); kind++) {
                for (int i = 0; i < groups.get(kind).size(); i++) {
                    out.write(kind);
                }
            }
            for (List<TokenSample> g : groups) {
                for (TokenSample s : g) {
                    out.write(le(4).putInt(s.length()).array());
                }
            }
            for (List<TokenSample> g : groups) {
                for (TokenSample s : g) {
                    ByteBuffer b = le(2 * s.length());
                    for (long t : s.tokens()) {
                        if (t < 0 || t > 0xFFFF) {
                            throw new IllegalArgumentException("token id " + t + " does not fit 16 bits");
                        }
                        b.putShort((short) t);
                    }
                    out.write(b.array());
                }
            }
            for (List<TokenSample> g : groups) {
                for (TokenSample s : g) {
                    byte[] w = new byte[s.length()];
                    for (int i = 0; i < w.length; i++) {
                        float q = s.weights()[i] * 4;
                        if (q != Math.round(q) || q < 0 || q > 255) {
                            throw new IllegalArgumentException("weight " + s.weights()[i] + " is not a multiple of 1/4 in [0, 63.75]");
                        }
                        w[i] = (byte) Math.round(q);
                    }
                    out.write(w);
                }
            }
        }
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
