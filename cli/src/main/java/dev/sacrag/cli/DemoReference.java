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
 * The demo's reference: how many of the questions the same base model answers with each whole
 * document in its prompt ({@code sac eval}'s {@code full} method: no compression, no pipeline).
 * SAC answers from anchors of the documents, a part of what this reads, so it rarely gets what
 * this misses; when the reference itself is under the demo's bar, the base model keeps the demo
 * under it, not only the compression.
 */
record DemoReference(int correct, int total) {

    /** Answers every question of {@code inputs} against its document's full text, in this JVM. */
    static DemoReference measure(ModelPaths model, DemoInputs inputs, int maxNewTokens) throws Exception {
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
            Evaluator.Row full = new Evaluator(Map.of("sac", engine), line -> { }).maxAnswerTokens(maxNewTokens)
                    .qa(records, List.of(), new ArrayList<>(), List.of("full")).get(0);
            int correct = (int) java.util.Arrays.stream(full.scores().em()).filter(em -> em > 0).count();
            return new DemoReference(correct, full.n());
        }
    }

    boolean passes() {
        return DemoReport.meetsBar(correct, total);
    }
}
