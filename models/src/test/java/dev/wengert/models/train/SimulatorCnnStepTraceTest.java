package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.Backends;
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
 * What one training step of the zoo's CNNs costs a GPU, counted by the CUDA simulator's stand-in driver (as
 * {@link SimulatorStepTraceTest} does for logreg and the MLP): kernels, GEMMs, copies, host synchronisations and
 * driver allocations of Trainer.step (batch 64, SGD) from the third step on. The counts are deterministic, so
 * the test holds that every later step counts the same, that the step synchronises with the host only for the
 * loss, and that the caching allocator serves every buffer after two steps; the figures are printed for
 * bench/RESULTS.md. Runs only in the simulator execution.
 */
class SimulatorCnnStepTraceTest {

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorCnnStepTraceTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorCnnStepTraceTest");
    }

    private static SimulatorTrace.Counts perStep(ModelSpec spec, int steps) throws IOException {
        Backends.of(CudaTestDevice.DEVICE).releaseCache();
        BatchLoader train = BatchLoader.of(MnistData.embedded().train(), 64, true, 42, CudaTestDevice.DEVICE);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(42, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.05)) {
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
                    trainer.step(epoch.batch(i));
                }
                if (i == 2) {
                    first = SimulatorTrace.read();
                    SimulatorTrace.reset();
                }
            }
            SimulatorTrace.Counts rest = SimulatorTrace.read();
            leak.assertNoLeak(spec + ", steps 3 to " + steps);
            Map<String, Long> kernels = SimulatorTrace.kernelCounts();
            System.out.printf("SimulatorCnnStepTraceTest: %s, one step (batch 64, SGD): %d kernels, %d GEMMs, %d H2D, %d D2H, %d D2D copies,"
                    + " %d memsets, %d host syncs, %d driver allocations; kernels over steps 4-%d: %s%n", spec, first.kernels(),
                    first.gemms(), first.copiesToDevice(), first.copiesToHost(), first.copiesOnDevice(), first.memsets(),
                    first.hostSyncs(), first.allocations(), steps, kernels);
            long later = steps - 3;
            assertEquals(first.kernels() * later, rest.kernels(), "every step launches the same kernels");
            assertEquals(first.gemms() * later, rest.gemms(), "every step runs the same GEMMs");
            assertEquals(first.copiesOnDevice() * later, rest.copiesOnDevice(), "every step copies the same on the device");
            assertEquals(first.hostSyncs() * later, rest.hostSyncs(), "every step synchronises the same");
            assertEquals(1, first.hostSyncs(), "only the loss read synchronises: no layer reads back to the host");
            assertEquals(2, first.copiesToDevice(), "the batch's features and labels");
            assertEquals(0, first.allocations() + rest.allocations(), "no driver allocation after two steps: the caching allocator serves all");
            assertTrue(before.allocations() > 0, "the first steps did allocate");
            return first;
        }
    }

    @Test
    void lenet5Step() throws IOException {
        SimulatorTrace.Counts c = perStep(ModelSpec.lenet5(784, 10), 5);
        assertTrue(c.gemms() >= 3 + 3 + 2, "three dense layers forward and back, two convolutions' weight gradients at least: " + c);
    }

    @Test
    void convnetSteps() throws IOException {
        SimulatorTrace.Counts plain = perStep(ModelSpec.convnet(784, 10, false, 0), 5);
        SimulatorTrace.Counts full = perStep(ModelSpec.convnet(784, 10, true, 0.25), 5);
        assertEquals(plain.gemms(), full.gemms(), "batch norm and dropout add kernels, not GEMMs");
        assertTrue(full.kernels() > plain.kernels(), "batch norm and dropout launch kernels of their own");
    }
}
