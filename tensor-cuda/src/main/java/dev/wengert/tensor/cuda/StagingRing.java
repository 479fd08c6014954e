package dev.wengert.tensor.cuda;

import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A round-robin ring of at most {@code capacity} reusable buffers whose last use is a copy on one stream:
 * {@link #acquire} hands out the next one, creating it on first use, and reuses it when its copy has
 * completed. Copies on one stream complete in order, so the next buffer in ring order is the oldest in
 * flight: when it is still busy, all are, and the ring is exhausted; only then does acquire block (and
 * count it). The host logic of {@link PinnedUploads}, with the driver calls passed in. Not thread-safe.
 *
 * @param <B> the buffer
 */
final class StagingRing<B> {
    private final Object[] ring;
    private final Supplier<B> create;
    private final Predicate<B> idle;
    private final Consumer<B> awaitIdle;
    private int next;
    private long waits;

    /**
     * @param create allocates a buffer
     * @param idle whether a buffer's last copy has completed, without blocking (cuEventQuery)
     * @param awaitIdle blocks until a buffer's last copy has completed (cuEventSynchronize)
     */
    StagingRing(int capacity, Supplier<B> create, Predicate<B> idle, Consumer<B> awaitIdle) {
        this.ring = new Object[capacity];
        this.create = create;
        this.idle = idle;
        this.awaitIdle = awaitIdle;
    }

    /** The next buffer, free to be written: new, idle, or waited for when the ring is exhausted. */
    @SuppressWarnings("unchecked")
    B acquire() {
        B b = (B) ring[next];
        if (b == null) {
            b = create.get();
            ring[next] = b;
        } else if (!idle.test(b)) {
            waits++;
            awaitIdle.accept(b);
        }
        next = (next + 1) % ring.length;
        return b;
    }

    /** Times {@link #acquire} blocked because every buffer was in flight. */
    long waits() {
        return waits;
    }

    /** Buffers created and not released. */
    int size() {
        int n = 0;
        for (Object b : ring) {
            n += b == null ? 0 : 1;
        }
        return n;
    }

    /** Waits for every buffer's copy, passes it to {@code free} and empties the ring. */
    @SuppressWarnings("unchecked")
    void release(Consumer<B> free) {
        for (int i = 0; i < ring.length; i++) {
            if (ring[i] != null) {
                B b = (B) ring[i];
                ring[i] = null;
                awaitIdle.accept(b);
                free.accept(b);
            }
        }
        next = 0;
    }
}
