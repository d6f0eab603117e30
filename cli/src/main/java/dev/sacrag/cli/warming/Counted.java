package dev.sacrag.cli.warming;

/** A count with its noun, singular for one: "1 entry", "3 entries", as the commands' summary lines say them. */
public final class Counted {

    private Counted() {
    }

    public static String of(long n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }
}
