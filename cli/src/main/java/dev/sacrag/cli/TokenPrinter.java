package dev.sacrag.cli;

import dev.sacrag.core.text.TextTokenizer;

import java.util.function.LongConsumer;

/**
 * Streams generated tokens to stdout. Byte-level tokens may split a UTF-8 character, so it
 * decodes everything so far and prints only the new, complete suffix.
 */
final class TokenPrinter implements LongConsumer {
    private final TextTokenizer tokenizer;
    private final java.util.List<Long> tokens = new java.util.ArrayList<>();
    private String printed = "";

    TokenPrinter(TextTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public void accept(long token) {
        tokens.add(token);
        String text = text();
        if (text.startsWith(printed) && !text.endsWith("\uFFFD")) {
            System.out.print(text.substring(printed.length()));
            System.out.flush();
            printed = text;
        }
    }

    String text() {
        return tokenizer.decode(tokens.stream().mapToLong(Long::longValue).toArray());
    }

    void finish() {
        String text = text();
        if (text.startsWith(printed)) {
            System.out.print(text.substring(printed.length()));
        }
        System.out.println();
    }
}
