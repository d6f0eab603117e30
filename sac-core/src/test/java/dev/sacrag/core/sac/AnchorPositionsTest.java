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
    void addedAnchorsJoinTheUniformOnesInOrderAndTakeTheRowOfTheUniformOneBefore() {
        boolean[] marks = new boolean[30];
        marks[12] = marks[13] = marks[14] = true;   // input positions: the chunk starting at 10 holds them at 2, 3, 4
        marks[0] = true;                             // before the chunk: not its business
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 9}, AnchorPositions.inChunk(12, 4, marks, 10));
        assertArrayEquals(AnchorPositions.inChunk(12, 4), AnchorPositions.inChunk(12, 4, null, 10));
        // 4x: uniform anchors at 1, 5, 9 take rows 0, 1, 2; 2-4 take row 0 (after 1), 6 row 1; 0, before the first, row 0
        int[][] rows4 = {{0, 0}, {1, 0}, {2, 0}, {4, 0}, {5, 1}, {6, 1}, {9, 2}, {11, 2}};
        for (int[] r : rows4) {
            assertEquals(r[1], AnchorPositions.slotOf(r[0], 4, 3), "4x offset " + r[0]);
        }
        // odd ratios and 1x: every uniform anchor j takes row j
        for (int ratio : new int[] {1, 2, 3, 5, 8, 16}) {
            int[] uniform = AnchorPositions.inChunk(510, ratio);
            for (int j = 0; j < uniform.length; j++) {
                assertEquals(j, AnchorPositions.slotOf(uniform[j], ratio, uniform.length), ratio + "x anchor " + j);
            }
            assertEquals(uniform.length - 1, AnchorPositions.slotOf(509, ratio, uniform.length), ratio + "x last token");
        }
        assertEquals(0, AnchorPositions.slotOf(0, 16, 1), "a short chunk's one anchor sits on offset 0, row 0");
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
