package dev.sacrag.core.sac;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AnchorPositionsTest {

    @ParameterizedTest(name = "{0}x -> {1} anchors per full chunk")
    @CsvSource({"4,128", "5,102", "8,64", "15,34", "16,32", "51,10"})
    void fullChunkCountsMatchThePaper(int ratio, int expected) {
        assertEquals(expected, AnchorPositions.count(510, ratio));
        assertEquals(expected, AnchorPositions.inChunk(510, ratio).length);
    }

    @Test
    void tailChunkOf300TokensAt4xHas75Anchors() {
        assertEquals(75, AnchorPositions.inChunk(300, 4).length);
    }

    @Test
    void anchorsAreMidpointsOfEachGroup() {
        assertArrayEquals(new int[] {1, 5, 9}, AnchorPositions.inChunk(12, 4));
        assertArrayEquals(new int[] {2, 7}, AnchorPositions.inChunk(10, 5));
        assertArrayEquals(new int[] {3, 11}, AnchorPositions.inChunk(13, 8));
    }

    @Test
    void emptyRangeKeepsTheFirstToken() {
        assertArrayEquals(new int[] {0}, AnchorPositions.inChunk(3, 16)); // (16-1)/2 = 7 >= 3
        assertArrayEquals(new int[] {0}, AnchorPositions.inChunk(1, 4));
        assertEquals(1, AnchorPositions.count(7, 16));
        assertEquals(1, AnchorPositions.count(8, 16));             // offset 7 < 8: one real midpoint
        assertArrayEquals(new int[] {7}, AnchorPositions.inChunk(8, 16));
    }

    @Test
    void totalSumsOverChunks() {
        assertEquals(128 + 75, AnchorPositions.total(810, 510, 4));
    }
}
