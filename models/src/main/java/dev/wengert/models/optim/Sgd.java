package dev.wengert.models.optim;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent as in PyTorch's {@code torch.optim.SGD} (dampening 0):
 * d = g + wd w; with momentum buf = mu buf + d and d = buf (or d + mu buf for Nesterov); w -= lr d.
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final boolean nesterov;
    private final double weightDecay;
    private final Tensor[] buffers;

    /** Plain SGD. */
    public Sgd(List<Var> params, double lr) {
        this(params, lr, 0, false, 0);
    }

    public Sgd(List<Var> params, double lr, double momentum, boolean nesterov, double weightDecay) {
        super(params, lr);
        if (momentum < 0 || weightDecay < 0 || (nesterov && momentum == 0)) {
            throw new IllegalArgumentException("Sgd: momentum and weight decay must be >= 0, and Nesterov needs momentum > 0");
        }
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.buffers = new Tensor[params.size()];
        if (momentum != 0) {
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = newState(params.get(i).value());
            }
        }
    }

    /** One step through the backend's fused update (a single kernel on CUDA; composed elsewhere). */
    @Override
    protected void update(int i, Tensor w, Tensor g) {
        w.backend().fused().sgd(w, g, buffers[i], lr(), momentum, weightDecay, nesterov);
    }
}
