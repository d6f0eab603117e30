package dev.sacrag.query.catalog;

import java.util.Optional;

/**
 * What applying one catalog record changed for its document and model.
 *
 * @param previous the entry that was current before, if any
 * @param current the entry that is current now; empty after a delete
 */
public record CatalogChange(Optional<CatalogEntry> previous, Optional<CatalogEntry> current) {
}
