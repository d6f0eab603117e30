package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Decodes several independent sequences together: the caches are copied into one reserved
 * batch cache (padded to one length, with room for the prompts and {@value #ANSWER_ROOM} answer
 * tokens, grown by as many when the answers reach it, so a step does not copy the cache), all prompts are prefilled in one forward (left-padded), and
 * every decode step runs all live sequences as one batch (padded and unwritten slots masked);
 * once half the rows have ended, the others' caches are copied into a smaller batch, so a long
 * answer does not keep ended rows computing. On a CPU the decode step is bound by reading the weights and by per-op
 * overhead, both shared by the batch, so B sequences cost far less than B separate loops.
 *
 * <p>A callback that throws stops only its own sequence (a cancelled request); the error is
 * returned in that sequence's result.
 *
 * <p>Each sequence's {@code onDone} hears its outcome as soon as that sequence ends, on the
 * decoding thread, while the others go on: a short answer batched with a long one is delivered
 * when it is complete, not when the batch is. {@link #generate} still returns every outcome.
 */
public final class BatchGenerator {

    /**
     * Answer tokens a batch cache has room for before it grows (one copy): most answers fit, and
     * a step attends over every reserved slot, so reserving a request's whole --max-new-tokens
     * (up to 256) would make every step of a short answer attend over hundreds of empty slots.
     */
    public static final int ANSWER_ROOM = 32;

    /**
     * One sequence: its own cache (e.g. composed anchors; at least one position), prompt
     * embeddings [1, T, E] and positions. {@link #generate} copies the caches and leaves them
     * as they were: close each after. {@code onDone} is called once, when the sequence ends; an
     * exception from it is returned as the sequence's error (its outcome was delivered already).
     */
    public record Sequence(KvCache cache, NDArray prompt, int[] positions, GenerationOptions options,
                           LongConsumer onToken, Consumer<Outcome> onDone) {

        public Sequence {
            Objects.requireNonNull(onToken, "onToken");
            Objects.requireNonNull(onDone, "onDone");
        }

        public Sequence(KvCache cache, NDArray prompt, int[] positions, GenerationOptions options,
                        LongConsumer onToken) {
            this(cache, prompt, positions, options, onToken, outcome -> { });
        }
    }

    /** What a sequence produced; {@code error} is set when its callback threw. */
    public record Outcome(Generator.Result result, RuntimeException error) { }

    private BatchGenerator() {
    }

    public static List<Outcome> generate(Transformer model, List<Sequence> seqs) {
        int b = seqs.size();
        List<List<Long>> out = new ArrayList<>();
        boolean[] done = new boolean[b];
        boolean[] stopped = new boolean[b];
        RuntimeException[] errors = new RuntimeException[b];
        long[] last = new long[b];
        int[] nextPos = new int[b];
        Random[] random = new Random[b];
        for (int i = 0; i < b; i++) {
            out.add(new ArrayList<>());
            random[i] = new Random(seqs.get(i).options().seed());
        }
        NDManager m = model.manager();
        ModelConfig c = model.config();
        int maxLen = seqs.stream().mapToInt(s -> s.cache().length()).max().orElseThrow();
        int maxPrompt = seqs.stream().mapToInt(s -> s.positions().length).max().orElseThrow();
        int width = maxLen + maxPrompt;
        // every decode step feeds one token and the first comes from the prefill
        int capacity = width + Math.min(ANSWER_ROOM, seqs.stream().mapToInt(s -> s.options().maxNewTokens()).max()
                .orElseThrow());
        // Slots each row's real tokens may attend: its own cache and its own prompt. Caches are
        // padded at the end (slots len..maxLen), prompts at the front, so that the last prompt
        // position is every row's last real token and one LAST-logits forward serves them all.
        List<float[]> rows = new ArrayList<>();
        for (Sequence s : seqs) {
            float[] row = new float[width];
            Arrays.fill(row, s.cache().length(), maxLen + maxPrompt - s.positions().length, Masks.BLOCKED);
            rows.add(row);
        }
        NDArray[] keys = new NDArray[c.layers()];
        NDArray[] values = new NDArray[c.layers()];
        try (NDScope scope = new NDScope()) {
            for (int l = 0; l < c.layers(); l++) {
                keys[l] = reserve(m, seqs, l, true, capacity);      // [B, Hkv, capacity, D]
                values[l] = reserve(m, seqs, l, false, capacity);
            }
            try (KvCache batch = KvCache.reserved(m, keys, values, maxLen)) {
                float[] logits;
                try (NDScope prefill = new NDScope()) {
                    logits = model.forward(prompts(m, seqs, rows, maxLen, maxPrompt, capacity), batch)
                            .toFloatArray();                                   // [B, 1, V]
                }
                int v = c.vocabSize();
                for (int i = 0; i < b; i++) {
                    int[] pos = seqs.get(i).positions();
                    nextPos[i] = pos[pos.length - 1] + 1;
                    accept(i, Generator.pick(Arrays.copyOfRange(logits, i * v, (i + 1) * v), seqs.get(i).options(),
                            random[i]), seqs, out, done, stopped, errors, last);
                }
                decodeTogether(model, batch, seqs, rows, out, done, stopped, errors, last, nextPos, random);
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            outcomes.add(outcome(i, out, stopped, errors));
        }
        return outcomes;
    }

    private static Outcome outcome(int i, List<List<Long>> out, boolean[] stopped, RuntimeException[] errors) {
        long[] tokens = out.get(i).stream().mapToLong(Long::longValue).toArray();
        return new Outcome(new Generator.Result(tokens, stopped[i]), errors[i]);
    }

    /**
     * All prompts as one forward: embeddings [B, maxPrompt, E] left-padded with zeros, mask
     * [B, maxPrompt, capacity] letting a real prompt token see its own cache and its own earlier
     * prompt tokens. A padding position sees only itself (finite, never seen).
     */
    private static Transformer.Input prompts(NDManager m, List<Sequence> seqs, List<float[]> rows, int maxLen,
                                             int maxPrompt, int width) {
        int b = seqs.size();
        float[] mask = new float[b * maxPrompt * width];
        int[][] positions = new int[b][maxPrompt];
        NDList embeds = new NDList(b);
        for (int i = 0; i < b; i++) {
            Sequence s = seqs.get(i);
            int pad = maxPrompt - s.positions().length;
            for (int q = 0; q < maxPrompt; q++) {
                int base = (i * maxPrompt + q) * width;
                if (q < pad) {
                    Arrays.fill(mask, base, base + width, Masks.BLOCKED);
                    mask[base + maxLen + q] = 0f;
                    positions[i][q] = s.positions()[0];
                    continue;
                }
                System.arraycopy(rows.get(i), 0, mask, base, maxLen + q + 1);
                Arrays.fill(mask, base + maxLen + q + 1, base + width, Masks.BLOCKED);
                positions[i][q] = s.positions()[q - pad];
            }
            NDArray e = s.prompt();                                            // [1, T_i, E]
            if (pad > 0) {
                e = m.zeros(new Shape(1, pad, e.getShape().get(2)), e.getDataType()).concat(e, 1);
            }
            embeds.add(e);
        }
        return new Transformer.Input(stack(embeds), positions, Owned.floats(m, mask, new Shape(b, maxPrompt, width)),
                Transformer.Logits.LAST);
    }

    private static void decodeTogether(Transformer model, KvCache batch, List<Sequence> seqs, List<float[]> rows,
                                       List<List<Long>> out, boolean[] done, boolean[] stopped,
                                       RuntimeException[] errors, long[] last, int[] nextPos, Random[] random) {
        NDManager m = model.manager();
        int width = rows.get(0).length;
        int v = model.config().vocabSize();
        int[] live = new int[seqs.size()];   // batch row -> sequence; rows whose sequence ended are dropped in bulk
        for (int i = 0; i < live.length; i++) {
            live[i] = i;
        }
        KvCache cache = batch;
        try {
            int step = 0;
            while (!allDone(done)) {
                step++;
                int b = live.length;
                if (cache.length() == cache.capacity()) {
                    cache.grow(ANSWER_ROOM);   // one copy per ANSWER_ROOM steps of a long answer
                }
                int capacity = cache.capacity();
                // each step opens one more slot, the token just fed; the slots after it are not written yet
                float[] mask = new float[b * capacity];
                long[][] tokens = new long[b][1];
                int[][] positions = new int[b][1];
                for (int r = 0; r < b; r++) {
                    int i = live[r];
                    System.arraycopy(rows.get(i), 0, mask, r * capacity, width);
                    Arrays.fill(mask, r * capacity + width + step, (r + 1) * capacity, Masks.BLOCKED);
                    tokens[r][0] = done[i] ? 0 : last[i];
                    positions[r][0] = nextPos[i]++;
                }
                float[] logits;
                try (NDScope stepScope = new NDScope()) {
                    logits = model.forward(new Transformer.Input(model.embed(tokens), positions,
                            Owned.floats(m, mask, new Shape(b, 1, capacity)), Transformer.Logits.LAST), cache)
                            .toFloatArray();                          // [B, 1, V]
                }
                int ended = 0;
                for (int r = 0; r < b; r++) {
                    int i = live[r];
                    if (!done[i]) {
                        float[] row = Arrays.copyOfRange(logits, r * v, (r + 1) * v);
                        accept(i, Generator.pick(row, seqs.get(i).options(), random[i]), seqs, out, done, stopped,
                                errors, last);
                    }
                    ended += done[i] ? 1 : 0;
                }
                // Once half the rows have ended, copy the others' caches into a smaller batch: every
                // later step then costs what the live rows need, not what the longest answer keeps.
                if (2 * ended >= b && ended < b) {
                    int[] keep = Arrays.stream(live).filter(i -> !done[i]).toArray();
                    KvCache smaller = select(m, cache, live, keep);
                    cache.close();   // the full batch too: its caller's close later is a no-op
                    cache = smaller;
                    live = keep;
                }
            }
        } finally {
            if (cache != batch) {
                cache.close();
            }
        }
    }

    /** The rows of {@code cache} (whose row r holds sequence live[r]) that hold the sequences in {@code keep}. */
    private static KvCache select(NDManager m, KvCache cache, int[] live, int[] keep) {
        int layers = cache.layers();
        NDArray[] keys = new NDArray[layers];
        NDArray[] values = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            NDList k = new NDList(keep.length);
            NDList v = new NDList(keep.length);
            for (int i : keep) {
                int r = Arrays.binarySearch(live, i);   // live is ascending
                k.add(cache.keys(l).get(new NDIndex("{}:{}", r, r + 1)));
                v.add(cache.values(l).get(new NDIndex("{}:{}", r, r + 1)));
            }
            // copies: slices would keep the whole old batch alive
            keys[l] = keep.length == 1 ? k.get(0).duplicate() : NDArrays.concat(k, 0);
            values[l] = keep.length == 1 ? v.get(0).duplicate() : NDArrays.concat(v, 0);
            k.close();
            v.close();
        }
        return KvCache.reserved(m, keys, values, cache.length());
    }

    /** One layer's K or V of every sequence, row i at slots 0..S_i, in a zeroed [B, Hkv, capacity, D]. */
    private static NDArray reserve(NDManager m, List<Sequence> seqs, int layer, boolean key, int capacity) {
        NDArray first = key ? seqs.get(0).cache().keys(layer) : seqs.get(0).cache().values(layer);
        Shape s = first.getShape();                                             // [1, Hkv, S_0, D]
        NDArray out = m.zeros(new Shape(seqs.size(), s.get(1), capacity, s.get(3)), first.getDataType());
        for (int i = 0; i < seqs.size(); i++) {
            NDArray x = key ? seqs.get(i).cache().keys(layer) : seqs.get(i).cache().values(layer);
            out.set(new NDIndex("{}:{}, :, 0:{}, :", i, i + 1, x.getShape().get(2)), x);
        }
        return out;
    }

    /** Concatenates along the batch axis in one copy (not B growing ones); a single part is returned as is. */
    private static NDArray stack(NDList parts) {
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
    }

    private static void accept(int i, long token, List<Sequence> seqs, List<List<Long>> out, boolean[] done,
                               boolean[] stopped, RuntimeException[] errors, long[] last) {
        done[i] = take(i, token, seqs, out, stopped, errors, last);
        if (done[i]) {
            try {
                seqs.get(i).onDone().accept(outcome(i, out, stopped, errors));
            } catch (RuntimeException e) {
                if (errors[i] == null) {
                    errors[i] = e;
                }
            }
        }
    }

    /** Adds a sequence's next token; true when the sequence has ended (a stop token, its limit or its callback threw). */
    private static boolean take(int i, long token, List<Sequence> seqs, List<List<Long>> out, boolean[] stopped,
                                RuntimeException[] errors, long[] last) {
        GenerationOptions o = seqs.get(i).options();
        if (o.stopTokens().contains(token)) {
            stopped[i] = true;
            return true;
        }
        out.get(i).add(token);
        last[i] = token;
        try {
            seqs.get(i).onToken().accept(token);
        } catch (RuntimeException e) {
            errors[i] = e;
            return true;
        }
        return out.get(i).size() >= o.maxNewTokens();
    }

    private static boolean allDone(boolean[] done) {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }
}
