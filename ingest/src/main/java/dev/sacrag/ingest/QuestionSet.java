package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentJson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Questions with gold answers about published documents, written beside the input as JSONL
 * ({@code {"qid","question","answers":[...],"docId"}} per line) for evaluation and the demo.
 */
public record QuestionSet(List<Question> questions) {

    /** What every questions file's name ends with; folder walks pass over such files. */
    public static final String SUFFIX = ".questions.jsonl";

    public QuestionSet {
        questions = List.copyOf(questions);
    }

    public static QuestionSet empty() {
        return new QuestionSet(List.of());
    }

    public int size() {
        return questions.size();
    }

    /**
     * {@code dir/dev.jsonl.gz} gives {@code dir/dev.questions.jsonl}; a folder {@code data/squad}
     * gives {@code data/squad.questions.jsonl}, and {@code .} the same beside the working directory.
     *
     * @throws IllegalArgumentException for a file-system root, which has nothing to be beside
     */
    public static Path besideInput(Path input) {
        Path named = input.normalize();
        Path fileName = named.getFileName();
        if (fileName == null || fileName.toString().isEmpty() || fileName.toString().equals("..")) {
            named = input.toAbsolutePath().normalize();   // ".", "..", "a/..": the folder they stand for
            fileName = named.getFileName();
        }
        if (fileName == null) {
            throw new IllegalArgumentException("no place beside " + input + " for the questions file: it is a file-system root");
        }
        String name = fileName.toString().replaceFirst("(?i)(\\.jsonl|\\.ndjson)?(\\.gz)?$", "");
        return named.resolveSibling(name + SUFFIX);
    }

    /** Whether {@code file} is named as {@link #besideInput} names the files it gives. */
    static boolean isQuestionsFile(Path file) {
        return file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(SUFFIX);
    }

    /**
     * Writes the questions, one JSON object a line. {@code sac ingest} writes through
     * {@code AtomicFiles.write}, so an interrupted write leaves the previous file (or none).
     */
    public void writeJsonl(Path file) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, UTF_8)) {
            for (Question q : questions) {
                JsonObject json = new JsonObject();
                json.addProperty("qid", q.qid());
                json.addProperty("question", q.question());
                JsonArray answers = new JsonArray();
                q.answers().forEach(answers::add);
                json.add("answers", answers);
                json.addProperty("docId", q.docId());
                out.write(json.toString());
                out.write('\n');
            }
        }
    }

    public static QuestionSet readJsonl(Path file) throws IOException {
        List<Question> questions = new ArrayList<>();
        // the documents' line reader: split on '\n' before decoding, so a line that is not UTF-8 is named by its number
        SourceFile source = new SourceFile(file, file.getFileName().toString(), file.toString(), SourceFormat.JSONL,
                file.toAbsolutePath().getParent());
        SourceFiles.forEachLine(source, (number, bytes) -> {
            String line;
            try {
                line = SourceFiles.utf8(bytes);
            } catch (BadDocumentException e) {
                throw new IOException(file + ":" + number + ": not valid UTF-8 text", e);
            }
            if (!line.isBlank()) {
                questions.add(parse(line, file + ":" + number));
            }
        });
        return new QuestionSet(questions);
    }

    private static Question parse(String line, String where) throws IOException {
        try {
            JsonObject json = DocumentJson.parseObject(line);
            List<String> answers = new ArrayList<>();
            for (JsonElement answer : json.getAsJsonArray("answers")) {
                answers.add(answer.getAsString());
            }
            return new Question(json.get("qid").getAsString(), json.get("question").getAsString(), answers,
                    json.get("docId").getAsString());
        } catch (BadDocumentException | RuntimeException e) {
            throw new IOException(where + ": not a question line (qid, question, answers, docId): " + e.getMessage(), e);
        }
    }
}
