package dev.wengert.models.optim;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Tensor;
import java.util.List;

/**
 * Adam (Kingma and Ba) as in PyTorch's {@code torch.optim.Adam}, or AdamW (Loshchilov and Hutter) with
 * {@link #adamW}: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * w -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). Adam adds wd w to g; AdamW instead multiplies
 * w by (1 - lr wd) before the update.
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private final Tensor[] m;
    private final Tensor[] v;

    /** Adam with the usual defaults (0.9, 0.999, 1e-8, no weight decay). */
    public Adam(List<Var> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0, false);
    }

    public Adam(List<Var> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(params, lr);
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps >= 0 && weightDecay >= 0)) {
            throw new IllegalArgumentException("Adam: need 0 <= beta < 1, eps >= 0, weight decay >= 0");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.m = new Tensor[params.size()];
        this.v = new Tensor[params.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = newState(params.get(i).value());
            v[i] = newState(params.get(i).value());
        }
    }

    /** AdamW: decoupled weight decay (PyTorch's default weight decay for AdamW is 0.01). */
    public static Adam adamW(List<Var> params, double lr, double weightDecay) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, weightDecay, true);
    }

    @Override
    protected void update(int i, Tensor w, Tensor g) {
        w.backend().fused().adam(w, g, m[i], v[i], lr(), beta1, beta2, eps, weightDecay, steps(), decoupled);
    }
}
