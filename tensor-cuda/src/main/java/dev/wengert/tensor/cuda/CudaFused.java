package dev.wengert.tensor.cuda;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;

/**
 * The fused kernels the models need (fused.cuh), on tensors of a {@link CudaBackend}: each replaces a
 * chain of primitives and is tested against that chain. Arguments are not modified unless their
 * description says "modified". {@link CudaBackend} registers the cross-entropy and optimizer kernels as
 * its implementations of {@link dev.wengert.tensor.FusedKernel}'s keys; {@link #biasActivation} has no
 * key (no user yet).
 */
public final class CudaFused {
    /** Activation applied by {@link #biasActivation}; codes match ACT_* in fused.cuh. */
    public enum Activation { NONE, RELU, TANH, SIGMOID }

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

    /** loss (modified, [rows]) = logsumexp(logits[r]) - logits[r, labels[r]] for logits [rows, classes], int64 labels [rows]. */
    public static void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss) {
        CudaBackend be = backendOf("softmaxCrossEntropy", logits);
        int[] ls = logits.shape();
        checkLabels("softmaxCrossEntropy", logits, labels);
        require(Arrays.equals(loss.shape(), new int[] {ls[0]}) && loss.dtype() == logits.dtype(), "softmaxCrossEntropy",
                "loss must be " + logits.dtype() + Shape.str(new int[] {ls[0]}) + ", got " + loss.describe());
        be.errors().expect();
        be.kernels().launchRows("softmax_xent_fwd_" + OpCodes.suffix(logits.dtype()), ls[0], new Args()
                .ptr(CudaBackend.ptr(logits)).ptr(CudaBackend.ptr(labels)).ptr(CudaBackend.ptr(loss)).i64(ls[0]).i32(ls[1])
                .ptr(be.errors().ptr()));
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
        be.kernels().launchRows("softmax_xent_bwd_" + OpCodes.suffix(logits.dtype()), ls[0], new Args()
                .ptr(CudaBackend.ptr(logits)).ptr(CudaBackend.ptr(labels)).ptr(CudaBackend.ptr(gradLoss)).i32(scalar ? 0 : 1)
                .f64(scale).ptr(CudaBackend.ptr(grad)).i64(ls[0]).i32(ls[1]).ptr(be.errors().ptr()));
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
