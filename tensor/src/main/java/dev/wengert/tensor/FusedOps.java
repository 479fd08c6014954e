package dev.wengert.tensor;

/**
 * Fused operations: each replaces a chain of primitives with one pass for speed, and each has a composed
 * reference ({@link ComposedFusedOps}, built from {@link Tensor} operations) that it is tested against.
 * A backend offers its own through {@link Backend#fused()}; one that has none uses the composed ones.
 * Only the arguments described as modified are written.
 */
public interface FusedOps {

    /**
     * loss (modified, [rows]) = logsumexp(logits[r, :]) - logits[r, labels[r]] for logits [rows, classes]
     * and int64 labels [rows]: softmax cross-entropy per row, stable for large logits.
     */
    void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss);

    /**
     * grad (modified, shaped like logits) = (softmax(logits) - oneHot(labels)) * gradLoss[r] * scale, where
     * gradLoss is the upstream gradient per row ([rows]) or a scalar shared by all rows.
     */
    void softmaxCrossEntropyBackward(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad);

    /**
     * One PyTorch SGD step (dampening 0): g = grad + weightDecay * param; with a velocity (modified,
     * starts at zero) v = momentum * v + g and the step is nesterov ? g + momentum * v : v; without one
     * (null) the step is g. param (modified) -= lr * step.
     */
    void sgd(Tensor param, Tensor grad, Tensor velocity, double lr, double momentum, double weightDecay, boolean nesterov);

    /**
     * One PyTorch Adam step (decoupled = false: L2 added to the gradient) or AdamW step (decoupled = true:
     * param *= 1 - lr * weightDecay first) at 1-based {@code step}: m = b1 m + (1 - b1) g,
     * v = b2 v + (1 - b2) g^2, param -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
     * param, m and v are modified; m and v start at zero.
     */
    void adam(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
              double weightDecay, long step, boolean decoupled);
}
