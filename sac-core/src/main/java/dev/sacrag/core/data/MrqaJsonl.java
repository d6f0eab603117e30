package dev.sacrag.core.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.sacrag.core.io.AtomicFiles;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes MRQA JSONL as distributed: a header line {@code {"header": {...}}}, then
 * one object per context with {@code context} and {@code qas} (qid, question, answers,
 * detected_answers with char_spans). Files are written to a temporary name and moved into
 * place, so a crash never leaves a half-written file that looks complete.
 */
public final class MrqaJsonl {

    public static void write(Path file, String dataset, String split, List<MrqaRecord> records) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                JsonObject header = new JsonObject();
                JsonObject h = new JsonObject();
                h.addProperty("dataset", dataset);
                h.addProperty("split", split);
                h.addProperty("mrqa_split", split);
                header.add("header", h);
                w.write(header.toString());
                w.newLine();
                for (MrqaRecord r : records) {
                    w.write(toJson(r).toString());
                    w.newLine();
                }
            }
        });
    }

    static JsonObject toJson(MrqaRecord r) {
        JsonObject o = new JsonObject();
        o.addProperty("id", r.id());
        o.addProperty("context", r.context());
        JsonArray qas = new JsonArray();
        for (MrqaRecord.Qa qa : r.qas()) {
            JsonObject q = new JsonObject();
            q.addProperty("qid", qa.qid());
            q.addProperty("question", qa.question());
            JsonArray answers = new JsonArray();
            qa.answers().forEach(answers::add);
            q.add("answers", answers);
            JsonArray detected = new JsonArray();
            for (MrqaRecord.Span s : qa.detectedAnswers()) {
                JsonObject d = new JsonObject();
                d.addProperty("text", s.text());
                JsonArray spans = new JsonArray();
                JsonArray span = new JsonArray();
                span.add(s.start());
                span.add(s.end());
                spans.add(span);
                d.add("char_spans", spans);
                detected.add(d);
            }
            q.add("detected_answers", detected);
            qas.add(q);
        }
        o.add("qas", qas);
        return o;
    }

    /** Reads every context; errors name the file and the 1-based line. */
    public static List<MrqaRecord> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "MRQA JSONL file not found");
        }
        List<MrqaRecord> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                    if (o.has("header")) {
                        continue;
                    }
                    out.add(parse(o, file.getFileName() + ":" + n));
                } catch (RuntimeException e) {
                    throw new IOException(file + ":" + n + ": " + describe(e), e);
                }
            }
        }
        return out;
    }

    private static MrqaRecord parse(JsonObject o, String where) {
        String context = str(o, "context");
        if (context.isBlank()) {
            throw new IllegalArgumentException("empty context");
        }
        List<MrqaRecord.Qa> qas = new ArrayList<>();
        JsonArray arr = o.getAsJsonArray("qas");
        if (arr == null) {
            throw new IllegalArgumentException("no \"qas\" array");
        }
        for (JsonElement e : arr) {
            JsonObject q = e.getAsJsonObject();
            List<String> answers = new ArrayList<>();
            JsonArray a = q.getAsJsonArray("answers");
            if (a == null || a.isEmpty()) {
                throw new IllegalArgumentException("question " + str(q, "qid") + " has no answers");
            }
            a.forEach(x -> answers.add(x.getAsString()));
            List<MrqaRecord.Span> spans = new ArrayList<>();
            JsonArray det = q.getAsJsonArray("detected_answers");
            if (det != null) {
                for (JsonElement d : det) {
                    JsonObject dd = d.getAsJsonObject();
                    for (JsonElement s : dd.getAsJsonArray("char_spans")) {
                        JsonArray span = s.getAsJsonArray();
                        spans.add(new MrqaRecord.Span(str(dd, "text"), span.get(0).getAsInt(), span.get(1).getAsInt()));
                    }
                }
            }
            qas.add(new MrqaRecord.Qa(str(q, "qid"), str(q, "question"), answers, spans));
        }
        String id = o.has("id") ? o.get("id").getAsString() : where;
        return new MrqaRecord(id, context, qas);
    }

    private static String str(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException("missing \"" + key + "\"");
        }
        return e.getAsString();
    }

    private static String describe(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private MrqaJsonl() {
    }
}
