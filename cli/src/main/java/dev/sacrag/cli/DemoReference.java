package dev.sacrag.cli;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.eval.Evaluator;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.ingest.DocumentDraft;
import dev.sacrag.ingest.Question;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The demo's yardstick: how many of the questions the same base model answers with each whole
 * document in its prompt ({@code sac eval}'s {@code full} method: no compression, no pipeline).
 * SAC answers from anchors of the document, so this is what it can hope to match at best; when
 * the reference itself is under the demo's bar, a failed demo is the base model's shortfall
 * before it is SAC's or the pipeline's.
 */
record DemoReference(int correct, int total) {

    /** Answers every question of {@code inputs} against its document's full text, in this JVM. */
    static DemoReference measure(ModelPaths model, DemoInputs inputs) throws Exception {
        List<MrqaRecord> records = new ArrayList<>();
        for (DocumentDraft d : inputs.documents()) {
            List<MrqaRecord.Qa> qas = new ArrayList<>();
            for (Question q : inputs.questions()) {
                if (q.docId().equals(d.docId())) {
                    qas.add(new MrqaRecord.Qa(q.qid(), q.question(), q.answers(), List.of()));
                }
            }
            if (!qas.isEmpty()) {
                records.add(new MrqaRecord(d.docId(), d.text(), qas));
            }
        }
        try (SacEngine engine = SacEngine.load(model.base(), model.adapter())) {
            Evaluator.Row full = new Evaluator(Map.of("sac", engine), line -> { })
                    .qa(records, List.of(), new ArrayList<>(), List.of("full")).get(0);
            int correct = (int) java.util.Arrays.stream(full.scores().em()).filter(em -> em > 0).count();
            return new DemoReference(correct, full.n());
        }
    }

    /** The demo's bar (80 %), the same integer test as {@link DemoReport#passed}. */
    boolean passes() {
        return total > 0 && correct * 5L >= total * 4L;
    }
}
