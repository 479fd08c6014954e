package dev.wengert.tensor.cuda;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;

/**
 * The device check's first step (a few seconds): CUDA detection, one kernel and one cuBLAS GEMM with
 * their results checked. Prints {@code SMOKE OK <device>} and exits 0, or prints why and exits 1, so that
 * bench/device-check.sh stops before spending GPU minutes on a machine where CUDA does not work.
 * Usage: CudaSmoke [cuda:N]
 */
public final class CudaSmoke {
    private CudaSmoke() {
    }

    public static void main(String[] args) {
        Device device = Device.parse(args.length > 0 ? args[0] : "cuda:0");
        StringBuilder why = new StringBuilder();
        if (!Backends.isAvailable(device, why)) {
            System.out.println("SMOKE FAILED: CUDA is not usable: " + why);
            System.exit(1);
        }
        Backend be = Backends.of(device);
        try {
            Tensor x = Tensor.on(device).of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
            float[] added = x.add(1).toFloatArray();
            float[] product = x.matmul(false, x, true).toFloatArray();
            check("kernel x + 1", new float[] {2, 3, 4, 5, 6, 7}, added);
            check("GEMM x @ x^T", new float[] {14, 32, 32, 77}, product);
        } catch (RuntimeException | AssertionError e) {
            System.out.println("SMOKE FAILED on " + be + ": " + e);
            System.exit(1);
        }
        System.out.println("SMOKE OK " + be);
    }

    private static void check(String what, float[] expected, float[] actual) {
        if (!Arrays.equals(expected, actual)) {
            throw new AssertionError(what + ": expected " + Arrays.toString(expected) + ", got " + Arrays.toString(actual));
        }
    }
}
