package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dropout created for a CUDA device (its counter in device memory, masks from the dropout_mask kernel) on the
 * simulator against Dropout on the CPU (its counter on the host, masks composed from rand): the same masks
 * bit for bit with the same seed, the same random state, restored alike; evaluation and p = 0 draw nothing;
 * the device state is freed with the module. Runs only in the simulator execution.
 */
class SimulatorDropoutTest {
    private static final Device CUDA = CudaTestDevice.DEVICE;

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorDropoutTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorDropoutTest");
    }

    /** The output of a forward of x (float64 values of x's host copy) on each device, as doubles. */
    private static double[] forward(Dropout d, Tensor x) {
        try (Scope s = Scope.open()) {
            return d.forward(Var.constant(x)).value().toDoubleArray();
        }
    }

    @Test
    void cpuAndCudaDrawTheSameMasks() {
        LeakCheck leak = LeakCheck.start();
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (int[] shape : new int[][] {{37, 19}, {1003}, {0, 4}, {1}}) {
                try (Scope s = Scope.open(); Dropout cpu = new Dropout(0.5, 11); Dropout cuda = new Dropout(0.5, 11, CUDA)) {
                    assertFalse(cpu.drawsOnDevice());
                    assertTrue(cuda.drawsOnDevice());
                    Tensor xc = Tensor.on(Device.CPU).uniform(-2, 2, 5, dt, shape);
                    Tensor xg = xc.to(CUDA);
                    for (int n = 0; n < 3; n++) {
                        assertArrayEquals(forward(cpu, xc), forward(cuda, xg), dt + " mask " + (n + 1));
                    }
                    assertEquals(Map.of("seed", 11L, "calls", 3L), cuda.randomState());
                    assertEquals(cpu.randomState(), cuda.randomState());
                    cpu.eval();
                    cuda.eval();
                    assertArrayEquals(xc.toDoubleArray(), forward(cuda, xg), "evaluation: the identity");
                    assertEquals(3L, cuda.randomState().get("calls"), "evaluation draws no mask");
                    cpu.train(true);
                    cuda.train(true);
                    // A checkpoint's state written back: both continue from mask 41.
                    cpu.loadRandomState(Map.of("seed", 99L, "calls", 40L));
                    cuda.loadRandomState(Map.of("seed", 99L, "calls", 40L));
                    assertArrayEquals(forward(cpu, xc), forward(cuda, xg), dt + " mask 41 of seed 99");
                    assertEquals(Map.of("seed", 99L, "calls", 41L), cuda.randomState());
                }
            }
        }
        leak.assertNoLeak("dropout layers and their device state, closed");
    }

    /** The masks drop about p of the elements and scale the rest by 1/(1-p) (p = 0.25 and 0.75). */
    @Test
    void masksDropAboutPAndScaleTheRest() {
        for (double p : new double[] {0.25, 0.75}) {
            try (Scope s = Scope.open(); Dropout d = new Dropout(p, 5, CUDA)) {
                double[] y = forward(d, Tensor.on(CUDA).ones(DType.FLOAT64, 20000));
                long dropped = 0;
                for (double v : y) {
                    assertTrue(v == 0 || v == 1 / (1 - p), "only 0 and 1/(1-p): " + v);
                    dropped += v == 0 ? 1 : 0;
                }
                assertEquals(p, dropped / 20000.0, 0.02, "the fraction dropped");
            }
        }
    }

    /** p = 0: no device state, the identity, nothing counted; capture-safe. */
    @Test
    void pZeroDrawsNothing() {
        LeakCheck leak = LeakCheck.start();
        try (Scope s = Scope.open(); Dropout d = new Dropout(0, 3, CUDA)) {
            Var x = Var.constant(Tensor.on(CUDA).uniform(-1, 1, 1, DType.FLOAT32, 4, 5));
            assertSame(x, d.forward(x));
            assertEquals(Map.of("seed", 3L, "calls", 0L), d.randomState());
            assertTrue(d.drawsOnDevice());
        }
        leak.assertNoLeak("p = 0 allocates nothing");
    }

    /** An input on another device than the layer's state is refused naming both; close is idempotent. */
    @Test
    void anInputOnAnotherDeviceIsRefused() {
        Dropout d = new Dropout(0.5, 3, CUDA);
        try (Scope s = Scope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.forward(Var.constant(Tensor.on(Device.CPU).ones(DType.FLOAT32, 2))));
            assertTrue(e.getMessage().startsWith("Dropout(p=0.5): input float32[2] on cpu is not on cuda:0, where this layer's"
                    + " random state lives"), e.getMessage());
        }
        d.close();
        d.close();
        assertThrows(IllegalStateException.class, d::randomState, "closed: the state is gone");
    }
}
