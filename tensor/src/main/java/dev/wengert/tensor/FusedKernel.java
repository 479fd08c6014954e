package dev.wengert.tensor;

import java.util.Objects;

/**
 * The name and signature of an optional fused kernel: one pass that replaces a chain of tensor operations.
 * A backend registers implementations for the kernels it accelerates ({@link FusedKernels}) and
 * {@link Backend#fused(FusedKernel)} looks one up; the kernel's user (an optimizer, the cross-entropy
 * primitive) runs its own composed version, written with {@link Tensor} operations, where the backend has
 * none, and tests each registered kernel against that fallback. This layer names kernels and says what they
 * compute; it holds no fallback.
 *
 * <p>As with the {@link Backend} SPI, the caller checks shapes, dtypes and devices before it calls a kernel,
 * every operand lives on the backend's device, and only the arguments described as modified are written.
 *
 * @param <F> the functional interface a kernel implements
 */
public final class FusedKernel<F> {

    /** {@link #SOFTMAX_XENT_FWD}'s signature. */
    @FunctionalInterface
    public interface SoftmaxXentForward {
        /**
         * loss (modified, [rows]) = logsumexp(logits[r, :]) - logits[r, labels[r]] for float logits
         * [rows, classes] and int64 labels [rows]: softmax cross-entropy per row, stable for large logits.
         * A label outside [0, classes) throws {@link IndexOutOfBoundsException} (a device reports it at its next
         * synchronising read).
         */
        void run(Tensor logits, Tensor labels, Tensor loss);
    }

    /** {@link #SOFTMAX_XENT_BWD}'s signature. */
    @FunctionalInterface
    public interface SoftmaxXentBackward {
        /**
         * grad (modified, shaped like logits) = (softmax(logits) - oneHot(labels)) * gradLoss[r] * scale, where
         * gradLoss is the upstream gradient per row ([rows]) or a scalar shared by all rows. Labels as in
         * {@link SoftmaxXentForward}.
         */
        void run(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad);
    }

    /** {@link #SOFTMAX_XENT_MEAN}'s signature. */
    @FunctionalInterface
    public interface SoftmaxXentMean {
        /**
         * loss (modified, a scalar []) = the mean over rows of logsumexp(logits[r, :]) - logits[r, labels[r]], and
         * grad (modified, shaped like logits) = (softmax(logits) - oneHot(labels)) / rows, its gradient, in one
         * pass. The mean of no rows is NaN. Labels as in {@link SoftmaxXentForward}.
         */
        void run(Tensor logits, Tensor labels, Tensor loss, Tensor grad);
    }

    /** {@link #BIAS_ACT}'s signature. */
    @FunctionalInterface
    public interface BiasActivation {
        /** out (modified, may be z) = act(z + bias) for z [rows, cols] and bias [cols]. */
        void run(Tensor z, Tensor bias, Activation act, Tensor out);
    }

    /** {@link #BIAS_ACT_BACKWARD}'s signature. */
    @FunctionalInterface
    public interface BiasActivationBackward {
        /**
         * For y = act(z + bias) [rows, cols] and its upstream gradient dy: dz (modified, unless null) = dy act'(y),
         * and db (modified, [cols]) = the column sums of dz, each summed in a fixed order (the same bits on every
         * run). dz may be dy; it may be null only for {@link Activation#NONE}, where dz is dy itself.
         */
        void run(Tensor dy, Tensor y, Activation act, Tensor dz, Tensor db);
    }

    /** {@link #SGD_MOMENTUM}'s signature. */
    @FunctionalInterface
    public interface SgdMomentum {
        /**
         * One PyTorch SGD step with momentum (dampening 0): g = grad + weightDecay * param;
         * velocity (modified) = momentum * velocity + g; param (modified) -= lr * (nesterov ? g + momentum *
         * velocity : velocity). grad is not modified; all four are float tensors of one shape and dtype.
         */
        void step(Tensor param, Tensor grad, Tensor velocity, double lr, double momentum, double weightDecay,
                  boolean nesterov);
    }

    /** {@link #ADAM}'s signature. */
    @FunctionalInterface
    public interface Adam {
        /**
         * One PyTorch Adam step (decoupled = false: L2, g = grad + weightDecay * param) or AdamW step
         * (decoupled = true: param *= 1 - lr * weightDecay first, g = grad) at 1-based {@code step}:
         * m (modified) = b1 m + (1 - b1) g, v (modified) = b2 v + (1 - b2) g^2, param (modified) -=
         * lr (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps). grad is not modified.
         */
        void step(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                  double weightDecay, long step, boolean decoupled);
    }

    /**
     * The device scalars of the whole-step optimizer kernels ({@link #OPTIMIZER_SCALARS}, {@link #SGD_ALL},
     * {@link #ADAM_ALL}): a float64 tensor of {@link #OPTIMIZER_SCALARS_SIZE} elements on the parameters'
     * device, {@code {t, lr, ticket, unused}}: t the 1-based step the next update runs, lr the learning rate,
     * and a counter that an update uses while it runs (0 between updates). Kept in device memory, not passed
     * by value, so that a captured CUDA graph's replay reads the current values.
     */
    @FunctionalInterface
    public interface OptimizerScalars {
        /** scalars (modified) = {step, lr, 0, 0}: what the host writes when its lr or step count changed. */
        void set(Tensor scalars, long step, double lr);
    }

    /** {@link #SGD_ALL}'s signature. */
    @FunctionalInterface
    public interface SgdAll {
        /**
         * One PyTorch SGD step (dampening 0) of every params[i] whose grads[i] is not null, with lr read from
         * {@code scalars} ({@link OptimizerScalars}; not modified) when the update runs: g = grads[i] +
         * weightDecay * params[i]; with velocities (null: plain SGD) v = momentum * velocities[i] + g and
         * g = nesterov ? g + momentum * v : v; params[i] -= lr * g. params and velocities are modified, grads
         * are not; each param, grad and velocity share one shape; all share one float dtype and device.
         */
        void step(Tensor[] params, Tensor[] grads, Tensor[] velocities, Tensor scalars, double momentum,
                  double weightDecay, boolean nesterov);
    }

    /** {@link #ADAM_ALL}'s signature. */
    @FunctionalInterface
    public interface AdamAll {
        /**
         * One PyTorch Adam or AdamW step ({@link Adam}'s formulas) of every params[i] whose grads[i] is not
         * null, at step t with learning rate lr read from {@code scalars} ({@link OptimizerScalars}) when the
         * update runs; afterwards t is one more (scalars modified), also when no gradient is given. params,
         * m and v are modified, grads are not; shapes and dtype as in {@link SgdAll}.
         */
        void step(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v, Tensor scalars, double beta1,
                  double beta2, double eps, double weightDecay, boolean decoupled);
    }

    /** {@link #LOSS_WATCH}'s signature. */
    @FunctionalInterface
    public interface LossWatch {
        /**
         * One training step's loss into a watch over scalars of the loss's dtype, all modified but loss:
         * while sum is finite (below +inf; NaN is not) current = loss; sum += loss (times weight unless it
         * is 1); if sum is still finite, finiteSteps += 1. In place: the tensors stay the same.
         */
        void add(Tensor sum, Tensor finiteSteps, Tensor current, Tensor loss, double weight);
    }

    /** {@link #DROPOUT_MASK}'s signature. */
    @FunctionalInterface
    public interface DropoutMask {
        /**
         * A dropout mask from random state kept in device memory, for a captured CUDA graph's replays to draw
         * new masks: with {@code state} = {seed, calls, ticket} (an int64 tensor of {@link #DROPOUT_STATE_SIZE}
         * elements on mask's device; ticket 0 between draws) this draw is number calls + 1, and mask (modified,
         * float) [i] = u_i >= p ? 1/(1-p) : 0 in mask's dtype, u_i = (dtype) {@link CounterRandom#uniform}(seed
         * + 0x9E3779B97F4A7C15 * (calls + 1), i): the numbers {@code rand(seed + 0x9E3779B97F4A7C15 * (calls + 1),
         * dtype, shape)} draws, so the masks are those of a composed draw. Then calls (state modified) is one more,
         * once per call, also for an empty mask. p is in (0, 1).
         */
        void draw(Tensor state, double p, Tensor mask);
    }

    /** {@link #BATCH_NORM}'s signature. */
    @FunctionalInterface
    public interface BatchNormForward {
        /**
         * Training-mode batch normalisation of a float x [N, C, L] (the caller views [N, C], [N, C, L] and
         * [N, C, H, W] inputs so; N * L &gt;= 1) per channel c over its M = N * L values: mean (modified, [C]) = their
         * mean, var (modified, [C]) = their biased variance, the mean of (x - mean)^2 (two passes, as the composed
         * version), and y (modified, [N, C, L], not x) = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]. Every
         * sum in a fixed order (the same bits on every run); weight and bias [C] are not modified.
         */
        void run(Tensor x, Tensor weight, Tensor bias, double eps, Tensor y, Tensor mean, Tensor var);
    }

    /** {@link #BATCH_NORM_BACKWARD}'s signature. */
    @FunctionalInterface
    public interface BatchNormBackward {
        /**
         * The first-order adjoints of {@link BatchNormForward}'s y for its upstream gradient dy [N, C, L], from x
         * and the forward's mean and var [C] (none modified): with invStd = 1 / sqrt(var + eps), xhat = (x - mean)
         * invStd and per channel over its M = N * L values sumDy = sum dy, sumDyXhat = sum dy xhat: dbias (modified
         * unless null, [C]) = sumDy, dweight (modified unless null, [C]) = sumDyXhat, and dx (modified unless null,
         * [N, C, L]) = weight[c] invStd (dy - sumDy / M - xhat sumDyXhat / M). Sums in a fixed order.
         */
        void run(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps, Tensor dx, Tensor dweight,
                 Tensor dbias);
    }

    /** {@link #BATCH_NORM_RUNNING_STATS}' signature. */
    @FunctionalInterface
    public interface BatchNormRunningStats {
        /**
         * Batch normalisation's running statistics after a training batch, in place: runningMean (modified, [C]) =
         * (1 - momentum) runningMean + momentum mean, runningVar (modified, [C]) = (1 - momentum) runningVar +
         * (momentum varFactor) var, for the batch's mean and biased var [C] (not modified; varFactor M / (M - 1) makes
         * the variance unbiased), each in the tensors' dtype as the composed update computes it.
         */
        void update(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor var, double momentum, double varFactor);
    }

    /** Elements of {@link DropoutMask}'s state tensor: {seed, calls, ticket}. */
    public static final int DROPOUT_STATE_SIZE = 3;

    /** Elements of {@link OptimizerScalars}' tensor. */
    public static final int OPTIMIZER_SCALARS_SIZE = 4;

    /** The cross-entropy primitive's forward pass (autograd's softmaxCrossEntropy). */
    public static final FusedKernel<SoftmaxXentForward> SOFTMAX_XENT_FWD =
            new FusedKernel<>("softmax_xent_fwd", SoftmaxXentForward.class);
    /** The cross-entropy primitive's backward pass (autograd's softmaxCrossEntropyGrad). */
    public static final FusedKernel<SoftmaxXentBackward> SOFTMAX_XENT_BWD =
            new FusedKernel<>("softmax_xent_bwd", SoftmaxXentBackward.class);
    /** The mean cross-entropy primitive's forward, which leaves its gradient for the backward (autograd's softmaxCrossEntropyMean). */
    public static final FusedKernel<SoftmaxXentMean> SOFTMAX_XENT_MEAN =
            new FusedKernel<>("softmax_xent_mean", SoftmaxXentMean.class);
    /** The linear primitive's bias and activation after its GEMM (autograd's Var.linear). */
    public static final FusedKernel<BiasActivation> BIAS_ACT = new FusedKernel<>("bias_act", BiasActivation.class);
    /** The linear primitive's first-order backward before its GEMMs: dz and the bias gradient in one pass. */
    public static final FusedKernel<BiasActivationBackward> BIAS_ACT_BACKWARD =
            new FusedKernel<>("bias_act_backward", BiasActivationBackward.class);
    /** Sgd's update with a velocity (models' optim.Sgd). */
    public static final FusedKernel<SgdMomentum> SGD_MOMENTUM = new FusedKernel<>("sgd_momentum", SgdMomentum.class);
    /** Adam's and AdamW's update (models' optim.Adam). */
    public static final FusedKernel<Adam> ADAM = new FusedKernel<>("adam", Adam.class);
    /** Writes the whole-step optimizer kernels' device scalars (models' optim.Optimizer). */
    public static final FusedKernel<OptimizerScalars> OPTIMIZER_SCALARS =
            new FusedKernel<>("optimizer_scalars", OptimizerScalars.class);
    /** Sgd's update of every parameter at once (one launch on CUDA for up to 32 parameters). */
    public static final FusedKernel<SgdAll> SGD_ALL = new FusedKernel<>("sgd_all", SgdAll.class);
    /** Adam's and AdamW's update of every parameter at once (one launch on CUDA for up to 32 parameters). */
    public static final FusedKernel<AdamAll> ADAM_ALL = new FusedKernel<>("adam_all", AdamAll.class);
    /** The trainer's loss watch (models' train.Trainer.fit), one launch per step on CUDA. */
    public static final FusedKernel<LossWatch> LOSS_WATCH = new FusedKernel<>("loss_watch", LossWatch.class);

    /** The batch-normalisation primitive's training-mode forward: batch statistics and the normalised output in one pass per channel. */
    public static final FusedKernel<BatchNormForward> BATCH_NORM = new FusedKernel<>("batch_norm", BatchNormForward.class);
    /** The batch-normalisation primitive's first-order backward: dx, dweight and dbias from two sums per channel. */
    public static final FusedKernel<BatchNormBackward> BATCH_NORM_BACKWARD =
            new FusedKernel<>("batch_norm_backward", BatchNormBackward.class);

    /** Batch normalisation's running-statistics update after a training batch (models' nn.BatchNorm): one pass over [C]. */
    public static final FusedKernel<BatchNormRunningStats> BATCH_NORM_RUNNING_STATS =
            new FusedKernel<>("batch_norm_running_stats", BatchNormRunningStats.class);

    /** Dropout's mask with its seed and draw count in device memory (models' nn.Dropout, on a device). */
    public static final FusedKernel<DropoutMask> DROPOUT_MASK = new FusedKernel<>("dropout_mask", DropoutMask.class);

    private final String name;
    private final Class<F> type;

    private FusedKernel(String name, Class<F> type) {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
    }

    /**
     * A new kernel key (for a backend and a user outside this library). Keys are compared by identity: declare
     * each once, as a constant.
     */
    public static <F> FusedKernel<F> of(String name, Class<F> type) {
        return new FusedKernel<>(name, type);
    }

    /** The kernel's name, for messages and listings. */
    public String name() {
        return name;
    }

    /** The functional interface implementations of this kernel implement. */
    public Class<F> type() {
        return type;
    }

    @Override
    public String toString() {
        return name;
    }
}
