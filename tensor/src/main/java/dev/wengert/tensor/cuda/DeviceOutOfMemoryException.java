package dev.wengert.tensor.cuda;

/** A device allocation failed even after the allocator released its cache and retried. */
public final class DeviceOutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeviceOutOfMemoryException(String message) {
        super(message);
    }
}
