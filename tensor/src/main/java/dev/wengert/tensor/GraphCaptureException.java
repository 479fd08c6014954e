package dev.wengert.tensor;

/**
 * A {@link Backend#capture} failed because the captured work did something a device graph cannot
 * contain: a host synchronisation (a read such as {@code item()} or {@code toFloatArray()}, a
 * {@code synchronize()}), a synchronous upload from a Java array, or an allocation the capture's memory
 * pool could not serve. The capture was discarded and the backend is usable; the message names the call
 * that broke it. Move that call out of the captured work, or run the work eagerly.
 */
public class GraphCaptureException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public GraphCaptureException(String message, Throwable cause) {
        super(message, cause);
    }
}
