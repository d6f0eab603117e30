package dev.sacrag.core.data;

import java.util.List;

/**
 * One line of an MRQA JSONL file: a context and its questions. Answers are extractive;
 * {@code detected_answers} give their character spans in the context.
 */
public record MrqaRecord(String id, String context, List<Qa> qas) {

    public MrqaRecord {
        qas = List.copyOf(qas);
    }

    /** A question with its gold answers (the first is the paper metric's reference). */
    public record Qa(String qid, String question, List<String> answers, List<Span> detectedAnswers) {
        public Qa {
            answers = List.copyOf(answers);
            detectedAnswers = List.copyOf(detectedAnswers);
        }
    }

    /** An answer's text and its inclusive character span [start, end] in the context. */
    public record Span(String text, int start, int end) { }
}
