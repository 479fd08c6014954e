package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.io.IOException;
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

    /** SimulatorStepTraceTest's per-step counts, and that only the loss read synchronises. */
    private static SimulatorTrace.Counts perStep(ModelSpec spec, int steps) throws IOException {
        SimulatorTrace.Counts first = SimulatorStepTraceTest.perStep(spec, 0.05, steps);
        assertEquals(1, first.hostSyncs(), "only the loss read synchronises: no layer reads back to the host");
        assertEquals(2, first.copiesToDevice(), "the batch's features and labels");
        return first;
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
