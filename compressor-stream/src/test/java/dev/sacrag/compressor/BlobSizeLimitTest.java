package dev.sacrag.compressor;

import dev.sacrag.core.kv.KvDtype;
import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlobSizeLimitTest {

    /** A server that says nothing of its own limits. */
    private static final java.util.OptionalLong NO_SERVER_LIMIT = java.util.OptionalLong.empty();

    /** Llama-3.2-1B's KV shape (model-shapes.md): 16 layers, 8 KV heads of 64; 32 KiB of f16 K and V per anchor. */
    private static final BlobSizeLimit LLAMA_1B = new BlobSizeLimit(16, 8, 64, 512, 4, 12, KvDtype.F16);

    @Test
    void theLimitIsTheLastTokenCountWhoseBlobFits() {
        long max = 10_000_000;
        int t = LLAMA_1B.maxTokens(max, 1 << 20);
        assertTrue(LLAMA_1B.blobBytes(t) <= max && LLAMA_1B.blobBytes(t + 1) > max,
                t + " tokens: " + LLAMA_1B.blobBytes(t) + " bytes, one more: " + LLAMA_1B.blobBytes(t + 1));
        assertEquals(50, LLAMA_1B.maxTokens(max, 50), "capped at upTo when everything fits");
        assertEquals(0, LLAMA_1B.maxTokens(10, 50), "not even one token's blob fits in 10 bytes");
    }

    /** At its 131,072 positions and ratio 4 a Llama-3.2-1B blob is about 1 GiB: the default limit is cut to fit. */
    @Test
    void theDefaultIsCutToWhatRedisTakesAndALargerSettingIsRefused() {
        assertTrue(LLAMA_1B.blobBytes(131_072) > BlobSizeLimit.REDIS_MAX_STRING_BYTES, "" + LLAMA_1B.blobBytes(131_072));
        int limit = LLAMA_1B.tokenLimit(OptionalInt.empty(), 131_072, NO_SERVER_LIMIT);
        assertTrue(limit > 60_000 && limit < 131_072, "about 64k tokens fit: " + limit);
        assertTrue(LLAMA_1B.blobBytes(limit) <= BlobSizeLimit.REDIS_MAX_STRING_BYTES);

        assertEquals(8192, LLAMA_1B.tokenLimit(OptionalInt.of(8192), 131_072, NO_SERVER_LIMIT), "a setting that fits is kept");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LLAMA_1B.tokenLimit(OptionalInt.of(131_072), 131_072, NO_SERVER_LIMIT));
        assertTrue(e.getMessage().startsWith("--max-doc-tokens 131072") && e.getMessage().contains("at most " + limit),
                e.getMessage());

        BlobSizeLimit tiny = new BlobSizeLimit(2, 2, 8, 64, 4, 12, KvDtype.F32);
        assertEquals(2048, tiny.tokenLimit(OptionalInt.empty(), 2048, NO_SERVER_LIMIT), "a small model's positions all fit");
    }

    /** A server that takes less than 512 MiB in one value (a lowered proto-max-bulk-len, a maxmemory) cuts the limit further. */
    @Test
    void aServerThatTakesLessCutsTheLimitAndRefusesASettingOverIt() {
        long serverLargest = 64L << 20;
        int limit = LLAMA_1B.tokenLimit(OptionalInt.empty(), 131_072, java.util.OptionalLong.of(serverLargest));
        assertTrue(LLAMA_1B.blobBytes(limit) <= serverLargest && LLAMA_1B.blobBytes(limit + 1) > serverLargest,
                limit + " tokens: " + LLAMA_1B.blobBytes(limit) + " bytes");
        assertEquals(LLAMA_1B.tokenLimit(OptionalInt.empty(), 131_072, NO_SERVER_LIMIT),
                LLAMA_1B.tokenLimit(OptionalInt.empty(), 131_072, java.util.OptionalLong.of(1L << 40)),
                "a server that takes more than 512 MiB still gets blobs of at most 512 MiB");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LLAMA_1B.tokenLimit(OptionalInt.of(limit + 1), 131_072, java.util.OptionalLong.of(serverLargest)));
        assertTrue(e.getMessage().contains("this Redis server takes in one value") && e.getMessage().contains("at most " + limit),
                e.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> LLAMA_1B.tokenLimit(OptionalInt.empty(), 131_072, java.util.OptionalLong.of(100)));
        assertTrue(none.getMessage().startsWith("not even a one-token document's blob"), none.getMessage());
    }

    /** A sac-names adapter may keep every token as an anchor: its limits are sized for one anchor per token. */
    @Test
    void aNamesAdapterIsSizedForOneAnchorPerToken() {
        dev.sacrag.core.model.ModelConfig tiny = dev.sacrag.core.random.ModelShape.TINY.config;
        BlobSizeLimit uniform = CompressorApp.blobLimit(dev.sacrag.core.sac.SacSpec.paperDefaults("sac", java.util.List.of(4),
                8, "base"), tiny, 4, "model-id", KvDtype.F16);
        BlobSizeLimit names = CompressorApp.blobLimit(dev.sacrag.core.sac.SacSpec.paperDefaults(
                dev.sacrag.core.sac.SacSpec.NAMES_VARIANT, java.util.List.of(4), 8, "base"), tiny, 4, "model-id", KvDtype.F16);
        assertEquals(4, uniform.ratio());
        assertEquals(1, names.ratio());
        assertTrue(names.blobBytes(1000) > 3 * uniform.blobBytes(1000), names.blobBytes(1000) + " against " + uniform.blobBytes(1000));

        BlobSizeLimit perToken = new BlobSizeLimit(16, 8, 64, 512, 1, 12, KvDtype.F16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> perToken.tokenLimit(OptionalInt.of(131_072), 131_072, NO_SERVER_LIMIT));
        assertTrue(e.getMessage().contains("at one anchor per token"), e.getMessage());
    }
}
