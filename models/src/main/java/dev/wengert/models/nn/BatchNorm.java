package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.util.Arrays;
import java.util.Optional;

/**
 * Batch normalisation over the channel axis 1 (torch.nn's {@code _BatchNorm}): {@link BatchNorm1d} for
 * [N, C] and [N, C, L], {@link BatchNorm2d} for [N, C, H, W]. In training mode each channel is normalised
 * with the batch's mean and biased variance (over every axis but 1) and the running statistics are
 * updated, running = (1 - momentum) running + momentum batch, with the <em>unbiased</em> batch variance;
 * in evaluation mode the running statistics normalise. Then y = x̂ weight + bias per channel. Defaults
 * as PyTorch: eps 1e-5, momentum 0.1, affine, tracking running statistics.
 *
 * <p>State under PyTorch's {@code state_dict} names: parameters {@code weight} (ones) and {@code bias}
 * (zeros) when affine; buffers {@code running_mean} (zeros), {@code running_var} (ones) and
 * {@code num_batches_tracked} (an int64 scalar, 0) when tracking. Training is one primitive,
 * {@link Var#batchNorm(Var, Var, double, Var.BatchStats)} (one kernel forward and one backward where the backend has
 * them, exact to every order; without affine parameters a constant weight of ones and bias of zeros), whose batch
 * statistics update the running ones here, outside the primitive; evaluation mode is composed of {@link Var}
 * operations (x * scale + shift per channel); see {@link #apply} and {@link #applyEval}.
 */
public abstract class BatchNorm extends Module {
    /** PyTorch's default eps. */
    public static final double DEFAULT_EPS = 1e-5;
    /** PyTorch's default momentum. */
    public static final double DEFAULT_MOMENTUM = 0.1;

    private final String kind;
    private final int features;
    private final double eps;
    private final Double momentum;
    private final Var weight;
    private final Var bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final Tensor numBatchesTracked;

    /**
     * @param kind the subclass's name, for messages
     * @param momentum the running statistics' update factor in (0, 1], or null for PyTorch's
     *     {@code momentum=None}: the cumulative average (factor 1 / num_batches_tracked)
     */
    BatchNorm(String kind, int features, double eps, Double momentum, boolean affine, boolean trackRunningStats,
              DType dtype, Device device) {
        this.kind = kind;
        if (features <= 0) {
            throw new IllegalArgumentException(kind + ": the number of features (channels) must be > 0, got " + features);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(kind + ": eps must be > 0, got " + eps);
        }
        if (momentum != null && !(momentum > 0 && momentum <= 1)) {
            throw new IllegalArgumentException(kind + ": momentum must be in (0, 1] (or null for the cumulative average), got "
                    + momentum);
        }
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException(kind + ": dtype must be float32 or float64, got " + dtype);
        }
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        if (affine) {
            weight = register("weight", Var.param(Tensor.on(device).ones(dtype, features).keepForever()));
            bias = register("bias", Var.param(Tensor.on(device).zeros(dtype, features).keepForever()));
        } else {
            weight = null;
            bias = null;
        }
        if (trackRunningStats) {
            runningMean = registerBuffer("running_mean", Tensor.on(device).zeros(dtype, features));
            runningVar = registerBuffer("running_var", Tensor.on(device).ones(dtype, features));
            numBatchesTracked = registerBuffer("num_batches_tracked", Tensor.on(device).zeros(DType.INT64));
        } else {
            runningMean = null;
            runningVar = null;
            numBatchesTracked = null;
        }
    }

    /** The input ranks this layer accepts (e.g. 2 and 3 for BatchNorm1d). */
    abstract int[] ranks();

    /** What the layer expects, for messages: "[N, C] or [N, C, L]". */
    abstract String expectedLayout();

    /**
     * Normalises {@code x}: with the batch's statistics in training mode (updating the running
     * statistics and {@code num_batches_tracked}: modifies the buffers) or when not tracking; with the
     * running statistics in evaluation mode.
     */
    @Override
    public Var forward(Var x) {
        int[] s = x.shape();
        if (Arrays.stream(ranks()).noneMatch(r -> r == s.length) || s[1] != features) {
            throw new IllegalArgumentException(this + ": input " + x.value().describe() + " must be " + expectedLayout()
                    + " with C = " + features);
        }
        boolean batchStats = isTraining() || runningMean == null;
        boolean update = isTraining() && runningMean != null;
        double factor = !update ? 0 : momentum != null ? momentum : 1.0 / (numBatchesTracked.item() + 1);
        Var y = normalise(x, weight, bias, update ? runningMean : null, update ? runningVar : null,
                batchStats ? null : runningMean, batchStats ? null : runningVar, factor, eps);
        if (update) { // after normalise's checks: a refused batch modifies nothing (PyTorch counts it)
            numBatchesTracked.applyInPlace(BinaryOp.ADD, 1);
        }
        return y;
    }

    /**
     * torch.nn.functional.batch_norm in training mode: normalises {@code x} [N, C, ...] per channel (axis 1)
     * with the batch's mean and biased variance, scales by {@code weight} [C] and shifts by {@code bias}
     * [C] (either may be null: 1 and 0). When {@code runningMean} and {@code runningVar} [C] are given
     * they are updated in place, running = (1 - momentum) running + momentum batch, with the unbiased
     * batch variance (modifies them; the update is not recorded for differentiation).
     *
     * @throws IllegalArgumentException when a channel has a single value (PyTorch refuses it too: the
     *     variance would be 0 and the unbiased one undefined), or the shapes do not fit
     */
    public static Var apply(Var x, Var weight, Var bias, Tensor runningMean, Tensor runningVar, double momentum, double eps) {
        return normalise(x, weight, bias, runningMean, runningVar, null, null, momentum, eps);
    }

    /**
     * torch.nn.functional.batch_norm in evaluation mode: (x - mean) / sqrt(var + eps) weight + bias per
     * channel, with the given statistics {@code mean} and {@code var} [C] (constants: no gradient flows
     * to them). {@code weight} and {@code bias} may be null.
     */
    public static Var applyEval(Var x, Var weight, Var bias, Tensor mean, Tensor var, double eps) {
        if (mean == null || var == null) {
            throw new IllegalArgumentException("BatchNorm.applyEval: needs the running mean and variance, got "
                    + (mean == null ? "no mean" : "no variance"));
        }
        return normalise(x, weight, bias, null, null, mean, var, 0, eps);
    }

    /**
     * The one implementation: with {@code fixedMean}/{@code fixedVar} null, batch statistics (and the
     * running update of {@code runningMean}/{@code runningVar} by {@code momentum} when those are
     * non-null); else the fixed statistics.
     */
    private static Var normalise(Var x, Var weight, Var bias, Tensor runningMean, Tensor runningVar, Tensor fixedMean,
                             Tensor fixedVar, double momentum, double eps) {
        int[] s = x.shape();
        if (s.length < 2) {
            throw new IllegalArgumentException("batch_norm: input " + x.value().describe()
                    + " must have a batch axis 0 and a channel axis 1 ([N, C, ...])");
        }
        int c = s[1];
        for (Object[] p : new Object[][] {{"weight", weight == null ? null : weight.value()},
                {"bias", bias == null ? null : bias.value()}, {"running_mean", runningMean}, {"running_var", runningVar},
                {"mean", fixedMean}, {"var", fixedVar}}) {
            Tensor t = (Tensor) p[1];
            if (t != null && (t.rank() != 1 || t.dim(0) != c)) {
                throw new IllegalArgumentException("batch_norm: " + p[0] + " " + t.describe() + " must be [" + c
                        + "], one value per channel of the input " + x.value().describe());
            }
        }
        int[] perChannel = new int[s.length];
        Arrays.fill(perChannel, 1);
        perChannel[1] = c;
        if (fixedMean != null) {
            // y = x * scale + shift with scale = weight / sqrt(var + eps), shift = bias - mean * scale: two passes over x
            Var inv = Var.constant(fixedVar.add(eps).pow(-0.5).reshape(perChannel));
            Var scale = weight == null ? inv : inv.mul(weight.reshape(perChannel));
            Var shifted = Var.constant(fixedMean.reshape(perChannel)).mul(scale).neg();
            Var shift = bias == null ? shifted : shifted.add(bias.reshape(perChannel));
            return x.mul(scale).add(shift);
        }
        long n = x.value().numel() / Math.max(1, c);
        if (n <= 1 && x.value().numel() > 0) {
            throw new IllegalArgumentException("batch_norm: expected more than 1 value per channel when training, got input "
                    + x.value().describe() + " (" + n + " value per channel); use a batch of 2 or more, or evaluation mode");
        }
        // the primitive: one kernel forward and one backward where the backend has them; it hands out the batch's
        // statistics (device tensors, no host read) for the running update. Without affine parameters: weight 1, bias 0
        TensorFactory on = Tensor.on(x.value().device());
        Var w = weight != null ? weight : Var.constant(on.ones(x.value().dtype(), c));
        Var b = bias != null ? bias : Var.constant(on.zeros(x.value().dtype(), c));
        Var.BatchStats stats = new Var.BatchStats();
        Var y = x.batchNorm(w, b, eps, stats);
        if (runningMean != null && n > 0) { // an empty batch leaves the statistics as they are, as PyTorch
            updateRunning(runningMean, runningVar, stats.mean(), stats.var(), n, momentum);
        }
        return y;
    }

    /**
     * running = (1 - m) running + m batch; the variance's batch value unbiased: var n / (n - 1). Modifies both: the
     * backend's {@link FusedKernel#BATCH_NORM_RUNNING_STATS} (one launch on CUDA) or the same arithmetic composed.
     */
    private static void updateRunning(Tensor runningMean, Tensor runningVar, Tensor batchMean, Tensor batchVar, long n,
                                      double momentum) {
        Optional<FusedKernel.BatchNormRunningStats> fused = runningMean.backend().fused(FusedKernel.BATCH_NORM_RUNNING_STATS);
        if (fused.isPresent()) {
            fused.get().update(runningMean, runningVar, batchMean, batchVar, momentum, n / (double) (n - 1));
            return;
        }
        try (Scope s = Scope.open()) {
            runningMean.applyInPlace(BinaryOp.MUL, 1 - momentum).applyInPlace(BinaryOp.ADD, batchMean.mul(momentum));
            runningVar.applyInPlace(BinaryOp.MUL, 1 - momentum)
                    .applyInPlace(BinaryOp.ADD, batchVar.mul(momentum * (n / (double) (n - 1))));
        }
    }

    public int features() {
        return features;
    }

    public double eps() {
        return eps;
    }

    /** The update factor, or null for the cumulative average (PyTorch's momentum=None). */
    public Double momentum() {
        return momentum;
    }

    /** The scale parameter [C], or null when not affine. */
    public Var weight() {
        return weight;
    }

    /** The shift parameter [C], or null when not affine. */
    public Var bias() {
        return bias;
    }

    /** The running mean buffer [C] (the tensor itself), or null when not tracking running statistics. */
    public Tensor runningMean() {
        return runningMean;
    }

    /** The running (unbiased) variance buffer [C], or null when not tracking. */
    public Tensor runningVar() {
        return runningVar;
    }

    /** How many training batches updated the running statistics (an int64 scalar tensor), or null when not tracking. */
    public Tensor numBatchesTracked() {
        return numBatchesTracked;
    }

    @Override
    public String toString() {
        return kind + "(" + features + ", eps=" + eps + ", momentum=" + (momentum == null ? "None" : momentum) + ", affine="
                + (weight != null) + ", track_running_stats=" + (runningMean != null) + ")";
    }
}
