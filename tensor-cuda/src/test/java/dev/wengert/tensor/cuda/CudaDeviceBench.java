package dev.wengert.tensor.cuda;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;

/**
 * The device check's measurements (bench/device-check.sh), printed as {@code RESULT name value unit}
 * lines beside the same measurements in PyTorch (bench/reference/device_reference.py): SGEMM n=4096
 * (fp32, and TF32 when enabled), elementwise add of 16M floats, device-to-device copy. Medians of
 * timed repetitions, each synchronised. Usage: CudaDeviceBench [cuda:N] [quick]. {@code quick} runs every
 * measurement once at a small size (n=128, 64K elements), for the device check's quick mode on the CUDA
 * simulator; results measured on the simulator are marked so and are never GPU figures.
 */
public final class CudaDeviceBench {
    private CudaDeviceBench() {
    }

    interface Work {
        void run();
    }

    /** Median seconds per call of {@code w} over {@code reps} calls, after warm-up. */
    static double median(Backend be, int reps, Work w) {
        for (int i = 0; i < 3; i++) {
            w.run();
        }
        be.synchronize();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            w.run();
            be.synchronize();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    private static String marker = "";

    static void result(String name, double value, String unit) {
        System.out.printf(Locale.ROOT, "RESULT %s %.1f %s%s%n", name, value, unit, marker);
    }

    public static void main(String[] args) {
        Device device = Device.parse(args.length > 0 ? args[0] : "cuda:0");
        Backend be = Backends.of(device);
        System.out.println("wengert on " + be);
        boolean quick = args.length > 1 && args[1].equals("quick");
        marker = be.isSimulated() ? " (simulated: not a GPU figure)" : "";
        int reps = quick ? 1 : 10;
        int n = quick ? 128 : 4096;
        Tensor a = Tensor.on(device).randn(1, DType.FLOAT32, n, n);
        Tensor b = Tensor.on(device).randn(2, DType.FLOAT32, n, n);
        Tensor c = Tensor.on(device).zeros(DType.FLOAT32, n, n);
        double flop = 2.0 * n * n * n;
        CudaBackend cuda = (CudaBackend) be;
        boolean tf32 = cuda.isTf32Enabled();
        cuda.setTf32Enabled(false);
        result("sgemm_fp32_n4096", flop / median(be, reps, () -> be.matmul(a, false, b, false, c, false)) / 1e12, "TFLOP/s");
        cuda.setTf32Enabled(true);
        result("sgemm_tf32_n4096", flop / median(be, reps, () -> be.matmul(a, false, b, false, c, false)) / 1e12, "TFLOP/s");
        cuda.setTf32Enabled(tf32);

        int m = quick ? 64 << 10 : 16 << 20;
        Tensor x = Tensor.on(device).randn(3, DType.FLOAT32, m);
        Tensor y = Tensor.on(device).randn(4, DType.FLOAT32, m);
        Tensor z = Tensor.on(device).zeros(DType.FLOAT32, m);
        double bytes = 3.0 * 4 * m;
        result("add_16M_f32", bytes / median(be, quick ? 1 : 20, () -> be.binary(BinaryOp.ADD, x, y, z)) / 1e9, "GB/s");
        result("d2d_copy_16M_f32", 2.0 * 4 * m / median(be, quick ? 1 : 20, () -> be.broadcastTo(x, z)) / 1e9, "GB/s");
        double[] check = z.toDoubleArray();
        double[] want = x.toDoubleArray();
        if (check[m / 3] != want[m / 3]) {
            throw new AssertionError("copy result differs");
        }
        Tensor s = z.slice(0, 0, 1); // one element, made once: the timed call is exactly one kernel launch, as in PyTorch
        result("launch_small_add", 1e6 * median(be, quick ? 1 : 200, () -> be.binary(BinaryOp.ADD, s, s, s)), "us");
    }
}
