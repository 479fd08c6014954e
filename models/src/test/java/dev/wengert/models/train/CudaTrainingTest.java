package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The zoo's models trained for one epoch through the Trainer (the {@code wengert train} path) on CUDA,
 * against the same run on the CPU from the same seed: the test accuracies agree within 0.5 points (the
 * GPU's summation order and cuBLAS differ from ND4J's, so the runs are not bit-identical), and an epoch
 * leaves no buffer behind. On a GPU and, in every build, on the CUDA simulator.
 */
class CudaTrainingTest {
    @BeforeEach
    void requireCuda() {
        CudaTestDevice.assumeUsable("CudaTrainingTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("CudaTrainingTest");
    }

    /** Test accuracy after one epoch of SGD (no momentum) on {@code device}; asserts the epoch leaked nothing. */
    static double oneEpoch(ModelSpec spec, double lr, Device device) throws IOException {
        MnistData data = MnistData.embedded();
        BatchLoader train = BatchLoader.of(data.train(), 64, true, 42, device);
        BatchLoader test = BatchLoader.of(data.test(), 1000, false, 0, device);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(42, DType.FLOAT32, device);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), lr)) {
            LeakCheck epoch = LeakCheck.start();
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, null).fit(train, test, 0, 1).epochs();
            opt.zeroGrad();
            epoch.assertNoLeak(spec + " on " + device);
            System.out.printf("CudaTrainingTest: %s on %s: loss %.4f, test accuracy %.2f%%%n", spec, device, r.get(0).trainLoss(),
                    100 * r.get(0).valAccuracy());
            return r.get(0).valAccuracy();
        }
    }

    private static void sameAccuracyAsTheCpu(ModelSpec spec, double lr, double atLeast) throws IOException {
        double cpu = oneEpoch(spec, lr, Device.CPU);
        double cuda = oneEpoch(spec, lr, CudaTestDevice.DEVICE);
        assertTrue(cpu >= atLeast, spec + " learned too little on the CPU: " + cpu);
        assertEquals(cpu, cuda, 0.005, spec + ": CUDA and CPU test accuracy after one epoch from the same seed");
    }

    @Test
    void logisticRegressionMatchesTheCpu() throws IOException {
        sameAccuracyAsTheCpu(ModelSpec.logreg(784, 10), 0.5, 0.85);
    }

    @Test
    void mlpMatchesTheCpu() throws IOException {
        sameAccuracyAsTheCpu(ModelSpec.mlp(784, new int[] {512, 256}, 10), 0.05, 0.85);
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i])), what + " element " + i + ": " + e[i] + " vs " + a[i]);
        }
    }

    /**
     * CUDA registers the optimizers' fused kernels; each matches its optimizer's composed update (the fallback
     * of a backend without it) on the same device, and the optimizer's {@code apply} runs the kernel.
     */
    @Test
    void fusedOptimizerKernelsMatchTheOptimizersComposedUpdates() {
        Device device = CudaTestDevice.DEVICE;
        TensorFactory on = Tensor.on(device);
        FusedKernel.SgdMomentum sgd = Backends.of(device).fused(FusedKernel.SGD_MOMENTUM).orElseThrow();
        FusedKernel.Adam adam = Backends.of(device).fused(FusedKernel.ADAM).orElseThrow();
        try (Scope s = Scope.open()) {
            for (int variant = 0; variant < 3; variant++) {
                boolean nesterov = variant == 1;
                double wd = variant == 2 ? 0.01 : 0;
                Tensor w1 = on.uniform(-1, 1, 1 + variant, DType.FLOAT64, 300, 130);
                Tensor w2 = w1.copy();
                Tensor w3 = w1.copy();
                Tensor v1 = on.uniform(-1, 1, 11 + variant, DType.FLOAT64, 300, 130);
                Tensor v2 = v1.copy();
                Tensor v3 = v1.copy();
                Tensor g = on.uniform(-1, 1, 21 + variant, DType.FLOAT64, 300, 130);
                sgd.step(w1, g, v1, 0.1, 0.9, wd, nesterov);
                Sgd.applyComposed(w2, g, v2, 0.1, 0.9, wd, nesterov);
                Sgd.apply(w3, g, v3, 0.1, 0.9, wd, nesterov);
                assertClose(w2, w1, 1e-12, "sgd param");
                assertClose(v2, v1, 1e-12, "sgd velocity");
                assertClose(w1, w3, 0, "Sgd.apply runs the kernel");
            }
            for (boolean decoupled : new boolean[] {false, true}) {
                Tensor w1 = on.uniform(-1, 1, 31, DType.FLOAT64, 40, 30);
                Tensor w2 = w1.copy();
                Tensor w3 = w1.copy();
                Tensor[] m = {on.zeros(DType.FLOAT64, 40, 30), on.zeros(DType.FLOAT64, 40, 30), on.zeros(DType.FLOAT64, 40, 30)};
                Tensor[] v = {on.zeros(DType.FLOAT64, 40, 30), on.zeros(DType.FLOAT64, 40, 30), on.zeros(DType.FLOAT64, 40, 30)};
                for (int step = 1; step <= 3; step++) {
                    Tensor g = on.uniform(-1, 1, 40 + step, DType.FLOAT64, 40, 30);
                    adam.step(w1, g, m[0], v[0], 1e-2, 0.9, 0.999, 1e-8, 0.01, step, decoupled);
                    Adam.applyComposed(w2, g, m[1], v[1], 1e-2, 0.9, 0.999, 1e-8, 0.01, step, decoupled);
                    Adam.apply(w3, g, m[2], v[2], 1e-2, 0.9, 0.999, 1e-8, 0.01, step, decoupled);
                }
                assertClose(w2, w1, 1e-12, "adam param");
                assertClose(m[1], m[0], 1e-12, "adam m");
                assertClose(v[1], v[0], 1e-12, "adam v");
                assertClose(w1, w3, 0, "Adam.apply runs the kernel");
            }
        }
    }
}
