package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BatchNorm1d/BatchNorm2d on the CUDA backend (run on the CUDA simulator in the {@code cuda-simulator}
 * execution, or on a GPU) against the same module on the CPU: training batches (output, gradients of
 * sum(y * g) for the input, weight and bias, running statistics, num_batches_tracked), then an evaluation
 * batch; channel counts that are not a multiple of 32, size-1 axes, float32 and float64, NaN. And what one
 * training step of BatchNorm2d costs in launches (deterministic counts, printed for the record).
 */
class SimulatorBatchNormTest {

    @BeforeEach
    void requireCuda() {
        CudaTestDevice.assumeUsable("SimulatorBatchNormTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorBatchNormTest");
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(new int[] {37, 5}, DType.FLOAT32),
                Arguments.of(new int[] {3, 4, 10}, DType.FLOAT64),
                Arguments.of(new int[] {5, 33, 3, 7}, DType.FLOAT32),
                Arguments.of(new int[] {5, 33, 3, 7}, DType.FLOAT64),
                Arguments.of(new int[] {2, 3, 1, 1}, DType.FLOAT64),
                Arguments.of(new int[] {1, 2, 1, 9}, DType.FLOAT32));
    }

    private static BatchNorm module(int[] shape, DType dtype, Device device) {
        try (Scope s = Scope.open()) {
            BatchNorm bn = shape.length == 4 ? new BatchNorm2d(shape[1], 1e-5, 0.2, true, true, dtype, device)
                    : new BatchNorm1d(shape[1], 1e-5, 0.2, true, true, dtype, device);
            bn.weight().value().assign(Tensor.on(device).uniform(0.5, 1.5, 3, dtype, shape[1]));
            bn.bias().value().assign(Tensor.on(device).uniform(-1, 1, 4, dtype, shape[1]));
            return bn;
        }
    }

    /** Per batch: y, grad x, grad weight, grad bias, running_mean, running_var, num_batches_tracked; then eval's y and grad x. */
    private static List<double[]> run(int[] shape, DType dtype, Device device) {
        List<double[]> out = new ArrayList<>();
        try (BatchNorm bn = module(shape, dtype, device)) {
            for (int batch = 0; batch < 3; batch++) {
                bn.train(batch < 2);
                bn.zeroGrad();
                try (Scope s = Scope.open()) {
                    Var x = Var.param(Tensor.on(device).randn(10 + batch, dtype, shape).mul(1 + batch).add(batch - 0.5));
                    Var y = bn.forward(x);
                    y.mul(Var.constant(Tensor.on(device).randn(20 + batch, dtype, shape))).sum().backward();
                    out.add(y.value().toDoubleArray());
                    out.add(x.gradTensor().toDoubleArray());
                    out.add(bn.weight().gradTensor().toDoubleArray());
                    out.add(bn.bias().gradTensor().toDoubleArray());
                    out.add(bn.runningMean().toDoubleArray());
                    out.add(bn.runningVar().toDoubleArray());
                    out.add(new double[] {bn.numBatchesTracked().toLongArray()[0]});
                }
            }
            bn.zeroGrad();
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void matchesTheCpu(int[] shape, DType dtype) {
        List<double[]> cpu = run(shape, dtype, Device.CPU);
        LeakCheck leak = LeakCheck.start();
        List<double[]> cuda = run(shape, dtype, CudaTestDevice.DEVICE);
        leak.assertNoLeak("BatchNorm " + Arrays.toString(shape));
        double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-11;
        String[] what = {"y", "grad x", "grad weight", "grad bias", "running_mean", "running_var", "num_batches_tracked"};
        for (int k = 0; k < cpu.size(); k++) {
            double[] want = cpu.get(k);
            double[] got = cuda.get(k);
            String at = Arrays.toString(shape) + " " + dtype + ", batch " + k / what.length + ", " + what[k % what.length];
            assertEquals(want.length, got.length, at);
            double scale = Arrays.stream(want).map(Math::abs).max().orElse(1);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], tol * Math.max(1, scale), at + "[" + i + "]");
            }
        }
    }

    @Test
    void nanStaysInItsChannel() {
        try (BatchNorm1d bn = new BatchNorm1d(2, DType.FLOAT32, CudaTestDevice.DEVICE); Scope s = Scope.open()) {
            double[] y = bn.forward(Var.constant(Tensor.on(CudaTestDevice.DEVICE).of(new float[] {Float.NaN, 1, 2, 3}, 2, 2)))
                    .value().toDoubleArray();
            assertTrue(Double.isNaN(y[0]) && Double.isNaN(y[2]), Arrays.toString(y));
            assertEquals(-1, y[1], 1e-4);
            assertEquals(1, y[3], 1e-4);
            assertTrue(Double.isNaN(bn.runningMean().toDoubleArray()[0]));
        }
    }

    /**
     * One training forward and backward of BatchNorm2d(32) on [64, 32, 8, 8] float32 (loss: the sum of y * g),
     * counted by the simulator: the same every call, and printed for the record.
     */
    @Test
    void launchesOfOneTrainingStep() {
        Device dev = CudaTestDevice.DEVICE;
        try (BatchNorm2d bn = new BatchNorm2d(32, DType.FLOAT32, dev); Scope s = Scope.open()) {
            Tensor xs = Tensor.on(dev).randn(1, DType.FLOAT32, 64, 32, 8, 8);
            Tensor g = Tensor.on(dev).randn(2, DType.FLOAT32, 64, 32, 8, 8);
            SimulatorTrace.Counts[] counts = new SimulatorTrace.Counts[3];
            SimulatorTrace.Counts[] forward = new SimulatorTrace.Counts[3];
            java.util.Map<String, Long> names = null;
            for (int i = 0; i < 3; i++) {
                bn.zeroGrad();
                try (Scope step = Scope.open()) {
                    Var x = Var.param(xs);
                    SimulatorTrace.reset();
                    Var y = bn.forward(x);
                    forward[i] = SimulatorTrace.read();
                    y.mul(Var.constant(g)).sum().backward();
                    counts[i] = SimulatorTrace.read();
                    names = SimulatorTrace.kernelCounts();
                }
            }
            bn.eval();
            SimulatorTrace.reset();
            try (Scope step = Scope.open()) {
                bn.forward(Var.constant(xs));
            }
            SimulatorTrace.Counts eval = SimulatorTrace.read();
            System.out.printf("SimulatorBatchNormTest: BatchNorm2d(32) on [64, 32, 8, 8] float32, training: forward %d kernels,"
                    + " %d host syncs (running statistics included), forward + backward of sum(y g) %d kernels, %d GEMMs, %d host syncs, %d D2D"
                    + " copies; evaluation forward %d kernels; kernels by name: %s%n", forward[2].kernels(), forward[2].hostSyncs(), counts[2].kernels(),
                    counts[2].gemms(), counts[2].hostSyncs(), counts[2].copiesOnDevice(), eval.kernels(), names);
            assertEquals(counts[1].kernels(), counts[2].kernels(), "every step launches the same kernels");
            assertEquals(forward[1].kernels(), forward[2].kernels());
            assertEquals(0, counts[2].hostSyncs(), "momentum given: neither pass reads anything back to the host");
            assertEquals(4, forward[2].kernels(), "the training forward: the batch-norm kernel, the running statistics' kernel and"
                    + " num_batches_tracked's increment (a fill and an add): " + names);
            assertEquals(1L, names.get("batch_norm_f32"), "one forward kernel: " + names);
            assertEquals(1L, names.get("batch_norm_bwd_f32"), "one backward kernel: " + names);
            assertEquals(1L, names.get("batch_norm_running_f32"), "one running-statistics kernel: " + names);
        }
    }
}
