package dev.wengert.models.optim;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * Adam (Kingma and Ba) as in PyTorch's {@code torch.optim.Adam}, or AdamW (Loshchilov and Hutter) with
 * {@link #adamW}: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * w -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). Adam adds wd w to g; AdamW instead multiplies
 * w by (1 - lr wd) before the update. {@link #state()}: {@code <i>.exp_avg} (m) and {@code <i>.exp_avg_sq} (v)
 * for parameter i; t is {@link #steps()}. A step updates every parameter in one launch where the backend has
 * {@link FusedKernel#ADAM_ALL} (CUDA; t then lives on the device, see {@link Optimizer}), and per parameter
 * ({@link #apply}) elsewhere.
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
            m[i] = newState(i + ".exp_avg", params.get(i).value());
            v[i] = newState(i + ".exp_avg_sq", params.get(i).value());
        }
        if (!params.isEmpty() && params.get(0).value().backend().fused(FusedKernel.ADAM_ALL).isPresent()) {
            prepareDeviceScalars();
        }
    }

    /** AdamW: decoupled weight decay (PyTorch's default weight decay for AdamW is 0.01). */
    public static Adam adamW(List<Var> params, double lr, double weightDecay) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, weightDecay, true);
    }

    /**
     * All parameters in one launch of the backend's {@link FusedKernel#ADAM_ALL}, which reads lr and t from
     * {@link #deviceScalars} and advances t on the device; per parameter ({@link #apply}, t = {@link #steps()})
     * where the backend has no such kernel.
     */
    @Override
    protected void updateAll(Tensor[] params, Tensor[] grads) {
        Optional<FusedKernel.AdamAll> all = params.length == 0 ? Optional.empty() : params[0].backend().fused(FusedKernel.ADAM_ALL);
        Tensor scalars = all.isPresent() ? deviceScalars(params) : null;
        if (scalars == null) {
            super.updateAll(params, grads);
        } else {
            all.get().step(params, grads, m, v, scalars, beta1, beta2, eps, weightDecay, decoupled);
        }
    }

    @Override
    protected void update(int i, Tensor w, Tensor g) {
        apply(w, g, m[i], v[i], lr(), beta1, beta2, eps, weightDecay, steps(), decoupled);
    }

    /**
     * One Adam (decoupled = false: L2, g = grad + weightDecay * param) or AdamW (decoupled = true: param *=
     * 1 - lr * weightDecay first) update of one tensor at 1-based {@code step}: m = b1 m + (1 - b1) g,
     * v = b2 v + (1 - b2) g^2, param -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). param, m and v are
     * modified (m and v start at zero), grad is not. Runs the backend's fused kernel {@link FusedKernel#ADAM}
     * where it has one (one launch on CUDA), and {@link #applyComposed} otherwise.
     */
    public static void apply(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                             double eps, double weightDecay, long step, boolean decoupled) {
        Optional<FusedKernel.Adam> fused = param.backend().fused(FusedKernel.ADAM);
        if (fused.isPresent()) {
            fused.get().step(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled);
        } else {
            applyComposed(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled);
        }
    }

    /**
     * {@link #apply} from tensor operations: what a backend without the fused kernel runs, and the reference
     * the fused kernels are tested against. Temporaries live in a scope of their own.
     */
    public static void applyComposed(Tensor w, Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2,
                                     double eps, double weightDecay, long step, boolean decoupled) {
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
