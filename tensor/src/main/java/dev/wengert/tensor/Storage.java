package dev.wengert.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory behind one or more tensors (views such as {@code reshape} share it). Reference counted:
 * the memory goes back to its backend when the last tensor using it is closed.
 */
public abstract class Storage {
    /** Allocation counter: every storage gets the next number, so "allocated after a mark" is a comparison. */
    private static final AtomicLong SERIALS = new AtomicLong();

    private final AtomicInteger refs = new AtomicInteger(1);
    private final long serial = SERIALS.incrementAndGet();
    /** The watch open when this storage was allocated (null: none). */
    private final MemoryWatch watch = MemoryWatch.innermost();

    protected Storage() {
        if (watch != null) {
            watch.allocated();
        }
    }

    /** The number of the latest storage allocated (by any thread). */
    static long latestSerial() {
        return SERIALS.get();
    }

    /** This storage's allocation number: later allocations have larger ones. */
    final long serial() {
        return serial;
    }

    /** True while more than one open tensor (views) uses this memory. */
    final boolean isShared() {
        return refs.get() > 1;
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
