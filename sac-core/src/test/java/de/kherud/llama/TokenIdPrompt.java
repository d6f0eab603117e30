package de.kherud.llama;

import java.util.Arrays;

/**
 * Test-only shim: de.kherud:llama 4.2.0 has no public API for a prompt of token ids, but the
 * server it embeds accepts a JSON array of ids as "prompt". The parameter map is
 * package-private, hence this class in the binding's package.
 */
public final class TokenIdPrompt {

    public static InferenceParameters set(InferenceParameters params, int[] tokenIds) {
        params.parameters.put("prompt", Arrays.toString(tokenIds).replace(" ", ""));
        return params;
    }

    private TokenIdPrompt() {
    }
}
