package dev.wengert.examples.training;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Init;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A training loop written out (what {@code dev.wengert.models.train.Trainer} does for you): a small MLP
 * learns to tell points inside a circle from points on a ring around it, a data set generated here.
 * Each step runs in a {@link Scope}, so the batch, the activations and everything the backward pass
 * computes are freed when the step ends; only the parameters, their gradients and the optimizer state
 * live on.
 */
public final class CustomTrainingLoop {

    /** Mean training loss of each epoch, and the accuracy on held-out points after the last one. */
    public record Result(List<Double> epochLosses, double testAccuracy) {
    }

    /** {@code count} points in 2-D: class 0 within radius 1, class 1 on the ring between radii 1.5 and 2. */
    record Points(float[] features, long[] labels) {
        static Points generate(int count, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            float[] xy = new float[2 * count];
            long[] labels = new long[count];
            for (int i = 0; i < count; i++) {
                labels[i] = i % 2;
                double radius = labels[i] == 0 ? random.nextDouble(0, 1) : random.nextDouble(1.5, 2);
                double angle = random.nextDouble(0, 2 * Math.PI);
                xy[2 * i] = (float) (radius * Math.cos(angle));
                xy[2 * i + 1] = (float) (radius * Math.sin(angle));
            }
            return new Points(xy, labels);
        }
    }

    public static Result train(int epochs, long seed) {
        Points train = Points.generate(2000, seed);
        Points test = Points.generate(500, seed + 1);
        BatchLoader trainBatches = new BatchLoader(train.features(), train.labels(), 2, 32, true, seed, Device.CPU);
        BatchLoader testBatches = new BatchLoader(test.features(), test.labels(), 2, 250, false, 0, Device.CPU);

        try (Sequential model = new Sequential(
                new Linear(2, 16, Init.KAIMING_UNIFORM, seed, DType.FLOAT32, Device.CPU),
                new ReLU(),
                new Linear(16, 2, Init.XAVIER_UNIFORM, seed + 1, DType.FLOAT32, Device.CPU));
             Optimizer optimizer = new Adam(model.parameters(), 0.01)) {
            List<Double> epochLosses = new ArrayList<>();
            for (int e = 0; e < epochs; e++) {
                BatchLoader.Epoch epoch = trainBatches.epoch(e);   // a new shuffle each epoch
                double lossSum = 0;
                for (int i = 0; i < epoch.batches(); i++) {
                    try (Scope step = Scope.open()) {
                        BatchLoader.Batch batch = epoch.batch(i);
                        optimizer.zeroGrad();
                        Var logits = model.forward(Var.constant(batch.features()));
                        Var loss = Losses.crossEntropy(logits, batch.labels());
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item() * batch.size();
                    }
                }
                epochLosses.add(lossSum / trainBatches.size());
            }
            return new Result(epochLosses, accuracy(model, testBatches));
        }
    }

    /** The fraction of points whose most likely class is their label; nothing is recorded for backward. */
    static double accuracy(Sequential model, BatchLoader data) {
        model.eval();
        long correct = 0;
        try (Grad.Mode off = Grad.noGrad()) {
            BatchLoader.Epoch epoch = data.epoch(0);
            for (int i = 0; i < epoch.batches(); i++) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch batch = epoch.batch(i);
                    long[] predicted = model.forward(Var.constant(batch.features())).value().argmax(1, false).toLongArray();
                    long[] labels = batch.labels().toLongArray();
                    for (int k = 0; k < labels.length; k++) {
                        correct += predicted[k] == labels[k] ? 1 : 0;
                    }
                }
            }
        } finally {
            model.train(true);
        }
        return (double) correct / data.size();
    }

    public static void main(String[] args) {
        Result result = train(10, 42);
        for (int e = 0; e < result.epochLosses().size(); e++) {
            System.out.printf("epoch %2d  loss %.4f%n", e + 1, result.epochLosses().get(e));
        }
        System.out.printf("test accuracy %.3f%n", result.testAccuracy());
    }
}
