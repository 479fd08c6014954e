package dev.wengert.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A prefetching epoch on the CUDA simulator: batch i + 1 is gathered and its upload queued on the copy
 * stream when batch i is handed out. The batches equal the unprefetched ones (order and values), nothing
 * leaks when the epoch is finished, abandoned (closed) or accessed out of order, and Trainer.fit (which
 * prefetches) trains exactly as Trainer.step over the unprefetched batches, also when stopped or failing
 * mid-epoch. The simulator's stream-hazard checker sees the copy stream and the compute stream ordered.
 */
class SimulatorPrefetchTest {
    private static final int BATCH = 64;

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorPrefetchTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorPrefetchTest");
    }

    /** 300 MNIST test samples: 5 batches of 64, the last one short (44). */
    private static BatchLoader loader(boolean shuffle) throws IOException {
        MnistData.Split s = MnistData.embedded().test();
        float[] x = s.imagesAsFloats();
        long[] y = s.labelsAsLongs();
        int w = s.rows() * s.cols();
        float[] xs = new float[300 * w];
        long[] ys = new long[300];
        System.arraycopy(x, 0, xs, 0, xs.length);
        System.arraycopy(y, 0, ys, 0, ys.length);
        return new BatchLoader(xs, ys, w, BATCH, shuffle, 7, CudaTestDevice.DEVICE);
    }

    private static void assertSameBatch(BatchLoader.Batch expected, BatchLoader.Batch actual, String what) {
        assertArrayEquals(expected.features().shape(), actual.features().shape(), what);
        assertArrayEquals(expected.features().toFloatArray(), actual.features().toFloatArray(), what);
        assertArrayEquals(expected.labels().toLongArray(), actual.labels().toLongArray(), what);
    }

    @Test
    void prefetchedBatchesEqualTheUnprefetchedOnesAndNothingLeaks() throws IOException {
        BatchLoader l = loader(true);
        assertEquals(5, l.batchCount());
        LeakCheck leak = LeakCheck.start();
        BatchLoader.Epoch plain = l.epoch(1);
        try (BatchLoader.Epoch ahead = l.epoch(1, true)) {
            assertTrue(ahead.prefetches(), "the simulated GPU's uploads overlap compute");
            assertTrue(!plain.prefetches());
            for (int i = 0; i < l.batchCount(); i++) {
                try (Scope s = Scope.open()) {
                    SimulatorTrace.Counts before = SimulatorTrace.read();
                    BatchLoader.Batch b = ahead.batch(i);
                    SimulatorTrace.Counts handOut = SimulatorTrace.read().minus(before);
                    assertEquals(0, handOut.hostSyncs(), "handing out batch " + i + " and queueing the next one");
                    assertEquals(i == 0 ? 4 : i + 1 < l.batchCount() ? 2 : 0, handOut.copiesToDevice(),
                            "batch " + i + ": the next batch's features and labels (the first call also uploads batch 0)");
                    assertSameBatch(plain.batch(i), b, "batch " + i);
                }
            }
        }
        leak.assertNoLeak("a whole prefetching epoch");
    }

    @Test
    void anAbandonedOrOutOfOrderEpochFreesTheBatchItPreparedAhead() throws IOException {
        BatchLoader l = loader(false);
        BatchLoader.Epoch plain = l.epoch(0);
        LeakCheck leak = LeakCheck.start();
        try (BatchLoader.Epoch ahead = l.epoch(0, true)) {
            for (int i : new int[] {3, 1, 2, 2, 4, 0}) {     // prepared ahead: 4, 2, 3, 3, none, 1
                try (Scope s = Scope.open()) {
                    assertSameBatch(plain.batch(i), ahead.batch(i), "batch " + i);
                }
            }
        }   // closes the batch 1 prepared ahead
        try (Scope s = Scope.open()) {
            BatchLoader.Epoch ahead = l.epoch(0, true);
            ahead.batch(0);
            ahead.close();
            ahead.close();   // idempotent
            assertSameBatch(plain.batch(1), ahead.batch(1), "still usable after close");
            ahead.close();
        }
        leak.assertNoLeak("epochs abandoned mid-way and visited out of order");
    }

    private static Sequential model() {
        try (Scope s = Scope.open()) {
            return ModelSpec.mlp(784, new int[] {16}, 10).build(3, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
    }

    private static float[][] parameters(Sequential m) {
        List<Var> ps = m.parameters();
        float[][] out = new float[ps.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = ps.get(i).value().toFloatArray();
        }
        return out;
    }

    @Test
    void fitWithPrefetchTrainsExactlyAsStepsOverTheUnprefetchedBatches() throws IOException {
        BatchLoader l = loader(true);
        float[][] expected;
        try (Sequential m = model(); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Trainer t = new Trainer(m, opt, null, null);
            for (int e = 0; e < 2; e++) {
                BatchLoader.Epoch epoch = l.epoch(e);
                for (int i = 0; i < epoch.batches(); i++) {
                    try (Scope s = Scope.open()) {
                        t.step(epoch.batch(i));
                    }
                }
            }
            expected = parameters(m);
        }
        try (Sequential m = model(); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            LeakCheck leak = LeakCheck.start();
            Trainer.FitResult r = new Trainer(m, opt, null, null).fit(l, null, 0, 2);
            assertEquals(2, r.epochs().size());
            float[][] actual = parameters(m);
            for (int i = 0; i < expected.length; i++) {
                assertArrayEquals(expected[i], actual[i], "parameter " + i);
            }
            opt.zeroGrad();
            leak.assertNoLeak("Trainer.fit with prefetch, two epochs");
        }
    }

    @Test
    void fitStoppedOrFailingMidEpochLeaksNoPrefetchedBatch() throws IOException {
        BatchLoader l = loader(true);
        try (Sequential m = model(); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            LeakCheck leak = LeakCheck.start();
            Trainer[] self = new Trainer[1];
            self[0] = new Trainer(m, opt, null, new Trainer.Listener() {
                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    if (step == 2) {
                        self[0].requestStop();   // batch 3 is prepared ahead now
                    }
                }
            });
            Trainer.FitResult r = self[0].fit(l, null, 0, 1);
            assertTrue(r.interrupted());
            assertEquals(2, r.abandonedSteps());

            Trainer failing = new Trainer(m, opt, null, new Trainer.Listener() {
                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    if (step == 3) {
                        throw new IllegalStateException("listener failure at step 3");
                    }
                }
            });
            assertThrows(IllegalStateException.class, () -> failing.fit(l, null, 0, 1));
            opt.zeroGrad();
            leak.assertNoLeak("fit stopped and fit failing mid-epoch");
        }
        try (Scope s = Scope.open()) {
            Tensor probe = Tensor.on(CudaTestDevice.DEVICE).of(new float[] {1, 2}, 2);
            assertArrayEquals(new float[] {1, 2}, probe.toFloatArray(), "the device is still usable");
        }
    }
}
