package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
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
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, null).fit(train, test, 1);
            opt.zeroGrad();
            epoch.assertNoLeak(spec + " on " + device);
            System.out.printf("CudaTrainingTest: %s on %s: loss %.4f, test accuracy %.2f%%%n", spec, device, r.get(0).trainLoss(),
                    100 * r.get(0).testAccuracy());
            return r.get(0).testAccuracy();
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
}
