package dev.wengert.models.io;

import java.io.IOException;

/**
 * A file is not a valid safetensors file: too short, bad header, unknown dtype, inconsistent
 * offsets, or truncated. The message names the file, what was expected and what was found.
 */
public class SafeTensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SafeTensorsFormatException(String message) {
        super(message);
    }

    public SafeTensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
