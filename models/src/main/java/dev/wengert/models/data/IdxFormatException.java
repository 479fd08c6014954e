package dev.wengert.models.data;

import java.io.IOException;

/**
 * An IDX (MNIST) file, or a set of them, is missing, malformed, truncated or inconsistent. The
 * message names the file, what was expected and what was found.
 */
public class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public IdxFormatException(String message) {
        super(message);
    }

    public IdxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
