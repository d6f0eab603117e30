package dev.sacrag.query.anchors;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.BlobException;

import java.nio.ByteBuffer;

/**
 * A blob decoded straight from the bytes the blob source lends, or why it could not be: a
 * corrupt blob or one of another model is a miss for that document, not a failed fetch.
 *
 * @param kv the anchor KV, or null when {@code problem} says why not
 */
record DecodedBlob(AnchorKv kv, String problem) {

    static DecodedBlob decode(ByteBuffer blob, String expectedModelId) {
        try {
            return new DecodedBlob(AnchorKvCodec.decode(blob, expectedModelId), null);
        } catch (BlobException bad) {
            return new DecodedBlob(null, bad.getMessage());
        }
    }
}
