package dev.sacrag.core.sac;

import dev.sacrag.core.text.ByteLevelVocab;
import dev.sacrag.core.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CapitalisedWordsTest {

    @TempDir
    Path dir;

    @Test
    void marksTheLettersOfWordsThatStartWithACapitalFromTheGivenIndex() throws Exception {
        // no merges: one token per byte, so the mask reads as the text
        ByteLevelVocab.write(dir.resolve("tokenizer.json"), List.of("<s>", "</s>"), List.of());
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            String text = "Ab: Ann lives in Oslo.\nZed, x9 and New-York";
            long[] ids = tok.encode(text);
            boolean[] keep = CapitalisedWords.mask(tok, ids, 4);   // "Ab: " is before the context
            StringBuilder marked = new StringBuilder();
            for (int i = 0; i < keep.length; i++) {
                marked.append(keep[i] ? text.charAt(i) : '.');
            }
            // "-" starts a word of its own (not a letter), so "York" counts as a capitalised word too
            assertEquals("....Ann..........Oslo..Zed.........New.York", marked.toString());
        }
    }
}
