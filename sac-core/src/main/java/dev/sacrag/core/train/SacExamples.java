package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.text.TextTokenizer;

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

    public SacExamples(TextTokenizer tok, List<MrqaRecord> qa, List<String> text, long bos, long eos,
                       String contextPrompt, String questionPrompt, String answerPrompt, int maxComposedTokens,
                       int questionsPerExample) {
        if (questionsPerExample < 1) {
            throw new IllegalArgumentException("questions per example must be >= 1, got " + questionsPerExample);
        }
        this.maxComposed = maxComposedTokens;
        this.questionsPerExample = questionsPerExample;
        long[] prefix = tok.encode(contextPrompt);
        for (MrqaRecord r : qa) {
            long[] body = tok.encode(r.context());
            long[] doc = new long[1 + prefix.length + body.length];
            doc[0] = bos;
            System.arraycopy(prefix, 0, doc, 1, prefix.length);
            System.arraycopy(body, 0, doc, 1 + prefix.length, body.length);
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
    }

    @Override
    public long[] continuation(Random rnd) {
        long[] t = texts.get(rnd.nextInt(texts.size()));
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
