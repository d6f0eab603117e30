package dev.sacrag.compressor;

import java.util.Set;

/** What a compressor application's state says about it, for tools outside this module (model retirement). */
public final class CompressorState {

    private CompressorState() {
    }

    /**
     * The models whose entries end the state of the compressors run under {@code applicationId}
     * (the last records of its compressed-docs store changelog): the model it compresses, as
     * far as its state shows; empty when it has none.
     */
    public static Set<String> modelsOf(String bootstrapServers, String applicationId) {
        return TopicPreflight.modelsAtTheEndOf(bootstrapServers,
                applicationId + "-" + CompressorTopology.COMPRESSED_STORE + "-changelog");
    }
}
