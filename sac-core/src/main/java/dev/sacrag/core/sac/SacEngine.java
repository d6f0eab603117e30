package dev.sacrag.core.sac;

import ai.djl.ndarray.NDScope;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.model.BatchGenerator;
import dev.sacrag.core.model.GenerationOptions;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.text.TextTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;

/**
 * A base model, its tokenizer and one SAC adapter, loaded once: the compressor (base with
 * the LoRA merged into its targets) and the decoder (the frozen base) share every other weight.
 */
public final class SacEngine implements AutoCloseable {
    private final Transformer base;
    private final Transformer merged;
    private final TextTokenizer tokenizer;
    private final SacAdapter adapter;
    private final String baseFingerprint;
    private final SacCompressor compressor;
    private final SacDecoder decoder;
    private final long[] contextPrefix;   // BOS + the context prompt: the start of every compressor input
    // capitalised words' tokens of a compressor input; one per engine, so each token id is decoded once, not per document
    private final java.util.function.Function<long[], boolean[]> capitalisedWords;
    private volatile PromptPrefixCache prefixes = PromptPrefixCache.DISABLED;

    private SacEngine(Transformer base, TextTokenizer tokenizer, SacAdapter adapter, String baseFingerprint) {
        this.base = base;
        this.tokenizer = tokenizer;
        this.adapter = adapter;
        this.baseFingerprint = baseFingerprint;
        this.merged = base.withMerged(adapter.lora());
        this.compressor = new SacCompressor(merged, adapter, SacCompressor.DEFAULT_BATCH_CHUNKS);
        this.decoder = new SacDecoder(base, adapter, tokenizer.encode(adapter.spec().questionPrompt()));
        this.contextPrefix = adapter.spec().contextPrefix(tokenizer, base.config().bosTokenId());
        this.capitalisedWords = CapitalisedWords.marker(tokenizer, contextPrefix.length);
    }

    public static SacEngine load(Path modelDir, Path adapterDir) throws IOException {
        String fingerprint = Fingerprints.baseModel(modelDir);
        requireTrainedOn(SacSpec.load(adapterDir), fingerprint, modelDir, adapterDir);   // before the weights load
        Transformer base = Transformer.load(modelDir);
        TextTokenizer tok = null;
        try {
            tok = TextTokenizer.load(modelDir);
            SacAdapter adapter = SacAdapter.load(adapterDir, base.config(), base.manager());
            return new SacEngine(base, tok, adapter, fingerprint);
        } catch (Throwable e) {   // an Error too (e.g. out of direct memory): the native arrays go either way
            if (tok != null) {
                tok.close();   // native tokenizer memory
            }
            base.close();
            throw e;
        }
    }

    /**
     * Refuses an adapter trained on other base weights (sac.json {@code baseModel}): shapes alone
     * do not tell a base from its fine-tune or another export of the same size, and an adapter on
     * the wrong base loads and answers, wrongly, without any error.
     */
    static void requireTrainedOn(SacSpec spec, String baseFingerprint, Path modelDir, Path adapterDir) {
        if (!baseFingerprint.equals(spec.baseModel())) {
            throw new IllegalArgumentException("adapter " + adapterDir + " was trained on base weights " + abbreviate(
                    spec.baseModel()) + ", not on " + modelDir + " (" + abbreviate(baseFingerprint) + "): use the base it"
                    + " was trained with, or train one for this base ('sac train sac')");
        }
    }

    private static String abbreviate(String fingerprint) {
        if (fingerprint == null) {
            return "(none named)";
        }
        return fingerprint.length() > 12 ? fingerprint.substring(0, 12) + "..." : fingerprint;
    }

    /** Model id of (base weights, adapter, ratio): part of every Redis key and blob header. */
    public String modelId(int ratio) {
        return Fingerprints.modelId(baseFingerprint, adapter.fingerprint(), ratio);
    }

    /** BOS + the context prompt + the context, as the compressor reads them. */
    public long[] contextTokens(String text) {
        return contextTokens(tokenizer.encode(text));
    }

    /** BOS + the context prompt + {@code body} (context tokens), as the compressor reads them. */
    public long[] contextTokens(long[] body) {
        long[] out = java.util.Arrays.copyOf(contextPrefix, contextPrefix.length + body.length);
        System.arraycopy(body, 0, out, contextPrefix.length, body.length);
        return out;
    }

    /** {@code text} compressed with the anchors this adapter was trained for ({@link #compressTokens}). */
    public AnchorKv compress(String text, int ratio) {
        return compressTokens(contextTokens(text), ratio);
    }

    /**
     * A whole compressor input ({@link #contextTokens}) compressed with the anchors this adapter was trained for:
     * the paper's uniform ones, or, for an adapter of the {@link SacSpec#NAMES_VARIANT} layout, those plus every
     * token of a capitalised word ({@link #compressKeepingCapitalisedWords}).
     */
    public AnchorKv compressTokens(long[] tokens, int ratio) {
        return adapter().spec().keepsCapitalisedWords() ? compressKeepingCapitalisedWords(tokens, ratio)
                : compressor.compress(tokens, ratio, modelId(ratio));
    }

    /**
     * As {@link #compress} with every token of a capitalised word of the context an anchor too (fewer tokens per
     * anchor than {@code ratio}): what a {@link SacSpec#NAMES_VARIANT} adapter is trained for; with a sac adapter,
     * session 18's untrained check ({@code sac eval --methods sac-names}).
     */
    public AnchorKv compressKeepingCapitalisedWords(String text, int ratio) {
        return compressKeepingCapitalisedWords(contextTokens(text), ratio);
    }

    /** As {@link #compressKeepingCapitalisedWords(String, int)} for a whole compressor input ({@link #contextTokens}). */
    public AnchorKv compressKeepingCapitalisedWords(long[] tokens, int ratio) {
        return compressor.compressWithExtraAnchors(tokens, ratio, modelId(ratio),
                capitalisedWords.apply(tokens));
    }

    /**
     * Keeps the decoder's prompt head ([LM] + question prompt) per composed context, up to
     * {@code budgetBytes} of K/V, for questions that name their context ({@link Request#contextKey});
     * 0 turns it off. See {@link PromptPrefixCache}.
     */
    public synchronized void enablePromptCache(long budgetBytes) {
        long entry = promptCacheEntryBytes();
        if (budgetBytes != 0 && budgetBytes < entry) {
            throw new IllegalArgumentException("a prompt cache of " + budgetBytes + " bytes holds no entry: one takes "
                    + entry + " bytes with this model (0 turns the cache off)");
        }
        PromptPrefixCache old = prefixes;
        prefixes = budgetBytes == 0 ? PromptPrefixCache.DISABLED : new PromptPrefixCache(base.manager(), budgetBytes);
        if (old != PromptPrefixCache.DISABLED) {
            old.close();
        }
    }

    /** Bytes of one prompt cache entry: K and V (float32) of [LM] + the question prompt, every layer. */
    public long promptCacheEntryBytes() {
        ModelConfig c = base.config();
        return 2L * c.layers() * c.kvHeads() * c.headDim() * Float.BYTES * decoder.headPositions();
    }

    public PromptPrefixCache.Stats promptCacheStats() {
        return prefixes.stats();
    }

    /** Answers from the given documents' anchor KV; every document must come from this engine. */
    public Generator.Result answer(List<AnchorKv> docs, String question, GenerationOptions options,
                                   LongConsumer onToken) {
        return answer(docs, null, question, options, onToken);
    }

    /** As above; {@code contextKey} (nullable) names the composed documents for the prompt cache. */
    public Generator.Result answer(List<AnchorKv> docs, String contextKey, String question, GenerationOptions options,
                                   LongConsumer onToken) {
        checkModel(docs);
        try (SacDecoder.Composed context = decoder.compose(docs)) {
            return decoder.answer(context, decoder.questionTokens(this, question), contextKey, prefixes, options, onToken);
        }
    }

    /**
     * The "uniform-kv" baseline: K/V at the same anchor positions from a plain causal pass of
     * the base model (no LoRA, no anchor embedding), per chunk as SAC compresses.
     */
    public AnchorKv uniformKv(String text, int ratio) {
        SacSpec s = adapter.spec();
        SacSpec plain = new SacSpec(s.format(), "uniform-kv", s.ratios(), s.chunkSize(), s.contextPrompt(),
                s.questionPrompt(), s.answerPrompt(), false, false, s.loraTargets(), s.loraRank(), s.loraAlpha(),
                s.anchorSlots(), s.maxComposedTokens(), s.baseModel());
        SacAdapter none = new SacAdapter(plain, null, null, null, null, "uniform-kv"); // no tensors: nothing to close
        return new SacCompressor(base, none, SacCompressor.DEFAULT_BATCH_CHUNKS)
                .compress(contextTokens(text), ratio, "uniform-kv-" + ratio);
    }

    /**
     * One question of a batch: its documents' anchor KV, the question, options and token
     * callback. {@code contextKey} names the composed documents for the prompt cache (the same
     * documents in the same order, with the same content, must get the same key); null = none.
     * {@code onDone} hears the question's outcome as soon as it is known, before the batch ends
     * (see {@link BatchGenerator}).
     */
    public record Request(List<AnchorKv> docs, String contextKey, String question, GenerationOptions options,
                          LongConsumer onToken, Consumer<BatchGenerator.Outcome> onDone) {

        public Request {
            Objects.requireNonNull(onToken, "onToken");
            Objects.requireNonNull(onDone, "onDone");
        }

        public Request(List<AnchorKv> docs, String contextKey, String question, GenerationOptions options,
                       LongConsumer onToken) {
            this(docs, contextKey, question, options, onToken, outcome -> { });
        }

        public Request(List<AnchorKv> docs, String question, GenerationOptions options, LongConsumer onToken) {
            this(docs, null, question, options, onToken);
        }
    }

    /**
     * Answers several questions at once: each question's documents are composed on their own,
     * then one forward prefills every prompt and all decode together (see {@link BatchGenerator}).
     * A question whose anchor KV cannot be decoded here (another model, another shape), or whose
     * callback throws, fails alone: its outcome carries the error, the others are answered.
     */
    public List<BatchGenerator.Outcome> answerBatch(List<Request> requests) {
        return answerBatch(requests, decoding -> List.of());
    }

    /**
     * As {@link #answerBatch(List)}, with questions joining while the batch decodes: between
     * decode steps {@code arrivals} is asked for the questions to start now, given how many are
     * still decoding (it must not block, and decides how many it hands over), and those it
     * returns join the running batch ({@link BatchGenerator.Arrivals}). The outcomes are those of
     * {@code requests}, then those of the arrivals in the order they were returned; every one is
     * told to its request's onDone first. When no question of {@code requests} can be decoded,
     * none is taken from {@code arrivals}.
     */
    public List<BatchGenerator.Outcome> answerBatch(List<Request> requests, IntFunction<List<Request>> arrivals) {
        List<BatchGenerator.Outcome> outcomes = new ArrayList<>(requests.size());
        List<Integer> decoded = new ArrayList<>();   // the i-th sequence decoded answers request decoded.get(i)
        Joining joining = new Joining(arrivals, outcomes, decoded);
        try {
            List<BatchGenerator.Sequence> seqs = joining.sequences(requests);
            if (!seqs.isEmpty()) {
                List<BatchGenerator.Outcome> out = BatchGenerator.generate(base, seqs, joining);
                for (int k = 0; k < out.size(); k++) {
                    outcomes.set(decoded.get(k), out.get(k));
                }
            }
            return List.copyOf(outcomes);
        } finally {
            joining.releaseAll();   // those a failure left before their prefill
        }
    }

    /**
     * The questions of a batch, those it starts with and those that join it, made into sequences
     * with arrays of their own: each one's composed context and prompt are closed once it is
     * prefilled (a batch may run for long while questions keep joining, and nothing of a question
     * it has prefilled stays with it). A question that cannot be decoded here (another model,
     * another shape, a prompt that cannot be built) fails alone, told at once.
     */
    private final class Joining implements BatchGenerator.Arrivals {
        private final IntFunction<List<Request>> arrivals;
        private final List<BatchGenerator.Outcome> outcomes;
        private final List<Integer> decoded;
        private final java.util.Map<BatchGenerator.Sequence, Runnable> release = new java.util.IdentityHashMap<>();

        Joining(IntFunction<List<Request>> arrivals, List<BatchGenerator.Outcome> outcomes, List<Integer> decoded) {
            this.arrivals = arrivals;
            this.outcomes = outcomes;
            this.decoded = decoded;
        }

        @Override
        public List<BatchGenerator.Sequence> take(int decoding) {
            return sequences(arrivals.apply(decoding));
        }

        /** The sequences of {@code requests} that can be decoded; each request's outcome gets its place. */
        List<BatchGenerator.Sequence> sequences(List<Request> requests) {
            List<BatchGenerator.Sequence> seqs = new ArrayList<>(requests.size());
            for (Request r : requests) {
                int index = outcomes.size();
                outcomes.add(null);
                SacDecoder.Composed ctx = null;
                BatchGenerator.Sequence seq;
                try (NDScope scope = new NDScope()) {
                    checkModel(r.docs());
                    ctx = decoder.compose(r.docs());
                    SacDecoder.LmPrompt prompt = decoder.prompt(ctx, decoder.questionTokens(SacEngine.this, r.question()),
                            r.contextKey(), prefixes);
                    NDScope.unregister(prompt.embeds());   // closed by the release below, not with this scope
                    seq = new BatchGenerator.Sequence(ctx.cache(), prompt.embeds(), prompt.positions(), r.options(),
                            r.onToken(), r.onDone());
                } catch (RuntimeException e) {
                    if (ctx != null) {
                        ctx.close();
                    }
                    outcomes.set(index, refused(r, e));
                    continue;
                }
                SacDecoder.Composed context = ctx;
                release.put(seq, () -> {
                    seq.prompt().close();
                    context.close();
                });
                decoded.add(index);
                seqs.add(seq);
            }
            return seqs;
        }

        @Override
        public void prefilled(List<BatchGenerator.Sequence> seqs) {
            for (BatchGenerator.Sequence seq : seqs) {
                Runnable r = release.remove(seq);
                if (r != null) {
                    r.run();
                }
            }
        }

        void releaseAll() {
            prefilled(List.copyOf(release.keySet()));
        }
    }

    /** The outcome of a request refused before decoding, delivered to its onDone like any other. */
    private static BatchGenerator.Outcome refused(Request r, RuntimeException e) {
        BatchGenerator.Outcome outcome = new BatchGenerator.Outcome(new Generator.Result(new long[0], false), e);
        try {
            r.onDone().accept(outcome);
        } catch (RuntimeException ignored) {
            // the outcome is already a failure; the one returned says why
        }
        return outcome;
    }

    private void checkModel(List<AnchorKv> docs) {
        Set<String> ids = new HashSet<>();
        adapter.spec().ratios().forEach(r -> ids.add(modelId(r)));
        for (AnchorKv d : docs) {
            if (!ids.contains(d.modelId())) {
                throw new IllegalArgumentException("anchor KV of model " + d.modelId()
                        + " cannot be decoded by this engine (model ids " + ids + ")");
            }
        }
    }

    public GenerationOptions greedy(int maxNewTokens) {
        Set<Long> stops = new HashSet<>();
        base.config().eosTokenIds().forEach(e -> stops.add((long) e));
        return GenerationOptions.greedy(maxNewTokens, stops);
    }

    public ModelConfig config() {
        return base.config();
    }

    /**
     * Positions the decoder's prompt after the anchors takes for {@code question}: [LM], then the
     * question prompt, the question and the answer prompt, tokenized as the decoder does.
     */
    public int promptTokens(String question) {
        return 1 + decoder.questionTokens(this, question).length;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public SacAdapter adapter() {
        return adapter;
    }

    public Transformer base() {
        return base;
    }

    public SacCompressor compressor() {
        return compressor;
    }

    public SacDecoder decoder() {
        return decoder;
    }

    @Override
    public void close() {
        enablePromptCache(0);
        merged.close();
        adapter.close();
        tokenizer.close();
        base.close();
    }
}
