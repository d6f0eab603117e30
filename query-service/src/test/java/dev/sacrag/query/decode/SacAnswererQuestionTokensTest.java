package dev.sacrag.query.decode;

import dev.sacrag.core.sac.SacEngine;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A question takes its tokens of the model's positions, not its bytes: counted as bytes, a
 * 1.7 KB question (within the 2,000-character limit) left too few positions for any document,
 * and was refused with "documents ... hold N tokens".
 */
class SacAnswererQuestionTokensTest {

    @Test
    void aQuestionTakesItsTokensOfThePositionsNotItsBytes() throws Exception {
        Path demo = Path.of("..", "models", "sac-demo");
        try (SacEngine engine = SacEngine.load(demo.resolve("base"), demo.resolve("adapters/sac"))) {
            SacAnswerer answerer = new SacAnswerer(engine, 4);
            String question = "Where does Lainei Tyantrou live? " + "please ".repeat(245);
            int bytes = question.getBytes(StandardCharsets.UTF_8).length;
            int tokens = answerer.questionTokens(question);
            assertTrue(tokens > engine.tokenizer().encode(question).length, "the prompt around it and [LM] count too");
            assertTrue(tokens < bytes / 2, tokens + " tokens for " + bytes + " bytes");
            assertTrue(engine.config().maxPositions() - tokens - 64 > 1000,
                    "room left for documents beside the question: " + (engine.config().maxPositions() - tokens - 64));
        }
    }
}
