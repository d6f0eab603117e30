package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.text.TextTokenizer;
import dev.sacrag.core.train.SacTrainer.QaExample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacExamplesTest {
    @TempDir
    Path tmp;

    @Test
    void everyQuestionOfAnExampleIsAnsweredByOneOfItsDocuments() throws Exception {
        TinyTraining.tokenizer(tmp);
        List<MrqaRecord> records = TinyTraining.facts(30);
        try (TextTokenizer tok = TextTokenizer.load(tmp)) {
            SacExamples examples = new SacExamples(tok, records, List.of(), prefix(tok), 1,
                    "\n### Question:\n", "\n### Answer:", 4096, 12);
            Random rnd = new Random(7);
            int many = 0;
            for (int i = 0; i < 50; i++) {
                QaExample ex = examples.qa(rnd);
                assertTrue(ex.questions().size() <= 12, "capped at 12, got " + ex.questions().size());
                many += ex.questions().size() > 1 ? 1 : 0;
                Set<String> asked = new HashSet<>();
                for (long[][] q : ex.questions()) {
                    String answer = tok.decode(Arrays.copyOf(q[1], q[1].length - 1)).strip();  // answer + EOS
                    assertTrue(ex.documents().stream().anyMatch(d -> tok.decode(d).contains(answer)),
                            "answer '" + answer + "' is in none of the composed documents");
                    assertEquals(1, q[1][q[1].length - 1], "answers end in EOS");
                    asked.add(tok.decode(q[0]));
                }
                assertEquals(ex.questions().size(), asked.size(), "no question twice");
            }
            assertTrue(many > 40, "most examples carry several questions, " + many + " of 50 did");

            SacExamples single = new SacExamples(tok, records, List.of(), prefix(tok), 1,
                    "\n### Question:\n", "\n### Answer:", 4096, 1);
            List<Integer> sizes = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sizes.add(single.qa(rnd).questions().size());
            }
            assertEquals(List.of(1), sizes.stream().distinct().toList());
        }
    }

    /** --text-share: 1 draws every continuation text from the plain corpus, 0 none, half about half. */
    @Test
    void plainTextShareDecidesWhereContinuationTextsComeFrom() throws Exception {
        TinyTraining.tokenizer(tmp);
        List<MrqaRecord> records = TinyTraining.facts(20);
        String plain = "The plain text of the corpus goes on and on. ".repeat(20);
        try (TextTokenizer tok = TextTokenizer.load(tmp)) {
            SacExamples examples = new SacExamples(tok, records, List.of(plain), prefix(tok), 1,
                    "\n### Question:\n", "\n### Answer:", 4096, 4);
            String corpus = tok.decode(tok.encode(plain));
            Random rnd = new Random(3);
            java.util.function.IntSupplier plainOf200 = () -> {
                int n = 0;
                for (int i = 0; i < 200; i++) {
                    n += corpus.contains(tok.decode(examples.continuation(rnd))) ? 1 : 0;
                }
                return n;
            };
            examples.plainTextShare(1);
            assertEquals(200, plainOf200.getAsInt());
            examples.plainTextShare(0);
            assertEquals(0, plainOf200.getAsInt());
            examples.plainTextShare(0.5);
            int half = plainOf200.getAsInt();
            assertTrue(half > 70 && half < 130, "about half of 200 from the plain text, got " + half);

            SacExamples noPlain = new SacExamples(tok, records, List.of(), prefix(tok), 1,
                    "\n### Question:\n", "\n### Answer:", 4096, 4);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> noPlain.plainTextShare(0.5));
            assertTrue(e.getMessage().contains("needs plain texts"), e.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> examples.plainTextShare(1.5));
        }
    }

    /**
     * The export the GPU trainer reads: every document, question and extra text comes back from
     * the file's layout (read here as scripts/gpu/train_sac.py reads it), bodies not duplicated.
     */
    @Test
    void exportHoldsEveryDocumentQuestionAndTextInItsLayout() throws Exception {
        TinyTraining.tokenizer(tmp);
        List<MrqaRecord> records = TinyTraining.facts(6);
        List<String> text = List.of("short", "The long text of the corpus goes on and on. ".repeat(20));
        try (TextTokenizer tok = TextTokenizer.load(tmp)) {
            SacExamples examples = new SacExamples(tok, records, text, prefix(tok), 1,
                    "\n### Question:\n", "\n### Answer:", 4096, 4);
            Path file = tmp.resolve("examples.bin");
            long[] prefix = {0, 5, 6};
            examples.export(file, prefix);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[8];
            b.get(magic);
            assertEquals("SACEXMP2", new String(magic, java.nio.charset.StandardCharsets.US_ASCII));
            int docs = b.getInt();
            int questions = b.getInt();
            int extra = b.getInt();
            int bodyStart = b.getInt();
            assertEquals(records.size(), docs);
            assertEquals(records.stream().mapToInt(r -> r.qas().size()).sum(), questions);
            assertEquals(1, extra, "the short text is left out, the long one kept");
            assertEquals(1 + tok.encode("### Context:\n").length, bodyStart);
            assertEquals(4096, b.getInt());
            assertEquals(3, b.getInt());
            assertEquals(2, b.getInt(), "a small vocabulary's ids are written in 16 bits");
            long[] readPrefix = {b.getShort(), b.getShort(), b.getShort()};
            assertTrue(Arrays.equals(prefix, readPrefix));
            int[] docLen = ints(b, docs);
            int[] questionDoc = ints(b, questions);
            int[] promptLen = ints(b, questions);
            int[] answerLen = ints(b, questions);
            int[] extraLen = ints(b, extra);
            long[] first = tokens(b, docLen[0]);
            for (int d = 1; d < docs; d++) {
                tokens(b, docLen[d]);
            }
            assertEquals(records.get(0).context(), tok.decode(Arrays.copyOfRange(first, bodyStart, first.length)));
            assertEquals(0, first[0], "documents start with BOS");
            long[] prompt = tokens(b, promptLen[0]);
            long[] answer = tokens(b, answerLen[0]);
            assertEquals(0, questionDoc[0]);
            assertTrue(tok.decode(prompt).contains(records.get(0).qas().get(0).question()));
            assertEquals(1, answer[answer.length - 1], "answers end in EOS");
            for (int q = 1; q < questions; q++) {
                tokens(b, promptLen[q]);
                tokens(b, answerLen[q]);
            }
            assertEquals(text.get(1), tok.decode(tokens(b, extraLen[0])));
            assertEquals(0, b.remaining(), "nothing after the last text");
        }
    }

    /** A vocabulary over 65,536 (Llama 3's 128,256) needs 32-bit ids: the file says so and holds them whole. */
    @Test
    void exportWritesThirtyTwoBitIdsWhenAnIdNeedsThem() throws Exception {
        TinyTraining.tokenizer(tmp);
        try (TextTokenizer tok = TextTokenizer.load(tmp)) {
            SacExamples examples = new SacExamples(tok, TinyTraining.facts(2), List.of(), prefix(tok), 1,
                    "\n### Question:\n", "\n### Answer:", 4096, 4);
            Path file = tmp.resolve("sub/dir/wide.bin");                  // missing folders are made
            examples.export(file, new long[] {128_000, 70_000});
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.position(8 + 5 * 4);
            assertEquals(2, b.getInt(), "prefix length");
            assertEquals(4, b.getInt(), "token width");
            assertEquals(128_000, b.getInt());
            assertEquals(70_000, b.getInt());
        }
    }

    private static int[] ints(java.nio.ByteBuffer b, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getInt();
        }
        return out;
    }

    private static long[] tokens(java.nio.ByteBuffer b, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = Short.toUnsignedLong(b.getShort());
        }
        return out;
    }

    /** BOS (0) + the context prompt, as SacSpec.contextPrefix builds it. */
    private static long[] prefix(TextTokenizer tok) {
        long[] prompt = tok.encode("### Context:\n");
        long[] prefix = new long[1 + prompt.length];
        System.arraycopy(prompt, 0, prefix, 1, prompt.length);
        return prefix;
    }
}
