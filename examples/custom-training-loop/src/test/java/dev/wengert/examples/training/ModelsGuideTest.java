package dev.wengert.examples.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code of the models guide in examples/README.md ("The models API in one page"): it runs, and learns. */
class ModelsGuideTest {

    @Test
    void trainerAndCheckpoint(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mlp.safetensors");
        long[] predicted;
        double valAccuracy;
        double accuracy;

        // ---- as in the guide (the checkpoint in a temporary folder)
        MnistData mnist = MnistData.embedded();                          // 8,000 + 2,000 real digits, bundled
        MnistData.HoldOut parts = mnist.train().holdOut(0.1, 1);         // 7,200 to train on, 800 to validate on
        BatchLoader train = BatchLoader.of(parts.train(), 64, true, 1, Device.CPU);
        BatchLoader val = BatchLoader.of(parts.validation(), 500, false, 0, Device.CPU);
        BatchLoader test = BatchLoader.of(mnist.test(), 500, false, 0, Device.CPU);
        ModelSpec spec = ModelSpec.mlp(784, new int[] {128}, 10);       // Linear 784-128, ReLU, Linear 128-10
        try (Sequential model = spec.build(1, DType.FLOAT32, Device.CPU);
             Optimizer adam = new Adam(model.parameters(), 1e-3)) {
            Trainer trainer = new Trainer(model, adam, LrSchedule.cosine(1e-3, 2, 1e-5), null);
            Trainer.FitResult fit = trainer.fit(train, val, 0, 2);      // epochs 0 and 1, validated after each
            Trainer.Evaluation onTest = Trainer.evaluate(model, test);  // the test set, once, at the end
            Checkpoint.save(file, model, spec, Map.of("epochs", "2"));
            // ---- end
            valAccuracy = fit.epochs().get(fit.epochs().size() - 1).valAccuracy();
            accuracy = onTest.accuracy();
            try (Scope s = Scope.open()) {
                predicted = Trainer.predict(model, test.epoch(0).batch(0).features());
            }
        }
        assertTrue(valAccuracy > 0.9, "validation accuracy " + valAccuracy);
        assertTrue(accuracy > 0.9, "test accuracy " + accuracy);

        try (Sequential model = Checkpoint.load(file, Device.CPU).model(); Scope s = Scope.open()) {
            assertArrayEquals(predicted, Trainer.predict(model, test.epoch(0).batch(0).features()));
        }
    }
}
