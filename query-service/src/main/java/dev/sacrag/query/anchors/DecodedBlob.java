package dev.sacrag.query.anchors;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.BlobException;
import dev.sacrag.query.catalog.CatalogEntry;

import java.nio.ByteBuffer;

/**
 * A blob decoded straight from the bytes the blob source lends, or why it could not be: a
 * corrupt blob, one of another model, or another than its catalog record describes is a miss for
 * that document (rebuilt on request), not a failed fetch.
 *
 * @param kv the anchor KV, or null when {@code problem} says why not
 */
record DecodedBlob(AnchorKv kv, String problem) {

    /** The blob of {@code entry}: its model's, and the one its checksum names, as the compressor holds it to. */
    static DecodedBlob decode(ByteBuffer blob, CatalogEntry entry) {
        try {
            return new DecodedBlob(AnchorKvCodec.decode(blob, entry.modelId(), entry.checksum()), null);
        } catch (BlobException bad) {
            return new DecodedBlob(null, bad.getMessage());
        }
    }
}
