package dev.sacrag.ingest;

import dev.sacrag.schemas.BadDocumentException;
import java.io.IOException;

/** An input that is not a valid document, when the caller asked to fail on bad input. */
public final class BadSourceException extends IOException {

    private final String where;

    /** @param where {@code path} or {@code path:line}, as a compiler would print it */
    public BadSourceException(String where, BadDocumentException cause) {
        super(where + ": " + cause.getMessage(), cause);
        this.where = where;
    }

    public String where() {
        return where;
    }

    public BadDocumentException.Reason reason() {
        return ((BadDocumentException) getCause()).reason();
    }
}
