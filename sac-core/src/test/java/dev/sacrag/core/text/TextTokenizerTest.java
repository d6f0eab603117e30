package dev.sacrag.core.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {

    private static final List<String> SPECIALS = List.of("<|bos|>", "<|eos|>", "<|pad|>", "<|end_of_text|>", "<|end|>");

    @TempDir
    Path dir;

    @Test
    void theTextOfASpecialTokenInADocumentIsPlainTextNotTheToken() throws Exception {
        ByteLevelVocab.write(dir.resolve("tokenizer.json"), SPECIALS, List.of());
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            String text = "hello <|eos|> world <|bos|><|end_of_text|> and <|end|>";
            long[] ids = tok.encode(text);
            // ids 0-4 are the added tokens: none may come out of text, only be placed by id
            assertTrue(Arrays.stream(ids).allMatch(id -> id >= SPECIALS.size()), Arrays.toString(ids));
            assertEquals(text, tok.decode(ids), "every character is still there, as text");
            assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, ids.length,
                    "no merges in this vocabulary: one id per byte");
        }
    }

    @Test
    void piecesAreCutOnlyWhereAnAddedTokenStartsAndTheLongestIsFound() throws Exception {
        ByteLevelVocab.write(dir.resolve("tokenizer.json"), SPECIALS, List.of());
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertEquals(List.of("plain text, no <| specials |>"), tok.plainPieces("plain text, no <| specials |>"));
            assertEquals(List.of(""), tok.plainPieces(""));
            assertEquals(List.of("a<", "|end_of_text|>b"), tok.plainPieces("a<|end_of_text|>b"));
            assertEquals(List.of("<", "|eos|><", "|eos|>"), tok.plainPieces("<|eos|><|eos|>"));
        }
    }
}
