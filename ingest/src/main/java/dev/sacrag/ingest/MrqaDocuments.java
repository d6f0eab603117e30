package dev.sacrag.ingest;

import static dev.sacrag.schemas.BadDocumentException.Reason.INVALID_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.MISSING_FIELD;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * MRQA shared-task JSONL: an optional first line {@code {"header": {...}}}, then one object per
 * context with {@code context} and {@code qas} ({@code qid}, {@code question}, {@code answers},
 * {@code detected_answers}). Each context becomes one document whose id is a hash of its text,
 * so a context repeated within or across files is published once; its questions are kept
 * with that document's id for evaluation.
 */
final class MrqaDocuments {

    private MrqaDocuments() {
    }

    static void read(SourceFile file, BatchCollector out) throws IOException {
        Map<String, String> header = new LinkedHashMap<>();
        int[] contexts = {0};
        boolean whole = SourceFiles.forEachJsonLine(file, out, (where, line) -> {
            JsonObject json = DocumentJson.parseObject(line);
            if (contexts[0] == 0 && header.isEmpty() && json.has("header")) {
                readHeader(json.get("header"), header);
                return;
            }
            contexts[0]++;
            // the source names the file absolutely: where (for messages) as the user spelled it
            readContext(json, where, file.source() + where.substring(file.display().length()), header, out);
        });
        if (whole && contexts[0] == 0) {
            out.skip(new Skipped(file.display(), SkipReason.EMPTY_FILE, "no MRQA contexts"));
        }
    }

    private static void readContext(JsonObject json, String where, String source, Map<String, String> header,
                                    BatchCollector out) throws BadDocumentException, BadSourceException {
        String context = string(json, "context");
        String docId = DocIds.forContext(context, out.tenant());
        List<Question> questions = questions(json, docId);
        if (out.hasDocument(docId)) {
            out.skip(new Skipped(where, SkipReason.DUPLICATE_CONTEXT, "same text as document " + docId));
        } else {
            DocumentDraft draft = new DocumentDraft(docId, out.tenant(), OptionalLong.empty(),
                    header.get("dataset"), context, source, header);
            if (!out.add(where, draft)) {
                return; // the document was not published: its questions could never be answered
            }
        }
        questions.forEach(out::question);
    }

    private static List<Question> questions(JsonObject json, String docId) throws BadDocumentException {
        List<Question> questions = new ArrayList<>();
        JsonElement qas = json.get("qas");
        if (qas == null || qas.isJsonNull()) {
            return questions;
        }
        if (!qas.isJsonArray()) {
            throw new BadDocumentException(INVALID_FIELD, "'qas' must be an array");
        }
        for (JsonElement element : qas.getAsJsonArray()) {
            if (!element.isJsonObject()) {
                throw new BadDocumentException(INVALID_FIELD, "each of 'qas' must be an object, got " + element);
            }
            JsonObject qa = element.getAsJsonObject();
            String qid = qa.has("qid") ? string(qa, "qid") : string(qa, "id");
            questions.add(new Question(qid, string(qa, "question"), answers(qa), docId));
        }
        return questions;
    }

    /** {@code answers}, then the texts of {@code detected_answers}, without repeats. */
    private static List<String> answers(JsonObject qa) throws BadDocumentException {
        Set<String> answers = new LinkedHashSet<>();
        for (JsonElement answer : array(qa, "answers")) {
            answers.add(primitive(answer, "answers"));
        }
        for (JsonElement detected : array(qa, "detected_answers")) {
            if (detected.isJsonObject() && detected.getAsJsonObject().has("text")) {
                answers.add(string(detected.getAsJsonObject(), "text"));
            }
        }
        return new ArrayList<>(answers);
    }

    private static void readHeader(JsonElement element, Map<String, String> header) {
        if (element.isJsonObject()) {
            for (String key : new String[] {"dataset", "split", "mrqa_split"}) {
                JsonElement value = element.getAsJsonObject().get(key);
                if (value instanceof JsonPrimitive primitive) {
                    header.put(key, primitive.getAsString());
                }
            }
        }
        header.putIfAbsent("format", "mrqa");
    }

    private static JsonArray array(JsonObject json, String field) throws BadDocumentException {
        JsonElement element = json.get(field);
        if (element == null || element.isJsonNull()) {
            return new JsonArray();
        }
        if (!element.isJsonArray()) {
            throw new BadDocumentException(INVALID_FIELD, "'" + field + "' must be an array, got " + element);
        }
        return element.getAsJsonArray();
    }

    private static String string(JsonObject json, String field) throws BadDocumentException {
        JsonElement element = json.get(field);
        if (element == null || element.isJsonNull()) {
            throw new BadDocumentException(MISSING_FIELD, "required field '" + field + "' is missing");
        }
        return primitive(element, field);
    }

    private static String primitive(JsonElement element, String field) throws BadDocumentException {
        if (!(element instanceof JsonPrimitive primitive) || !primitive.isString()) {
            throw new BadDocumentException(INVALID_FIELD, "'" + field + "' must be a string, got " + element);
        }
        return primitive.getAsString();
    }
}
