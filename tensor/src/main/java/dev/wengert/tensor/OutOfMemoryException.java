package dev.wengert.tensor;

/**
 * A backend could not allocate a tensor's memory even after releasing the memory it caches for reuse
 * and retrying once. The message names the request (elements, dtype, bytes), what Wengert's tensors hold
 * and cache on that backend, the limit that was hit where known, and what to do. Nothing was allocated:
 * closing tensors (or the scope that owns them) makes room, and later allocations work again.
 * {@code dev.wengert.tensor.cuda.DeviceOutOfMemoryException} (in wengert-cuda) is the CUDA backend's subclass; the CPU
 * backend throws this class.
 */
public class OutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }

    public OutOfMemoryException(String message) {
        super(message);
    }
}
