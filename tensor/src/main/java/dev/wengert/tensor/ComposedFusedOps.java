package dev.wengert.tensor;

/**
 * The fused operations written as chains of {@link Tensor} operations: correct on every backend, the
 * reference the real fused kernels are tested against, and what a backend without fused kernels uses.
 * Temporaries live in a scope of their own.
 */
public final class ComposedFusedOps implements FusedOps {
    public static final ComposedFusedOps INSTANCE = new ComposedFusedOps();

    private ComposedFusedOps() {
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss) {
        try (Scope s = Scope.open()) {
            int rows = logits.dim(0);
            Tensor picked = logits.logSoftmax(1).gather(1, labels.reshape(rows, 1)).reshape(rows);
            loss.assign(picked.neg());
        }
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor logits, Tensor labels, Tensor gradLoss, double scale, Tensor grad) {
        try (Scope s = Scope.open()) {
            int rows = logits.dim(0);
            Tensor diff = logits.softmax(1).sub(labels.oneHot(logits.dim(1), logits.dtype()));
            Tensor upstream = gradLoss.rank() == 0 ? gradLoss : gradLoss.reshape(rows, 1);
            grad.assign(diff.mul(upstream).mul(scale));
        }
    }

    @Override
    public void sgd(Tensor w, Tensor g, Tensor velocity, double lr, double momentum, double weightDecay, boolean nesterov) {
        try (Scope s = Scope.open()) {
            Tensor d = weightDecay == 0 ? g : w.mul(weightDecay).applyInPlace(BinaryOp.ADD, g);
            if (velocity != null) {
                velocity.applyInPlace(BinaryOp.MUL, momentum).applyInPlace(BinaryOp.ADD, d);
                d = nesterov ? velocity.mul(momentum).applyInPlace(BinaryOp.ADD, d) : velocity;
            }
            w.applyInPlace(BinaryOp.SUB, d.mul(lr));
        }
    }

    @Override
    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                     double weightDecay, long step, boolean decoupled) {
        try (Scope s = Scope.open()) {
            double bc1 = 1 - Math.pow(beta1, step);
            double sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, step));
            Tensor d = g;
            if (weightDecay != 0) {
                if (decoupled) {
                    w.applyInPlace(BinaryOp.MUL, 1 - lr * weightDecay);
                } else {
                    d = w.mul(weightDecay).applyInPlace(BinaryOp.ADD, g);
                }
            }
            Tensor scratch = d.mul(d).applyInPlace(BinaryOp.MUL, 1 - beta2);
            v.applyInPlace(BinaryOp.MUL, beta2).applyInPlace(BinaryOp.ADD, scratch);
            scratch.assign(d).applyInPlace(BinaryOp.MUL, 1 - beta1);
            m.applyInPlace(BinaryOp.MUL, beta1).applyInPlace(BinaryOp.ADD, scratch);
            // lr (m / bc1) / (sqrt(v) / sqrtBc2 + eps) = (lr sqrtBc2 / bc1) m / (sqrt(v) + eps sqrtBc2)
            Tensor denom = v.sqrt().applyInPlace(BinaryOp.ADD, eps * sqrtBc2);
            scratch.assign(m).applyInPlace(BinaryOp.DIV, denom).applyInPlace(BinaryOp.MUL, lr * sqrtBc2 / bc1);
            w.applyInPlace(BinaryOp.SUB, scratch);
        }
    }
}
