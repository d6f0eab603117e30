package dev.sacrag.cli;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.sacrag.core.train.TrainingSamples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code base/prompts.json}: the answer prompt a base model was trained with, so a SAC adapter
 * trained on it later asks questions the same way. A base without the file (a downloaded
 * checkpoint) gets the paper's prompt.
 */
final class BasePrompts {
    static final String FILE = "prompts.json";
    private static final Gson GSON = new Gson();

    /** The file's content: written by the base trainer's export before config.json, so a base folder with a config has it. */
    static String json(String answerPrompt) {
        JsonObject o = new JsonObject();
        o.addProperty("answer_prompt", answerPrompt);
        return GSON.toJson(o) + "\n";
    }

    static String answerPrompt(Path baseDir) throws IOException {
        Path f = baseDir.resolve(FILE);
        if (!Files.exists(f)) {
            return TrainingSamples.ANSWER_PROMPT;
        }
        try {
            JsonObject o = GSON.fromJson(Files.readString(f), JsonObject.class);
            if (o == null || !o.has("answer_prompt") || !o.get("answer_prompt").isJsonPrimitive()) {
                throw new IOException(f + ": no string \"answer_prompt\"");
            }
            return o.get("answer_prompt").getAsString();
        } catch (com.google.gson.JsonParseException e) {
            throw new IOException(f + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    private BasePrompts() {
    }
}
