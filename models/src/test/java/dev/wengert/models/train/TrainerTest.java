package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.MemoryWatch;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    /**
     * Two epochs of the command's logreg defaults (SGD lr 0.5, batch 64) on the bundled data: >= 88%
     * (typically ~90.8%); epoch 2 leaves no buffer behind. Tensors forgotten before (as an earlier test
     * class in this JVM might) are collected by the Cleaner during epoch 2: the leak check must not see
     * them (it did when it read the process-wide live-buffer count, and failed now and then).
     */
    @Test
    void logisticRegressionLearnsTheBundledDigits() throws Exception {
        MemoryWatch earlierLeak = MemoryWatch.start();
        List<Tensor> leak = new ArrayList<>(); // unreachable from epoch 2 on, never closed
        for (int i = 0; i < 32; i++) {
            leak.add(Tensor.zeros(DType.FLOAT32, 10));
        }
        earlierLeak.close();
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 64, true, 42, Device.CPU);
        BatchLoader test = BatchLoader.of(m.test(), 1000, false, 0, Device.CPU);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = ModelSpec.logreg(784, 10).build(42, DType.FLOAT32, Device.CPU);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.5)) {
            double before = Trainer.accuracy(model, test);
            LeakCheck[] epoch2 = new LeakCheck[1];
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, new Trainer.Listener() {
                @Override
                public void epochStart(int epoch, int steps) {
                    if (epoch == 2) {
                        epoch2[0] = LeakCheck.start();
                        leak.clear();
                        collectGarbageUntilFreed(earlierLeak);
                    }
                }

                @Override
                public void epochEnd(Trainer.EpochResult result) {
                    if (result.epoch() == 2) {
                        epoch2[0].assertNoLeak("epoch 2");
                    }
                }
            }).fit(train, test, 2);
            assertEquals(2, r.size());
            assertTrue(before < 0.3, "untrained accuracy " + before);
            assertTrue(r.get(1).trainLoss() < r.get(0).trainLoss(), "loss must fall: " + r);
            assertTrue(r.get(1).testAccuracy() >= 0.88, "test accuracy after 2 epochs: " + r.get(1).testAccuracy());
            assertEquals(r.get(1).testAccuracy(), Trainer.accuracy(model, test));
        }
        assertEquals(32, earlierLeak.forgottenTensors(), "the planted leak was collected during epoch 2");
    }

    /**
     * Trainer.step opens its own scope: called without any scope open it leaves nothing alive and forgets no
     * tensor, and called inside a caller's scope it leaves nothing in that scope (the caller's batch stays).
     */
    @Test
    void stepOwnsItsScope() throws Exception {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 32, false, 0, Device.CPU);
        Sequential model;
        BatchLoader.Batch b;
        try (Scope s = Scope.open()) {
            model = ModelSpec.mlp(784, new int[] {16}, 10).build(5, DType.FLOAT32, Device.CPU);
            BatchLoader.Batch inScope = train.epoch(0).batch(0);
            b = new BatchLoader.Batch(inScope.features().keepForever(), inScope.labels().keepForever());
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.1, 0.9, false, 0);
                Tensor features = b.features(); Tensor labels = b.labels()) {
            Trainer trainer = new Trainer(model, opt, null, null);
            double first = trainer.step(b);              // allocates the gradients and the momentum buffers
            LeakCheck noScope = LeakCheck.start();
            double second = trainer.step(b);             // no scope open on this thread
            noScope.assertNoLeak("Trainer.step without a caller's scope");
            assertTrue(second < first, first + " -> " + second);
            LeakCheck inScope = LeakCheck.start();
            try (Scope caller = Scope.open()) {
                Tensor mine = Tensor.zeros(DType.FLOAT32, 3);
                int owned = caller.ownedCount();
                double third = trainer.step(b);
                assertEquals(owned, caller.ownedCount(), "the step left tensors in the caller's scope");
                assertTrue(third < second, second + " -> " + third);
                assertEquals(0.0, mine.sum().item(), "the caller's tensors are untouched");
            }
            inScope.assertNoLeak("Trainer.step inside a caller's scope");
            model.zeroGrad();
        }
    }

    private static void collectGarbageUntilFreed(MemoryWatch leak) {
        for (int i = 0; i < 200 && leak.netBuffers() > 0; i++) {
            System.gc();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
