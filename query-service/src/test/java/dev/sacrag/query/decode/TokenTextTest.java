package dev.sacrag.query.decode;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class TokenTextTest {

    /** A byte-level vocabulary: token id = byte value, decoded lossily as Hugging Face decoders do. */
    private static String bytesToText(long[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            b[i] = (byte) ids[i];
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void neverSplitsAMultiByteCharacter() {
        String answer = "naïve café costs 3 € 😀!";
        TokenText text = new TokenText(TokenTextTest::bytesToText);
        List<String> pieces = new ArrayList<>();
        for (byte b : answer.getBytes(StandardCharsets.UTF_8)) {
            pieces.add(text.add(b & 0xff));
        }
        pieces.add(text.finish());
        for (String p : pieces) {
            assertFalse(p.contains("\uFFFD"), "piece '" + p + "' holds half a character");
        }
        assertEquals(answer, String.join("", pieces));
        assertEquals(answer, text.text());
        assertEquals(answer.getBytes(StandardCharsets.UTF_8).length + 1, pieces.size(), "one piece per token, then the tail");
        assertEquals("", pieces.get(pieces.size() - 1));
    }

    @Test
    void releasesATruncatedCharacterAtTheEnd() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
        TokenText text = new TokenText(TokenTextTest::bytesToText);
        assertEquals("a", text.add('a'));
        assertEquals("", text.add(euro[0] & 0xff));
        assertEquals("", text.add(euro[1] & 0xff));
        assertEquals("\uFFFD", text.finish(), "generation stopped mid-character: the tail still ends the answer");
        assertEquals("a\uFFFD", text.text());
    }
}
