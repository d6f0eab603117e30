package dev.sacrag.kvstore;

import java.nio.ByteBuffer;

import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.CommandOutput;

/**
 * The reply of one GET copied into an array from the {@link BlobBufferPool} instead of a new
 * {@code byte[]} of its exact size (what {@link ByteArrayCodec} would do). Runs on the Netty I/O
 * thread, so it only copies; reading the blob is left to the caller.
 */
final class LentBlobOutput extends CommandOutput<byte[], byte[], LentBlobOutput.Lent> {

    /** A blob in {@code array[0, length)}; the array goes back to the pool once read. */
    record Lent(byte[] array, int length) {
        ByteBuffer view() {
            return ByteBuffer.wrap(array, 0, length).slice();
        }
    }

    private final BlobBufferPool pool;
    /** Set when the read gave up on this reply: a reply that comes later takes no pooled array. */
    private volatile boolean abandoned;

    LentBlobOutput(BlobBufferPool pool) {
        super(ByteArrayCodec.INSTANCE, null);
        this.pool = pool;
    }

    /** The reader will not take this reply: it is decoded into nothing (before its command is cancelled). */
    void abandon() {
        abandoned = true;
    }

    @Override
    public void set(ByteBuffer bytes) {
        if (abandoned) {
            return;   // a cancelled command's reply: nothing reads it, so no array leaves the pool for it
        }
        if (output != null) { // a second reply for the same command: keep the last, as ValueOutput does
            pool.giveBack(output.array());
            output = null;
        }
        if (bytes == null) { // nil: no such key
            return;
        }
        int length = bytes.remaining();
        byte[] array = pool.take(length);
        bytes.get(array, 0, length);
        output = new Lent(array, length);
    }
}
