package dev.wengert.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Asserts that code run on this thread between {@link #start()} and {@link #assertNoLeak} left no buffer
 * alive and forgot no tensor. It reads a {@link MemoryWatch}, never a process-wide count, so tensors that
 * earlier tests forgot (and that the Cleaner frees at any moment) cannot move it.
 */
public final class LeakCheck {
    private final MemoryWatch watch = MemoryWatch.start();

    private LeakCheck() {
    }

    public static LeakCheck start() {
        return new LeakCheck();
    }

    /** Buffers this thread's work added since {@link #start()}. */
    public long growth() {
        return watch.netBuffers();
    }

    /** Closes the watch and asserts that nothing it saw allocated is alive or was forgotten. */
    public void assertNoLeak(String what) {
        watch.close();
        assertEquals(0, watch.netBuffers(), what + ": buffers this thread added (allocated minus freed) since the check started");
        assertEquals(0, watch.forgottenTensors(), what + ": tensors created since the check started but never closed (freed by the Cleaner)");
    }
}
