package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * A soak through the real training path: the zoo MLP, Trainer.step on bundled MNIST batches in a Scope per
 * step (as Trainer.fit runs it), SGD with momentum, on the CPU. Memory must be flat: from step 100 on the
 * steps add no buffer and forget no tensor (checked every 1,000 steps and at the end) and the CPU backend
 * reserves no new memory (its pool serves every step from the cache).
 *
 * <p>The MLP is narrow (784-64-10, batch 32: 0.6-0.9 ms a step, 20,000 steps in 13-19 s on two shared cores)
 * so that the build runs all {@value #DEFAULT_STEPS} steps; the zoo's default 784-512-256-10 at batch 64 takes
 * the same code path at ~5 ms a step. {@code -Dwengert.soak.steps=N}, {@code -Dwengert.soak.hidden=512,256} and
 * {@code -Dwengert.soak.batch=64} change the soak (e.g. to run the default MLP).
 */
class TrainerSoakTest {
    static final int DEFAULT_STEPS = 20_000;
    private static final int WARM_UP = 100;

    @Test
    void theZooMlpTrainsThousandsOfStepsThroughTrainerWithFlatMemory() throws Exception {
        int steps = Integer.getInteger("wengert.soak.steps", DEFAULT_STEPS);
        int[] hidden = ModelSpec.parseSizes(System.getProperty("wengert.soak.hidden", "64"));
        int batchSize = Integer.getInteger("wengert.soak.batch", 32);
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), batchSize, true, 7, Device.CPU);
        Backend cpu = Backends.of(Device.CPU);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = ModelSpec.mlp(784, hidden, 10).build(7, DType.FLOAT32, Device.CPU);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.05, 0.9, false, 0)) {
            Trainer trainer = new Trainer(model, opt, null, null);
            LeakCheck check = null;
            long reservedAfterWarmUp = 0;
            long start = System.nanoTime();
            long warmStart = 0;
            double firstLoss = 0;
            double lossSum = 0;
            int lossCount = 0;
            int epoch = -1;
            BatchLoader.Epoch order = null;
            for (int step = 0; step < steps; step++) {
                int i = step % train.batchCount();
                if (i == 0) {
                    order = train.epoch(++epoch);
                }
                if (step == WARM_UP) {
                    reservedAfterWarmUp = cpu.memoryStats().reservedBytes();
                    check = LeakCheck.start();
                    warmStart = System.nanoTime();
                }
                double loss;
                try (Scope s = Scope.open()) {
                    loss = trainer.step(order.batch(i));
                }
                if (step < WARM_UP) {
                    firstLoss += loss / WARM_UP;
                } else if (step >= steps - WARM_UP) {
                    lossSum += loss;
                    lossCount++;
                }
                if (check != null && (step + 1) % 1000 == 0) {
                    assertEquals(0, check.growth(), "buffers added between steps " + WARM_UP + " and " + (step + 1));
                    assertEquals(reservedAfterWarmUp, cpu.memoryStats().reservedBytes(),
                            "bytes the CPU backend reserves (live + cached), step " + (step + 1));
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double lastLoss = lossSum / lossCount;
            System.out.printf(Locale.ROOT, "soak: %s batch %d, %d steps (%d epochs) in %.1f s (%.3f ms/step after warm-up); "
                            + "reserved %.1f MiB after warm-up and at the end; mean loss %.3f (first %d steps) -> %.4f (last %d)%n",
                    ModelSpec.mlp(784, hidden, 10).layout(), batchSize, steps, epoch + 1, seconds,
                    (System.nanoTime() - warmStart) / 1e6 / (steps - WARM_UP), cpu.memoryStats().reservedBytes() / 1048576.0,
                    firstLoss, WARM_UP, lastLoss, WARM_UP);
            check.assertNoLeak("steps " + WARM_UP + " to " + steps);
            assertEquals(reservedAfterWarmUp, cpu.memoryStats().reservedBytes(), "reserved bytes after " + steps + " steps");
            assertTrue(lastLoss < firstLoss / 2 && Double.isFinite(lastLoss), "training worked: loss " + firstLoss + " -> " + lastLoss);
        }
    }
}
