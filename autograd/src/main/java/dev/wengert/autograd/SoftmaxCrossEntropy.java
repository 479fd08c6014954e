package dev.wengert.autograd;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.Optional;

/**
 * The tensor computations of the cross-entropy primitives ({@link Prim#SOFTMAX_CROSS_ENTROPY} and its VJP,
 * {@link Prim#SOFTMAX_CROSS_ENTROPY_GRAD}): operand checks, then the backend's fused kernel
 * ({@link FusedKernel#SOFTMAX_XENT_FWD}, {@link FusedKernel#SOFTMAX_XENT_BWD}) where it has one, and the
 * composed version here, written with tensor operations, where it has none. The composed versions are
 * also the reference the kernels are tested against. The outputs are allocated uninitialised on the
 * logits' device ({@code Tensor.on(device).empty}): the kernel or the composed version overwrites them.
 */
final class SoftmaxCrossEntropy {
    private SoftmaxCrossEntropy() {
    }

    /** loss[r] = logsumexp(logits[r, :]) - logits[r, labels[r]] for float logits [rows, classes], int64 labels [rows]. */
    static Tensor loss(Tensor logits, Tensor labels) {
        check("softmaxCrossEntropy", logits, labels);
        Tensor loss = Tensor.on(logits.device()).empty(logits.dtype(), logits.dim(0));
        Optional<FusedKernel.SoftmaxXentForward> fused = logits.backend().fused(FusedKernel.SOFTMAX_XENT_FWD);
        if (fused.isPresent()) {
            fused.get().run(logits, labels, loss);
        } else {
            composedLoss(logits, labels, loss);
        }
        return loss;
    }

    /**
     * The mean over rows of {@link #loss}, a scalar, and (stored in {@code stash}) its gradient (softmax(logits) -
     * oneHot(labels)) / rows, computed in the same pass: the backend's {@link FusedKernel#SOFTMAX_XENT_MEAN} (one
     * launch on CUDA), or the per-row kernels (or their composed versions) where it has none. Without the backend
     * kernel and with a stash that does not want the gradient (an unrecorded loss), only the loss is computed.
     */
    static Tensor mean(Tensor logits, Tensor labels, Var.Stash stash) {
        check("softmaxCrossEntropyMean", logits, labels);
        Tensor loss = Tensor.on(logits.device()).empty(logits.dtype());
        Optional<FusedKernel.SoftmaxXentMean> fused = logits.backend().fused(FusedKernel.SOFTMAX_XENT_MEAN);
        if (!fused.isPresent() && !stash.wanted()) {
            try (Tensor perRow = loss(logits, labels); Tensor m = perRow.mean()) {
                return loss.assign(m);
            }
        }
        Tensor grad = Tensor.on(logits.device()).empty(logits.dtype(), logits.shape());
        if (fused.isPresent()) {
            fused.get().run(logits, labels, loss, grad);
        } else {
            composedMean(logits, labels, loss, grad);
        }
        if (stash.wanted()) {
            stash.hold(loss, grad);
        } else {
            grad.close();
        }
        return loss;
    }

    /**
     * {@link FusedKernel.SoftmaxXentMean} composed: loss (modified) = mean of the per-row losses, grad (modified) =
     * (softmax - oneHot) / rows, with the backend's per-row kernels where it has them (the CPU's one-pass Java loops).
     */
    static void composedMean(Tensor logits, Tensor labels, Tensor loss, Tensor grad) {
        try (Scope s = Scope.open()) {
            int rows = logits.dim(0);
            Tensor perRow = Tensor.on(logits.device()).empty(logits.dtype(), rows);
            Optional<FusedKernel.SoftmaxXentForward> fwd = logits.backend().fused(FusedKernel.SOFTMAX_XENT_FWD);
            if (fwd.isPresent()) {
                fwd.get().run(logits, labels, perRow);
            } else {
                composedLoss(logits, labels, perRow);
            }
            loss.assign(perRow.mean());
            Tensor one = Tensor.on(logits.device()).ones(logits.dtype());
            Optional<FusedKernel.SoftmaxXentBackward> bwd = logits.backend().fused(FusedKernel.SOFTMAX_XENT_BWD);
            if (bwd.isPresent()) {
                bwd.get().run(logits, labels, one, 1.0 / rows, grad);
            } else {
                composedGrad(logits, labels, one, 1.0 / rows, grad);
            }
        }
    }

    /** (softmax(logits) - oneHot(labels)) * gradLoss[r]: the gradient of {@link #loss} for the upstream gradLoss [rows]. */
    static Tensor grad(Tensor logits, Tensor labels, Tensor gradLoss) {
        check("softmaxCrossEntropyGrad", logits, labels);
        Tensor.checkCompatible("softmaxCrossEntropyGrad", logits, gradLoss);
        if (!Arrays.equals(gradLoss.shape(), new int[] {logits.dim(0)})) {
            throw new IllegalArgumentException("softmaxCrossEntropyGrad: upstream gradient " + gradLoss.describe()
                    + " must be [" + logits.dim(0) + "], the loss's shape");
        }
        Tensor grad = Tensor.on(logits.device()).empty(logits.dtype(), logits.shape());
        Optional<FusedKernel.SoftmaxXentBackward> fused = logits.backend().fused(FusedKernel.SOFTMAX_XENT_BWD);
        if (fused.isPresent()) {
            fused.get().run(logits, labels, gradLoss, 1.0, grad);
        } else {
            composedGrad(logits, labels, gradLoss, 1.0, grad);
        }
        return grad;
    }

    /** {@link FusedKernel.SoftmaxXentForward} composed: loss (modified) = -gather(logSoftmax(logits), labels). */
    static void composedLoss(Tensor logits, Tensor labels, Tensor loss) {
        try (Scope s = Scope.open()) {
            int rows = logits.dim(0);
            Tensor picked = logits.logSoftmax(1).gather(1, labels.reshape(rows, 1)).reshape(rows);
            loss.assign(picked.neg());
        }
    }

    /**
     * {@link FusedKernel.SoftmaxXentBackward} composed: grad (modified) = (softmax(logits) - oneHot(labels)) *
     * gradLoss * scale, gradLoss per row ([rows]) or a scalar.
     */
    static void composedGrad(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad) {
        try (Scope s = Scope.open()) {
            int rows = logits.dim(0);
            Tensor diff = logits.softmax(1).sub(labels.oneHot(logits.dim(1), logits.dtype()));
            Tensor upstream = gradLoss.rank() == 0 ? gradLoss : gradLoss.reshape(rows, 1);
            grad.assign(diff.mul(upstream).mul(scale));
        }
    }

    private static void check(String op, Tensor logits, Tensor labels) {
        logits.ensureOpen(op);
        labels.ensureOpen(op);
        if (logits.rank() != 2 || !logits.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": logits must be a float [rows, classes] tensor, got " + logits.describe());
        }
        if (labels.dtype() != DType.INT64 || !Arrays.equals(labels.shape(), new int[] {logits.dim(0)})) {
            throw new IllegalArgumentException(op + ": labels must be int64 [" + logits.dim(0) + "], got " + labels.describe());
        }
        if (!labels.device().equals(logits.device())) {
            throw new IllegalArgumentException(op + ": labels are on " + labels.device() + " but the logits on "
                    + logits.device() + "; move them with to(" + logits.device() + ")");
        }
    }
}
