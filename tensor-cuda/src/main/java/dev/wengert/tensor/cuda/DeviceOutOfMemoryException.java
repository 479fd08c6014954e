package dev.wengert.tensor.cuda;

import dev.wengert.tensor.OutOfMemoryException;

/** A device allocation failed even after the allocator released its cache and retried. */
public final class DeviceOutOfMemoryException extends OutOfMemoryException {
    private static final long serialVersionUID = 1L;

    DeviceOutOfMemoryException(String message) {
        super(message);
    }
}
