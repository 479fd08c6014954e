package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.Module;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Four threads at once, each with its own scopes and graphs, over one shared read-only model (the threads
 * rule in docs/design.md): each thread evaluates the shared model (forward only, no recording), computes
 * gradients of the shared parameters through its own leaves over the shared tensors (the data-parallel
 * pattern), and trains its own copy through Trainer. Every thread's results equal those of the same work
 * run on one thread, bit for bit; every thread's work leaves no buffer behind; the shared parameters are
 * unchanged.
 */
class ConcurrentTrainingTest {
    private static final int THREADS = 4;
    private static final int STEPS = 30;

    /** What one thread computes: predictions, gradient sums, and its trained copy's losses and parameters. */
    private record Work(long[] predictions, List<float[]> gradients, double[] losses, List<float[]> trained) {
    }

    @Test
    void fourThreadsShareOneModelWithoutCrossTalkOrLeaks() throws Exception {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 32, true, 11, Device.CPU);
        BatchLoader test = BatchLoader.of(m.test(), 100, false, 0, Device.CPU);
        Sequential shared;
        try (Scope s = Scope.open()) {
            shared = ModelSpec.mlp(784, new int[] {64}, 10).build(11, DType.FLOAT32, Device.CPU);
        }
        try (shared) {
            List<float[]> before = values(shared);
            List<Work> alone = new ArrayList<>();
            for (int k = 0; k < THREADS; k++) {
                alone.add(work(shared, train, test, k));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (int round = 0; round < 2; round++) {
                    CyclicBarrier start = new CyclicBarrier(THREADS);
                    List<Future<Work>> futures = new ArrayList<>();
                    for (int k = 0; k < THREADS; k++) {
                        int id = k;
                        futures.add(pool.submit(() -> {
                            LeakCheck check = LeakCheck.start();
                            start.await();
                            Work w = work(shared, train, test, id);
                            check.assertNoLeak(Thread.currentThread().getName() + ", work " + id);
                            return w;
                        }));
                    }
                    for (int k = 0; k < THREADS; k++) {
                        Work expected = alone.get(k);
                        Work got = futures.get(k).get(120, TimeUnit.SECONDS);
                        String what = "round " + round + ", thread " + k + ": ";
                        assertArrayEquals(expected.predictions, got.predictions, what + "predictions of the shared model");
                        assertBitwise(expected.gradients, got.gradients, what + "gradients through own leaves");
                        assertArrayEquals(expected.losses, got.losses, what + "losses of the own copy");
                        assertBitwise(expected.trained, got.trained, what + "trained own copy");
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertBitwise(before, values(shared), "the shared parameters");
        }
    }

    /**
     * Two threads training the same model: the second's step fails clearly (naming both threads) while the
     * first's step is open, instead of zeroing the gradients the first is about to apply.
     */
    @Test
    void twoThreadsTrainingOneModelFailClearly() throws Exception {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 32, false, 0, Device.CPU);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = ModelSpec.mlp(784, new int[] {16}, 10).build(3, DType.FLOAT32, Device.CPU);
        }
        java.util.concurrent.CountDownLatch stepped = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "trainer-1"));
        try (model; Sgd one = new Sgd(model.parameters(), 0.1); Sgd two = new Sgd(model.parameters(), 0.1)) {
            Future<?> first = pool.submit(() -> {
                try (Scope s = Scope.open()) {       // a step written out, paused between backward and update
                    BatchLoader.Batch b = train.epoch(0).batch(0);
                    one.zeroGrad();
                    Losses.crossEntropy(model.forward(Var.constant(b.features())), b.labels()).backward();
                    stepped.countDown();
                    finish.await(30, TimeUnit.SECONDS);     // the step's scope is still open
                    one.step();
                }
                return null;
            });
            org.junit.jupiter.api.Assertions.assertTrue(stepped.await(30, TimeUnit.SECONDS));
            try (Scope s = Scope.open()) {
                Trainer second = new Trainer(model, two, null, null);
                BatchLoader.Batch b = train.epoch(0).batch(1);
                IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> second.step(b));
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("zeroGrad: thread '" + Thread.currentThread().getName()
                        + "' cannot change the gradient of the leaf variable 'weight' float32[16, 784] on cpu: thread 'trainer-1' holds it"),
                        e.getMessage());
            }
            finish.countDown();
            first.get(30, TimeUnit.SECONDS);
            try (Scope s = Scope.open()) {
                new Trainer(model, two, null, null).step(train.epoch(0).batch(1));   // one after the other: fine
            }
            model.zeroGrad();
        } finally {
            finish.countDown();
            pool.shutdownNow();
        }
    }

    /** Thread {@code k}'s work; leaves nothing allocated. */
    private static Work work(Sequential shared, BatchLoader train, BatchLoader test, int k) {
        // 1. evaluation of the shared model: forward only, not recorded
        BatchLoader.Epoch testOrder = test.epoch(0);
        long[] predictions = new long[0];
        for (int i = k; i < testOrder.batches(); i += THREADS) {
            try (Scope s = Scope.open()) {
                long[] p = Trainer.predict(shared, testOrder.batch(i).features());
                long[] all = java.util.Arrays.copyOf(predictions, predictions.length + p.length);
                System.arraycopy(p, 0, all, predictions.length, p.length);
                predictions = all;
            }
        }
        BatchLoader.Epoch order = train.epoch(k);

        // 2. gradients of the shared parameters through this thread's own leaves over the shared tensors
        Sequential leaves = new Sequential(layers(shared, false));
        List<float[]> gradients = new ArrayList<>();
        try {
            for (int i = 0; i < STEPS; i++) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch b = order.batch(i);
                    Losses.crossEntropy(leaves.forward(Var.constant(b.features())), b.labels()).backward();
                }
            }
            for (Var p : leaves.parameters()) {
                gradients.add(p.gradTensor().toFloatArray());
            }
        } finally {
            leaves.zeroGrad();      // not close(): the tensors are the shared model's
        }

        // 3. training of this thread's own copy through Trainer
        Sequential copy;
        try (Scope s = Scope.open()) {
            copy = new Sequential(layers(shared, true));
        }
        double[] losses = new double[STEPS];
        List<float[]> trained;
        try (copy; Sgd opt = new Sgd(copy.parameters(), 0.05, 0.9, false, 0)) {
            Trainer trainer = new Trainer(copy, opt, null, null);
            for (int i = 0; i < STEPS; i++) {
                try (Scope s = Scope.open()) {
                    losses[i] = trainer.step(order.batch(i));
                }
            }
            trained = values(copy);
        }
        return new Work(predictions, gradients, losses, trained);
    }

    /** Layers like {@code shared}'s: over its very tensors (new leaves), or over copies made on this thread. */
    private static Module[] layers(Sequential shared, boolean copy) {
        Module[] out = new Module[shared.size()];
        for (int i = 0; i < out.length; i++) {
            if (shared.layer(i) instanceof Linear l) {
                Tensor w = l.weight().value();
                Tensor b = l.bias().value();
                out[i] = copy ? new Linear(w.copy(), b.copy()) : new Linear(w, b);
            } else {
                out[i] = new ReLU();
            }
        }
        return out;
    }

    private static List<float[]> values(Module model) {
        List<float[]> out = new ArrayList<>();
        for (Var p : model.parameters()) {
            out.add(p.value().toFloatArray());
        }
        return out;
    }

    private static void assertBitwise(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), what + ", tensor " + i);
        }
    }
}
