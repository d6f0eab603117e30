package dev.sacrag.ingest;

import java.util.List;
import java.util.Objects;

/** An evaluation question about one published document (from MRQA input). */
public record Question(String qid, String question, List<String> answers, String docId) {

    public Question {
        Objects.requireNonNull(qid, "qid");
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(docId, "docId");
        answers = List.copyOf(answers);
    }
}
