package dev.wengert.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * A watch counts only what its own thread allocates while it is open: tensors forgotten before it
 * started, freed by the Cleaner while it runs, must not move it (that made TrainerTest flaky when it
 * read the process-wide live-buffer count), and tensors forgotten inside it must show.
 */
class MemoryWatchTest {

    /** Forgets {@code n} tensors: no scope, never closed, no reference kept. */
    private static void forget(int n) {
        for (int i = 0; i < n; i++) {
            Tensor.zeros(DType.FLOAT32, 16);
        }
    }

    /** Runs the garbage collector until {@code counter} reaches {@code expected} (the Cleaner works asynchronously). */
    private static void collectUntil(LongSupplier counter, long expected) throws InterruptedException {
        for (int i = 0; i < 200 && counter.getAsLong() != expected; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertEquals(expected, counter.getAsLong(), "the Cleaner did not free the forgotten tensors within 2 s");
    }

    @Test
    void tensorsForgottenBeforeTheWatchDoNotMoveIt() throws InterruptedException {
        MemoryWatch earlier = MemoryWatch.start();
        forget(20);                                   // an earlier test's leak
        earlier.close();
        assertEquals(20, earlier.netBuffers());
        try (MemoryWatch watch = MemoryWatch.start()) {
            try (Scope s = Scope.open()) {
                Tensor.ones(DType.FLOAT32, 4).add(1).sum().item();
            }
            collectUntil(earlier::netBuffers, 0);     // the Cleaner frees the earlier leak meanwhile
            assertEquals(20, earlier.forgottenTensors());
            assertEquals(0, watch.netBuffers(), "the watch saw only its own, freed, buffers");
            assertEquals(0, watch.forgottenTensors());
        }
    }

    @Test
    void tensorsForgottenInsideTheWatchAreCountedAndFreedByTheCleaner() throws InterruptedException {
        try (MemoryWatch watch = MemoryWatch.start()) {
            Tensor kept = Tensor.ones(DType.FLOAT64, 3).keepForever();
            forget(3);
            assertEquals(4, watch.netBuffers());
            collectUntil(watch::forgottenTensors, 3);
            assertEquals(1, watch.netBuffers(), "the kept tensor is still alive");
            Tensor view = kept.reshape(3, 1);
            assertEquals(1, watch.netBuffers(), "a view shares its buffer");
            kept.close();
            assertEquals(1, watch.netBuffers(), "the view still holds the buffer");
            view.close();
            assertEquals(0, watch.netBuffers());
        }
    }

    @Test
    void steadyStateReplacementCountsAsNoGrowth() {
        Tensor state = Tensor.zeros(DType.FLOAT32, 8).keepForever();   // allocated before the watch
        try (MemoryWatch watch = MemoryWatch.start()) {
            for (int step = 0; step < 3; step++) {                      // each step replaces the state
                Tensor next = state.add(1).keepForever();
                state.close();
                state = next;
            }
            assertEquals(0, watch.netBuffers(), "one buffer allocated and one freed per step");
        }
        state.close();
    }

    @Test
    void nestedWatchesBothCountAndCloseInnermostFirst() {
        try (MemoryWatch outer = MemoryWatch.start()) {
            Tensor a = Tensor.ones(DType.FLOAT32, 2).keepForever();
            MemoryWatch inner = MemoryWatch.start();
            Tensor b = Tensor.ones(DType.FLOAT32, 2).keepForever();
            assertEquals(1, inner.netBuffers());
            assertEquals(2, outer.netBuffers());
            IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
            assertTrue(e.getMessage().contains("innermost first"), e.getMessage());
            inner.close();
            Tensor c = Tensor.ones(DType.FLOAT32, 2).keepForever();
            b.close();
            assertEquals(1, inner.netBuffers(), "a closed watch counts nothing new");
            a.close();
            c.close();
            assertEquals(0, outer.netBuffers());
        }
    }
}
