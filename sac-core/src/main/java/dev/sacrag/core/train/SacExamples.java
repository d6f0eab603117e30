package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.text.TextTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Training examples for SAC from tokenised data. Stage 1 draws windows of 128-1024 tokens
 * from plain text and fact documents; stage 2 draws a question and composes its document with
 * 0-3 distractor documents in random order, up to {@code maxComposedTokens}.
 */
public final class SacExamples implements SacTrainer.Examples {
    private final List<long[]> documents = new ArrayList<>();      // full compressor inputs
    private final List<long[][]> questions = new ArrayList<>();    // per document: {prompt, answer+EOS} pairs, flattened
    private final List<Integer> questionDoc = new ArrayList<>();
    private final List<long[]> texts = new ArrayList<>();
    private final int maxComposed;

    public SacExamples(TextTokenizer tok, List<MrqaRecord> qa, List<String> text, long bos, long eos,
                       String contextPrompt, String questionPrompt, String answerPrompt, int maxComposedTokens) {
        this.maxComposed = maxComposedTokens;
        long[] prefix = tok.encode(contextPrompt);
        for (MrqaRecord r : qa) {
            long[] body = tok.encode(r.context());
            long[] doc = new long[1 + prefix.length + body.length];
            doc[0] = bos;
            System.arraycopy(prefix, 0, doc, 1, prefix.length);
            System.arraycopy(body, 0, doc, 1 + prefix.length, body.length);
            int index = documents.size();
            documents.add(doc);
            texts.add(body);
            for (MrqaRecord.Qa q : r.qas()) {
                long[] a = tok.encode(TrainingSamples.answerText(answerPrompt, q.answers().get(0)));
                long[] answer = java.util.Arrays.copyOf(a, a.length + 1);
                answer[a.length] = eos;
                questions.add(new long[][] {tok.encode(questionPrompt + q.question() + answerPrompt), answer});
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
        List<long[]> docs = new ArrayList<>();
        docs.add(documents.get(answerDoc));
        int tokens = documents.get(answerDoc).length;
        int k = 1 + rnd.nextInt(4);
        for (int tries = 0; docs.size() < k && tries < 10; tries++) {
            int d = rnd.nextInt(documents.size());
            if (d != answerDoc && tokens + documents.get(d).length <= maxComposed) {
                docs.add(documents.get(d));
                tokens += documents.get(d).length;
            }
        }
        java.util.Collections.shuffle(docs, rnd); // the answer may sit in any of the composed documents
        return new SacTrainer.QaExample(docs, questions.get(qi)[0], questions.get(qi)[1]);
    }
}
