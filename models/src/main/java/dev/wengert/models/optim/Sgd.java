package dev.wengert.models.optim;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * Stochastic gradient descent as in PyTorch's {@code torch.optim.SGD} (dampening 0):
 * d = g + wd w; with momentum buf = mu buf + d and d = buf (or d + mu buf for Nesterov); w -= lr d.
 * {@link #state()}: {@code <i>.momentum_buffer} for parameter i with momentum, nothing without. A step
 * updates every parameter in one launch where the backend has {@link FusedKernel#SGD_ALL} (CUDA), and per
 * parameter ({@link #apply}) elsewhere.
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
                buffers[i] = newState(i + ".momentum_buffer", params.get(i).value());
            }
        }
        if (!params.isEmpty() && params.get(0).value().backend().fused(FusedKernel.SGD_ALL).isPresent()) {
            prepareDeviceScalars();
        }
    }

    /**
     * All parameters in one launch of the backend's {@link FusedKernel#SGD_ALL} (plain SGD too), lr read from
     * {@link #deviceScalars}; per parameter ({@link #apply}) where the backend has no such kernel.
     */
    @Override
    protected void updateAll(Tensor[] params, Tensor[] grads) {
        Optional<FusedKernel.SgdAll> all = params.length == 0 ? Optional.empty() : params[0].backend().fused(FusedKernel.SGD_ALL);
        Tensor scalars = all.isPresent() ? deviceScalars(params) : null;
        if (scalars == null) {
            super.updateAll(params, grads);
        } else {
            all.get().step(params, grads, momentum != 0 ? buffers : null, scalars, momentum, weightDecay, nesterov);
        }
    }

    @Override
    protected void update(int i, Tensor w, Tensor g) {
        apply(w, g, buffers[i], lr(), momentum, weightDecay, nesterov);
    }

    /**
     * One SGD update of one tensor (dampening 0): d = grad + weightDecay * param; with a velocity (modified,
     * starts at zero) v = momentum * v + d and d = nesterov ? d + momentum * v : v; without one (null) d as is;
     * param (modified) -= lr * d. With a velocity it runs the backend's fused kernel
     * {@link FusedKernel#SGD_MOMENTUM} where the backend has one (one launch on CUDA), and {@link #applyComposed}
     * otherwise. grad is not modified.
     */
    public static void apply(Tensor param, Tensor grad, Tensor velocity, double lr, double momentum, double weightDecay,
                             boolean nesterov) {
        if (velocity != null) {
            Optional<FusedKernel.SgdMomentum> fused = param.backend().fused(FusedKernel.SGD_MOMENTUM);
            if (fused.isPresent()) {
                fused.get().step(param, grad, velocity, lr, momentum, weightDecay, nesterov);
                return;
            }
        }
        applyComposed(param, grad, velocity, lr, momentum, weightDecay, nesterov);
    }

    /**
     * {@link #apply} from tensor operations: what a backend without the fused kernel runs (and plain SGD
     * everywhere), and the reference the fused kernels are tested against. Temporaries live in a scope of
     * their own.
     */
    public static void applyComposed(Tensor w, Tensor g, Tensor velocity, double lr, double momentum,
                                     double weightDecay, boolean nesterov) {
        try (Scope s = Scope.open()) {
            Tensor d = weightDecay == 0 ? g : w.mul(weightDecay).applyInPlace(BinaryOp.ADD, g);
            if (velocity != null) {
                velocity.applyInPlace(BinaryOp.MUL, momentum).applyInPlace(BinaryOp.ADD, d);
                d = nesterov ? velocity.mul(momentum).applyInPlace(BinaryOp.ADD, d) : velocity;
            }
            w.applyInPlace(BinaryOp.SUB, d.mul(lr));
        }
    }
}
