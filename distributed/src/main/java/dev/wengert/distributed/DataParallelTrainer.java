package dev.wengert.distributed;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.train.TrainingDivergedException;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Data-parallel training of a classifier over the ranks of a {@link Communicator}: {@link Trainer}'s loop
 * (softmax cross-entropy, one optimizer step per global batch, validation after each epoch, the same
 * {@link Trainer.Listener}, results and divergence) with each global batch split between the ranks.
 *
 * <p>Every rank holds the whole model. {@link #broadcastParameters} makes rank 0's parameters and optimizer state
 * everyone's; each step, rank r trains on its share of the global batch ({@link Shards}: rows of the loader's
 * order for (seed, epoch), the same order on every rank), its gradients, weighted by its share of the batch's
 * rows, are summed over the ranks in buckets that start during the backward pass ({@link GradientBuckets}), and
 * every rank takes the same optimizer step. The parameters after each step are those of one process training on
 * the whole batch (to rounding: the batch's sums are added in another order), including a batch not divisible by
 * the number of ranks and the short last batch; a rank whose share is empty contributes zeros.
 *
 * <p>The loss reported, the stop decision ({@link #requestStop} on any rank stops all, after the same step) and
 * the evaluation ({@link #evaluate}: each rank measures its share, the sums are reduced) are the same on every
 * rank, so every rank's listener sees the same figures; the caller decides which rank writes (rank 0: see
 * {@link Communicator#isRoot}). Batch normalisation (BatchNorm1d/2d) normalises with each rank's own share, as
 * PyTorch does without SyncBatchNorm, and each rank updates its own running statistics (module buffers, which
 * {@link #broadcastParameters} does not send: PyTorch's DDP with {@code broadcast_buffers=False}); the rank that
 * writes the checkpoint saves its own. A BatchNorm1d over [N, C] refuses an empty share's one-row stand-in in
 * training mode (one value per channel). Dropout masks are drawn per rank.
 */
public final class DataParallelTrainer {
    /** Default bucket size: 1 MiB of gradients, a few buckets for the zoo's MLP (PyTorch's default is 25 MiB). */
    public static final long DEFAULT_BUCKET_BYTES = 1 << 20;

    private final Communicator comm;
    private final Module model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final Trainer.Listener listener;
    private final int stepInterval;
    private final GradientBuckets buckets;
    private final DType dtype;
    private volatile boolean stopRequested;

    /**
     * @param schedule learning rate per epoch; null for the optimizer's throughout
     * @param listener null for none
     * @param bucketBytes gradient bytes per all-reduce bucket (see {@link #DEFAULT_BUCKET_BYTES})
     */
    public DataParallelTrainer(Communicator comm, Module model, Optimizer optimizer, LrSchedule schedule, Trainer.Listener listener,
            long bucketBytes) {
        this.comm = comm;
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule == null ? LrSchedule.constant(optimizer.lr()) : schedule;
        this.listener = listener == null ? new Trainer.Listener() { } : listener;
        this.stepInterval = listener == null ? 0 : listener.stepInterval();
        if (bucketBytes <= 0) {
            throw new IllegalArgumentException("DataParallelTrainer: bucket size must be > 0 bytes, got " + bucketBytes);
        }
        List<Var> params = model.parameters();
        if (params.isEmpty()) {
            throw new IllegalArgumentException("DataParallelTrainer: the model has no parameters");
        }
        this.buckets = new GradientBuckets(comm, params, bucketBytes);
        this.dtype = params.get(0).dtype();
    }

    /** The number of gradient buckets, each one all-reduce per step. */
    public int bucketCount() {
        return buckets.count();
    }

    /** Buckets whose all-reduce the last step's backward pass started itself (overlapping the rest of it). */
    public int bucketsStartedDuringBackward() {
        return buckets.startedDuringBackward();
    }

    /**
     * Collective: every rank's parameters and optimizer state become rank 0's (in place). Call it once before
     * training, after a resume too: the ranks then start from the same point whatever they loaded.
     */
    public void broadcastParameters() {
        for (Var p : model.parameters()) {
            comm.broadcast(p.value(), 0);
        }
        for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) {
            comm.broadcast(e.getValue(), 0);
        }
    }

    /** Asks fit to stop after the current step, on every rank (see {@link Trainer#requestStop}). */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * One step on global batch {@code i} of {@code epoch}: this rank's share forward and backward, the gradients
     * summed over the ranks, the update. Returns {loss of the whole batch, rows of the whole batch, 1 if any rank
     * asked to stop else 0}, the same on every rank. Collective.
     */
    public double[] step(BatchLoader.Epoch epoch, int i) {
        int rows = epoch.batchRows(i);
        int from = Shards.from(rows, comm.rank(), comm.size());
        int to = Shards.to(rows, comm.rank(), comm.size());
        int mine = to - from;
        double localLoss;
        try (Scope s = Scope.open()) {
            // an empty share still runs the graph (on one row, weight 0): every rank completes the same buckets in the same order
            BatchLoader.Batch b = mine > 0 ? epoch.batch(i, from, to) : epoch.batch(i, 0, 1);
            double weight = (double) mine / rows;
            optimizer.zeroGrad();
            Tensor x = b.features().dtype() == dtype ? b.features() : b.features().cast(dtype);
            Var loss = Losses.crossEntropy(model.forward(Var.constant(x)), b.labels());
            buckets.begin(weight);
            loss.backward(null, false, false, buckets.listener());
            buckets.finish();
            localLoss = mine > 0 ? loss.item() : 0;
        }
        double[] figures = {localLoss * mine, mine, stopRequested ? 1 : 0};
        comm.allReduce(figures, ReduceOp.SUM);
        if (figures[1] != rows) {
            throw new IllegalStateException("data-parallel step: the ranks' shares of batch " + i + " add up to " + (long) figures[1]
                    + " rows, not " + rows + ": the ranks disagree on the data or the batch size (same --seed, data and"
                    + " options on every rank?)");
        }
        optimizer.step();
        return new double[] {figures[0] / rows, rows, figures[2]};
    }

    /**
     * Trains 0-based epochs [startEpoch, endEpoch) as {@link Trainer#fit} does, each global batch split between
     * the ranks. Collective. Returns early, interrupted, when any rank asked to stop.
     *
     * @throws TrainingDivergedException when a batch's loss was NaN or infinite
     */
    public Trainer.FitResult fit(BatchLoader train, BatchLoader validation, int startEpoch, int endEpoch) {
        if (startEpoch < 0 || endEpoch < startEpoch) {
            throw new IllegalArgumentException("fit: need 0 <= start epoch <= end epoch, got " + startEpoch + " and " + endEpoch);
        }
        List<Trainer.EpochResult> results = new ArrayList<>();
        for (int e = startEpoch; e < endEpoch; e++) {
            optimizer.setLr(schedule.lr(e));
            model.train(true);
            BatchLoader.Epoch epoch = train.epoch(e);
            int steps = epoch.batches();
            listener.epochStart(e + 1, steps);
            long start = System.nanoTime();
            long samples = 0;
            double lossSum = 0;
            int taken = 0;
            boolean stop = false;
            for (int i = 0; i < steps && !stop; i++) {
                double[] r = step(epoch, i);
                if (!Double.isFinite(r[0])) {
                    throw new TrainingDivergedException(e + 1, i + 1, steps, r[0], optimizer.lr(), results);
                }
                lossSum += r[0] * r[1];
                samples += (long) r[1];
                taken++;
                stop = r[2] > 0;
                if (stepInterval > 0 && (taken % stepInterval == 0 || taken == steps)) {
                    listener.step(e + 1, taken, steps, r[0], samples, System.nanoTime() - start);
                }
            }
            if (taken < steps) {
                stopRequested = false;
                return new Trainer.FitResult(results, e, true, taken);
            }
            Trainer.EpochResult res = Trainer.endEpoch(e, lossSum / samples, samples, start,
                    () -> validation == null ? null : evaluate(comm, model, validation), optimizer.lr());
            results.add(res);
            listener.epochEnd(res);
            if (stop) {
                // asked during the epoch's last step: the epoch is finished and reported; stop before the next
                stopRequested = false;
                if (e + 1 < endEpoch) {
                    return new Trainer.FitResult(results, e + 1, true, 0);
                }
            }
        }
        return new Trainer.FitResult(results, endEpoch, false, 0);
    }

    /**
     * Mean cross-entropy and accuracy of {@code model} on {@code data} (its epoch-0 order), each rank measuring
     * its share of every batch, the sums reduced: the same result on every rank, equal to
     * {@link Trainer#evaluate} to rounding. Collective; evaluation mode without recording, the mode restored.
     */
    public static Trainer.Evaluation evaluate(Communicator comm, Module model, BatchLoader data) {
        if (data.size() == 0) {
            return new Trainer.Evaluation(Double.NaN, Double.NaN, 0);
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        DType dtype = model.parameters().isEmpty() ? DType.FLOAT32 : model.parameters().get(0).dtype();
        double[] sums = new double[3];     // loss * rows, correct, rows
        try (Grad.Mode off = Grad.noGrad()) {
            BatchLoader.Epoch epoch = data.epoch(0);
            for (int i = 0; i < epoch.batches(); i++) {
                int rows = epoch.batchRows(i);
                int from = Shards.from(rows, comm.rank(), comm.size());
                int to = Shards.to(rows, comm.rank(), comm.size());
                if (to == from) {
                    continue;
                }
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch b = epoch.batch(i, from, to);
                    Tensor x = b.features().dtype() == dtype ? b.features() : b.features().cast(dtype);
                    Var logits = model.forward(Var.constant(x));
                    sums[0] += Losses.crossEntropy(logits, b.labels()).item() * b.size();
                    long[] predicted = logits.value().argmax(1, false).toLongArray();
                    long[] labels = b.labels().toLongArray();
                    for (int k = 0; k < labels.length; k++) {
                        sums[1] += predicted[k] == labels[k] ? 1 : 0;
                    }
                    sums[2] += b.size();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        comm.allReduce(sums, ReduceOp.SUM);
        return new Trainer.Evaluation(sums[0] / sums[2], sums[1] / sums[2], (long) sums[2]);
    }
}
