package dev.wengert.models.train;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import java.util.Arrays;
import java.util.Locale;

/**
 * Not a test: prints the median ms per training step (forward, cross-entropy, backward, SGD update, batch
 * upload included) for logreg and MLP 784-1024-1024-10 at batch 512. Run with OMP_WAIT_POLICY=PASSIVE:
 * java -cp models/target/classes:models/target/test-classes:$(cat models/target/classpath.txt) dev.wengert.models.train.StepTiming
 */
public final class StepTiming {
    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 512, true, 1, Device.CPU);
        for (ModelSpec spec : new ModelSpec[] {ModelSpec.logreg(784, 10), ModelSpec.mlp(784, new int[] {1024, 1024}, 10)}) {
            Sequential model;
            try (Scope s = Scope.open()) {
                model = spec.build(1, DType.FLOAT32, Device.CPU);
            }
            try (model; Sgd opt = new Sgd(model.parameters(), 0.1, 0.9, false, 0)) {
                Trainer t = new Trainer(model, opt, null, null);
                BatchLoader.Epoch e = train.epoch(0);
                double[] ms = new double[steps];
                for (int i = -10; i < steps; i++) {
                    try (Scope s = Scope.open()) {
                        long t0 = System.nanoTime();
                        t.step(e.batch(Math.floorMod(i, e.batches() - 1)));
                        if (i >= 0) {
                            ms[i] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                }
                Arrays.sort(ms);
                System.out.printf(Locale.ROOT, "%s batch 512: median %.2f ms/step (min %.2f, p90 %.2f) over %d steps%n",
                        spec, ms[steps / 2], ms[0], ms[steps * 9 / 10], steps);
            }
        }
    }
}
