package dev.wengert.tensor;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory behind one or more tensors (views such as {@code reshape} share it). Reference counted:
 * the memory goes back to its backend when the last tensor using it is closed.
 */
public abstract class Storage {
    private final AtomicInteger refs = new AtomicInteger(1);
    /** The watch open when this storage was allocated (null: none). */
    private final MemoryWatch watch = MemoryWatch.innermost();

    protected Storage() {
        if (watch != null) {
            watch.allocated();
        }
    }

    /** Size of the memory in bytes. */
    public abstract long bytes();

    /** Returns the memory to the backend; called once, when the count reaches zero. */
    protected abstract void free();

    /** Adds a reference (a new view). */
    final void retain() {
        if (refs.getAndIncrement() <= 0) {
            throw new IllegalStateException("storage was already freed");
        }
    }

    /**
     * Drops a reference; frees the memory when it was the last one. A free by a close() counts in the
     * closing thread's watch; one by the Cleaner ({@code explicit} false) in the allocating watch.
     */
    final void release(boolean explicit) {
        int left = refs.decrementAndGet();
        if (left == 0) {
            MemoryWatch w = explicit ? MemoryWatch.innermost() : watch;
            if (w != null) {
                w.freed();
            }
            free();
        } else if (left < 0) {
            throw new IllegalStateException("storage released more often than retained");
        }
    }
}
