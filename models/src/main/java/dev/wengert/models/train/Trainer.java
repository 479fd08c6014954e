package dev.wengert.models.train;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The classification training loop: softmax cross-entropy, one optimizer step per batch, test accuracy
 * after each epoch. Each step runs in its own {@link Scope} ({@link #step} opens it), so nothing but the
 * parameters, their gradients and the optimizer state outlives it; {@link #fit} opens one more per batch for
 * the batch's tensors. Modifies the model's parameters and the optimizer.
 */
public final class Trainer {

    /** Observes training; every method has an empty default. */
    public interface Listener {
        /** After each step: 1-based step within the epoch, the batch's loss, samples seen this epoch. */
        default void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
        }

        default void epochStart(int epoch, int steps) {
        }

        default void epochEnd(EpochResult result) {
        }
    }

    /** One epoch's figures: mean training loss, test accuracy in [0, 1], seconds (training / evaluation). */
    public record EpochResult(int epoch, double trainLoss, double testAccuracy, double trainSeconds, double evalSeconds,
            double samplesPerSecond, double lr) {
    }

    private final Module model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final Listener listener;

    public Trainer(Module model, Optimizer optimizer, LrSchedule schedule, Listener listener) {
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule == null ? LrSchedule.constant(optimizer.lr()) : schedule;
        this.listener = listener == null ? new Listener() { } : listener;
    }

    /**
     * One training step on a batch: forward, loss, backward, update. Returns the loss. The step runs in a
     * {@link Scope} of its own: everything it computes (activations, adjoints, the loss) is freed when it
     * returns, whether or not the caller has a scope open, and its backward pass holds the parameters'
     * gradients (see {@link Var}'s threads rule) until then. Only the parameters, their gradients and the
     * optimizer state outlive it; the batch stays the caller's.
     */
    public double step(BatchLoader.Batch batch) {
        try (Scope step = Scope.open()) {
            optimizer.zeroGrad();
            Var loss = Losses.crossEntropy(model.forward(Var.constant(batch.features())), batch.labels());
            loss.backward();
            optimizer.step();
            return loss.item();
        }
    }

    /** Trains {@code epochs} epochs (0-based epoch index e uses the loader's e-th order). */
    public List<EpochResult> fit(BatchLoader train, BatchLoader test, int epochs) {
        List<EpochResult> results = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            optimizer.setLr(schedule.lr(e));
            model.train(true);
            BatchLoader.Epoch epoch = train.epoch(e);
            int steps = epoch.batches();
            listener.epochStart(e + 1, steps);
            long start = System.nanoTime();
            double lossSum = 0;
            long samples = 0;
            for (int i = 0; i < steps; i++) {
                try (Scope batchScope = Scope.open()) {     // the batch; step(b) has its own
                    BatchLoader.Batch b = epoch.batch(i);
                    double loss = step(b);
                    lossSum += loss * b.size();
                    samples += b.size();
                    listener.step(e + 1, i + 1, steps, loss, samples, System.nanoTime() - start);
                }
            }
            double trainSeconds = (System.nanoTime() - start) / 1e9;
            long evalStart = System.nanoTime();
            double acc = accuracy(model, test);
            double evalSeconds = (System.nanoTime() - evalStart) / 1e9;
            EpochResult r = new EpochResult(e + 1, lossSum / samples, acc, trainSeconds, evalSeconds, samples / trainSeconds,
                    optimizer.lr());
            results.add(r);
            listener.epochEnd(r);
        }
        return results;
    }

    /** Fraction of samples whose arg-max prediction equals the label, in evaluation mode without recording. */
    public static double accuracy(Module model, BatchLoader data) {
        boolean wasTraining = model.isTraining();
        model.eval();
        long correct = 0;
        try (Grad.Mode off = Grad.noGrad()) {
            BatchLoader.Epoch epoch = data.epoch(0);
            for (int i = 0; i < epoch.batches(); i++) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch b = epoch.batch(i);
                    long[] predicted = predict(model, b.features());
                    long[] labels = b.labels().toLongArray();
                    for (int k = 0; k < labels.length; k++) {
                        correct += predicted[k] == labels[k] ? 1 : 0;
                    }
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return (double) correct / data.size();
    }

    /** Arg-max class of each row of {@code features} (not recorded). */
    public static long[] predict(Module model, Tensor features) {
        try (Grad.Mode off = Grad.noGrad(); Scope s = Scope.open()) {
            return model.forward(Var.constant(features)).value().argmax(1, false).toLongArray();
        }
    }
}
