package dev.wengert.tensor.cuda;

import dev.wengert.tensor.Activation;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.spi.Tensors;
import java.util.Arrays;

/**
 * The fused kernels the models need (fused.cuh), on tensors of a {@link CudaBackend}: each replaces a
 * chain of primitives and is tested against that chain. Arguments are not modified unless their
 * description says "modified". {@link CudaBackend} registers them as its implementations of
 * {@link dev.wengert.tensor.FusedKernel}'s keys. {@link Activation}s are passed as their ordinal (ACT_* in fused.cuh).
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

    private static void sameLayout(String op, Tensor first, Tensor... others) {
        require(first.dtype().isFloating(), op, "needs float tensors, got " + first.describe());
        for (Tensor t : others) {
            t.ensureOpen(op);
            require(Arrays.equals(t.shape(), first.shape()) && t.dtype() == first.dtype() && t.device().equals(first.device()),
                    op, t.describe() + " must match " + first.describe());
        }
    }
}
