package dev.wengert.autograd;

import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.Device;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * The table-driven gradient check of every primitive, in float64, on a CUDA device (system property
 * wengert.test.cuda, default 0): on a GPU where there is one (bench/device-check.sh runs it on the GPU
 * machine), and in every build on the CUDA simulator ({@link CudaTestDevice}), whose checkers must see
 * no fault.
 */
class CudaGradientTableTest extends GradientTableTest {
    @BeforeEach
    void requireCuda() {
        CudaTestDevice.assumeUsable("CudaGradientTableTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("CudaGradientTableTest");
    }

    @Override
    protected Device device() {
        return CudaTestDevice.DEVICE;
    }
}
