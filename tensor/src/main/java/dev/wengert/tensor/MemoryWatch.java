package dev.wengert.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts, for the thread that opened it, how many buffers its work added while the watch was open: the
 * buffers it allocated, minus those it freed by closing tensors (whenever they were allocated), minus
 * those allocated here that the Cleaner freed later; and the tensors created here that were never closed
 * and had to be freed by the Cleaner. Unlike a backend's process-wide {@link MemoryStats}, these figures
 * do not move when the garbage collector reclaims tensors that other threads or earlier code forgot, so
 * a leak test can assert equality on them:
 * <pre>{@code
 * try (MemoryWatch watch = MemoryWatch.start()) {
 *     for (...) { try (Scope step = Scope.open()) { ... } }
 *     assertEquals(0, watch.netBuffers());
 * }
 * }</pre>
 * Watches nest (an allocation or a free counts in every open watch of the thread). Closing a watch stops
 * it counting, except the Cleaner's frees of what it saw allocated (they show as forgotten tensors).
 *
 * <p>Set the system property {@code wengert.debug.forgotten=true} to have every tensor remember where it
 * was created and print that stack trace when the Cleaner frees it (slow; for finding leaks).
 */
public final class MemoryWatch implements AutoCloseable {
    private static final ThreadLocal<MemoryWatch> INNERMOST = new ThreadLocal<>();
    static final boolean TRACE_FORGOTTEN = Boolean.getBoolean("wengert.debug.forgotten");

    private final MemoryWatch parent;
    private final Thread thread = Thread.currentThread();
    private final AtomicLong netBuffers = new AtomicLong();
    private final AtomicLong forgottenTensors = new AtomicLong();
    private boolean closed;

    private MemoryWatch(MemoryWatch parent) {
        this.parent = parent;
    }

    /** Opens a watch on the calling thread, nested in its current one, if any. */
    public static MemoryWatch start() {
        MemoryWatch w = new MemoryWatch(INNERMOST.get());
        INNERMOST.set(w);
        return w;
    }

    /** The innermost open watch of the calling thread, or null (then nothing is counted). */
    static MemoryWatch innermost() {
        return INNERMOST.get();
    }

    /** Buffers (storages; views share them) allocated minus buffers freed by this thread's work while open. */
    public long netBuffers() {
        return netBuffers.get();
    }

    /** Tensors created while the watch was open that were never closed (nor by a scope): the Cleaner freed them. */
    public long forgottenTensors() {
        return forgottenTensors.get();
    }

    void allocated() {
        for (MemoryWatch w = this; w != null; w = w.parent) {
            w.netBuffers.incrementAndGet();
        }
    }

    void freed() {
        for (MemoryWatch w = this; w != null; w = w.parent) {
            w.netBuffers.decrementAndGet();
        }
    }

    void forgotten() {
        for (MemoryWatch w = this; w != null; w = w.parent) {
            w.forgottenTensors.incrementAndGet();
        }
    }

    /** Prints where a tensor that the Cleaner is freeing was created (with {@code wengert.debug.forgotten}). */
    static void reportForgotten(String what, Throwable createdAt) {
        System.err.println("wengert: the tensor " + what + " was never closed; the Cleaner freed it. It was created at:");
        createdAt.printStackTrace();
    }

    /** Stops counting new allocations. Watches must be closed innermost first, by their thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread || INNERMOST.get() != this) {
            throw new IllegalStateException("a MemoryWatch must be closed innermost first, by the thread that started it ("
                    + thread.getName() + ")");
        }
        closed = true;
        INNERMOST.set(parent);
    }

    @Override
    public String toString() {
        return "MemoryWatch[" + netBuffers() + " buffers added, " + forgottenTensors() + " forgotten tensors]";
    }
}
