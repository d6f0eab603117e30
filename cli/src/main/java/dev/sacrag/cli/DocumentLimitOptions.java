package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorConfig.Flags;
import dev.sacrag.schemas.DocumentLimits;
import picocli.CommandLine.Option;

/**
 * The largest document the compressor accepts. The compressor dead-letters larger ones, and the
 * commands that read the documents topic as the compressor does (warm --rebuild/--model, model
 * activate) must draw the same line, so they take the same flags and environment variables.
 */
final class DocumentLimitOptions {

    @Option(names = Flags.MAX_DOC_BYTES, paramLabel = "BYTES", defaultValue = "${env:SAC_MAX_DOC_BYTES:-8388608}",
            description = "Largest record value accepted; larger → dead letter TOO_LARGE [env SAC_MAX_DOC_BYTES, default ${DEFAULT-VALUE}].")
    int maxDocBytes;

    @Option(names = Flags.MAX_DOC_CHARS, paramLabel = "CHARS", defaultValue = "${env:SAC_MAX_DOC_CHARS:-4000000}",
            description = "Longest document text accepted [env SAC_MAX_DOC_CHARS, default ${DEFAULT-VALUE}].")
    int maxDocChars;

    DocumentLimits limits() {
        return new DocumentLimits(maxDocBytes, maxDocChars);
    }
}
