package dev.sacrag.query.ask;

import dev.sacrag.schemas.DeadLetter;
import java.util.List;

/**
 * What one question produced.
 *
 * @param text the answer; equals the concatenation of the streamed pieces
 * @param documents in the order they were composed into the context
 * @param refused the refusals of documents retrieval matched and passed over, best match first,
 *     because a compressor refused their live version (each would have taken a place): what the
 *     answer lacks, which the caller cannot see otherwise
 * @param tokens tokens generated (the stop token excluded)
 * @param stopped whether a stop token ended the answer (else the token limit did)
 */
public record AskAnswer(String text, List<UsedDoc> documents, List<DeadLetter> refused, StageTimings timings,
                        String modelId, int tokens, boolean stopped) {

    public AskAnswer {
        documents = List.copyOf(documents);
        refused = List.copyOf(refused);
    }
}
