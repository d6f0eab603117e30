package dev.sacrag.core.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MetricsTest {

    @Test
    void squadNormalisationIgnoresCaseArticlesAndPunctuation() {
        assertEquals("eiffel tower", Metrics.normalize("The  Eiffel Tower!"));
        assertEquals("eiffeltower", Metrics.normalize("Eiffel-Tower"), "punctuation is deleted, as the official script");
        assertEquals(1.0, Metrics.squadEm("the London", List.of("Paris", "London")));
        assertEquals(0.0, Metrics.squadEm("Londres", List.of("London")));
    }

    @Test
    void squadNormalisationRemovesExactlyPythonsStringPunctuation() {
        // symbols in string.punctuation go too: the official script scores "$5 million" = "5 million"
        assertEquals(1.0, Metrics.squadEm("$5 million", List.of("5 million")));
        assertEquals("ab", Metrics.normalize("a+b"), "'+' goes before the articles: as the official script, 'ab'");
        assertEquals("", Metrics.normalize("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"));
        // punctuation of other scripts is not in string.punctuation, so it stays
        assertEquals("«oui» — ¿qué", Metrics.normalize("«Oui» — ¿Qué"));
    }

    @Test
    void squadNormalisationSplitsOnUnicodeWhitespaceAsPythonDoes() {
        // the official script's str.split() splits on a no-break space; real gold answers hold them
        assertEquals("paris france", Metrics.normalize("Paris\u00a0France"));
        assertEquals(1.0, Metrics.squadEm("Paris France", List.of("Paris\u00a0France")));
        assertEquals(1.0, Metrics.squadF1("Paris France", List.of("\u2003Paris\u00a0France\u3000")));
        assertEquals("x y", Metrics.normalize("\u00a0x\u2009y "));
    }

    @Test
    void squadF1IsBestTokenOverlapOverGolds() {
        // vs "marine biology": precision 2/3, recall 1 -> 0.8; vs "biology": 0.5; the best counts
        assertEquals(0.8, Metrics.squadF1("marine biology lab", List.of("biology", "marine biology")), 1e-9);
        assertEquals(0.0, Metrics.squadF1("", List.of("x")));
    }

    @Test
    void paperMetricsUseTheFirstAnswerRaw() {
        assertEquals(0.0, Metrics.paperEm("london", List.of("London")), "raw equality is case-sensitive");
        assertEquals(1.0, Metrics.paperEm(" London ", List.of("London")));
        assertEquals(0.0, Metrics.paperF1("Paris", List.of("London", "Paris")), "only the first answer counts");
        assertEquals(1.0, Metrics.paperF1("marine, Biology", List.of("Marine biology")));
    }
}
