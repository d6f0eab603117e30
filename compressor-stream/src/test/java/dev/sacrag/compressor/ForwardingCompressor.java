package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;

/** A model wrapped by a test: everything goes to {@link #model()} unless the wrapper overrides it. */
interface ForwardingCompressor extends DocumentCompressor {

    DocumentCompressor model();

    @Override
    default String modelId() {
        return model().modelId();
    }

    @Override
    default int ratio() {
        return model().ratio();
    }

    @Override
    default long[] tokenize(String text) {
        return model().tokenize(text);
    }

    @Override
    default AnchorKv compress(long[] tokens) {
        return model().compress(tokens);
    }
}
