package dev.wengert.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Which crossings of a tensor between threads are legal (see the Javadoc of {@link Tensor} and
 * {@link Scope}): reading and closing are; moving a tensor into or out of another thread's scope is not,
 * and fails with a message naming the operation, the tensor and both threads, changing nothing.
 */
class ThreadConfinementTest {
    private static final AtomicInteger WORKERS = new AtomicInteger();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "wengert-worker-" + WORKERS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    @AfterAll
    static void stop() throws InterruptedException {
        POOL.shutdown();
        assertTrue(POOL.awaitTermination(10, TimeUnit.SECONDS));
    }

    private static <T> T onWorker(Callable<T> work) throws Exception {
        try {
            return POOL.submit(work).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /** The error another thread gets from {@code work}, checked to name op, tensor and both threads. */
    private static IllegalStateException crossing(String op, Tensor t, Runnable work) throws Exception {
        return crossing(op, t.describe(), work);
    }

    private static IllegalStateException crossing(String op, String tensor, Runnable work) throws Exception {
        String main = Thread.currentThread().getName();
        Object[] seen = new Object[2];
        onWorker(() -> {
            seen[1] = Thread.currentThread().getName();
            try {
                work.run();
            } catch (RuntimeException e) {
                seen[0] = e;
            }
            return null;
        });
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, seen[0], op + " from another thread must throw");
        String m = e.getMessage();
        for (String part : new String[] {op + ": ", tensor, "'" + main + "'", "'" + seen[1] + "'", "keepForever()"}) {
            assertTrue(m.contains(part), "the message must name \"" + part + "\": " + m);
        }
        return e;
    }

    @Test
    void otherThreadsReadATensorConcurrentlyAndGetTheSameResults() throws Exception {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.randn(7, DType.FLOAT32, 128, 300);   // large enough for ND4J's GEMM
            Tensor b = Tensor.randn(8, DType.FLOAT32, 300, 64);
            float[] expected = a.matmul(b).tanh().sum(false, 0).toFloatArray();
            CyclicBarrier start = new CyclicBarrier(4);
            List<Future<float[]>> results = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                results.add(POOL.submit(() -> {
                    LeakCheck check = LeakCheck.start();
                    float[] last = null;
                    start.await();
                    for (int i = 0; i < 50; i++) {
                        try (Scope mine = Scope.open()) {
                            float[] r = a.matmul(b).tanh().sum(false, 0).toFloatArray();
                            if (last != null) {
                                assertArrayEquals(last, r);
                            }
                            last = r;
                        }
                    }
                    check.assertNoLeak(Thread.currentThread().getName());
                    return last;
                }));
            }
            for (Future<float[]> f : results) {
                assertArrayEquals(expected, f.get(60, TimeUnit.SECONDS), "bit for bit as on this thread");
            }
        }
    }

    @Test
    void movingATensorIntoOrOutOfAnotherThreadsScopeThrowsAndChangesNothing() throws Exception {
        LeakCheck check = LeakCheck.start();
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.ones(DType.FLOAT32, 2, 3);
            assertEquals(1, s.ownedCount());
            crossing("keep", t, t::keep);
            crossing("keepForever", t, t::keepForever);
            crossing("keepWith", t, () -> {
                try (Scope mine = Scope.open()) {
                    t.keepWith(Tensor.zeros(DType.FLOAT32, 1));   // out of this thread's scope into the worker's
                }
            });
            String[] stillOwned = new String[1];
            crossing("keepWith", "float32[3] on cpu", () -> {
                LeakCheck worker = LeakCheck.start();
                try (Scope mine = Scope.open()) {
                    Tensor w = Tensor.zeros(DType.FLOAT32, 3);
                    try {
                        w.keepWith(t);                              // into this thread's scope
                    } finally {
                        stillOwned[0] = mine.ownedCount() == 1 ? "yes" : "no";
                    }
                } finally {
                    worker.assertNoLeak("the worker's scope still closed its tensor");
                }
            });
            assertEquals("yes", stillOwned[0], "the failed keepWith left the worker's tensor in the worker's scope");
            assertEquals(1, s.ownedCount(), "the failed moves left the tensor in this thread's scope");
            assertEquals(6.0, onWorker(() -> t.sum().item()), "and it is still open");
        }
        check.assertNoLeak("the scope closed the tensor the other thread could not move");
    }

    @Test
    void aScopeIsClosedAndInspectedOnlyByItsThread() throws Exception {
        try (Scope s = Scope.open()) {
            Tensor.zeros(DType.FLOAT32, 1);
            String main = Thread.currentThread().getName();
            for (Runnable r : new Runnable[] {s::close, s::ownedCount}) {
                RuntimeException e = onWorker(() -> {
                    try {
                        r.run();
                        return null;
                    } catch (RuntimeException x) {
                        return x;
                    }
                });
                assertInstanceOf(IllegalStateException.class, e);
                assertTrue(e.getMessage().contains("'" + main + "'") && e.getMessage().contains("'wengert-worker-"), e.getMessage());
            }
            assertEquals(1, s.ownedCount(), "still open, still owning its tensor");
        }
    }

    /**
     * Closing is legal from any thread (idempotent, no scope changes): the closing thread's watch counts the
     * free, the creating thread's the allocation; the owning scope's later close skips the tensor.
     */
    @Test
    void anotherThreadMayCloseATensor() throws Exception {
        MemoryWatch here = MemoryWatch.start();
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.ones(DType.FLOAT64, 5);
            long workerNet = onWorker(() -> {
                try (MemoryWatch w = MemoryWatch.start()) {
                    t.close();
                    return w.netBuffers();
                }
            });
            assertTrue(t.isClosed());
            assertEquals(-1, workerNet, "the worker freed one buffer");
            assertEquals(1, here.netBuffers(), "this thread allocated it");
        }
        here.close();
        assertEquals(0, here.forgottenTensors());
    }

    /** The hand-over: keepForever() on the owning thread, then the other thread may adopt it into its own scope. */
    @Test
    void aTensorKeptForeverCanBeAdoptedByAnotherThread() throws Exception {
        Tensor t;
        try (Scope s = Scope.open()) {
            t = Tensor.arange(4, DType.FLOAT32).keepForever();
        }
        assertFalse(t.isClosed());
        double sum = onWorker(() -> {
            try (Scope mine = Scope.open()) {
                Tensor anchor = Tensor.zeros(DType.FLOAT32, 1);
                t.keepWith(anchor);                 // now freed with the worker's scope
                assertEquals(2, mine.ownedCount());
                return t.sum().item();
            }
        });
        assertEquals(6.0, sum);
        assertTrue(t.isClosed(), "the worker's scope closed it");
    }
}
