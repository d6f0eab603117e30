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
 * Decodes several independent sequences together, and lets new ones join while it runs
 * (continuous batching).
 *
 * <p>The batch cache is one reserved [B, Hkv, capacity, D] per layer. Row r holds its sequence's
 * own cache (e.g. composed anchors), its prompt and its answer so far, right-aligned so that the
 * next token of every row is written at the same slot; each row has its own additive mask over
 * the slots (0 where its tokens are, {@link Masks#BLOCKED} elsewhere), so rows of different
 * lengths share one forward per step. The cache has room for {@value #ANSWER_ROOM} answer tokens
 * and grows by as many when the answers reach it, so a step does not copy the cache.
 *
 * <ul>
 *   <li><b>Start:</b> every prompt is prefilled in one forward (left-padded) and gives its row's
 *       first token.</li>
 *   <li><b>Each step</b> runs all rows as one batch. On a CPU a decode step is bound by reading the
 *       weights and by per-op overhead, both shared by the batch, so B sequences cost far less
 *       than B separate loops.</li>
 *   <li><b>Joining:</b> between steps, {@link Arrivals#take} may hand over sequences that arrived
 *       meanwhile. They are prefilled together in a forward of their own, then copied into the
 *       batch beside the running rows (both blocks shifted so that their last slots line up). A
 *       question asked while a batch decodes starts within one step and a prefill, instead of
 *       waiting for the batch's longest answer.</li>
 *   <li><b>Leaving:</b> once half the rows have ended, the others are copied into a smaller
 *       batch, each moved to the end of the slots it needs (the slots in front of it that only
 *       rows gone used are dropped), so ended rows and old slots do not keep costing every step.</li>
 * </ul>
 *
 * <p>A callback that throws stops only its own sequence (a cancelled request); the error is
 * returned in that sequence's result. Each sequence's {@code onDone} hears its outcome as soon as
 * that sequence ends, on the decoding thread, while the others go on.
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

    /**
     * Sequences that join a running batch. Both methods are called on the decoding thread,
     * between steps.
     */
    public interface Arrivals {
        /** No sequence ever joins. */
        Arrivals NONE = decoding -> List.of();

        /**
         * The sequences to start now, given how many rows are still decoding; empty when none
         * wait (it must not block: every row waits for it). The caller decides how many it hands
         * over (its batch limit); the batch ends when no row is decoding and this is empty.
         */
        List<Sequence> take(int decoding);

        /**
         * {@code seqs} were prefilled into the batch (or their prefill failed): their caches and
         * prompts are no longer read and may be closed. Told of the sequences a batch starts with
         * too, after their prefill, and of each list {@link #take} returned.
         */
        default void prefilled(List<Sequence> seqs) {
        }
    }

    private BatchGenerator() {
    }

    /** Decodes {@code seqs} together; outcome i belongs to sequence i. */
    public static List<Outcome> generate(Transformer model, List<Sequence> seqs) {
        return generate(model, seqs, Arrivals.NONE);
    }

    /**
     * Decodes {@code seqs} together, with the sequences {@code arrivals} hands over joining on the
     * way; returns the outcomes of {@code seqs}, then those of the joined sequences in the order
     * they were taken.
     */
    public static List<Outcome> generate(Transformer model, List<Sequence> seqs, Arrivals arrivals) {
        if (seqs.isEmpty()) {
            throw new IllegalArgumentException("no sequences to decode");
        }
        try (Run run = new Run(model, arrivals); NDScope scope = new NDScope()) {
            try {
                run.start(seqs);
            } finally {
                arrivals.prefilled(seqs);
            }
            run.decode();
            return run.outcomes();
        }
    }

    /** A sequence's state while it decodes. */
    private static final class Row {
        /** Null once the sequence has ended: a batch may run for long, and what its callbacks hold goes with it. */
        Sequence seq;
        /** Where its outcome goes in the run's list. */
        final int index;
        final Random random;
        final List<Long> out = new ArrayList<>();
        boolean done;
        boolean stopped;
        RuntimeException error;
        long last;
        int nextPos;
        /** One entry per slot of the cache the row is in: 0 where its own tokens are, BLOCKED elsewhere. */
        float[] mask;

        Row(Sequence seq, int index) {
            this.seq = seq;
            this.index = index;
            this.random = new Random(seq.options().seed());
        }

        Outcome outcome() {
            long[] tokens = out.stream().mapToLong(Long::longValue).toArray();
            return new Outcome(new Generator.Result(tokens, stopped), error);
        }

        /** The first slot this row uses (its cache's first position). */
        int firstSlot() {
            for (int s = 0; s < mask.length; s++) {
                if (mask[s] == 0f) {
                    return s;
                }
            }
            throw new IllegalStateException("a row with no slot of its own");
        }
    }

    /** Rows and the cache that holds them: row r of the cache is rows.get(r). */
    private record Block(KvCache cache, List<Row> rows) { }

    /** One call of {@link #generate}: the batch as it changes, and every row in outcome order. */
    private static final class Run implements AutoCloseable {
        private final Transformer model;
        private final NDManager m;
        private final int v;
        private final Arrivals arrivals;
        /** Every sequence's outcome, in the order they came (null while it decodes). */
        private final List<Outcome> outcomes = new ArrayList<>();
        private Block batch;

        Run(Transformer model, Arrivals arrivals) {
            this.model = model;
            this.m = model.manager();
            this.v = model.config().vocabSize();
            this.arrivals = arrivals;
        }

        void start(List<Sequence> seqs) {
            try {
                batch = prefill(seqs, Math.min(ANSWER_ROOM, seqs.stream().mapToInt(s -> s.options().maxNewTokens()).max()
                        .orElseThrow()));
            } catch (PrefillFailed e) {
                throw e.getCause();
            }
        }

        /** Steps until no row decodes and none joins; joining first, so that joining rows take the rows of ended ones. */
        void decode() {
            for (;;) {
                if (decoding() > 0) {
                    step();
                }
                if (!join() && decoding() == 0) {
                    return;
                }
                shrinkOrCompact();
            }
        }

        List<Outcome> outcomes() {
            return List.copyOf(outcomes);
        }

        private int decoding() {
            int n = 0;
            for (Row r : batch.rows()) {
                n += r.done ? 0 : 1;
            }
            return n;
        }

        /**
         * Prefills {@code seqs} into a new cache with {@code room} slots after their prompts, and
         * takes each row's first token. Caches are padded at the end (slots len..maxLen), prompts
         * at the front, so that the last prompt position is every row's last real token and one
         * LAST-logits forward serves them all.
         */
        private Block prefill(List<Sequence> seqs, int room) {
            int maxLen = seqs.stream().mapToInt(s -> s.cache().length()).max().orElseThrow();
            int maxPrompt = seqs.stream().mapToInt(s -> s.positions().length).max().orElseThrow();
            int width = maxLen + maxPrompt;
            int capacity = width + room;
            List<Row> rows = new ArrayList<>();
            for (Sequence s : seqs) {
                Row row = new Row(s, outcomes.size() + rows.size());
                row.mask = new float[capacity];
                Arrays.fill(row.mask, s.cache().length(), capacity, Masks.BLOCKED);
                Arrays.fill(row.mask, width - s.positions().length, width, 0f);
                row.nextPos = s.positions()[s.positions().length - 1] + 1;
                rows.add(row);
            }
            int layers = model.config().layers();
            NDArray[] keys = new NDArray[layers];
            NDArray[] values = new NDArray[layers];
            KvCache cache = null;
            float[] logits;
            try {
                try (NDScope scope = new NDScope()) {
                    for (int l = 0; l < layers; l++) {
                        keys[l] = reserve(seqs, l, true, capacity);      // [B, Hkv, capacity, D]
                        values[l] = reserve(seqs, l, false, capacity);
                    }
                    cache = KvCache.reserved(m, keys, values, maxLen);
                }
                try (NDScope scope = new NDScope()) {
                    logits = model.forward(prompts(seqs, rows, maxLen, maxPrompt, capacity), cache).toFloatArray();   // [B, 1, V]
                }
            } catch (RuntimeException e) {
                closeIfMade(cache);
                throw new PrefillFailed(e);
            } catch (Error e) {
                closeIfMade(cache);
                throw e;
            }
            rows.forEach(r -> outcomes.add(null));
            for (int i = 0; i < rows.size(); i++) {
                accept(rows.get(i), Arrays.copyOfRange(logits, i * v, (i + 1) * v));
            }
            return new Block(cache, rows);
        }

        /**
         * All prompts as one forward: embeddings [B, maxPrompt, E] left-padded with zeros, mask
         * [B, maxPrompt, capacity] letting a real prompt token see its own cache and its own
         * earlier prompt tokens. A padding position sees only itself (finite, never seen).
         */
        private Transformer.Input prompts(List<Sequence> seqs, List<Row> rows, int maxLen, int maxPrompt, int capacity) {
            int b = seqs.size();
            float[] mask = new float[b * maxPrompt * capacity];
            int[][] positions = new int[b][maxPrompt];
            NDList embeds = new NDList(b);
            for (int i = 0; i < b; i++) {
                Sequence s = seqs.get(i);
                int pad = maxPrompt - s.positions().length;
                for (int q = 0; q < maxPrompt; q++) {
                    int base = (i * maxPrompt + q) * capacity;
                    if (q < pad) {
                        Arrays.fill(mask, base, base + capacity, Masks.BLOCKED);
                        mask[base + maxLen + q] = 0f;
                        positions[i][q] = s.positions()[0];
                        continue;
                    }
                    System.arraycopy(rows.get(i).mask, 0, mask, base, maxLen + q + 1);
                    Arrays.fill(mask, base + maxLen + q + 1, base + capacity, Masks.BLOCKED);
                    positions[i][q] = s.positions()[q - pad];
                }
                NDArray e = s.prompt();                                            // [1, T_i, E]
                if (pad > 0) {
                    e = m.zeros(new Shape(1, pad, e.getShape().get(2)), e.getDataType()).concat(e, 1);
                }
                embeds.add(e);
            }
            NDArray stacked = embeds.size() == 1 ? embeds.get(0) : NDArrays.concat(embeds, 0);
            return new Transformer.Input(stacked, positions, Owned.floats(m, mask, new Shape(b, maxPrompt, capacity)),
                    Transformer.Logits.LAST);
        }

        /** One token for every row: the last token in, the next one picked (rows that ended feed a pad and are ignored). */
        private void step() {
            KvCache cache = batch.cache();
            List<Row> rows = batch.rows();
            if (cache.length() == cache.capacity()) {
                cache.grow(ANSWER_ROOM);   // one copy per ANSWER_ROOM steps of a long answer
                for (Row r : rows) {
                    r.mask = widened(r.mask, cache.capacity());
                }
            }
            int capacity = cache.capacity();
            int slot = cache.length();   // every row's token of this step is written here
            int b = rows.size();
            float[] mask = new float[b * capacity];
            long[][] tokens = new long[b][1];
            int[][] positions = new int[b][1];
            for (int r = 0; r < b; r++) {
                Row row = rows.get(r);
                row.mask[slot] = 0f;
                System.arraycopy(row.mask, 0, mask, r * capacity, capacity);
                tokens[r][0] = row.done ? 0 : row.last;
                // an ended row stays at one position: it may sit in the batch for long while others join
                positions[r][0] = row.done ? row.nextPos : row.nextPos++;
            }
            float[] logits;
            try (NDScope scope = new NDScope()) {
                logits = model.forward(new Transformer.Input(model.embed(tokens), positions,
                        Owned.floats(m, mask, new Shape(b, 1, capacity)), Transformer.Logits.LAST), cache)
                        .toFloatArray();                          // [B, 1, V]
            }
            for (int r = 0; r < b; r++) {
                if (!rows.get(r).done) {
                    accept(rows.get(r), Arrays.copyOfRange(logits, r * v, (r + 1) * v));
                }
            }
        }

        /**
         * Copies the live rows into a smaller cache once half the rows have ended (and no question
         * took their place), or once most slots are in front of every live row's own (old slots
         * that only rows gone used): every later step then costs what the live rows need.
         */
        private void shrinkOrCompact() {
            List<Row> live = batch.rows().stream().filter(r -> !r.done).toList();
            int b = batch.rows().size();
            if (live.isEmpty()) {
                return;
            }
            int length = batch.cache().length();
            int span = 0;
            for (Row r : live) {
                span = Math.max(span, length - r.firstSlot());
            }
            if (2 * (b - live.size()) >= b || length - span > Math.max(ANSWER_ROOM, span)) {
                replaceBatch(rebuilt(live, null));
            }
        }

        private void replaceBatch(Block next) {
            batch.cache().close();
            batch = next;
        }

        /**
         * Takes the sequences that arrived and puts them in the batch ({@link #admit}). Returns
         * whether any came (the batch may then hold only them, when every running row had ended).
         */
        private boolean join() {
            List<Sequence> taken = arrivals.take(decoding());
            if (taken.isEmpty()) {
                return false;
            }
            try {
                admit(taken);
            } finally {
                arrivals.prefilled(taken);
            }
            return true;
        }

        /**
         * Prefills {@code seqs} and puts them in the batch: in the rows of ended sequences when
         * there are enough (a copy of the new rows only), else in a new cache with the live rows.
         * When their prefill fails (a prompt the model cannot take), each is tried alone, so that
         * one bad question fails alone, told at once, and the running rows go on.
         */
        private void admit(List<Sequence> seqs) {
            boolean alone = decoding() == 0;
            Block joining;
            try {
                joining = prefill(seqs, alone ? ANSWER_ROOM : 0);
            } catch (PrefillFailed e) {
                if (seqs.size() > 1) {
                    seqs.forEach(seq -> admit(List.of(seq)));
                } else {
                    Row row = new Row(seqs.get(0), outcomes.size());
                    outcomes.add(null);
                    row.error = e.getCause();
                    row.done = true;
                    deliver(row);
                }
                return;
            }
            if (alone) {   // nothing of the old batch is needed any more
                replaceBatch(joining);
                return;
            }
            try {
                if (!placedInEndedRows(joining)) {
                    replaceBatch(rebuilt(batch.rows().stream().filter(r -> !r.done).toList(), joining));
                }
            } finally {
                joining.cache().close();
            }
        }

        /**
         * Writes {@code joining}'s rows over rows of the batch whose sequences ended, their slots
         * ending where the batch's written slots end (which move on to the joining rows' length
         * when that is longer: the running rows see a gap of blocked slots). False, and nothing
         * written, when there are not enough ended rows or the cache has no room.
         */
        private boolean placedInEndedRows(Block joining) {
            KvCache cache = batch.cache();
            List<Row> rows = batch.rows();
            int lj = joining.cache().length();
            int length = Math.max(cache.length(), lj);
            List<Integer> ended = new ArrayList<>();
            for (int r = 0; r < rows.size(); r++) {
                if (rows.get(r).done) {
                    ended.add(r);
                }
            }
            if (ended.size() < joining.rows().size() || length > cache.capacity()) {
                return false;
            }
            try (NDScope scope = new NDScope()) {
                for (int l = 0; l < cache.layers(); l++) {
                    for (int i = 0; i < joining.rows().size(); i++) {
                        int r = ended.get(i);
                        copy(joining.cache(), l, new NDIndex("{}:{}, :, 0:{}, :", i, i + 1, lj),
                                cache.keys(l), cache.values(l), new NDIndex("{}:{}, :, {}:{}, :", r, r + 1, length - lj, length));
                    }
                }
            }
            cache.advanceTo(length);
            for (int i = 0; i < joining.rows().size(); i++) {
                Row row = joining.rows().get(i);
                row.mask = moved(row.mask, 0, lj, length - lj, cache.capacity());
                rows.set(ended.get(i), row);
            }
            return true;
        }

        /**
         * {@code keep} (rows of the batch) and {@code joining}'s rows (nullable) in a new cache:
         * each kept row's slots moved to end where the new cache's written slots end (the slots
         * in front of it dropped), the joining block's too. The room after them stays what it
         * was, and is at least {@value #ANSWER_ROOM} when rows join.
         */
        private Block rebuilt(List<Row> keep, Block joining) {
            KvCache cache = batch.cache();
            int length = cache.length();
            int[] first = new int[keep.size()];
            int[] from = new int[keep.size()];
            int newLength = joining == null ? 0 : joining.cache().length();
            for (int i = 0; i < keep.size(); i++) {
                first[i] = keep.get(i).firstSlot();
                from[i] = batch.rows().indexOf(keep.get(i));
                newLength = Math.max(newLength, length - first[i]);
            }
            int[] to = new int[keep.size()];   // where each kept row's first slot goes
            for (int i = 0; i < keep.size(); i++) {
                to[i] = newLength - (length - first[i]);
            }
            int room = cache.capacity() - length;
            int capacity = newLength + (joining == null ? room : Math.max(room, ANSWER_ROOM));
            int joined = joining == null ? 0 : joining.rows().size();
            int lj = joining == null ? 0 : joining.cache().length();
            int layers = cache.layers();
            NDArray[] keys = new NDArray[layers];
            NDArray[] values = new NDArray[layers];
            KvCache out;
            try (NDScope scope = new NDScope()) {
                for (int l = 0; l < layers; l++) {
                    keys[l] = zerosLike(cache.keys(l), keep.size() + joined, capacity);
                    values[l] = zerosLike(cache.values(l), keep.size() + joined, capacity);
                    for (int i = 0; i < keep.size(); i++) {
                        copy(cache, l, new NDIndex("{}:{}, :, {}:{}, :", from[i], from[i] + 1, first[i], length),
                                keys[l], values[l], new NDIndex("{}:{}, :, {}:{}, :", i, i + 1, to[i], newLength));
                    }
                    if (joined > 0) {
                        copy(joining.cache(), l, new NDIndex(":, :, 0:{}, :", lj), keys[l], values[l],
                                new NDIndex("{}:{}, :, {}:{}, :", keep.size(), keep.size() + joined, newLength - lj, newLength));
                    }
                }
                out = KvCache.reserved(m, keys, values, newLength);
            }
            List<Row> rows = new ArrayList<>(keep.size() + joined);
            for (int i = 0; i < keep.size(); i++) {
                Row row = keep.get(i);
                row.mask = moved(row.mask, first[i], length, to[i], capacity);
                rows.add(row);
            }
            for (int i = 0; i < joined; i++) {
                Row row = joining.rows().get(i);
                row.mask = moved(row.mask, 0, lj, newLength - lj, capacity);
                rows.add(row);
            }
            return new Block(out, rows);
        }

        /** Layer {@code l}'s K and V of {@code from} at {@code src}, written into {@code keys} and {@code values} at {@code dst}. */
        private static void copy(KvCache from, int l, NDIndex src, NDArray keys, NDArray values, NDIndex dst) {
            keys.set(dst, from.keys(l).get(src));
            values.set(dst, from.values(l).get(src));
        }

        private NDArray zerosLike(NDArray kv, int rows, int capacity) {
            Shape s = kv.getShape();                                           // [B, Hkv, S, D]
            return m.zeros(new Shape(rows, s.get(1), capacity, s.get(3)), kv.getDataType());
        }

        /** One layer's K or V of every sequence, row i at slots 0..S_i, in a zeroed [B, Hkv, capacity, D]. */
        private NDArray reserve(List<Sequence> seqs, int layer, boolean key, int capacity) {
            NDArray first = key ? seqs.get(0).cache().keys(layer) : seqs.get(0).cache().values(layer);
            NDArray out = zerosLike(first, seqs.size(), capacity);
            for (int i = 0; i < seqs.size(); i++) {
                NDArray x = key ? seqs.get(i).cache().keys(layer) : seqs.get(i).cache().values(layer);
                out.set(new NDIndex("{}:{}, :, 0:{}, :", i, i + 1, x.getShape().get(2)), x);
            }
            return out;
        }

        /** Adds a row's next token; on its end, tells its onDone. */
        private void accept(Row row, float[] logits) {
            try {
                row.done = take(row, Generator.pick(logits, row.seq.options(), row.random));
            } catch (Generator.NonFiniteLogitsException e) {   // this row's input or the model: this row ends, failed
                row.error = e;
                row.done = true;
            }
            if (row.done) {
                deliver(row);
            }
        }

        /**
         * Tells an ended row's onDone (an exception from it becomes the row's error), records its
         * outcome and lets go of its sequence.
         */
        private void deliver(Row row) {
            try {
                row.seq.onDone().accept(row.outcome());
            } catch (RuntimeException e) {
                if (row.error == null) {
                    row.error = e;
                }
            }
            outcomes.set(row.index, row.outcome());
            row.seq = null;
        }

        /** True when the row has ended: a stop token, its limit, or its callback threw. */
        private static boolean take(Row row, long token) {
            GenerationOptions o = row.seq.options();
            if (o.stopTokens().contains(token)) {
                row.stopped = true;
                return true;
            }
            row.out.add(token);
            row.last = token;
            try {
                row.seq.onToken().accept(token);
            } catch (RuntimeException e) {
                row.error = e;
                return true;
            }
            return row.out.size() >= o.maxNewTokens();
        }

        @Override
        public void close() {
            if (batch != null) {
                batch.cache().close();
            }
        }
    }

    private static void closeIfMade(KvCache cache) {
        if (cache != null) {
            cache.close();
        }
    }

    /** A prefill's forward (or the copy of its caches) failed: its cause; nothing of it was kept. */
    private static final class PrefillFailed extends RuntimeException {
        PrefillFailed(RuntimeException cause) {
            super(cause.getMessage(), cause, false, false);
        }

        @Override
        public synchronized RuntimeException getCause() {
            return (RuntimeException) super.getCause();
        }
    }

    /** {@code mask} with BLOCKED slots added up to {@code capacity}. */
    private static float[] widened(float[] mask, int capacity) {
        float[] out = Arrays.copyOf(mask, capacity);
        Arrays.fill(out, mask.length, capacity, Masks.BLOCKED);
        return out;
    }

    /** A new mask of {@code capacity} slots holding {@code mask[from..to)} at {@code at}, BLOCKED elsewhere. */
    private static float[] moved(float[] mask, int from, int to, int at, int capacity) {
        float[] out = new float[capacity];
        Arrays.fill(out, Masks.BLOCKED);
        System.arraycopy(mask, from, out, at, to - from);
        return out;
    }
}
