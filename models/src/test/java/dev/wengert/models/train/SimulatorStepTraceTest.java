package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What one training step costs a GPU, counted by the CUDA simulator's stand-in driver: kernels, GEMMs,
 * copies, host synchronisations and driver allocations per Trainer step (forward, backward, SGD update,
 * the batch upload and the loss read-back), from the third step on. They are deterministic: every step
 * counts the same, and the caching allocator makes no driver allocation after the first steps. The
 * figures are printed for bench/RESULTS.md; the launches issue holds them with upper bounds. Runs only in
 * the simulator execution. Also a soak: 300 steps of a narrow MLP with no driver allocation and no leaked buffer.
 */
class SimulatorStepTraceTest {

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorStepTraceTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorStepTraceTest");
    }

    /** Counts of step {@code measured} (1-based) after {@code warm} steps, and asserts the next step counts the same. */
    private static SimulatorTrace.Counts perStep(ModelSpec spec, double lr, int steps) throws IOException {
        BatchLoader train = BatchLoader.of(MnistData.embedded().train(), 64, true, 42, CudaTestDevice.DEVICE);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(42, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), lr)) {
            Trainer trainer = new Trainer(model, opt, null, null);
            BatchLoader.Epoch epoch = train.epoch(0);
            SimulatorTrace.Counts first = null;
            SimulatorTrace.Counts before = null;
            LeakCheck leak = null;
            for (int i = 0; i < steps; i++) {
                if (i == 2) {
                    before = SimulatorTrace.read();
                    SimulatorTrace.reset();
                    leak = LeakCheck.start();
                }
                try (Scope step = Scope.open()) {
                    trainer.step(epoch.batch(i % epoch.batches()));
                }
                if (i == 2) {
                    first = SimulatorTrace.read();
                    SimulatorTrace.reset();
                }
            }
            SimulatorTrace.Counts rest = SimulatorTrace.read();
            leak.assertNoLeak(spec + ", steps 3 to " + steps);
            Map<String, Long> kernels = SimulatorTrace.kernelCounts();
            System.out.printf("SimulatorStepTraceTest: %s, one step (batch 64, SGD): %d kernels, %d GEMMs, %d H2D, %d D2H, %d D2D copies,"
                    + " %d memsets, %d host syncs, %d driver allocations; kernels over steps 4-%d: %s%n", spec, first.kernels(),
                    first.gemms(), first.copiesToDevice(), first.copiesToHost(), first.copiesOnDevice(), first.memsets(),
                    first.hostSyncs(), first.allocations(), steps, kernels);
            long later = steps - 3;
            assertEquals(first.kernels() * later, rest.kernels(), "every step launches the same kernels");
            assertEquals(first.gemms() * later, rest.gemms(), "every step runs the same GEMMs");
            assertEquals(first.hostSyncs() * later, rest.hostSyncs(), "every step synchronises the same");
            assertEquals(0, first.allocations() + rest.allocations(), "no driver allocation after two steps: the caching allocator serves all");
            assertTrue(before.allocations() > 0, "the first steps did allocate");
            return first;
        }
    }

    @Test
    void logisticRegressionStep() throws IOException {
        SimulatorTrace.Counts c = perStep(ModelSpec.logreg(784, 10), 0.5, 6);
        assertEquals(2, c.gemms(), "forward x W^T and the weight gradient (the input needs none)");
        assertTrue(c.hostSyncs() >= 1, "the loss is read back every step");
    }

    @Test
    void mlpSoakAndStep() throws IOException {
        SimulatorTrace.Counts c = perStep(ModelSpec.mlp(784, new int[] {64, 32}, 10), 0.05, 300); // narrow: the soak counts steps, not FLOPs
        assertEquals(8, c.gemms(), "3 forward GEMMs, 3 weight gradients, 2 input gradients");
    }
}
