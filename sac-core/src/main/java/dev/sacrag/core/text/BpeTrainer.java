package dev.sacrag.core.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains byte-level BPE merges the way GPT-2 style tokenizers are trained: split text with
 * the GPT-2 pre-tokenizer pattern (the one Hugging Face's ByteLevel pre-tokenizer uses), map
 * bytes to the printable ByteLevel alphabet, then repeatedly merge the most frequent adjacent
 * pair. Ties break on the pair's text, so training is deterministic.
 */
public final class BpeTrainer {
    /** GPT-2's pre-tokenizer; encoding (in Hugging Face's tokenizer) splits text the same way. */
    static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final Map<String, Integer> wordCounts = new HashMap<>();

    public void add(String text) {
        Matcher m = GPT2_SPLIT.matcher(text);
        while (m.find()) {
            wordCounts.merge(ByteLevelVocab.encodeBytes(m.group().getBytes(StandardCharsets.UTF_8)), 1, Integer::sum);
        }
    }

    private static final class Word {
        final List<String> symbols;
        final int count;

        Word(String text, int count) {
            this.symbols = new ArrayList<>();
            text.codePoints().forEach(c -> symbols.add(new String(Character.toChars(c))));
            this.count = count;
        }
    }

    private record Pair(String a, String b) { }

    private record Candidate(Pair pair, long count) { }

    /** Learns up to {@code merges} merges; {@code progress} gets the number done so far. */
    public List<String[]> train(int merges, IntConsumer progress) {
        List<Word> words = new ArrayList<>();
        wordCounts.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> words.add(new Word(e.getKey(), e.getValue())));
        Map<Pair, Long> counts = new HashMap<>();
        Map<Pair, Set<Integer>> where = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            countPairs(words.get(w), w, counts, where, +1);
        }
        PriorityQueue<Candidate> heap = new PriorityQueue<>((x, y) -> x.count != y.count
                ? Long.compare(y.count, x.count)
                : (x.pair.a + " " + x.pair.b).compareTo(y.pair.a + " " + y.pair.b));
        counts.forEach((p, c) -> heap.add(new Candidate(p, c)));
        List<String[]> out = new ArrayList<>();
        while (out.size() < merges && !heap.isEmpty()) {
            Candidate best = heap.poll();
            Long current = counts.get(best.pair);
            if (current == null || current != best.count) {
                continue; // stale entry: the count changed since it was queued
            }
            if (current < 2) {
                break;
            }
            out.add(new String[] {best.pair.a, best.pair.b});
            Set<Pair> touched = new HashSet<>();
            for (int w : new ArrayList<>(where.getOrDefault(best.pair, Set.of()))) {
                Word word = words.get(w);
                for (int i = 0; i + 1 < word.symbols.size(); i++) {
                    touched.add(new Pair(word.symbols.get(i), word.symbols.get(i + 1))); // counts about to drop
                }
                countPairs(word, w, counts, where, -1);
                merge(word.symbols, best.pair);
                countPairs(word, w, counts, where, +1);
                for (int i = 0; i + 1 < word.symbols.size(); i++) {
                    touched.add(new Pair(word.symbols.get(i), word.symbols.get(i + 1)));
                }
            }
            counts.remove(best.pair);
            for (Pair p : touched) {
                Long c = counts.get(p);
                if (c != null && c > 0) {
                    heap.add(new Candidate(p, c));
                }
            }
            progress.accept(out.size());
        }
        return out;
    }

    private static void merge(List<String> symbols, Pair p) {
        for (int i = 0; i + 1 < symbols.size(); i++) {
            if (symbols.get(i).equals(p.a) && symbols.get(i + 1).equals(p.b)) {
                symbols.set(i, p.a + p.b);
                symbols.remove(i + 1);
            }
        }
    }

    private static void countPairs(Word word, int index, Map<Pair, Long> counts, Map<Pair, Set<Integer>> where, int sign) {
        for (int i = 0; i + 1 < word.symbols.size(); i++) {
            Pair p = new Pair(word.symbols.get(i), word.symbols.get(i + 1));
            long c = counts.getOrDefault(p, 0L) + (long) sign * word.count;
            if (c <= 0) {
                counts.remove(p);
            } else {
                counts.put(p, c);
            }
            if (sign > 0) {
                where.computeIfAbsent(p, k -> new HashSet<>()).add(index);
            }
        }
    }
}
