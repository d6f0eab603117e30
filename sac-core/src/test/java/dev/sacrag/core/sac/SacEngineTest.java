package dev.sacrag.core.sac;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.model.BatchGenerator;
import dev.sacrag.core.model.Generator;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.ModelConfig.Architecture;
import dev.sacrag.core.model.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacEngineTest {
    @TempDir
    static Path tmp;
    static SacEngine engine;
    static Path base;
    static Path adapterDir;

    static final String DOC_A = "Ada Lovelace lived in London and wrote the first program in 1843.";
    static final String DOC_B = "The Analytical Engine was designed by Charles Babbage.";

    @BeforeAll
    static void load() throws Exception {
        ModelConfig c = TestModels.tiny(Architecture.LLAMA);
        base = TestModels.write(c, tmp.resolve("base"), 21);
        adapterDir = tmp.resolve("adapters/sac");
        SacAdapter.writeRandom(adapterDir, SacSpec.paperDefaults("sac", List.of(4, 8, 16), 8,
                Fingerprints.baseModel(base)), c, 22);
        engine = SacEngine.load(base, adapterDir);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void contextTokensStartWithBosAndTheContextPrompt() {
        long[] t = engine.contextTokens("hi");
        assertEquals(engine.config().bosTokenId(), t[0]);
        String decoded = engine.tokenizer().decode(java.util.Arrays.copyOfRange(t, 1, t.length));
        assertEquals("### Context:\nhi", decoded);
    }

    @Test
    void compressesToTheMidpointAnchorCount() {
        for (int ratio : new int[] {4, 8, 16}) {
            AnchorKv kv = engine.compress(DOC_A, ratio);
            assertEquals(AnchorPositions.total(kv.tokenCount(), 510, ratio), kv.anchorCount());
            assertEquals(engine.modelId(ratio), kv.modelId());
        }
    }

    @Test
    void anAdapterTrainedOnOtherBaseWeightsIsRefused() throws Exception {
        Path foreign = tmp.resolve("adapters/foreign");
        SacSpec spec = engine.adapter().spec();
        SacAdapter.writeRandom(foreign, SacSpec.paperDefaults("sac", spec.ratios(), spec.loraRank(),
                "0".repeat(64)), engine.config(), 5);   // same shapes, another base's fingerprint
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SacEngine.load(base, foreign));
        assertTrue(e.getMessage().contains("trained on base weights 000000000000..."), e.getMessage());
    }

    @Test
    void modelIdDependsOnRatioAndAdapter() throws Exception {
        assertNotEquals(engine.modelId(4), engine.modelId(8));
        Path other = tmp.resolve("adapters/other");
        SacAdapter.writeRandom(other, engine.adapter().spec(), engine.config(), 99);
        try (SacEngine e2 = SacEngine.load(base, other)) {
            assertNotEquals(engine.modelId(8), e2.modelId(8));
            AnchorKv foreign = e2.compress(DOC_A, 8);
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> engine.answer(List.of(foreign), "Where?", engine.greedy(4), t -> { }));
            assertTrue(ex.getMessage().contains(foreign.modelId()), ex.getMessage());
        }
    }

    @Test
    void adapterFilesRoundTrip() throws Exception {
        Path copy = tmp.resolve("adapters/copy");
        SacAdapter a = engine.adapter();
        SacAdapter.save(copy, a.spec(), a.lora(), a.anchorTable(), a.lmToken());
        assertEquals(a.spec(), SacSpec.load(copy));
        assertEquals(a.fingerprint(), Fingerprints.adapter(copy), "same bytes, same fingerprint");
        try (SacEngine e2 = SacEngine.load(base, copy)) {
            AnchorKv x = engine.compress(DOC_B, 4);
            AnchorKv y = e2.compress(DOC_B, 4);
            assertArrayEquals(x.keys()[1], y.keys()[1]);
        }
    }

    @Test
    void answersStreamTokenByTokenFromComposedDocumentsAfterABlobRoundTrip() {
        List<AnchorKv> docs = new ArrayList<>();
        for (String d : new String[] {DOC_A, DOC_B}) {
            byte[] blob = AnchorKvCodec.encode(engine.compress(d, 8), KvDtype.F32);
            docs.add(AnchorKvCodec.decode(blob, engine.modelId(8)));
        }
        List<Long> streamed = new ArrayList<>();
        Generator.Result r = engine.answer(docs, "Who designed the engine?", engine.greedy(12), streamed::add);
        assertEquals(streamed.size(), r.tokens().length);
        assertTrue(r.tokens().length > 0 || r.stopped());
        for (int i = 0; i < streamed.size(); i++) {
            assertEquals(streamed.get(i), r.tokens()[i]);
        }
        // greedy decoding is deterministic
        Generator.Result again = engine.answer(docs, "Who designed the engine?", engine.greedy(12), t -> { });
        assertArrayEquals(r.tokens(), again.tokens());
    }

    @Test
    void batchedAnswersEqualOneByOneAndACancelledOneStopsAlone() {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv b = engine.compress(DOC_B, 8);
        List<List<AnchorKv>> docs = List.of(List.of(a), List.of(b, a), List.of(b));
        List<String> questions = List.of("Where did she live?", "Who designed the engine?", "When?");
        dev.sacrag.core.model.GenerationOptions o = dev.sacrag.core.model.GenerationOptions.greedy(8, java.util.Set.of());
        List<SacEngine.Request> requests = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            requests.add(new SacEngine.Request(docs.get(i), questions.get(i), o, t -> { }));
        }
        int[] seen = {0};
        requests.add(new SacEngine.Request(List.of(a), "Cancel me", o, t -> {
            if (++seen[0] == 3) {
                throw new IllegalStateException("client went away");
            }
        }));
        var outcomes = engine.answerBatch(requests);
        for (int i = 0; i < docs.size(); i++) {
            long[] single = engine.answer(docs.get(i), questions.get(i), o, t -> { }).tokens();
            assertArrayEquals(single, outcomes.get(i).result().tokens(), "request " + i);
            assertEquals(null, outcomes.get(i).error());
        }
        assertEquals(3, outcomes.get(3).result().tokens().length);
        assertTrue(outcomes.get(3).error().getMessage().contains("went away"));
    }

    /**
     * Anchor KV holding NaN (a corrupt store, a broken model) makes its question's logits NaN: that
     * question fails, naming the cause, instead of answering token 0 until its limit, and the
     * question beside it in the batch is answered as alone.
     */
    @Test
    void nonFiniteLogitsFailTheirQuestionAloneInsteadOfAnsweringJunk() throws Exception {
        AnchorKv a = engine.compress(DOC_A, 4);
        float[][] keys = new float[a.layers()][];
        for (int l = 0; l < a.layers(); l++) {
            keys[l] = a.keys()[l].clone();
            java.util.Arrays.fill(keys[l], Float.NaN);
        }
        AnchorKv broken = new AnchorKv(a.modelId(), a.layers(), a.kvHeads(), a.headDim(), a.tokenCount(), a.chunkAnchors(),
                keys, a.values());
        var o = dev.sacrag.core.model.GenerationOptions.greedy(6, java.util.Set.of());
        var outcomes = engine.answerBatch(List.of(new SacEngine.Request(List.of(a), "Where did she live?", o, t -> { }),
                new SacEngine.Request(List.of(broken), "Where did she live?", o, t -> { })));
        assertArrayEquals(engine.answer(List.of(a), "Where did she live?", o, t -> { }).tokens(), outcomes.get(0).result().tokens());
        assertEquals(null, outcomes.get(0).error());
        assertTrue(outcomes.get(1).error() instanceof dev.sacrag.core.model.Generator.NonFiniteLogitsException,
                "answered " + java.util.Arrays.toString(outcomes.get(1).result().tokens()) + ", error " + outcomes.get(1).error());
        assertThrows(dev.sacrag.core.model.Generator.NonFiniteLogitsException.class,
                () -> engine.answer(List.of(broken), "Where did she live?", o, t -> { }));
    }

    /**
     * The prompt cache keeps [LM] + the question prompt per composed context. Answers must be
     * the uncached ones, alone and in batches, on a miss and on a hit; questions name their
     * context by key, and a full budget evicts the least recently used.
     */
    @Test
    void thePromptCacheChangesNoAnswer() throws Exception {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv b = engine.compress(DOC_B, 8);
        var o = dev.sacrag.core.model.GenerationOptions.greedy(8, java.util.Set.of());
        List<String> questions = List.of("Where did she live?", "Who designed the engine?", "When?", "What?");
        List<List<AnchorKv>> docs = List.of(List.of(a), List.of(b, a), List.of(a), List.of(b, a));
        List<String> keys = List.of("a", "b|a", "a", "b|a");
        try (SacEngine cached = SacEngine.load(base, adapterDir)) {
            cached.enablePromptCache(1 << 20);
            for (int i = 0; i < questions.size(); i++) {   // alone: miss, miss, hit, hit
                long[] plain = engine.answer(docs.get(i), questions.get(i), o, t -> { }).tokens();
                assertArrayEquals(plain, cached.answer(docs.get(i), keys.get(i), questions.get(i), o, t -> { }).tokens(),
                        "question " + i);
            }
            long entry = cached.promptCacheEntryBytes();
            assertEquals(new PromptPrefixCache.Stats(2, 2, 2, 2 * entry), cached.promptCacheStats());
            List<SacEngine.Request> batch = new ArrayList<>();
            for (int i = 0; i < questions.size(); i++) {
                batch.add(new SacEngine.Request(docs.get(i), keys.get(i), questions.get(i) + " Again?", o, t -> { }));
            }
            batch.add(new SacEngine.Request(List.of(b), "b", "Who?", o, t -> { }));   // a miss inside a batch
            var outcomes = cached.answerBatch(batch);
            for (int i = 0; i < batch.size(); i++) {
                long[] plain = engine.answer(batch.get(i).docs(), batch.get(i).question(), o, t -> { }).tokens();
                assertArrayEquals(plain, outcomes.get(i).result().tokens(), "batched question " + i);
            }
            assertEquals(6, cached.promptCacheStats().hits());
            assertEquals(3, cached.promptCacheStats().entries());

            assertEquals(3 * entry, cached.promptCacheStats().bytes());
            // a key that names another composition than the entry was made after is a miss, not a wrong head
            long[] plain = engine.answer(List.of(b), "Who?", o, t -> { }).tokens();
            assertArrayEquals(plain, cached.answer(List.of(b), "a", "Who?", o, t -> { }).tokens());
            assertThrows(IllegalArgumentException.class, () -> cached.enablePromptCache(entry - 1));
            cached.enablePromptCache(2 * entry);   // room for two: a third evicts the least recently used
            for (String key : new String[] {"a", "b|a", "a", "x"}) {
                cached.answer(key.equals("b|a") ? List.of(b, a) : List.of(a), key, "Where?", o, t -> { });
            }
            PromptPrefixCache.Stats s = cached.promptCacheStats();
            assertEquals(2, s.entries());
            assertTrue(s.bytes() <= 2 * entry, s.toString());
            cached.answer(List.of(a), "a", "Where?", o, t -> { });
            assertEquals(2, cached.promptCacheStats().hits(), "'a' was used last but one: kept; 'b|a' went");
        }
    }

    @Test
    void rowsThatEndEarlyLeaveTheBatchWithoutChangingTheOthers() {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv b = engine.compress(DOC_B, 8);
        int[] limits = {2, 9, 3, 6, 9};   // after 3 tokens 2 of 5 rows ended, after 6 three: the batch shrinks to two
        List<SacEngine.Request> requests = new ArrayList<>();
        List<dev.sacrag.core.model.GenerationOptions> options = new ArrayList<>();
        int[] fullBatchArraysLate = {-1};
        int[] tokensOfRow1 = {0};
        for (int i = 0; i < limits.length; i++) {
            options.add(dev.sacrag.core.model.GenerationOptions.greedy(limits[i], java.util.Set.of()));
            java.util.function.LongConsumer onToken = i != 1 ? t -> { } : t -> {
                if (++tokensOfRow1[0] == 8) {   // the batch shrank to two rows at token 6
                    fullBatchArraysLate[0] = (int) engine.base().manager().getManagedArrays().stream()
                            .filter(x -> x.getShape().dimension() == 4 && x.getShape().get(0) == 5).count();
                }
            };
            requests.add(new SacEngine.Request(i % 2 == 0 ? List.of(a) : List.of(b, a), "Question " + i + "?",
                    options.get(i), onToken));
        }
        var outcomes = engine.answerBatch(requests);
        assertEquals(0, fullBatchArraysLate[0], "the five-row cache is still held after the batch shrank");
        for (int i = 0; i < limits.length; i++) {
            long[] single = engine.answer(requests.get(i).docs(), requests.get(i).question(), options.get(i),
                    t -> { }).tokens();
            assertEquals(limits[i], single.length);
            assertArrayEquals(single, outcomes.get(i).result().tokens(), "request " + i);
        }
    }

    /** A short answer batched with a long one is delivered when it ends, with what the batch returns for it. */
    @Test
    void eachRowsOutcomeIsDeliveredWhenThatRowEnds() {
        AnchorKv a = engine.compress(DOC_A, 4);
        int[] limits = {2, 7, 4};
        List<Integer> endedOrder = new ArrayList<>();
        BatchGenerator.Outcome[] heard = new BatchGenerator.Outcome[limits.length];
        int[] endedWhenRow1HadFiveTokens = {-1};
        int[] row1Tokens = {0};
        List<SacEngine.Request> requests = new ArrayList<>();
        for (int i = 0; i < limits.length; i++) {
            int row = i;
            java.util.function.LongConsumer onToken = i != 1 ? t -> { } : t -> {
                if (++row1Tokens[0] == 5) {
                    endedWhenRow1HadFiveTokens[0] = endedOrder.size();
                }
            };
            requests.add(new SacEngine.Request(List.of(a), "a", "Question " + i + "?",
                    dev.sacrag.core.model.GenerationOptions.greedy(limits[i], java.util.Set.of()), onToken, outcome -> {
                        assertNull(heard[row], "row " + row + " delivered twice");
                        heard[row] = outcome;
                        endedOrder.add(row);
                    }));
        }
        var outcomes = engine.answerBatch(requests);
        assertEquals(List.of(0, 2, 1), endedOrder, "rows are delivered in the order they end");
        assertEquals(2, endedWhenRow1HadFiveTokens[0], "both shorter rows were delivered while row 1 was decoding");
        for (int i = 0; i < limits.length; i++) {
            assertArrayEquals(outcomes.get(i).result().tokens(), heard[i].result().tokens(), "row " + i);
            assertEquals(limits[i], heard[i].result().tokens().length);
        }
    }

    @Test
    void aRequestRefusedBeforeDecodingIsDeliveredToo() {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv foreign = new AnchorKv("another-model", a.layers(), a.kvHeads(), a.headDim(), a.tokenCount(),
                a.chunkAnchors(), a.keys(), a.values());
        List<BatchGenerator.Outcome> heard = new ArrayList<>();
        var o = dev.sacrag.core.model.GenerationOptions.greedy(3, java.util.Set.of());
        var outcomes = engine.answerBatch(List.of(
                new SacEngine.Request(List.of(foreign), null, "Where?", o, t -> { }, heard::add),
                new SacEngine.Request(List.of(a), null, "Where?", o, t -> { }, heard::add)));
        assertEquals(2, heard.size());
        assertTrue(heard.get(0).error() instanceof IllegalArgumentException, String.valueOf(heard.get(0).error()));
        assertNull(outcomes.get(1).error());
    }

    /**
     * Continuous batching: questions that join a running batch (at different steps, with other
     * documents, one ending at its first token, one longer than the cache's room) get the answers
     * they get alone, and so do the rows they joined; rows leave and the batch is compacted
     * while others are still joining.
     */
    @Test
    void questionsThatJoinARunningBatchGetTheAnswersOfOne() {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv b = engine.compress(DOC_B, 8);
        AnchorKv long_ = engine.compress((DOC_A + " " + DOC_B + " ").repeat(3), 4);
        java.util.function.IntFunction<dev.sacrag.core.model.GenerationOptions> o =
                n -> dev.sacrag.core.model.GenerationOptions.greedy(n, java.util.Set.of());
        List<SacEngine.Request> first = List.of(
                new SacEngine.Request(List.of(a), "Where did she live?", o.apply(12), t -> { }),
                new SacEngine.Request(List.of(b, a), "Who designed it?", o.apply(4), t -> { }));
        List<List<SacEngine.Request>> waves = List.of(
                List.of(new SacEngine.Request(List.of(long_), "When was it?", o.apply(BatchGenerator.ANSWER_ROOM + 9), t -> { }),
                        new SacEngine.Request(List.of(b), "Who?", o.apply(1), t -> { })),
                List.of(new SacEngine.Request(List.of(a, b, a), "What did she write?", o.apply(6), t -> { })),
                List.of(new SacEngine.Request(List.of(b), "And then?", o.apply(3), t -> { })));
        int[] joinAt = {2, 5, 9};   // the take call at which each wave arrives
        List<Integer> decodingSeen = new ArrayList<>();
        int[] calls = {0};
        int arraysBefore = engine.base().manager().getManagedArrays().size();
        var outcomes = engine.answerBatch(first, decoding -> {
            decodingSeen.add(decoding);
            int call = calls[0]++;
            for (int w = 0; w < joinAt.length; w++) {
                if (joinAt[w] == call) {
                    return waves.get(w);
                }
            }
            return List.of();
        });
        assertEquals(arraysBefore, engine.base().manager().getManagedArrays().size(),
                "arrays of joined questions left on the model's manager");
        List<SacEngine.Request> all = new ArrayList<>(first);
        waves.forEach(all::addAll);
        assertEquals(all.size(), outcomes.size());
        for (int i = 0; i < all.size(); i++) {
            SacEngine.Request r = all.get(i);
            long[] single = engine.answer(r.docs(), r.question(), r.options(), t -> { }).tokens();
            assertEquals(r.options().maxNewTokens(), single.length);
            assertArrayEquals(single, outcomes.get(i).result().tokens(), "request " + i);
            assertNull(outcomes.get(i).error());
        }
        assertEquals(2, decodingSeen.get(0), "two rows decode after the first step");
        assertTrue(decodingSeen.size() >= BatchGenerator.ANSWER_ROOM + 9, "the long answer ran in the batch: " + decodingSeen);
    }

    /**
     * A question joining in the row of one that ended, with more positions than the batch has
     * written: the batch's slots move on to its length (the running rows see a gap), and every
     * answer is still the one it gets alone.
     */
    @Test
    void aLongerQuestionTakingAnEndedRowMovesTheBatchOn() {
        AnchorKv b = engine.compress(DOC_B, 16);
        // longer than the batch's written slots, shorter than its room for answers (32 slots)
        AnchorKv long_ = engine.compress(DOC_A + " " + DOC_B, 8);
        java.util.function.IntFunction<dev.sacrag.core.model.GenerationOptions> o =
                n -> dev.sacrag.core.model.GenerationOptions.greedy(n, java.util.Set.of());
        List<SacEngine.Request> first = List.of(
                new SacEngine.Request(List.of(b), "Who?", o.apply(BatchGenerator.ANSWER_ROOM), t -> { }),
                new SacEngine.Request(List.of(b), "Who designed it?", o.apply(7), t -> { }),
                new SacEngine.Request(List.of(b), "When?", o.apply(1), t -> { }));   // ends at its first token
        SacEngine.Request longer = new SacEngine.Request(List.of(long_), "Where did she live?", o.apply(20), t -> { });
        int[] calls = {0};
        var outcomes = engine.answerBatch(first, decoding -> calls[0]++ == 0 ? List.of(longer) : List.of());
        List<SacEngine.Request> all = new ArrayList<>(first);
        all.add(longer);
        for (int i = 0; i < all.size(); i++) {
            SacEngine.Request r = all.get(i);
            assertArrayEquals(engine.answer(r.docs(), r.question(), r.options(), t -> { }).tokens(),
                    outcomes.get(i).result().tokens(), "request " + i);
        }
    }

    /**
     * Questions keep joining one long answer: what each one needed for its prefill (its composed
     * context, its prompt) is closed once it is in the batch, so a batch that runs for long does
     * not hold more native arrays the more questions it has taken.
     */
    @Test
    void aBatchThatKeepsTakingQuestionsHoldsNoMoreArraysForThem() {
        AnchorKv a = engine.compress(DOC_A, 4);
        var o = dev.sacrag.core.model.GenerationOptions.greedy(2, java.util.Set.of());
        int[] calls = {0};
        List<Integer> arrays = new ArrayList<>();
        engine.answerBatch(List.of(new SacEngine.Request(List.of(a), "Tell me everything?",
                dev.sacrag.core.model.GenerationOptions.greedy(BatchGenerator.ANSWER_ROOM - 2, java.util.Set.of()),
                t -> { })), decoding -> {
                    int call = calls[0]++;
                    if (call == 3 || call == 24) {
                        arrays.add(engine.base().manager().getManagedArrays().size());
                    }
                    return call < 24 ? List.of(new SacEngine.Request(List.of(a), "Question " + call + "?", o, t -> { }))
                            : List.of();
                });
        assertEquals(2, arrays.size());
        assertEquals(arrays.get(0), arrays.get(1), "arrays on the model's manager after 3 and after 24 questions joined");
    }

    /**
     * A joining sequence whose prefill fails fails alone, even when it was taken with another:
     * that one is prefilled alone and answered, and the running answer goes on, as it would alone.
     */
    @Test
    void aJoiningSequenceWhosePrefillFailsFailsAlone() {
        AnchorKv a = engine.compress(DOC_A, 4);
        var o = dev.sacrag.core.model.GenerationOptions.greedy(6, java.util.Set.of());
        List<String> questions = List.of("Where did she live?", "Who was she?");
        List<SacDecoder.Composed> contexts = new ArrayList<>();
        List<BatchGenerator.Sequence> good = new ArrayList<>();
        try (ai.djl.ndarray.NDManager m = engine.base().manager().newSubManager()) {
            for (String q : questions) {
                SacDecoder.Composed ctx = engine.decoder().compose(List.of(a));
                contexts.add(ctx);
                SacDecoder.LmPrompt prompt = engine.decoder().lmPrompt(ctx, engine.decoder().questionTokens(engine, q));
                good.add(new BatchGenerator.Sequence(ctx.cache(), prompt.embeds(), prompt.positions(), o, t -> { }));
            }
            List<BatchGenerator.Outcome> told = new ArrayList<>();
            SacDecoder.Composed ctx = contexts.get(0);
            BatchGenerator.Sequence broken = new BatchGenerator.Sequence(ctx.cache(),
                    m.zeros(new ai.djl.ndarray.types.Shape(1, 3, engine.config().hiddenSize() + 1)),   // not the model's width
                    new int[] {ctx.tokens(), ctx.tokens() + 1, ctx.tokens() + 2}, o, t -> { }, told::add);
            int[] calls = {0};
            List<BatchGenerator.Outcome> outcomes = BatchGenerator.generate(engine.base(), List.of(good.get(0)),
                    decoding -> calls[0]++ == 1 ? List.of(broken, good.get(1)) : List.of());
            assertEquals(3, outcomes.size());
            for (int i = 0; i < questions.size(); i++) {
                BatchGenerator.Outcome outcome = outcomes.get(i == 0 ? 0 : 2);
                assertNull(outcome.error());
                assertArrayEquals(engine.answer(List.of(a), questions.get(i), o, t -> { }).tokens(),
                        outcome.result().tokens(), "question " + i);
            }
            assertTrue(outcomes.get(1).error() != null, "the broken sequence's outcome carries its error");
            assertEquals(1, told.size(), "its onDone was told");
        } finally {
            contexts.forEach(SacDecoder.Composed::close);
        }
    }

    /**
     * The questions a batch starts with let go of their prompts once prefilled, and an answered
     * question of a batch still decoding is not kept by it (its callbacks, and what they hold).
     */
    @Test
    void aBatchLetsGoOfWhatItsQuestionsNeededOnceDone() throws Exception {
        AnchorKv a = engine.compress(DOC_A, 4);
        int before = engine.base().manager().getManagedArrays().size();
        java.lang.ref.WeakReference<?>[] answered = new java.lang.ref.WeakReference<?>[1];
        boolean[] collected = {false};
        int[] duringBatch = {-1};
        int[] calls = {0};
        var longAnswer = dev.sacrag.core.model.GenerationOptions.greedy(BatchGenerator.ANSWER_ROOM - 2, java.util.Set.of());
        // three long answers: the answered row stays in the batch (a quarter of its rows ended), it is only let go of
        engine.answerBatch(List.of(new SacEngine.Request(List.of(a), "Tell me everything?", longAnswer, t -> { }),
                new SacEngine.Request(List.of(a), "And more?", longAnswer, t -> { }),
                new SacEngine.Request(List.of(a), "All of it?", longAnswer, t -> { })), decoding -> {
                    int call = calls[0]++;
                    if (call == 0) {
                        duringBatch[0] = engine.base().manager().getManagedArrays().size();
                        byte[] held = new byte[8 << 20];   // reachable only through the question's callback
                        answered[0] = new java.lang.ref.WeakReference<>(held);
                        return List.of(new SacEngine.Request(List.of(a), "Where?",
                                dev.sacrag.core.model.GenerationOptions.greedy(1, java.util.Set.of()), t -> {
                                    if (held.length == 0) {
                                        throw new AssertionError();
                                    }
                                }));
                    }
                    if (call >= 3 && !collected[0]) {   // it ended at its first token, two steps ago
                        for (int i = 0; i < 20 && answered[0].get() != null; i++) {
                            System.gc();
                        }
                        collected[0] = answered[0].get() == null;
                    }
                    return List.of();
                });
        assertEquals(before + 2 * engine.config().layers(), duringBatch[0],
                "arrays on the model's manager while the batch decodes (its cache's K and V), against before it");
        assertTrue(collected[0], "an answered question's callback is still reachable while its batch decodes");
    }

    /** Joining questions that name their context go through the prompt cache, on a miss and on a hit, with the answers of one. */
    @Test
    void joiningQuestionsUseThePromptCacheAndGetTheAnswersOfOne() throws Exception {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv b = engine.compress(DOC_B, 8);
        var o = dev.sacrag.core.model.GenerationOptions.greedy(5, java.util.Set.of());
        try (SacEngine cached = SacEngine.load(base, adapterDir)) {
            cached.enablePromptCache(1 << 20);
            List<SacEngine.Request> joining = List.of(
                    new SacEngine.Request(List.of(a), "a", "Where did she live?", o, t -> { }),
                    new SacEngine.Request(List.of(b, a), "b|a", "Who designed it?", o, t -> { }),
                    new SacEngine.Request(List.of(a), "a", "When did she write?", o, t -> { }));
            int[] calls = {0};
            var outcomes = cached.answerBatch(List.of(new SacEngine.Request(List.of(b), "b", "Who?",
                    dev.sacrag.core.model.GenerationOptions.greedy(12, java.util.Set.of()), t -> { })), decoding -> {
                        int call = calls[0]++;
                        return call < joining.size() ? List.of(joining.get(call)) : List.of();
                    });
            for (int i = 0; i < joining.size(); i++) {
                SacEngine.Request r = joining.get(i);
                assertArrayEquals(engine.answer(r.docs(), r.question(), o, t -> { }).tokens(),
                        outcomes.get(i + 1).result().tokens(), "joining question " + i);
            }
            assertEquals(1, cached.promptCacheStats().hits(), "the second question about 'a' reused its head");
        }
    }

    /** A question that arrives once every row has ended starts the batch over, alone. */
    @Test
    void aQuestionArrivingAfterEveryRowEndedIsAnsweredToo() {
        AnchorKv a = engine.compress(DOC_A, 4);
        var o = dev.sacrag.core.model.GenerationOptions.greedy(5, java.util.Set.of());
        SacEngine.Request late = new SacEngine.Request(List.of(a), "Who was she?", o, t -> { });
        boolean[] given = {false};
        var outcomes = engine.answerBatch(List.of(new SacEngine.Request(List.of(a), "Where?",
                dev.sacrag.core.model.GenerationOptions.greedy(2, java.util.Set.of()), t -> { })), decoding -> {
                    if (decoding == 0 && !given[0]) {
                        given[0] = true;
                        return List.of(late);
                    }
                    return List.of();
                });
        assertEquals(2, outcomes.size());
        assertArrayEquals(engine.answer(List.of(a), "Who was she?", o, t -> { }).tokens(), outcomes.get(1).result().tokens());
    }

    /** An arrival this engine cannot decode fails alone, told at once; the one beside it joins. */
    @Test
    void anArrivalThisEngineCannotReadFailsAlone() {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv foreign = new AnchorKv("another-model", a.layers(), a.kvHeads(), a.headDim(), a.tokenCount(),
                a.chunkAnchors(), a.keys(), a.values());
        var o = dev.sacrag.core.model.GenerationOptions.greedy(4, java.util.Set.of());
        List<BatchGenerator.Outcome> heard = new ArrayList<>();
        int[] calls = {0};
        var outcomes = engine.answerBatch(List.of(new SacEngine.Request(List.of(a), "Where?", o, t -> { })),
                decoding -> calls[0]++ != 1 ? List.of() : List.of(
                        new SacEngine.Request(List.of(foreign), null, "Where?", o, t -> { }, heard::add),
                        new SacEngine.Request(List.of(a), null, "Who?", o, t -> { }, heard::add)));
        assertEquals(3, outcomes.size());
        assertTrue(outcomes.get(1).error() instanceof IllegalArgumentException, String.valueOf(outcomes.get(1).error()));
        assertNull(outcomes.get(2).error());
        assertArrayEquals(engine.answer(List.of(a), "Who?", o, t -> { }).tokens(), outcomes.get(2).result().tokens());
        assertEquals(2, heard.size());
    }

    @Test
    void answersLongerThanTheBatchCachesRoomEqualOneByOne() {
        AnchorKv a = engine.compress(DOC_A, 4);
        int[] limits = {BatchGenerator.ANSWER_ROOM * 2 + 5, 3, BatchGenerator.ANSWER_ROOM + 1};   // the cache grows twice
        List<SacEngine.Request> requests = new ArrayList<>();
        for (int i = 0; i < limits.length; i++) {
            requests.add(new SacEngine.Request(List.of(a), "Tell me more, " + i + "?",
                    dev.sacrag.core.model.GenerationOptions.greedy(limits[i], java.util.Set.of()), t -> { }));
        }
        var outcomes = engine.answerBatch(requests);
        for (int i = 0; i < limits.length; i++) {
            long[] single = engine.answer(requests.get(i).docs(), requests.get(i).question(), requests.get(i).options(),
                    t -> { }).tokens();
            assertEquals(limits[i], single.length);
            assertArrayEquals(single, outcomes.get(i).result().tokens(), "request " + i);
        }
    }

    /** The query service's --inference-threads: several threads decode their own batches on one engine. */
    @Test
    void twoThreadsAnsweringBatchesAtOnceGetTheAnswersOfOne() throws Exception {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv b = engine.compress(DOC_B, 8);
        var o = dev.sacrag.core.model.GenerationOptions.greedy(6, java.util.Set.of());
        try (SacEngine shared = SacEngine.load(base, adapterDir)) {
            shared.enablePromptCache(1 << 20);   // shared between the threads too
            List<List<SacEngine.Request>> batches = new ArrayList<>();
            List<List<long[]>> expected = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                List<SacEngine.Request> batch = new ArrayList<>();
                List<long[]> answers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    List<AnchorKv> docs = (t + i) % 2 == 0 ? List.of(a) : List.of(b, a);
                    String q = "Question " + t + "." + i + "?";
                    batch.add(new SacEngine.Request(docs, docs.size() == 1 ? "a" : "b|a", q, o, x -> { }));
                    answers.add(engine.answer(docs, q, o, x -> { }).tokens());
                }
                batches.add(batch);
                expected.add(answers);
            }
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                List<java.util.concurrent.Future<String>> runs = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int thread = t;
                    runs.add(pool.submit(() -> {
                        for (int round = 0; round < 15; round++) {
                            var outcomes = shared.answerBatch(batches.get(thread));
                            for (int i = 0; i < outcomes.size(); i++) {
                                if (!java.util.Arrays.equals(expected.get(thread).get(i), outcomes.get(i).result().tokens())) {
                                    return "thread " + thread + " round " + round + " question " + i + ": "
                                            + java.util.Arrays.toString(outcomes.get(i).result().tokens()) + " instead of "
                                            + java.util.Arrays.toString(expected.get(thread).get(i));
                                }
                            }
                        }
                        return "";
                    }));
                }
                for (var r : runs) {
                    assertEquals("", r.get(2, java.util.concurrent.TimeUnit.MINUTES));
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aQuestionWhoseAnchorsThisEngineCannotReadFailsAloneInItsBatch() {
        AnchorKv a = engine.compress(DOC_A, 4);
        AnchorKv foreign = new AnchorKv("0000other000", a.layers(), a.kvHeads(), a.headDim(), a.tokenCount(),
                a.chunkAnchors(), a.keys(), a.values());
        var options = dev.sacrag.core.model.GenerationOptions.greedy(4, java.util.Set.of());
        List<SacEngine.Request> requests = List.of(
                new SacEngine.Request(List.of(a), "Where did she live?", options, t -> { }),
                new SacEngine.Request(List.of(a, foreign), "Where did she live?", options, t -> { }),
                new SacEngine.Request(List.of(a), "What did she build?", options, t -> { }));
        var outcomes = engine.answerBatch(requests);
        assertEquals(3, outcomes.size());
        assertTrue(outcomes.get(1).error() instanceof IllegalArgumentException
                && outcomes.get(1).error().getMessage().contains("0000other000"), String.valueOf(outcomes.get(1).error()));
        for (int i : new int[] {0, 2}) {
            assertEquals(null, outcomes.get(i).error());
            assertArrayEquals(engine.answer(requests.get(i).docs(), requests.get(i).question(), options, t -> { }).tokens(),
                    outcomes.get(i).result().tokens(), "request " + i);
        }
    }

    @Test
    void badAdapterFilesFailWithTheFileNamed() throws Exception {
        Path bad = tmp.resolve("adapters/bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("sac.json"), "{\"format\": 1, \"ratios\": [0]}");
        Exception e = assertThrows(Exception.class, () -> SacEngine.load(base, bad));
        assertTrue(e.getMessage().contains("sac.json"), e.getMessage());
        Path missing = tmp.resolve("adapters/none");
        Exception e2 = assertThrows(Exception.class, () -> SacEngine.load(base, missing));
        assertTrue(e2.getMessage().contains("sac.json"), e2.getMessage());
    }

    @Test
    void noNativeMemoryGrowthAcrossThousandsOfCalls() {
        AnchorKv doc = engine.compress(DOC_A, 4);
        Runnable call = () -> engine.answer(List.of(doc, doc), "Where did she live?", engine.greedy(3), t -> { });
        for (int i = 0; i < 1000; i++) {
            call.run();
        }
        int arraysBefore = engine.base().manager().getManagedArrays().size();
        // The allocator settles after a while (how long depends on what ran before in this JVM),
        // so look for a plateau: three consecutive batches of 500 calls (4,500 forwards) that
        // add < 4 MB. A leak of one logits array per step (~1.3 KB) would add ~6 MB there.
        List<Long> rss = new ArrayList<>(List.of(rssKb()));
        boolean plateau = false;
        for (int batch = 0; batch < 10 && !plateau; batch++) {
            for (int i = 0; i < 500; i++) {
                call.run();
            }
            rss.add(rssKb());
            int n = rss.size();
            plateau = n >= 4 && rss.get(n - 1) - rss.get(n - 4) < 4 * 1024;
        }
        assertEquals(arraysBefore, engine.base().manager().getManagedArrays().size(),
                "NDArrays left attached to the model's manager");
        assertTrue(plateau, "resident memory (KB) kept growing, batch by batch: " + rss);
    }

    /**
     * A question composes its documents' anchor K/V from Java arrays. Made with
     * {@code NDManager.create(float[])}, each array had a direct buffer of its own that closing it
     * did not free (only a garbage collection does): direct memory grew by the composed K/V with
     * every question. Staged through a reused buffer, it does not grow.
     */
    @Test
    void answeringLeavesNoDirectMemoryBehindForACollectionToFree() {
        AnchorKv doc = engine.compress((DOC_A + " " + DOC_B + " ").repeat(8), 4);
        List<AnchorKv> docs = List.of(doc, doc, doc, doc);
        long perQuestion = 0;
        for (int l = 0; l < doc.layers(); l++) {
            perQuestion += 4L * docs.size() * (doc.keys()[l].length + doc.values()[l].length);
        }
        int questions = (int) Math.min(2000, (64L << 20) / perQuestion + 1);
        Runnable ask = () -> engine.answer(docs, "Where did she live?", engine.greedy(1), t -> { });
        ask.run();   // the staging buffer and anything else made once
        java.lang.management.BufferPoolMXBean direct = java.lang.management.ManagementFactory
                .getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long before = direct.getMemoryUsed();
        for (int i = 0; i < questions; i++) {
            ask.run();
        }
        long grown = direct.getMemoryUsed() - before;
        assertTrue(grown < 8L << 20, questions + " questions composing " + perQuestion + " bytes of anchor K/V each left "
                + grown + " bytes of direct memory behind");
    }

    static long rssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status (Linux needed for this test)", e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
