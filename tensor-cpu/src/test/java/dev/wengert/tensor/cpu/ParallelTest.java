package dev.wengert.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Parallel#forRange}: every item runs exactly once, in parts that are contiguous ranges; a failure in
 * any part reaches the caller only after every other part has finished (they write the caller's tensors);
 * small work and calls from a worker run unsplit. The split kernels themselves are checked by the backend
 * contract suite, which the split-loops execution runs with every loop split.
 */
@ExtendWith(ScopePerTest.class)
class ParallelTest {

    @Test
    void everyItemRunsOnceInContiguousParts() {
        int n = 100_003;
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        Parallel.forRange(n, Long.MAX_VALUE, (from, to) -> {
            assertTrue(from < to, "no empty part");
            for (int i = from; i < to; i++) {
                seen.incrementAndGet(i);
            }
        });
        for (int i = 0; i < n; i++) {
            assertEquals(1, seen.get(i), "item " + i);
        }
    }

    @Test
    void smallWorkAndZeroItemsRunUnsplitOnTheCaller() {
        Thread caller = Thread.currentThread();
        int[] calls = new int[1];
        Parallel.forRange(1000, Parallel.THRESHOLD - 1, (from, to) -> {
            assertSame(caller, Thread.currentThread());
            assertArrayEquals(new int[] {0, 1000}, new int[] {from, to});
            calls[0]++;
        });
        Parallel.forRange(1, Long.MAX_VALUE, (from, to) -> calls[0]++);
        assertEquals(2, calls[0]);
    }

    @Test
    void aFailingPartIsRethrownAfterTheOthersFinish() throws InterruptedException {
        if (Parallel.THREADS < 2) {
            return; // nothing runs elsewhere: the caller's own failure is the only case, below
        }
        CountDownLatch slowStarted = new CountDownLatch(1);
        boolean[] slowFinished = new boolean[1];
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(2, Long.MAX_VALUE, (from, to) -> {
            if (from == 0) { // the caller's part fails at once, while the worker's part is still writing
                awaitQuietly(slowStarted);
                throw new IllegalStateException("part 0 failed");
            }
            slowStarted.countDown();
            sleepQuietly(200);
            slowFinished[0] = true;
        }));
        assertEquals("part 0 failed", e.getMessage());
        assertTrue(slowFinished[0], "the caller waited for the worker's part before rethrowing");

        IndexOutOfBoundsException w = assertThrows(IndexOutOfBoundsException.class, () -> Parallel.forRange(2, Long.MAX_VALUE, (from, to) -> {
            if (from == 1) {
                throw new IndexOutOfBoundsException("worker part failed");
            }
        }));
        assertTrue(w.getMessage().contains("worker part failed"), w.getMessage());
        assertTrue(slowStarted.await(1, TimeUnit.SECONDS));
    }

    @Test
    void aWorkersOwnCallRunsUnsplit() {
        int[] inner = new int[Math.max(2, Parallel.THREADS)];
        Arrays.fill(inner, -1);
        Parallel.forRange(inner.length, Long.MAX_VALUE, (from, to) -> {
            for (int p = from; p < to; p++) {
                java.util.concurrent.atomic.AtomicInteger parts = new java.util.concurrent.atomic.AtomicInteger();
                Parallel.forRange(1000, Long.MAX_VALUE, (a, b) -> parts.addAndGet(a == 0 && b == 1000 ? 1 : 100));
                inner[p] = Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread ? parts.get() : 1;
            }
        });
        for (int v : inner) {
            assertEquals(1, v, "a nested call from a worker is one part");
        }
    }

    /**
     * A reduction and a scatter big enough to be split give the bits of one walk: each sum is fed in row-major
     * order whichever part computes it (checked against plain loops in that order, in float64 where every
     * reordering would show), and repeated scatter indices accumulate in index order.
     */
    @Test
    void splitReductionsAndScattersGiveTheBitsOfOneWalk() {
        int n = 64, c = 37, l = 41;     // 97,088 elements: above the default threshold, so split on any machine with 2+ threads
        Tensor x = Tensor.randn(11, DType.FLOAT64, n, c, l);
        double[] xv = x.toDoubleArray();
        double[] sums = x.sum(false, 0, 2).toDoubleArray();
        for (int ch = 0; ch < c; ch++) {
            double acc = 0;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < l; k++) {
                    acc += xv[(b * c + ch) * l + k];
                }
            }
            assertEquals(Double.doubleToLongBits(acc), Double.doubleToLongBits(sums[ch]), "sum of channel " + ch);
        }
        long[] index = new long[n * c * l];
        for (int i = 0; i < index.length; i++) {
            index[i] = (i * 7L) % 5;          // 5 targets per row, each hit many times
        }
        Tensor idx = Tensor.of(index, n, c, l);
        double[] scattered = Tensor.zeros(DType.FLOAT64, n, c, 5).scatterAdd(2, idx, x).toDoubleArray();
        double[] expected = new double[n * c * 5];
        for (int row = 0; row < n * c; row++) {
            for (int k = 0; k < l; k++) {
                expected[row * 5 + (int) index[row * l + k]] += xv[row * l + k];
            }
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(scattered[i]), "scatter target " + i);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
