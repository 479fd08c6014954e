package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Gradients and threads (Var's Javadoc): concurrent backward passes into one leaf are an error naming
 * both threads; each thread's own leaves over shared tensors give every thread its own gradient, equal
 * bit for bit to a single-threaded run; passes one after the other on different threads accumulate.
 */
class ThreadedBackwardTest {

    private static Var loss(Var w, Tensor x) {
        return Var.constant(x).matmul(w).tanh().square().mean();
    }

    @Test
    void aSecondThreadsBackwardIntoALeafThatAnotherPassIsFillingThrows() throws Exception {
        Var w = Var.param(Tensor.randn(1, DType.FLOAT64, 4, 3).keepForever()).named("w");
        Tensor x = Tensor.randn(2, DType.FLOAT64, 5, 4).keepForever();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "trainer-a"));
        try {
            Future<?> a = pool.submit(() -> {
                try (Scope s = Scope.open()) {
                    loss(w, x).backward(null, false, false, (v, adjoint) -> {
                        if (v == w) {               // w's gradient is claimed: hold the pass here
                            inside.countDown();
                            await(release);
                        }
                    });
                }
                return null;
            });
            assertTrue(inside.await(30, TimeUnit.SECONDS));
            String me = Thread.currentThread().getName();
            try (Scope s = Scope.open()) {
                Var l = loss(w, x);
                RuntimeException e = assertInstanceOf(IllegalStateException.class, catching(l::backward));
                assertTrue(e.getMessage().startsWith("backward: thread '" + me + "' cannot change the gradient of the leaf variable 'w' "
                        + "float64[4, 3] on cpu: thread 'trainer-a' holds it, from its backward pass until the scope open there "
                        + "closes (its training step)"), e.getMessage());
                assertTrue(e.getMessage().contains("Var.param(shared.value())"), e.getMessage());
                e = assertInstanceOf(IllegalStateException.class, catching(w::zeroGrad));
                assertTrue(e.getMessage().startsWith("zeroGrad: thread '" + me + "'"), e.getMessage());
            }
            release.countDown();
            a.get(30, TimeUnit.SECONDS);
            double[] once = w.gradTensor().toDoubleArray();
            // the other pass is over: passes one after the other may accumulate, whatever their thread
            try (Scope s = Scope.open()) {
                loss(w, x).backward();
            }
            double[] twice = w.gradTensor().toDoubleArray();
            for (int i = 0; i < once.length; i++) {
                assertTrue(twice[i] == 2 * once[i], "accumulated: " + twice[i] + " vs 2 x " + once[i]);
            }
        } finally {
            release.countDown();
            pool.shutdownNow();
            w.zeroGrad();
            w.value().close();
            x.close();
        }
    }

    /**
     * The claim lasts until the scope open during the pass closes (the optimizer reads the gradient in
     * between), or only for the pass when no scope is open.
     */
    @Test
    void aPassHoldsItsLeavesUntilItsScopeCloses() throws Exception {
        Var w = Var.param(Tensor.randn(1, DType.FLOAT32, 4, 3).keepForever()).named("w");
        Tensor x = Tensor.randn(2, DType.FLOAT32, 5, 4).keepForever();
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch close = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "trainer-b"));
        try {
            Future<?> step = pool.submit(() -> {
                try (Scope s = Scope.open()) {
                    loss(w, x).backward();
                    done.countDown();
                    await(close);               // e.g. the optimizer's update
                }
                return null;
            });
            assertTrue(done.await(30, TimeUnit.SECONDS));
            RuntimeException e = assertInstanceOf(IllegalStateException.class, catching(w::zeroGrad));
            assertTrue(e.getMessage().contains("thread 'trainer-b' holds it"), e.getMessage());
            close.countDown();
            step.get(30, TimeUnit.SECONDS);
            w.zeroGrad();                       // its step is over: any thread may go on
            try (Scope s = Scope.open()) {
                loss(w, x).backward();
            }
            w.zeroGrad();
            pool.submit(() -> {
                loss(w, x).backward();          // no scope: the claim ends with the pass
                return null;
            }).get(30, TimeUnit.SECONDS);
            assertTrue(w.gradTensor() != null);
            w.zeroGrad();
        } finally {
            close.countDown();
            pool.shutdownNow();
            w.zeroGrad();
            w.value().close();
            x.close();
        }
    }

    /** Four threads, each its own leaf over one shared tensor, at once: the gradients of a single-threaded run. */
    @Test
    void ownLeavesOverASharedTensorGiveEachThreadItsGradient() throws Exception {
        Tensor shared = Tensor.randn(3, DType.FLOAT32, 64, 48).keepForever();
        int threads = 4;
        int rounds = 20;
        List<float[]> expected = new ArrayList<>();
        for (int k = 0; k < threads; k++) {
            expected.add(gradients(shared, k, rounds));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<float[]>> got = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                int id = k;
                got.add(pool.submit(() -> {
                    LeakCheck check = LeakCheck.start();
                    start.await();
                    float[] g = gradients(shared, id, rounds);
                    check.assertNoLeak("thread " + id);
                    return g;
                }));
            }
            for (int k = 0; k < threads; k++) {
                assertArrayEquals(expected.get(k), got.get(k).get(60, TimeUnit.SECONDS), "thread " + k);
            }
        } finally {
            pool.shutdownNow();
            shared.close();
        }
    }

    /** Sum over rounds of the gradient of thread {@code id}'s loss with respect to its own leaf over {@code shared}. */
    private static float[] gradients(Tensor shared, int id, int rounds) {
        Var w = Var.param(shared);
        try {
            for (int r = 0; r < rounds; r++) {
                try (Scope s = Scope.open()) {
                    loss(w, Tensor.randn(100L * id + r, DType.FLOAT32, 32, 64)).backward();
                }
            }
            return w.gradTensor().toFloatArray();
        } finally {
            w.zeroGrad();
        }
    }

    private static RuntimeException catching(Runnable r) {
        try {
            r.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
