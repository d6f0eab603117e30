package dev.sacrag.query.catalog;

import dev.sacrag.query.TestAnchors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CatalogTest {

    private static CatalogEntry entry(String doc, String model) {
        return TestAnchors.entry("t", doc, 1, TestAnchors.kv(model, 30, 4, 1));
    }

    @Test
    void recordKeysAreThoseWhoseCurrentEntryIsOfTheModel() {
        Catalog catalog = new Catalog();
        catalog.apply("b|old", Optional.of(entry("b", "old")));
        catalog.apply("a|old", Optional.of(entry("a", "old")));
        catalog.apply("a|new", Optional.of(entry("a", "new")));
        catalog.apply("c|old", Optional.of(entry("c", "old")));
        catalog.apply("c|old", Optional.empty());   // deleted: nothing left to remove

        assertEquals(List.of("a|old", "b|old"), catalog.recordKeys("old"));
        assertEquals(List.of("a|new"), catalog.recordKeys("new"));
        assertEquals(List.of(), catalog.recordKeys("other"));
    }
}
