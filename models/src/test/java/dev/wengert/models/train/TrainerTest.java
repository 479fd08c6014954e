package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    /** Two epochs of the command's logreg defaults (SGD lr 0.5, batch 64) on the bundled data: >= 88% (typically ~90.8%). */
    @Test
    void logisticRegressionLearnsTheBundledDigits() throws Exception {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 64, true, 42, Device.CPU);
        BatchLoader test = BatchLoader.of(m.test(), 1000, false, 0, Device.CPU);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = ModelSpec.logreg(784, 10).build(42, DType.FLOAT32, Device.CPU);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.5)) {
            double before = Trainer.accuracy(model, test);
            long[] live = new long[1];
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, new Trainer.Listener() {
                @Override
                public void epochStart(int epoch, int steps) {
                    if (epoch == 2) {
                        live[0] = Backends.of(Device.CPU).memoryStats().liveBuffers();
                    }
                }

                @Override
                public void epochEnd(Trainer.EpochResult result) {
                    if (result.epoch() == 2) {
                        assertEquals(live[0], Backends.of(Device.CPU).memoryStats().liveBuffers(), "an epoch leaked tensors");
                    }
                }
            }).fit(train, test, 2);
            assertEquals(2, r.size());
            assertTrue(before < 0.3, "untrained accuracy " + before);
            assertTrue(r.get(1).trainLoss() < r.get(0).trainLoss(), "loss must fall: " + r);
            assertTrue(r.get(1).testAccuracy() >= 0.88, "test accuracy after 2 epochs: " + r.get(1).testAccuracy());
            assertEquals(r.get(1).testAccuracy(), Trainer.accuracy(model, test));
        }
    }
}
