package dev.sacrag.cli.warming;

import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * The model id of (base weights, adapter, ratio), computed from the files alone (hashes and
 * sac.json; no model is loaded): the same id the compressor writes into keys and the catalog.
 *
 * @param ratio the given one, else the adapter's smallest (the compressor's default)
 */
public record ModelIdentity(Path base, Path adapter, int ratio, String modelId) {

    public static ModelIdentity of(Path base, Path adapter, OptionalInt ratio) throws IOException {
        SacSpec spec = SacSpec.load(adapter);
        int r = ratio.orElse(spec.ratios().stream().mapToInt(Integer::intValue).min().orElseThrow());
        if (!spec.supports(r)) {
            throw new IllegalArgumentException("--ratio " + r + " is not one of the ratios " + spec.ratios() + " of " + adapter);
        }
        return new ModelIdentity(base, adapter, r,
                Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(adapter), r));
    }
}
