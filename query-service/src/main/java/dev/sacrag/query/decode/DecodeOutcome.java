package dev.sacrag.query.decode;

/** The result of one request of a batch: an answer, or the failure of that request alone. */
public record DecodeOutcome(Answer answer, RuntimeException failure) {

    public DecodeOutcome {
        if ((answer == null) == (failure == null)) {
            throw new IllegalArgumentException("exactly one of answer and failure");
        }
    }

    public static DecodeOutcome of(Answer answer) {
        return new DecodeOutcome(answer, null);
    }

    public static DecodeOutcome failed(RuntimeException failure) {
        return new DecodeOutcome(null, failure);
    }
}
