package dev.wengert.autograd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.wengert.tensor.Backends;
import dev.wengert.tensor.Device;
import org.junit.jupiter.api.BeforeAll;

/**
 * The table-driven gradient check of every primitive, in float64, on a CUDA device (system property
 * wengert.test.cuda, default 0). Skipped, saying why, where no GPU is present; bench/device-check.sh
 * runs it on the GPU machine.
 */
class CudaGradientTableTest extends GradientTableTest {
    private static final Device DEVICE = Device.cuda(Integer.getInteger("wengert.test.cuda", 0));

    @BeforeAll
    static void requireGpu() {
        StringBuilder why = new StringBuilder();
        boolean ok = Backends.isAvailable(DEVICE, why);
        System.out.println(ok ? "CudaGradientTableTest on " + DEVICE : "CudaGradientTableTest skipped: " + why);
        assumeTrue(ok, () -> "no usable CUDA device: " + why);
    }

    @Override
    protected Device device() {
        return DEVICE;
    }
}
