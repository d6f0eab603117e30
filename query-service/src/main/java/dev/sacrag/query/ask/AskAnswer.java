package dev.sacrag.query.ask;

import java.util.List;

/**
 * What one question produced.
 *
 * @param text the answer; equals the concatenation of the streamed pieces
 * @param documents in the order they were composed into the context
 * @param tokens tokens generated (the stop token excluded)
 * @param stopped whether a stop token ended the answer (else the token limit did)
 */
public record AskAnswer(String text, List<UsedDoc> documents, StageTimings timings, String modelId, int tokens,
                        boolean stopped) {

    public AskAnswer {
        documents = List.copyOf(documents);
    }
}
