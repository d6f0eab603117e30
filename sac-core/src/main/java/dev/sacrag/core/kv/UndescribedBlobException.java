package dev.sacrag.core.kv;

/**
 * An intact blob of the expected model that is not the one its catalog record describes (the
 * CRC32C it carries is not the record's checksum, {@link AnchorKvCodec#checksum}): another write
 * put it under the record's key. Its anchors may be of another text, so it is refused as a corrupt
 * one is, and rebuilt on request.
 */
public class UndescribedBlobException extends BlobException {

    public UndescribedBlobException(long expectedChecksum, long foundChecksum) {
        super(String.format("not the blob its catalog record describes: CRC32C 0x%08x, the record's 0x%08x (another write"
                + " replaced it under the same key)", foundChecksum, expectedChecksum));
    }
}
