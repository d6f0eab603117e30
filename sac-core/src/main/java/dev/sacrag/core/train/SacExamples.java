package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.text.TextTokenizer;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Training examples for SAC from tokenised data. Stage 1 draws windows of 128-1024 tokens
 * from plain text and fact documents; stage 2 draws a question and composes its document with
 * 0-3 distractor documents in random order, up to {@code maxComposedTokens}, then adds up to
 * {@code questionsPerExample - 1} other questions about any of the composed documents (each
 * answer lies in one document, the others are its distractors).
 */
public final class SacExamples implements SacTrainer.Examples {
    private final List<long[]> documents = new ArrayList<>();      // full compressor inputs
    private final List<long[][]> questions = new ArrayList<>();    // per document: {prompt, answer+EOS} pairs, flattened
    private final List<Integer> questionDoc = new ArrayList<>();
    private final List<List<Integer>> docQuestions = new ArrayList<>();
    private final List<long[]> texts = new ArrayList<>();
    private final int maxComposed;
    private final int questionsPerExample;
    private final int bodyStart;                                   // documents.get(i)[bodyStart..] is texts.get(i)
    private double plainTextShare = Double.NaN;                    // NaN: every text equally likely

    /**
     * @param contextPrefix what comes before every context in the compressor's input: BOS and the
     *     context prompt ({@code SacSpec.contextPrefix}, as the engine builds it at serving time)
     */
    public SacExamples(TextTokenizer tok, List<MrqaRecord> qa, List<String> text, long[] contextPrefix, long eos,
                       String questionPrompt, String answerPrompt, int maxComposedTokens, int questionsPerExample) {
        if (questionsPerExample < 1) {
            throw new IllegalArgumentException("questions per example must be >= 1, got " + questionsPerExample);
        }
        this.maxComposed = maxComposedTokens;
        this.questionsPerExample = questionsPerExample;
        this.bodyStart = contextPrefix.length;
        for (MrqaRecord r : qa) {
            long[] body = tok.encode(r.context());
            long[] doc = java.util.Arrays.copyOf(contextPrefix, contextPrefix.length + body.length);
            System.arraycopy(body, 0, doc, contextPrefix.length, body.length);
            int index = documents.size();
            documents.add(doc);
            docQuestions.add(new ArrayList<>());
            texts.add(body);
            for (MrqaRecord.Qa q : r.qas()) {
                long[] a = tok.encode(TrainingSamples.answerText(answerPrompt, q.answers().get(0)));
                long[] answer = java.util.Arrays.copyOf(a, a.length + 1);
                answer[a.length] = eos;
                questions.add(new long[][] {tok.encode(questionPrompt + q.question() + answerPrompt), answer});
                docQuestions.get(index).add(questions.size() - 1);
                questionDoc.add(index);
            }
        }
        for (String s : text) {
            long[] t = tok.encode(s);
            if (t.length >= 64) {
                texts.add(t);
            }
        }
        if (questions.isEmpty()) {
            // refused here, not after all of stage 1 with "bound must be positive"
            throw new IllegalArgumentException("the training contexts hold no questions: stage 2 trains on questions"
                    + " about them (an MRQA file whose contexts have \"qas\")");
        }
    }

    /**
     * Draws continuation texts (stage 1's, and stage 2's continuation examples) from the plain-text corpus with probability {@code share} and from the
     * fact documents' bodies otherwise, instead of every text equally likely (the default, under
     * which 25,000 fact documents drown 3,000 plain texts). Continuation on plain text is what
     * the perplexity evaluation measures. Returns this.
     */
    public SacExamples plainTextShare(double share) {
        if (!(share >= 0 && share <= 1)) {
            throw new IllegalArgumentException("plain-text share must be in [0, 1], got " + share);
        }
        if (share > 0 && texts.size() == documents.size()) {
            throw new IllegalArgumentException("a plain-text share of " + share + " needs plain texts (of 64 tokens "
                    + "or more), and there are none");
        }
        this.plainTextShare = share;
        return this;
    }

    /** Magic of {@link #export}'s files. */
    public static final byte[] EXPORT_MAGIC = {'S', 'A', 'C', 'E', 'X', 'M', 'P', '2'};

    /**
     * Writes the tokenised examples for an outside trainer ({@code scripts/gpu/train_sac.py}),
     * which draws from them as {@link #continuation} and {@link #qa} do. Little-endian:
     * {@code SACEXMP2}; int32 documents D, questions Q, extra texts X, body start, max composed
     * tokens, stage-1 prefix length P, token width W (2 = uint16 ids, 4 = uint32, for
     * vocabularies over 65,536 such as Llama 3's); token prefix[P]; int32 doc length[D]; int32
     * question document[Q], prompt length[Q], answer length[Q]; int32 text length[X]; then
     * tokens: every document, every question (prompt, then answer + EOS), every extra text.
     * Document bodies (stage-1 texts too) are not written twice: body i = document i from body
     * start.
     */
    public void export(Path file, long[] stage1Prefix) throws IOException {
        List<long[]> extra = texts.subList(documents.size(), texts.size());
        AtomicFiles.write(file, tmp -> {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                    Files.newOutputStream(tmp), 1 << 20))) {
                int width = maxToken(stage1Prefix) > 0xFFFF ? 4 : 2;
                out.write(EXPORT_MAGIC);
                for (int v : new int[] {documents.size(), questions.size(), extra.size(), bodyStart, maxComposed,
                        stage1Prefix.length, width}) {
                    out.writeInt(Integer.reverseBytes(v));
                }
                tokens(out, stage1Prefix, width);
                for (long[] d : documents) {
                    out.writeInt(Integer.reverseBytes(d.length));
                }
                for (int q = 0; q < questions.size(); q++) {
                    out.writeInt(Integer.reverseBytes(questionDoc.get(q)));
                }
                for (long[][] q : questions) {
                    out.writeInt(Integer.reverseBytes(q[0].length));
                }
                for (long[][] q : questions) {
                    out.writeInt(Integer.reverseBytes(q[1].length));
                }
                for (long[] t : extra) {
                    out.writeInt(Integer.reverseBytes(t.length));
                }
                for (long[] d : documents) {
                    tokens(out, d, width);
                }
                for (long[][] q : questions) {
                    tokens(out, q[0], width);
                    tokens(out, q[1], width);
                }
                for (long[] t : extra) {
                    tokens(out, t, width);
                }
            }
        });
    }

    /** The largest token id of everything exported (documents hold every stage-1 body). */
    private long maxToken(long[] prefix) {
        long max = java.util.Arrays.stream(prefix).max().orElse(0);
        for (long[] d : documents) {
            max = Math.max(max, java.util.Arrays.stream(d).max().orElse(0));
        }
        for (long[][] q : questions) {
            max = Math.max(max, Math.max(java.util.Arrays.stream(q[0]).max().orElse(0),
                    java.util.Arrays.stream(q[1]).max().orElse(0)));
        }
        for (long[] t : texts) {
            max = Math.max(max, java.util.Arrays.stream(t).max().orElse(0));
        }
        return max;
    }

    private static void tokens(DataOutputStream out, long[] t, int width) throws IOException {
        for (long id : t) {
            if (id < 0 || id > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("token id " + id + " does not fit 32 bits");
            }
            if (width == 2) {
                out.writeShort(Short.reverseBytes((short) id));
            } else {
                out.writeInt(Integer.reverseBytes((int) id));
            }
        }
    }

    @Override
    public long[] continuation(Random rnd) {
        long[] t;
        if (Double.isNaN(plainTextShare)) {
            t = texts.get(rnd.nextInt(texts.size()));
        } else if (rnd.nextDouble() < plainTextShare) {
            int plain = texts.size() - documents.size();
            t = texts.get(documents.size() + rnd.nextInt(plain));
        } else {
            t = texts.get(rnd.nextInt(documents.size()));
        }
        int len = Math.min(t.length, 128 + rnd.nextInt(897));
        int start = rnd.nextInt(t.length - len + 1);
        return java.util.Arrays.copyOfRange(t, start, start + len);
    }

    @Override
    public SacTrainer.QaExample qa(Random rnd) {
        int qi = rnd.nextInt(questions.size());
        int answerDoc = questionDoc.get(qi);
        List<Integer> chosen = new ArrayList<>();
        chosen.add(answerDoc);
        int tokens = documents.get(answerDoc).length;
        int k = 1 + rnd.nextInt(4);
        for (int tries = 0; chosen.size() < k && tries < 10; tries++) {
            int d = rnd.nextInt(documents.size());
            if (!chosen.contains(d) && tokens + documents.get(d).length <= maxComposed) {
                chosen.add(d);
                tokens += documents.get(d).length;
            }
        }
        List<Integer> others = new ArrayList<>();
        for (int d : questionsPerExample == 1 ? List.<Integer>of() : chosen) {
            for (int q : docQuestions.get(d)) {
                if (q != qi) {
                    others.add(q);
                }
            }
        }
        if (!others.isEmpty()) {
            java.util.Collections.shuffle(others, rnd);
        }
        List<long[][]> asked = new ArrayList<>();
        asked.add(questions.get(qi));
        others.stream().limit(questionsPerExample - 1L).forEach(q -> asked.add(questions.get(q)));
        java.util.Collections.shuffle(chosen, rnd); // the answer may sit in any of the composed documents
        return new SacTrainer.QaExample(chosen.stream().map(documents::get).toList(), asked);
    }
}
