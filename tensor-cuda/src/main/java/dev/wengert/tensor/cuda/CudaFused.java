package dev.wengert.tensor.cuda;

import dev.wengert.tensor.Activation;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.spi.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fused kernels the models need (fused.cuh, batch normalisation included; optim.cuh for the whole-step optimizer
 * updates and the loss watch; random.cuh for dropout masks drawn from device-side state), on tensors of a {@link CudaBackend}: each replaces a chain of primitives and is tested
 * against that chain. Arguments are not modified unless their description says "modified". {@link
 * CudaBackend} registers them as its implementations of {@link dev.wengert.tensor.FusedKernel}'s keys.
 * {@link Activation}s are passed as their ordinal (ACT_* in fused.cuh).
 */
public final class CudaFused {
    /** Rows up to which the mean cross-entropy runs as one block (one launch); more rows take a second pass. */
    static final int XENT_MEAN_ONE_BLOCK_ROWS = 4096;
    /** Threads per block of bias_act_bwd along the rows (BIAS_ACT_BWD_ROWS in fused.cuh). */
    private static final int BIAS_ACT_BWD_ROWS = 8;

    private CudaFused() {
    }

    private static CudaBackend backendOf(String op, Tensor t) {
        t.ensureOpen(op);
        if (!(t.backend() instanceof CudaBackend be)) {
            throw new IllegalArgumentException(op + ": " + t.describe() + " is not on a CUDA device");
        }
        be.makeCurrent();
        return be;
    }

    private static void require(boolean ok, String op, String what) {
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + what);
        }
    }

    /** out (modified, may be x) = act(x + bias) for x [rows, cols] and bias [cols]. */
    public static void biasActivation(Tensor x, Tensor bias, Activation act, Tensor out) {
        CudaBackend be = backendOf("biasActivation", x);
        int[] xs = x.shape();
        require(xs.length == 2 && bias.rank() == 1 && bias.dim(0) == xs[1] && Arrays.equals(out.shape(), xs)
                && x.dtype().isFloating() && bias.dtype() == x.dtype() && out.dtype() == x.dtype(),
                "biasActivation", "needs x [rows, cols], bias [cols] and out like x, one float dtype; got "
                        + x.describe() + ", " + bias.describe() + ", " + out.describe());
        be.kernels().launch("bias_act_" + OpCodes.suffix(x.dtype()), x.numel(), new Args().ptr(CudaBackend.ptr(x))
                .ptr(CudaBackend.ptr(bias)).ptr(CudaBackend.ptr(out)).i64(xs[0]).i64(xs[1]).i32(act.ordinal()));
    }

    /**
     * dz (modified unless null) = dy act'(y) and db (modified, [cols]) = the column sums of dz, for y = act(z + b)
     * [rows, cols]: one launch of 32 x 8 threads per 32 columns, no atomics (see bias_act_bwd in fused.cuh), so
     * the bits are the same on every run. dz may be dy, and may be null only for {@link Activation#NONE}.
     */
    public static void biasActivationBackward(Tensor dy, Tensor y, Activation act, Tensor dz, Tensor db) {
        CudaBackend be = backendOf("biasActivationBackward", dy);
        int[] s = dy.shape();
        require(s.length == 2 && dy.dtype().isFloating() && Arrays.equals(y.shape(), s) && y.dtype() == dy.dtype()
                && (dz == null ? act == Activation.NONE : Arrays.equals(dz.shape(), s) && dz.dtype() == dy.dtype())
                && Arrays.equals(db.shape(), new int[] {s[1]}) && db.dtype() == dy.dtype(), "biasActivationBackward",
                "needs dy [rows, cols], y and dz like dy (dz null only for NONE) and db [cols], one float dtype; got " + dy.describe()
                        + ", " + y.describe() + ", " + (dz == null ? "null" : dz.describe()) + ", " + db.describe() + " for " + act);
        long tiles = (s[1] + 31) / 32;
        be.kernels().launch("bias_act_bwd_" + OpCodes.suffix(dy.dtype()), (int) Math.min(tiles, 65535), 1, 1, 32,
                BIAS_ACT_BWD_ROWS, new Args().ptr(CudaBackend.ptr(dy)).ptr(CudaBackend.ptr(y))
                        .ptr(CudaBackend.ptr(dz == null ? dy : dz)).ptr(CudaBackend.ptr(db)).i64(s[0]).i64(s[1])
                        .i32(act.ordinal()).i32(dz == null ? 0 : 1));
    }

    /**
     * loss (modified, a scalar) = the mean over rows of the softmax cross-entropy, and grad (modified, like logits) =
     * (softmax - oneHot(labels)) / rows, in one launch for up to 4096 rows (one block:
     * warps over rows, a fixed-order sum); beyond, one block per that many rows writes a partial mean into scratch and
     * a row reduction adds them (two launches). The mean of no rows is NaN.
     */
    public static void softmaxCrossEntropyMean(Tensor logits, Tensor labels, Tensor loss, Tensor grad) {
        CudaBackend be = backendOf("softmaxCrossEntropyMean", logits);
        int[] ls = logits.shape();
        checkLabels("softmaxCrossEntropyMean", logits, labels);
        require(loss.numel() == 1 && loss.rank() == 0 && loss.dtype() == logits.dtype() && Arrays.equals(grad.shape(), ls)
                && grad.dtype() == logits.dtype(), "softmaxCrossEntropyMean", "loss must be a scalar and grad like logits "
                + logits.describe() + "; got " + loss.describe() + ", " + grad.describe());
        int rows = ls[0];
        int blocks = Math.max(1, (rows + XENT_MEAN_ONE_BLOCK_ROWS - 1) / XENT_MEAN_ONE_BLOCK_ROWS);
        be.errors().expect();
        String name = "softmax_xent_mean_" + OpCodes.suffix(logits.dtype());
        if (blocks == 1) {
            be.kernels().launch(name, 1, 1, 1, Kernels.BLOCK, 1, meanArgs(logits, labels, CudaBackend.ptr(loss), grad, be));
            return;
        }
        try (Tensor partial = Tensors.empty(be, logits.dtype(), blocks)) {
            be.kernels().launch(name, blocks, 1, 1, Kernels.BLOCK, 1, meanArgs(logits, labels, CudaBackend.ptr(partial), grad, be));
            be.reduce(dev.wengert.tensor.ReduceOp.SUM, partial, new int[] {0}, loss); // in a fixed order, as every reduction
        }
    }

    private static Args meanArgs(Tensor logits, Tensor labels, jcuda.driver.CUdeviceptr partial, Tensor grad, CudaBackend be) {
        int rows = logits.dim(0);
        return new Args().ptr(CudaBackend.ptr(logits)).ptr(CudaBackend.ptr(labels)).ptr(partial).ptr(CudaBackend.ptr(grad))
                .i64(rows).i32(logits.dim(1)).i64(XENT_MEAN_ONE_BLOCK_ROWS).f64(rows == 0 ? 0 : 1.0 / rows).ptr(be.errors().ptr());
    }

    /** loss (modified, [rows]) = logsumexp(logits[r]) - logits[r, labels[r]] for logits [rows, classes], int64 labels [rows]. */
    public static void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss) {
        CudaBackend be = backendOf("softmaxCrossEntropy", logits);
        int[] ls = logits.shape();
        checkLabels("softmaxCrossEntropy", logits, labels);
        require(Arrays.equals(loss.shape(), new int[] {ls[0]}) && loss.dtype() == logits.dtype(), "softmaxCrossEntropy",
                "loss must be " + logits.dtype() + Shape.str(new int[] {ls[0]}) + ", got " + loss.describe());
        be.errors().expect();
        Args args = new Args().ptr(CudaBackend.ptr(logits)).ptr(CudaBackend.ptr(labels)).ptr(CudaBackend.ptr(loss)).i64(ls[0])
                .i32(ls[1]).ptr(be.errors().ptr());
        if (ls[1] <= Kernels.WARP_ROW_MAX) {   // short rows: a warp per row, not a mostly idle block
            be.kernels().launchWarpRows("softmax_xent_fwd_warp_" + OpCodes.suffix(logits.dtype()), ls[0], args);
        } else {
            be.kernels().launchRows("softmax_xent_fwd_" + OpCodes.suffix(logits.dtype()), ls[0], args);
        }
    }

    /**
     * grad (modified, like logits) = (softmax(logits) - oneHot(labels)) * gradLoss * scale, where gradLoss
     * is the upstream gradient per row ([rows]) or one scalar for all rows (then scale = 1/rows gives the
     * gradient of the mean loss).
     */
    public static void softmaxCrossEntropyBackward(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad) {
        CudaBackend be = backendOf("softmaxCrossEntropyBackward", logits);
        int[] ls = logits.shape();
        checkLabels("softmaxCrossEntropyBackward", logits, labels);
        boolean scalar = gradLoss.numel() == 1;
        require((scalar || Arrays.equals(gradLoss.shape(), new int[] {ls[0]})) && gradLoss.dtype() == logits.dtype()
                && Arrays.equals(grad.shape(), ls) && grad.dtype() == logits.dtype(), "softmaxCrossEntropyBackward",
                "gradLoss must be a scalar or [rows] and grad like logits " + logits.describe() + "; got "
                        + gradLoss.describe() + ", " + grad.describe());
        be.errors().expect(); // a label outside [0, classes) is reported by the kernel, as in the forward
        Args args = new Args().ptr(CudaBackend.ptr(logits)).ptr(CudaBackend.ptr(labels)).ptr(CudaBackend.ptr(gradLoss))
                .i32(scalar ? 0 : 1).f64(scale).ptr(CudaBackend.ptr(grad)).i64(ls[0]).i32(ls[1]).ptr(be.errors().ptr());
        if (ls[1] <= Kernels.WARP_ROW_MAX) {
            be.kernels().launchWarpRows("softmax_xent_bwd_warp_" + OpCodes.suffix(logits.dtype()), ls[0], args);
        } else {
            be.kernels().launchRows("softmax_xent_bwd_" + OpCodes.suffix(logits.dtype()), ls[0], args);
        }
    }

    private static void checkLabels(String op, Tensor logits, Tensor labels) {
        int[] ls = logits.shape();
        require(ls.length == 2 && logits.dtype().isFloating() && labels.dtype() == DType.INT64
                && Arrays.equals(labels.shape(), new int[] {ls[0]}) && labels.device().equals(logits.device()), op,
                "needs float logits [rows, classes] and int64 labels [rows] on one device; got "
                        + logits.describe() + " and " + labels.describe());
    }

    /**
     * Training-mode batch normalisation ({@link FusedKernel.BatchNormForward}) of a float x [N, C, L]: mean and var
     * (modified, [C]) = each channel's mean and biased variance over its N * L values, y (modified, like x) =
     * (x - mean) / sqrt(var + eps) * weight + bias. One launch of one block per channel (fused.cuh's batch_norm,
     * three passes over the channel): sums in double in a fixed order, so the bits are the same on every run.
     * weight and bias [C] are not modified. With N * L = 0 mean and var are NaN.
     */
    public static void batchNorm(Tensor x, Tensor weight, Tensor bias, double eps, Tensor y, Tensor mean, Tensor var) {
        CudaBackend be = backendOf("batchNorm", x);
        int[] s = x.shape();
        require(s.length == 3 && x.dtype().isFloating(), "batchNorm", "needs a float x [N, C, L] (view [N, C] and [N, C, H, W]"
                + " inputs so), got " + x.describe());
        requireGiven("batchNorm", new String[] {"weight", "bias", "y", "mean", "var"}, weight, bias, y, mean, var);
        checkBatchNormOperands("batchNorm", x, new Tensor[] {y}, new Tensor[] {weight, bias, mean, var});
        be.kernels().launchRows("batch_norm_" + OpCodes.suffix(x.dtype()), s[1], new Args().ptr(CudaBackend.ptr(x))
                .ptr(CudaBackend.ptr(weight)).ptr(CudaBackend.ptr(bias)).f64(eps).ptr(CudaBackend.ptr(y))
                .ptr(CudaBackend.ptr(mean)).ptr(CudaBackend.ptr(var)).i64(s[0]).i64(s[1]).i64(s[2]));
    }

    /**
     * Batch normalisation's running statistics after a training batch ({@link FusedKernel.BatchNormRunningStats}):
     * runningMean and runningVar [C] modified in place from the batch's mean and var [C]; one launch over C.
     */
    public static void batchNormRunningStats(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor var, double momentum,
                                             double varFactor) {
        CudaBackend be = backendOf("batchNormRunningStats", runningMean);
        requireGiven("batchNormRunningStats", new String[] {"runningMean", "runningVar", "mean", "var"}, runningMean, runningVar,
                mean, var);
        require(runningMean.rank() == 1 && runningMean.dtype().isFloating(), "batchNormRunningStats",
                "needs float statistics [C], got " + runningMean.describe());
        sameLayout("batchNormRunningStats", runningMean, runningVar, mean, var);
        be.kernels().launch("batch_norm_running_" + OpCodes.suffix(runningMean.dtype()), runningMean.numel(), new Args()
                .ptr(CudaBackend.ptr(runningMean)).ptr(CudaBackend.ptr(runningVar)).ptr(CudaBackend.ptr(mean))
                .ptr(CudaBackend.ptr(var)).f64(momentum).f64(varFactor).i64(runningMean.numel()));
    }

    /** batch_norm_bwd's output bits (BN_DX, BN_DWEIGHT, BN_DBIAS in fused.cuh). */
    private static final int BN_DX = 1;
    private static final int BN_DWEIGHT = 2;
    private static final int BN_DBIAS = 4;

    /**
     * The adjoints of {@link #batchNorm}'s y for dy [N, C, L] ({@link FusedKernel.BatchNormBackward}), from x and the
     * forward's mean and var [C]: with invStd = 1 / sqrt(var + eps) and xhat = (x - mean) invStd, dbias (modified
     * unless null, [C]) = sum dy, dweight (modified unless null, [C]) = sum dy xhat and dx (modified unless null,
     * like x; may be dy) = weight invStd (dy - sum dy / M - xhat sum dy xhat / M), sums over each channel's
     * M = N * L values. One launch of one block per channel (fused.cuh's batch_norm_bwd: the two sums in one
     * pass, in double in a fixed order, then dx); none when all three are null.
     */
    public static void batchNormBackward(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps, Tensor dx,
                                         Tensor dweight, Tensor dbias) {
        CudaBackend be = backendOf("batchNormBackward", dy);
        int[] s = dy.shape();
        require(s.length == 3 && dy.dtype().isFloating(), "batchNormBackward", "needs a float dy [N, C, L] (view [N, C]"
                + " and [N, C, H, W] inputs so), got " + dy.describe());
        requireGiven("batchNormBackward", new String[] {"x", "mean", "var", "weight"}, x, mean, var, weight);
        checkBatchNormOperands("batchNormBackward", dy, new Tensor[] {x, dx}, new Tensor[] {mean, var, weight, dweight, dbias});
        int write = (dx == null ? 0 : BN_DX) | (dweight == null ? 0 : BN_DWEIGHT) | (dbias == null ? 0 : BN_DBIAS);
        if (write == 0) {
            return;
        }
        // An output not written gets a stand-in pointer (the kernel never touches it): dy for dx, mean for the others.
        be.kernels().launchRows("batch_norm_bwd_" + OpCodes.suffix(dy.dtype()), s[1], new Args().ptr(CudaBackend.ptr(dy))
                .ptr(CudaBackend.ptr(x)).ptr(CudaBackend.ptr(mean)).ptr(CudaBackend.ptr(var)).ptr(CudaBackend.ptr(weight))
                .f64(eps).ptr(CudaBackend.ptr(dx == null ? dy : dx)).ptr(CudaBackend.ptr(dweight == null ? mean : dweight))
                .ptr(CudaBackend.ptr(dbias == null ? mean : dbias)).i64(s[0]).i64(s[1]).i64(s[2]).i32(write));
    }

    private static void requireGiven(String op, String[] names, Tensor... ts) {
        for (int i = 0; i < ts.length; i++) {
            require(ts[i] != null, op, names[i] + " is null; only the backward's dx, dweight and dbias may be (not written)");
        }
    }

    /**
     * Every non-null tensor of {@code full} shaped like {@code like} ([N, C, L]) and of {@code perChannel} [C], all of
     * like's dtype and device and open: the kernels index them so, and must never read or write out of bounds.
     */
    private static void checkBatchNormOperands(String op, Tensor like, Tensor[] full, Tensor[] perChannel) {
        int[] channels = {like.dim(1)};
        for (Tensor[] group : new Tensor[][] {full, perChannel}) {
            int[] want = group == full ? like.shape() : channels;
            for (Tensor t : group) {
                if (t == null) {
                    continue;
                }
                t.ensureOpen(op);
                require(Arrays.equals(t.shape(), want) && t.dtype() == like.dtype() && t.device().equals(like.device()), op,
                        t.describe() + " must be " + like.dtype() + Shape.str(want) + " on " + like.device() + ", as "
                                + (group == full ? "" : "one value per channel of ") + like.describe());
            }
        }
    }

    /**
     * PyTorch SGD with momentum (dampening 0): param and velocity are modified; velocity starts at zero.
     * g = grad + weightDecay * param; v = momentum * v + g; param -= lr * (nesterov ? g + momentum * v : v).
     */
    public static void sgdMomentum(Tensor param, Tensor grad, Tensor velocity, double lr, double momentum,
                                   double weightDecay, boolean nesterov) {
        CudaBackend be = backendOf("sgdMomentum", param);
        sameLayout("sgdMomentum", param, grad, velocity);
        be.kernels().launch("sgd_momentum_" + OpCodes.suffix(param.dtype()), param.numel(), new Args()
                .ptr(CudaBackend.ptr(param)).ptr(CudaBackend.ptr(grad)).ptr(CudaBackend.ptr(velocity))
                .f64(lr).f64(momentum).f64(weightDecay).i32(nesterov ? 1 : 0).i64(param.numel()));
    }

    /**
     * PyTorch Adam (decoupled = false) or AdamW (true) at 1-based {@code step}: param, m and v are
     * modified; m and v start at zero.
     */
    public static void adam(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                            double eps, double weightDecay, long step, boolean decoupled) {
        CudaBackend be = backendOf("adam", param);
        sameLayout("adam", param, grad, m, v);
        require(step >= 1, "adam", "step is 1-based, got " + step);
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        be.kernels().launch("adam_" + OpCodes.suffix(param.dtype()), param.numel(), new Args()
                .ptr(CudaBackend.ptr(param)).ptr(CudaBackend.ptr(grad)).ptr(CudaBackend.ptr(m)).ptr(CudaBackend.ptr(v))
                .f64(lr).f64(beta1).f64(beta2).f64(eps).f64(weightDecay).f64(bc1).f64(bc2).i32(decoupled ? 1 : 0)
                .i64(param.numel()));
    }

    /** Tensors per launch of {@link #sgdAll} and {@link #adamAll} (MT_MAX in optim.cuh); more are chunked. */
    static final int MT_MAX = 32;

    /**
     * The whole-step optimizer kernels' device scalars (modified) = {step, lr, 0, 0} (optim.cuh's
     * OptimScalars): one small launch, no copy and no synchronisation. scalars is float64 [4].
     */
    public static void optimizerScalars(Tensor scalars, long step, double lr) {
        CudaBackend be = backendOf("optimizerScalars", scalars);
        checkScalars("optimizerScalars", scalars, scalars);
        be.kernels().launch("optim_scalars_set", 1, 1, 1, 1, 1, new Args().ptr(CudaBackend.ptr(scalars)).f64(step).f64(lr));
    }

    /**
     * PyTorch SGD (dampening 0) of every params[i] with a non-null grads[i], in one launch per
     * {@link #MT_MAX} such parameters, lr read on the device from {@code scalars} (see
     * {@link #optimizerScalars}): params and velocities (null for plain SGD) are modified.
     */
    public static void sgdAll(Tensor[] params, Tensor[] grads, Tensor[] velocities, Tensor scalars, double momentum,
                              double weightDecay, boolean nesterov) {
        Tensor[][] lists = velocities == null ? new Tensor[][] {params, grads} : new Tensor[][] {params, grads, velocities};
        List<Integer> live = liveParams("sgdAll", lists, scalars);
        if (live.isEmpty()) {
            return;
        }
        CudaBackend be = backendOf("sgdAll", params[live.get(0)]);
        String kernel = "optim_sgd_" + OpCodes.suffix(params[live.get(0)].dtype());
        for (int from = 0; from < live.size(); from += MT_MAX) {
            List<Integer> chunk = live.subList(from, Math.min(live.size(), from + MT_MAX));
            long[] list = packList(lists, chunk);
            be.kernels().launch(kernel, Math.max(1, list[1 + chunk.size()]), new Args()
                    .struct(list).ptr(CudaBackend.ptr(scalars)).f64(momentum).f64(weightDecay).i32(nesterov ? 1 : 0)
                    .i32(velocities == null ? 0 : 1));
        }
    }

    /**
     * PyTorch Adam (decoupled = false) or AdamW (true) of every params[i] with a non-null grads[i], in one
     * launch per {@link #MT_MAX} such parameters, at the step t and with the lr that {@code scalars} holds on
     * the device (see {@link #optimizerScalars}); the last launch adds one to t (one launch, advancing t,
     * also when no parameter has a gradient). params, m, v and scalars are modified.
     */
    public static void adamAll(Tensor[] params, Tensor[] grads, Tensor[] m, Tensor[] v, Tensor scalars, double beta1,
                               double beta2, double eps, double weightDecay, boolean decoupled) {
        Tensor[][] lists = {params, grads, m, v};
        List<Integer> live = liveParams("adamAll", lists, scalars);
        CudaBackend be = backendOf("adamAll", live.isEmpty() ? scalars : params[live.get(0)]);
        // With no gradient the launch only advances t; its element type is then immaterial.
        String kernel = "optim_adam_" + OpCodes.suffix(live.isEmpty() ? DType.FLOAT32 : params[live.get(0)].dtype());
        int from = 0;
        do {
            List<Integer> chunk = live.subList(from, Math.min(live.size(), from + MT_MAX));
            from += MT_MAX;
            long[] list = packList(lists, chunk);
            boolean last = from >= live.size();
            be.kernels().launch(kernel, Math.max(1, list[1 + chunk.size()]), new Args().struct(list)
                    .ptr(CudaBackend.ptr(scalars)).f64(beta1).f64(beta2).f64(eps).f64(weightDecay).i32(decoupled ? 1 : 0)
                    .i32(last ? 1 : 0));
        } while (from < live.size());
    }

    /**
     * The trainer's loss watch in one single-thread launch, in place on scalars of the loss's dtype: while
     * sum is below +inf current = loss; sum += loss (times weight unless 1); if sum is then below +inf,
     * finiteSteps += 1. sum, finiteSteps and current are modified.
     */
    public static void lossWatch(Tensor sum, Tensor finiteSteps, Tensor current, Tensor loss, double weight) {
        CudaBackend be = backendOf("lossWatch", loss);
        for (Tensor t : new Tensor[] {sum, finiteSteps, current}) {
            t.ensureOpen("lossWatch");
            require(t.numel() == 1 && loss.numel() == 1 && t.dtype() == loss.dtype() && loss.dtype().isFloating()
                    && t.device().equals(loss.device()), "lossWatch", "needs float scalars of one dtype on one device; got "
                    + t.describe() + " and loss " + loss.describe());
        }
        be.kernels().launch("loss_watch_" + OpCodes.suffix(loss.dtype()), 1, 1, 1, 1, 1, new Args().ptr(CudaBackend.ptr(sum))
                .ptr(CudaBackend.ptr(finiteSteps)).ptr(CudaBackend.ptr(current)).ptr(CudaBackend.ptr(loss)).f64(weight));
    }

    /**
     * mask (modified, float) = a dropout mask, 0 with probability p and 1/(1-p) otherwise, drawn from
     * {@code state} (int64 [{@link FusedKernel#DROPOUT_STATE_SIZE}] = {seed, calls, ticket}, modified: calls
     * += 1) in one launch and without a host synchronisation (random.cuh's dropout_mask; see
     * {@link FusedKernel.DropoutMask}). At least one block runs, so an empty mask advances calls too. p and
     * 1/(1-p) travel by value (they never change); the draw number is read on the device, so a captured
     * graph's replays draw new masks.
     */
    public static void dropoutMask(Tensor state, double p, Tensor mask) {
        CudaBackend be = backendOf("dropoutMask", mask);
        state.ensureOpen("dropoutMask");
        require(mask.dtype().isFloating() && state.dtype() == DType.INT64 && state.numel() == FusedKernel.DROPOUT_STATE_SIZE
                && state.device().equals(mask.device()), "dropoutMask", "needs a float mask and the int64["
                + FusedKernel.DROPOUT_STATE_SIZE + "] state {seed, calls, ticket} on its device; got " + mask.describe()
                + " and " + state.describe());
        require(p > 0 && p < 1, "dropoutMask", "p must be in (0, 1), got " + p + " (p = 0 draws no mask)");
        be.kernels().launch("dropout_mask_" + OpCodes.suffix(mask.dtype()), Math.max(1, mask.numel()), new Args()
                .ptr(CudaBackend.ptr(mask)).ptr(CudaBackend.ptr(state)).f64(p).f64(1 / (1 - p)).i64(mask.numel()));
    }

    /**
     * The indices i with a gradient (lists[1][i] != null), checked: each list's tensor shaped like lists[0][i],
     * all of one float dtype and device, and the scalars float64 [4] there.
     */
    private static List<Integer> liveParams(String op, Tensor[][] lists, Tensor scalars) {
        Tensor[] params = lists[0];
        for (Tensor[] l : lists) {
            require(l.length == params.length, op, "needs one tensor per parameter in every list: " + params.length
                    + " parameters, a list of " + l.length);
        }
        List<Integer> live = new ArrayList<>();
        Tensor first = null;
        for (int i = 0; i < params.length; i++) {
            if (lists[1][i] == null) {
                continue;
            }
            Tensor p = params[i];
            p.ensureOpen(op);
            if (first == null) {
                first = p;
                require(p.dtype().isFloating(), op, "needs float tensors, got parameter " + i + ": " + p.describe());
            }
            require(p.dtype() == first.dtype() && p.device().equals(first.device()), op, "parameter " + i + " "
                    + p.describe() + " must have the dtype and device of " + first.describe() + " (one launch updates all)");
            for (int k = 1; k < lists.length; k++) {
                Tensor t = lists[k][i];
                require(t != null, op, "parameter " + i + " has a gradient but no state tensor in list " + k);
                t.ensureOpen(op);
                require(Arrays.equals(t.shape(), p.shape()) && t.dtype() == p.dtype() && t.device().equals(p.device()), op,
                        "parameter " + i + ": " + t.describe() + " must match " + p.describe());
            }
            live.add(i);
        }
        checkScalars(op, scalars, first == null ? scalars : first);
        return live;
    }

    private static void checkScalars(String op, Tensor scalars, Tensor like) {
        scalars.ensureOpen(op);
        require(scalars.dtype() == DType.FLOAT64 && scalars.numel() == FusedKernel.OPTIMIZER_SCALARS_SIZE
                && scalars.device().equals(like.device()), op, "the optimizer scalars must be float64["
                + FusedKernel.OPTIMIZER_SCALARS_SIZE + "] on " + like.device() + ", got " + scalars.describe());
    }

    /**
     * optim.cuh's MtList for the tensors {@code chunk} of each list, as 8-byte words: count, start[MT_MAX + 1]
     * (element offsets; word 1 + chunk.size() is the total), ptr[4][MT_MAX] (unused lists and slots 0).
     */
    private static long[] packList(Tensor[][] lists, List<Integer> chunk) {
        long[] w = new long[1 + (MT_MAX + 1) + 4 * MT_MAX];
        w[0] = chunk.size();
        for (int k = 0; k < chunk.size(); k++) {
            int i = chunk.get(k);
            w[2 + k] = w[1 + k] + lists[0][i].numel();
            for (int d = 0; d < lists.length; d++) {
                w[2 + MT_MAX + d * MT_MAX + k] = DeviceAddress.of(CudaBackend.ptr(lists[d][i]));
            }
        }
        for (int k = chunk.size() + 1; k <= MT_MAX; k++) {
            w[1 + k] = w[1 + chunk.size()];  // offsets past the count: the total, as the kernel never reads them
        }
        return w;
    }

    private static void sameLayout(String op, Tensor first, Tensor... others) {
        require(first.dtype().isFloating(), op, "needs float tensors, got " + first.describe());
        for (Tensor t : others) {
            t.ensureOpen(op);
            require(Arrays.equals(t.shape(), first.shape()) && t.dtype() == first.dtype() && t.device().equals(first.device()),
                    op, t.describe() + " must match " + first.describe());
        }
    }
}
