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
