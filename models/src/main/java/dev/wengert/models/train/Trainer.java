package dev.wengert.models.train;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The classification training loop: softmax cross-entropy, one optimizer step per batch, and after each
 * epoch the loss and accuracy on a validation set (the test set is the caller's, for one
 * {@link #evaluate} at the end). Each step runs in its own {@link Scope} ({@link #step} opens it), so
 * nothing but the parameters, their gradients and the optimizer state outlives it; {@link #fit} opens one
 * more per batch for the batch's tensors. Modifies the model's parameters, its random state (dropout
 * masks drawn) and the optimizer.
 *
 * <p>{@link #fit} runs epochs [start, end), so a run restored from a {@link TrainingCheckpoint} continues
 * where it stopped; {@link #requestStop} ends it after the current step; a non-finite loss ends it with a
 * {@link TrainingDivergedException}. The loss is watched on the device: fit reads it back only where the
 * listener asks for it ({@link Listener#stepInterval}) and once at the end of each epoch, so watching it
 * costs no host synchronisation.
 */
public final class Trainer {

    /** Observes training; every method has a default. */
    public interface Listener {
        /**
         * How often {@link #step} is called: after every n-th step of an epoch and after its last; 0 for
         * never. Each call reads the loss back from the device (a host synchronisation, which on a GPU
         * waits for the queued work), and divergence is noticed at these reads and at each epoch's end.
         * Read once, when fit starts. Default 1: every step.
         */
        default int stepInterval() {
            return 1;
        }

        /** After a step (see {@link #stepInterval}): 1-based step within the epoch, that batch's loss, samples seen this epoch. */
        default void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
        }

        /** Before the first step of a 1-based epoch. */
        default void epochStart(int epoch, int steps) {
        }

        /** After an epoch's steps and its validation: the place to checkpoint (see {@link RunCheckpoints}). */
        default void epochEnd(EpochResult result) {
        }

        /** Something the user should know about how fit runs, e.g. whether its steps replay a CUDA graph and why not. */
        default void notice(String message) {
        }
    }

    /**
     * One finished epoch's figures.
     *
     * @param epoch 1-based epoch
     * @param trainLoss mean training loss over the epoch's samples (weights changing as it went)
     * @param valLoss mean cross-entropy on the validation set after the epoch (NaN without one)
     * @param valAccuracy accuracy in [0, 1] on the validation set after the epoch (NaN without one)
     * @param trainSeconds time of the epoch's steps
     * @param evalSeconds time of the validation
     * @param samplesPerSecond training throughput
     * @param lr the epoch's learning rate
     */
    public record EpochResult(int epoch, double trainLoss, double valLoss, double valAccuracy, double trainSeconds,
            double evalSeconds, double samplesPerSecond, double lr) {

        /** This result with the times and the throughput set to 0: what two runs of the same steps share. */
        public EpochResult withoutTimes() {
            return new EpochResult(epoch, trainLoss, valLoss, valAccuracy, 0, 0, 0, lr);
        }
    }

    /**
     * What {@link #fit(BatchLoader, BatchLoader, int, int)} did.
     *
     * @param epochs the epochs it finished, in order
     * @param epochsFinished epochs finished in the whole run (the start epoch plus those): the 0-based index
     *     of the epoch a resumed run starts with
     * @param interrupted true when {@link #requestStop} ended it before the end epoch
     * @param abandonedSteps when interrupted, the steps taken of the epoch it abandoned (0 when it stopped
     *     between epochs); the model and the optimizer hold their updates, which no checkpoint has
     */
    public record FitResult(List<EpochResult> epochs, int epochsFinished, boolean interrupted, int abandonedSteps) {
        public FitResult {
            epochs = List.copyOf(epochs);
        }
    }

    /**
     * Loss and accuracy of a model on a data set.
     *
     * @param loss mean cross-entropy (NaN for an empty set)
     * @param accuracy fraction of arg-max predictions equal to the label (NaN for an empty set)
     * @param samples the set's size
     */
    public record Evaluation(double loss, double accuracy, long samples) {
    }

    private final Module model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final Listener listener;
    private final int stepInterval;
    private volatile boolean stopRequested;
    private boolean cudaGraphs;

    /**
     * @param schedule learning rate per epoch; null for the optimizer's learning rate throughout
     * @param listener null for none (then fit reads the loss back only once per epoch)
     */
    public Trainer(Module model, Optimizer optimizer, LrSchedule schedule, Listener listener) {
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule == null ? LrSchedule.constant(optimizer.lr()) : schedule;
        this.listener = listener == null ? new Listener() { } : listener;
        this.stepInterval = listener == null ? 0 : listener.stepInterval();
        if (stepInterval < 0) {
            throw new IllegalArgumentException("Trainer: the listener's step interval must be >= 0 (0 for never), got " + stepInterval);
        }
    }

    /**
     * With {@code on}, {@link #fit} captures its training step as a CUDA graph after two eager steps and
     * replays it for every full batch: one launch per step instead of one per kernel, and the same results
     * bit for bit. Where a step cannot be captured (the CPU backend, dropout drawing from a counter on the
     * host, a read of a value inside the step) fit runs eagerly and tells the listener why ({@link Listener#notice}). Off by default. Returns
     * this.
     */
    public Trainer cudaGraphs(boolean on) {
        this.cudaGraphs = on;
        return this;
    }

    /**
     * Asks {@link #fit} to return after the step it is taking (or before its next one), abandoning the
     * rest of the epoch: thread-safe and non-blocking, for a signal handler or shutdown hook. The abandoned
     * epoch is not reported to {@link Listener#epochEnd}, so it is never checkpointed as finished; the
     * model and optimizer keep its steps' updates (see {@link FitResult#abandonedSteps}), and a resume
     * from the last checkpoint repeats the epoch from its start. A request made while no fit runs ends
     * the next fit before its first step; one made after the last step of fit's last epoch lets that
     * epoch finish and fit return normally (stopRequested() still says so). Cleared when fit returns
     * interrupted.
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** True from {@link #requestStop} until a fit returns interrupted. */
    public boolean stopRequested() {
        return stopRequested;
    }

    /**
     * One training step on a batch: forward, loss, backward, update. Returns the loss (read back from the
     * device: a host synchronisation). The step runs in a {@link Scope} of its own: everything it computes
     * (activations, adjoints, the loss) is freed when it returns, whether or not the caller has a scope
     * open, and its backward pass holds the parameters' gradients (see {@link Var}'s threads rule) until
     * then. Only the parameters, their gradients and the optimizer state outlive it; the batch stays the
     * caller's.
     */
    public double step(BatchLoader.Batch batch) {
        try (Scope step = Scope.open()) {
            return trainStep(batch).item();
        }
    }

    /** Forward, loss, backward, update; returns the loss tensor (in the current scope, not read back). */
    private Tensor trainStep(BatchLoader.Batch batch) {
        optimizer.zeroGrad();
        Var loss = Losses.crossEntropy(model.forward(Var.constant(batch.features())), batch.labels());
        loss.backward();
        optimizer.step();
        return loss.value();
    }

    /**
     * Trains 0-based epochs {@code startEpoch .. endEpoch - 1}: epoch e uses the schedule's rate for e and
     * the loader's e-th order, so a model and optimizer restored after epoch {@code startEpoch} continue the
     * run as if it had never stopped. After each epoch it evaluates {@code validation} (null for none) and
     * reports an {@link EpochResult} to the listener, the place to checkpoint. Returns early, interrupted,
     * after {@link #requestStop}.
     *
     * <p>The loss stays on the device: per step a few scalar operations add it to the epoch's sum and note
     * whether the sum is still finite, with no read-back; the loss is read where the listener asks for it
     * and at the epoch's end, and a non-finite loss found there ends training.
     *
     * @throws TrainingDivergedException when a training loss was NaN or infinite (or the epoch's loss sum
     *     overflowed), naming the first such step; the model's parameters are then unusable
     * @throws IllegalArgumentException unless {@code 0 <= startEpoch <= endEpoch}
     */
    public FitResult fit(BatchLoader train, BatchLoader validation, int startEpoch, int endEpoch) {
        if (startEpoch < 0 || endEpoch < startEpoch) {
            throw new IllegalArgumentException("fit: need 0 <= start epoch <= end epoch, got " + startEpoch + " and " + endEpoch
                    + (endEpoch < startEpoch ? " (the run has finished " + startEpoch + " epochs already)" : ""));
        }
        List<EpochResult> results = new ArrayList<>();
        try (FitSteps steps = new FitSteps(cudaGraphs ? new StepGraph(model, optimizer, this::trainStep, listener::notice) : null)) {
            for (int e = startEpoch; e < endEpoch; e++) {
                optimizer.setLr(schedule.lr(e));
                model.train(true);
                EpochSteps done = trainEpoch(train, e, steps, results);
                if (done.taken() < done.steps()) {
                    stopRequested = false;
                    return new FitResult(results, e, true, done.taken());
                }
                EpochResult r = endEpoch(e, done.lossSum() * train.batchSize() / done.samples(), done.samples(), done.startNanos(),
                        () -> validation == null ? null : evaluate(model, validation), optimizer.lr());
                results.add(r);
                listener.epochEnd(r);
            }
            return new FitResult(results, endEpoch, false, 0);
        }
    }

    /**
     * The figures of epoch {@code e} (0-based), whose steps trained {@code samples} rows from {@code startNanos}
     * with mean loss {@code trainLoss}: times the steps, then the validation ({@code validate}; it returns null
     * for none), as {@link #fit} and the data-parallel trainer report it.
     */
    public static EpochResult endEpoch(int e, double trainLoss, long samples, long startNanos,
                                       Supplier<Evaluation> validate, double lr) {
        double trainSeconds = (System.nanoTime() - startNanos) / 1e9;
        long evalStart = System.nanoTime();
        Evaluation val = validate.get();
        if (val == null) {
            val = new Evaluation(Double.NaN, Double.NaN, 0);
        }
        double evalSeconds = (System.nanoTime() - evalStart) / 1e9;
        return new EpochResult(e + 1, trainLoss, val.loss(), val.accuracy(), trainSeconds, evalSeconds, samples / trainSeconds, lr);
    }

    /** What one epoch's steps did: steps taken of the epoch's, rows trained on, the sum of the batch-size-weighted losses, when the first began. */
    private record EpochSteps(int taken, int steps, long samples, double lossSum, long startNanos) {
    }

    /** What fit's steps keep across epochs: the captured step (null when eager) and the loss watch (made by the first eager step). */
    private static final class FitSteps implements AutoCloseable {
        final StepGraph graph;
        LossWatch watch;

        FitSteps(StepGraph graph) {
            this.graph = graph;
        }

        @Override
        public void close() {
            if (graph != null) {
                graph.close();
            }
            if (watch != null) {
                watch.close();
            }
        }
    }

    /**
     * The steps of epoch {@code e} (0-based) until its end or a stop request; the loss read back where the
     * listener asks and at the end.
     *
     * @throws TrainingDivergedException at the first read that finds a non-finite loss
     */
    private EpochSteps trainEpoch(BatchLoader train, int e, FitSteps fit, List<EpochResult> results) {
        BatchLoader.Epoch epoch = train.epoch(e, true);    // on a GPU batch i + 1 uploads during step i
        int steps = epoch.batches();
        listener.epochStart(e + 1, steps);
        long start = System.nanoTime();
        long samples = 0;
        int taken = 0;
        if (fit.watch != null) {
            fit.watch.reset();
        }
        double[] totals;
        try {
            for (int i = 0; i < steps && !stopRequested; i++) {
                try (Scope batchScope = Scope.open()) {     // the batch; the step has its own
                    BatchLoader.Batch b = epoch.batch(i);
                    takeStep(b, train.batchSize(), fit);
                    samples += b.size();
                    taken++;
                    if (stepInterval > 0 && (taken % stepInterval == 0 || taken == steps)) {
                        double[] read = fit.watch.read(fit.watch.current, fit.watch.finiteSteps);
                        if (read[1] < taken) {
                            throw diverged(e, read, steps, results);
                        }
                        listener.step(e + 1, taken, steps, read[0], samples, System.nanoTime() - start);
                    }
                }
            }
            totals = fit.watch == null ? new double[] {0, 0, 0} : fit.watch.read(fit.watch.sum, fit.watch.finiteSteps, fit.watch.current);
        } finally {
            epoch.close();      // frees a batch prepared ahead when the epoch was abandoned
        }
        if (totals[1] < taken) {
            throw diverged(e, new double[] {totals[2], totals[1]}, steps, results);
        }
        return new EpochSteps(taken, steps, samples, totals[0], start);
    }

    /** One step on batch {@code b}: a replay of the captured step when there is one, else eagerly; its loss added to the watch. */
    private void takeStep(BatchLoader.Batch b, int batchSize, FitSteps fit) {
        if (fit.graph != null && fit.graph.step(b, batchSize, fit.watch)) {
            return;
        }
        try (Scope step = Scope.open()) {
            Tensor loss = trainStep(b);
            if (fit.watch == null) {
                fit.watch = new LossWatch(Tensor.on(loss.device()), loss.dtype());
            }
            fit.watch.add(loss, (double) b.size() / batchSize);
        }
        if (fit.graph != null) {
            fit.graph.ranEagerly();
        }
    }

    /** {@code read} holds the value and the finite-step count of the watch. */
    private TrainingDivergedException diverged(int e, double[] read, int steps, List<EpochResult> results) {
        return new TrainingDivergedException(e + 1, (int) read[1] + 1, steps, read[0], optimizer.lr(), results);
    }

    /**
     * The epoch's loss, watched on the device with scalar tensors that outlive the steps (kept forever,
     * closed by {@link #close}): {@code sum} of the step losses (the short last batch weighted by its
     * size / the batch size), {@code finiteSteps}: the number of steps after which the sum was still finite,
     * and {@code current}: the latest loss while the sum is finite, frozen from then on at the loss that
     * made it non-finite. A sum never returns to finite, so the first non-finite step is finiteSteps + 1.
     * No read-back. Where the backend has {@link FusedKernel#LOSS_WATCH} (CUDA): one launch per step, in
     * place, the tensors never replaced (what a captured CUDA graph's replay needs); elsewhere {@link
     * #addComposed}: four small operations (where, add, lt, add) that replace {@code current}. Counts are
     * exact up to 2^24 steps per epoch in float32.
     */
    static final class LossWatch implements AutoCloseable {
        final Tensor sum;
        final Tensor finiteSteps;
        private final Tensor infinity;
        private final FusedKernel.LossWatch fused;
        private Tensor finite;
        Tensor current;

        LossWatch(TensorFactory on, DType dtype) {
            this(on, dtype, true);
        }

        /** With {@code useKernel} false, always the composed version (tests compare the two). */
        LossWatch(TensorFactory on, DType dtype, boolean useKernel) {
            fused = useKernel ? Backends.of(on.device()).fused(FusedKernel.LOSS_WATCH).orElse(null) : null;
            sum = on.zeros(dtype).keepForever();
            finiteSteps = on.zeros(dtype).keepForever();
            current = on.zeros(dtype).keepForever();
            infinity = fused != null ? null : on.full(Double.POSITIVE_INFINITY, dtype).keepForever();
            finite = fused != null ? null : on.ones(dtype).keepForever();
        }

        /** Adds one step's loss (a scalar tensor, not modified) with {@code weight}; launches only. */
        void add(Tensor loss, double weight) {
            if (fused != null) {
                fused.add(sum, finiteSteps, current, loss, weight);
            } else {
                addComposed(loss, weight);
            }
        }

        /** {@link #add} from tensor operations: the fallback, and the reference the kernel is tested against. */
        void addComposed(Tensor loss, double weight) {
            Tensor next = Tensor.where(finite, loss, current).keepForever();
            current.close();
            current = next;
            if (weight == 1) {
                sum.applyInPlace(BinaryOp.ADD, loss);
            } else {
                sum.applyInPlace(BinaryOp.ADD, loss.mul(weight));
            }
            Tensor f = sum.lt(infinity).keepForever();
            finite.close();
            finite = f;
            finiteSteps.applyInPlace(BinaryOp.ADD, finite);
        }

        /** Zeroes the sums for a new epoch, in place (the tensors a captured step writes stay the same). */
        void reset() {
            for (Tensor t : new Tensor[] {sum, finiteSteps, current}) {
                t.backend().fill(t, 0);
            }
            if (finite != null) {
                finite.backend().fill(finite, 1);
            }
        }

        /** The values of {@code scalars}, in one read-back. */
        double[] read(Tensor... scalars) {
            try (Scope s = Scope.open()) {
                Tensor[] parts = new Tensor[scalars.length];
                for (int i = 0; i < parts.length; i++) {
                    parts[i] = scalars[i].reshape(1);
                }
                return Tensor.concat(0, parts).toDoubleArray();
            }
        }

        @Override
        public void close() {
            for (Tensor t : new Tensor[] {sum, finiteSteps, infinity, finite, current}) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    /**
     * Mean cross-entropy and accuracy of {@code model} on {@code data} (its epoch-0 order), in evaluation
     * mode without recording; the model's mode is restored. An empty set gives NaN for both.
     */
    public static Evaluation evaluate(Module model, BatchLoader data) {
        return evaluate(model, data, true);
    }

    /** Fraction of samples whose arg-max prediction equals the label, in evaluation mode without recording. */
    public static double accuracy(Module model, BatchLoader data) {
        return evaluate(model, data, false).accuracy();
    }

    private static Evaluation evaluate(Module model, BatchLoader data, boolean withLoss) {
        if (data.size() == 0) {
            return new Evaluation(Double.NaN, Double.NaN, 0);
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        long correct = 0;
        double lossSum = 0;
        try (Grad.Mode off = Grad.noGrad()) {
            BatchLoader.Epoch epoch = data.epoch(0);
            for (int i = 0; i < epoch.batches(); i++) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch b = epoch.batch(i);
                    Var logits = model.forward(Var.constant(b.features()));
                    if (withLoss) {
                        lossSum += Losses.crossEntropy(logits, b.labels()).item() * b.size();
                    }
                    long[] predicted = logits.value().argmax(1, false).toLongArray();
                    long[] labels = b.labels().toLongArray();
                    for (int k = 0; k < labels.length; k++) {
                        correct += predicted[k] == labels[k] ? 1 : 0;
                    }
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Evaluation(withLoss ? lossSum / data.size() : Double.NaN, (double) correct / data.size(), data.size());
    }

    /** Arg-max class of each row of {@code features} (not recorded). */
    public static long[] predict(Module model, Tensor features) {
        try (Grad.Mode off = Grad.noGrad(); Scope s = Scope.open()) {
            return model.forward(Var.constant(features)).value().argmax(1, false).toLongArray();
        }
    }
}
