package dev.sacrag.cli;

import dev.sacrag.core.train.TrainingSamples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BasePromptsTest {
    @TempDir
    Path dir;

    @Test
    void theAnswerPromptABaseWasTrainedWithIsReadBack() throws IOException {
        java.nio.file.Files.writeString(dir.resolve(BasePrompts.FILE), BasePrompts.json("\n### Answer:"));
        assertEquals("\n### Answer:", BasePrompts.answerPrompt(dir));
    }

    @Test
    void aTypedBackslashNInAPromptOptionIsANewline() {
        assertEquals("\n### Answer:", new TrainCommand.NewlineEscapes().convert("\\n### Answer:"));
        assertEquals("\n### Answer:\n", new TrainCommand.NewlineEscapes().convert("\n### Answer:\n"));
    }

    @Test
    void aBaseWithoutTheFileGetsThePapersPrompt() throws IOException {
        assertEquals(TrainingSamples.ANSWER_PROMPT, BasePrompts.answerPrompt(dir));
    }

    @Test
    void aBrokenFileIsNamedInTheError() throws IOException {
        Files.writeString(dir.resolve(BasePrompts.FILE), "{\"answer_prompt\": ");
        IOException e = assertThrows(IOException.class, () -> BasePrompts.answerPrompt(dir));
        assertTrue(e.getMessage().contains(BasePrompts.FILE), e.getMessage());
        Files.writeString(dir.resolve(BasePrompts.FILE), "{\"other\": 1}");
        e = assertThrows(IOException.class, () -> BasePrompts.answerPrompt(dir));
        assertTrue(e.getMessage().contains("answer_prompt"), e.getMessage());
    }
}
