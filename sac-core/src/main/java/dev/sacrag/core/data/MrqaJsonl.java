package dev.sacrag.core.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.sacrag.core.io.AtomicFiles;
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
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": a folder, not an MRQA JSONL file");
        }
        List<MrqaRecord> out = new ArrayList<>();
        try (Lines r = new Lines(Files.newInputStream(file))) {
            String line;
            int n = 0;
            while ((line = readLine(r, file, n + 1)) != null) {
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

    /**
     * The next line (without its \n or \r\n), decoded on its own so that bytes that are not UTF-8
     * are an error naming their line (a reader decoding ahead in blocks named the wrong one, or
     * none: "Input length = 1"); null at the end.
     */
    private static String readLine(Lines in, Path file, int lineNumber) throws IOException {
        byte[] line = in.next();
        if (line == null) {
            return null;
        }
        int length = line.length > 0 && line[line.length - 1] == '\r' ? line.length - 1 : line.length;
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(line, 0, length)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(file + ":" + lineNumber + ": not UTF-8 text (" + e.getMessage() + ")", e);
        }
    }

    /** The bytes of a stream split at \n, read in blocks. */
    private static final class Lines implements AutoCloseable {
        private final java.io.InputStream in;
        private final byte[] block = new byte[1 << 16];
        private int at;
        private int end;

        Lines(java.io.InputStream in) {
            this.in = in;
        }

        /** The next line's bytes, or null at the end of the stream. */
        byte[] next() throws IOException {
            java.io.ByteArrayOutputStream line = null;
            while (true) {
                if (at == end) {
                    end = in.read(block);
                    at = 0;
                    if (end <= 0) {
                        end = 0;
                        return line == null ? null : line.toByteArray();
                    }
                }
                int from = at;
                while (at < end && block[at] != '\n') {
                    at++;
                }
                if (line == null) {
                    line = new java.io.ByteArrayOutputStream(Math.max(16, at - from));
                }
                line.write(block, from, at - from);
                if (at < end) {   // the \n
                    at++;
                    return line.toByteArray();
                }
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
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
            if (answers.stream().anyMatch(String::isBlank)) {
                // an empty gold answer would score an empty prediction as exact
                throw new IllegalArgumentException("question " + str(q, "qid") + " has a blank answer");
            }
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
