package dev.sacrag.core.sac;

/**
 * Where the anchors of a chunk sit (sac-method.md, step 3): the middle token of every
 * consecutive group of r tokens, i.e. offsets (r-1)/2, (r-1)/2 + r, ... below n, or the
 * chunk's first token when that range is empty. Uniform midpoints matter: random anchor
 * positions cost the paper ~4 F1 points.
 */
public final class AnchorPositions {

    /** Offsets of the anchors inside a chunk of {@code n} tokens at ratio {@code r}. */
    public static int[] inChunk(int n, int r) {
        if (n < 1 || r < 1) {
            throw new IllegalArgumentException("need n >= 1 and r >= 1, got n=" + n + " r=" + r);
        }
        int first = (r - 1) / 2;
        if (first >= n) {
            return new int[] {0};
        }
        int[] out = new int[count(n, r)];
        for (int i = 0; i < out.length; i++) {
            out[i] = first + i * r;
        }
        return out;
    }

    /** {@code len(range((r-1)//2, n, r))}, or 1 when that is empty. */
    public static int count(int n, int r) {
        int first = (r - 1) / 2;
        return first >= n ? 1 : (n - 1 - first) / r + 1;
    }

    /** Anchors of a whole context of {@code tokens} tokens cut into chunks of {@code chunkSize}. */
    public static int total(int tokens, int chunkSize, int r) {
        int sum = 0;
        for (int start = 0; start < tokens; start += chunkSize) {
            sum += count(Math.min(chunkSize, tokens - start), r);
        }
        return sum;
    }

    /**
     * EXPERIMENT ({@link CapitalisedWords}): the offsets, in order, of the anchors of a chunk of {@code n}
     * tokens starting at index {@code start} of the input: the uniform ones plus every token {@code alsoAnchor}
     * marks (indexed by input position; null marks none).
     */
    public static int[] inChunk(int n, int r, boolean[] alsoAnchor, int start) {
        int[] uniform = inChunk(n, r);
        if (alsoAnchor == null) {
            return uniform;
        }
        boolean[] anchor = java.util.Arrays.copyOfRange(alsoAnchor, start, start + n);
        for (int a : uniform) {
            anchor[a] = true;
        }
        return java.util.stream.IntStream.range(0, n).filter(j -> anchor[j]).toArray();
    }

    /**
     * Anchors of a whole input of {@code alsoAnchor.length} tokens cut into chunks of {@code chunkSize}: the
     * uniform ones plus the marked tokens ({@link #inChunk(int, int, boolean[], int)} per chunk).
     */
    public static int total(boolean[] alsoAnchor, int chunkSize, int r) {
        int sum = 0;
        for (int start = 0; start < alsoAnchor.length; start += chunkSize) {
            sum += inChunk(Math.min(chunkSize, alsoAnchor.length - start), r, alsoAnchor, start).length;
        }
        return sum;
    }

    /**
     * The anchor-table row of the anchor at chunk offset {@code offset}: uniform anchor j (at
     * (r-1)/2 + j*r) takes row j; an added one ({@link #inChunk(int, int, boolean[], int)}) the row of the
     * nearest uniform anchor at or before it, row 0 before the first (the table has a row per uniform slot).
     */
    public static int slotOf(int offset, int r, int slots) {
        return Math.min(slots - 1, Math.max(0, Math.floorDiv(offset - (r - 1) / 2, r)));
    }

    private AnchorPositions() {
    }
}
