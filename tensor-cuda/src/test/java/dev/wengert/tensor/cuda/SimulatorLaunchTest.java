package dev.wengert.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What individual operations launch, counted by the CUDA simulator's driver (simulator execution only):
 * work that needs no kernel launches none, and the trace itself counts what it claims.
 */
class SimulatorLaunchTest {
    private Scope scope;

    @BeforeEach
    void open() {
        CudaTestDevice.assumeUsable("SimulatorLaunchTest");
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        if (scope != null) {
            scope.close();
        }
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorLaunchTest");
    }

    /** The trace of {@code op} alone (inputs made before, nothing read back). */
    private static SimulatorTrace.Counts traceOf(Supplier<Tensor> op) {
        SimulatorTrace.Counts before = SimulatorTrace.read();
        op.get();
        return SimulatorTrace.read().minus(before);
    }

    @Test
    void aReductionOverOnlySizeOneAxesIsOneDeviceCopy() {
        Tensor x = Tensor.on(CudaTestDevice.DEVICE).randn(1, DType.FLOAT32, 300, 1, 7, 1);
        SimulatorTrace.Counts c = traceOf(() -> x.sum(false, 1, 3));
        assertEquals(0, c.launches(), "no kernel for a reduction that reduces nothing: " + c);
        assertEquals(1, c.copiesOnDevice(), c.toString());
    }

    @Test
    void emptyTensorsLaunchNothing() {
        Tensor x = Tensor.on(CudaTestDevice.DEVICE).zeros(DType.FLOAT32, 0, 33, 65);
        SimulatorTrace.Counts c = traceOf(() -> x.permute(0, 2, 1));
        assertEquals(0, c.launches(), "transposing an empty batch: " + c);
    }

    @Test
    void theTraceCountsKernelsGemmsAndSynchronisingReads() {
        Tensor a = Tensor.on(CudaTestDevice.DEVICE).randn(2, DType.FLOAT32, 8, 8);
        SimulatorTrace.Counts c = traceOf(() -> a.matmul(a).add(a));
        assertEquals(1, c.gemms(), c.toString());
        assertEquals(1, c.kernels(), c.toString());
        assertEquals(0, c.hostSyncs(), "launches are asynchronous: " + c);
        SimulatorTrace.Counts read = traceOf(() -> {
            a.toFloatArray();
            return a;
        });
        assertEquals(1, read.copiesToHost(), read.toString());
        assertTrue(read.hostSyncs() >= 1, "a read-back waits for the device: " + read);
    }
}
