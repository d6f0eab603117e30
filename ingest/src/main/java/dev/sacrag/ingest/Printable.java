package dev.sacrag.ingest;

import java.util.Locale;

/**
 * Text from outside (a file name, a record key, a message quoting bad input) as a console line
 * may show it: control characters escaped ({@code \\n}, {@code \\t}, {@code \\u001b}), so
 * that a newline cannot forge a line of the command's output, nor an escape sequence run in
 * the user's terminal.
 */
public final class Printable {

    private Printable() {
    }

    public static String of(String text) {
        if (text.codePoints().noneMatch(Character::isISOControl)) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (Character.isISOControl(cp)) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
        return sb.toString();
    }
}
