package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.text.TextTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns data into token sequences the way the engine will see them at inference: the
 * context prompt and the context are encoded as separate pieces (as {@code SacEngine} does),
 * the question prompt, question and answer prompt as one piece, the answer on its own.
 */
public final class TrainingSamples {
    public static final String CONTEXT_PROMPT = "### Context:\n";
    public static final String QUESTION_PROMPT = "\n### Question:\n";
    public static final String ANSWER_PROMPT = "\n### Answer:\n";

    private final TextTokenizer tok;
    private final long bos;
    private final long eos;
    private final String answerPrompt;

    public TrainingSamples(TextTokenizer tok, long bos, long eos) {
        this(tok, bos, eos, ANSWER_PROMPT);
    }

    /**
     * {@code answerPrompt}: the paper's ends in a newline, so an answer is encoded as a word at
     * the start of a line. A prompt that ends otherwise (e.g. "\n### Answer:") puts a space
     * before the answer, so a name is encoded exactly as it is inside the context, which lets
     * a small model copy it token for token (byte-level BPE splits " Name" and "Name" apart).
     */
    public TrainingSamples(TextTokenizer tok, long bos, long eos, String answerPrompt) {
        this.tok = tok;
        this.bos = bos;
        this.eos = eos;
        this.answerPrompt = answerPrompt;
    }

    /** How an answer follows the answer prompt. */
    public static String answerText(String answerPrompt, String answer) {
        return answerPrompt.endsWith("\n") || answerPrompt.endsWith(" ") ? answer : " " + answer;
    }

    /** BOS + context prompt + context + question prompt + answer; answer tokens weigh {@code answerWeight}. */
    public List<TokenSample> qa(List<MrqaRecord> records, float answerWeight) {
        List<TokenSample> out = new ArrayList<>();
        long[] ctxPrompt = tok.encode(CONTEXT_PROMPT);
        for (MrqaRecord r : records) {
            long[] ctx = tok.encode(r.context());
            for (MrqaRecord.Qa qa : r.qas()) {
                long[] q = tok.encode(QUESTION_PROMPT + qa.question() + answerPrompt);
                long[] a = tok.encode(answerText(answerPrompt, qa.answers().get(0)));
                int n = 1 + ctxPrompt.length + ctx.length + q.length + a.length + 1;
                long[] t = new long[n];
                float[] w = new float[n];
                int i = 0;
                t[i++] = bos;
                for (long[] part : new long[][] {ctxPrompt, ctx, q}) {
                    System.arraycopy(part, 0, t, i, part.length);
                    i += part.length;
                }
                int answerStart = i;
                System.arraycopy(a, 0, t, i, a.length);
                i += a.length;
                t[i] = eos;
                for (int j = 0; j < n - 1; j++) {
                    w[j] = j + 1 >= answerStart ? answerWeight : 1f; // weight of predicting t[j + 1]
                }
                out.add(new TokenSample(t, w));
            }
        }
        return out;
    }

    /** As {@link #qa} but only the answer and EOS tokens weigh (1), for scoring held-out data. */
    public List<TokenSample> qaAnswers(List<MrqaRecord> records) {
        List<TokenSample> out = new ArrayList<>();
        for (TokenSample s : qa(records, 2f)) {
            float[] w = new float[s.weights().length];
            for (int j = 0; j < w.length; j++) {
                w[j] = s.weights()[j] > 1f ? 1f : 0f;
            }
            out.add(new TokenSample(s.tokens(), w));
        }
        return out;
    }

    /**
     * Every question of a context after one copy of it: BOS + context prompt + context, then
     * for each question the question prompt, the answer and EOS. Answers weigh
     * {@code answerWeight}, the context {@code contextWeight}, the question prompts 0.5: many
     * more answer tokens per context token than one question per sample.
     */
    public List<TokenSample> qaPacked(List<MrqaRecord> records, float answerWeight, float contextWeight) {
        return qaPacked(records, answerWeight, contextWeight, Integer.MAX_VALUE);
    }

    /**
     * As above, but a context whose questions would take it past {@code maxTokens} is repeated
     * in as many samples as it takes, each with the next questions that fit (a context with
     * every fact asked about can run to thousands of tokens; the trainer drops longer samples).
     */
    public List<TokenSample> qaPacked(List<MrqaRecord> records, float answerWeight, float contextWeight, int maxTokens) {
        List<TokenSample> out = new ArrayList<>();
        long[] ctxPrompt = tok.encode(CONTEXT_PROMPT);
        for (MrqaRecord r : records) {
            long[] head = concat(new long[] {bos}, ctxPrompt, tok.encode(r.context()));
            List<long[][]> qas = new ArrayList<>();       // {question prompt, answer + EOS}
            for (MrqaRecord.Qa qa : r.qas()) {
                long[] a = tok.encode(answerText(answerPrompt, qa.answers().get(0)));
                long[] ae = java.util.Arrays.copyOf(a, a.length + 1);
                ae[a.length] = eos;
                qas.add(new long[][] {tok.encode(QUESTION_PROMPT + qa.question() + answerPrompt), ae});
            }
            int from = 0;
            do {
                int length = head.length;
                int to = from;
                while (to < qas.size() && (to == from || length + qas.get(to)[0].length + qas.get(to)[1].length <= maxTokens)) {
                    length += qas.get(to)[0].length + qas.get(to)[1].length;
                    to++;
                }
                out.add(packed(head, qas.subList(from, to), length, answerWeight, contextWeight));
                from = to;
            } while (from < qas.size());
        }
        return out;
    }

    private static TokenSample packed(long[] head, List<long[][]> qas, int n, float answerWeight, float contextWeight) {
        long[] t = new long[n];
        float[] w = new float[n];
        System.arraycopy(head, 0, t, 0, head.length);
        java.util.Arrays.fill(w, 0, head.length - 1, contextWeight);   // w[i] weighs predicting t[i + 1]
        int i = head.length;
        for (long[][] qa : qas) {
            System.arraycopy(qa[0], 0, t, i, qa[0].length);
            java.util.Arrays.fill(w, i - 1, i - 1 + qa[0].length, 0.5f);
            i += qa[0].length;
            System.arraycopy(qa[1], 0, t, i, qa[1].length);
            java.util.Arrays.fill(w, i - 1, i - 1 + qa[1].length, answerWeight);
            i += qa[1].length;
        }
        return new TokenSample(t, w);
    }

    private static long[] concat(long[]... parts) {
        int n = 0;
        for (long[] p : parts) {
            n += p.length;
        }
        long[] out = new long[n];
        int i = 0;
        for (long[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }

    /**
     * Induction drills: BOS + a window of 16-64 tokens of a text + the same window again,
     * {@code count} of them from random texts (seeded). Every token is predicted; the second copy
     * can only be predicted by finding the earlier occurrence and copying what followed it,
     * which is the circuit a model needs to copy an answer out of its context. Sparse QA
     * answers alone leave a small model on a long plateau before it forms; these dense
     * examples get it there in a few hundred steps.
     */
    public List<TokenSample> repeats(List<String> texts, int count, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        List<TokenSample> out = new ArrayList<>();
        long[][] encoded = new long[texts.size()][];
        int tries = 0;
        while (out.size() < count && tries++ < count * 4) {
            int pick = r.nextInt(texts.size());
            if (encoded[pick] == null) {
                encoded[pick] = tok.encode(texts.get(pick));
            }
            long[] all = encoded[pick];
            if (all.length < 20) {
                continue;
            }
            int len = Math.min(all.length, 16 + r.nextInt(49));
            int start = r.nextInt(all.length - len + 1);
            long[] t = new long[1 + 2 * len];
            t[0] = bos;
            System.arraycopy(all, start, t, 1, len);
            System.arraycopy(all, start, t, 1 + len, len);
            float[] w = new float[t.length];
            java.util.Arrays.fill(w, 1f);
            out.add(new TokenSample(t, w));
        }
        return out;
    }

    /** Plain language modelling: BOS + windows of at most {@code window} tokens of each text. */
    public List<TokenSample> text(List<String> texts, int window) {
        List<TokenSample> out = new ArrayList<>();
        for (String s : texts) {
            long[] all = tok.encode(s);
            for (int start = 0; start < all.length; start += window) {
                int len = Math.min(window, all.length - start);
                if (len < 16) {
                    break;
                }
                long[] t = new long[len + 1];
                t[0] = bos;
                System.arraycopy(all, start, t, 1, len);
                float[] w = new float[t.length];
                java.util.Arrays.fill(w, 1f);
                out.add(new TokenSample(t, w));
            }
        }
        return out;
    }
}
