package dev.wengert.models.loss;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;

/**
 * Loss functions, composed from autograd primitives (no rules of their own), each averaged over all
 * elements or samples. None modifies its arguments.
 */
public final class Losses {
    private Losses() {
    }

    /** mean((prediction - target)^2); shapes must match. */
    public static Var mse(Var prediction, Var target) {
        requireSameShape("mse", prediction, target);
        return prediction.sub(target).square().mean();
    }

    /**
     * Binary cross-entropy on logits x with targets y in [0, 1]: mean(max(x, 0) - x y + log(1 + exp(-|x|))),
     * finite for any logit. max(x, 0) shares its gradient at a tie and |x|' = 0 at 0, so the gradient is
     * exactly sigmoid(x) - y everywhere, including x = 0.
     */
    public static Var bceWithLogits(Var logits, Var targets) {
        requireSameShape("bceWithLogits", logits, targets);
        Var zero = Var.constant(Tensor.on(logits.value().device()).zeros(logits.dtype()));
        Var softplusTail = logits.abs().neg().exp().add(1).log();
        return logits.maximum(zero).sub(logits.mul(targets)).add(softplusTail).mean();
    }

    /**
     * Softmax cross-entropy: -mean_i logSoftmax(logits)[i, labels[i]] for logits [B, C] and int64 labels
     * [B] in 0..C-1. Stable for large logits. One primitive, {@link Var#softmaxCrossEntropyMean}: its forward
     * computes the gradient in the same pass (one launch on CUDA), so backward() from the loss costs nothing more;
     * LossesTest checks it against logSoftmax + gather.
     */
    public static Var crossEntropy(Var logits, Tensor labels) {
        int[] s = logits.shape();
        if (s.length != 2) {
            throw new IllegalArgumentException("crossEntropy: logits must be [batch, classes], got " + logits.value().describe());
        }
        if (labels.dtype() != DType.INT64 || labels.rank() != 1 || labels.dim(0) != s[0]) {
            throw new IllegalArgumentException("crossEntropy: labels must be int64 [" + s[0] + "], got " + labels.describe());
        }
        return logits.softmaxCrossEntropyMean(labels);
    }

    private static void requireSameShape(String op, Var a, Var b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": prediction " + a.value().describe() + " and target "
                    + b.value().describe() + " must have the same shape");
        }
    }
}
