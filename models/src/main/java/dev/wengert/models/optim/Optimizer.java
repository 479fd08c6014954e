package dev.wengert.models.optim;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Updates parameters in place from their gradients. {@link #step()} modifies the parameter tensors (and
 * the optimizer's own state), never the gradients, and allocates only temporaries that it frees before
 * returning; state tensors live on each parameter's device, belong to no scope, and are freed by
 * {@link #close()}.
 */
public abstract class Optimizer implements AutoCloseable {
    private final List<Var> params;
    private final List<Tensor> state = new ArrayList<>();
    private double lr;
    private long steps;

    protected Optimizer(List<Var> params, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got " + lr);
        }
        for (Var p : params) {
            if (!p.requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": " + p + " does not require grad");
            }
        }
        this.params = List.copyOf(params);
        this.lr = lr;
    }

    /** Applies one update to every parameter that has a gradient (modifies the parameters). */
    public final void step() {
        steps++;
        try (Scope temporaries = Scope.open(); Grad.Mode off = Grad.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Var p = params.get(i);
                Tensor g = p.gradTensor();
                if (g != null) {
                    update(i, p.value(), g);
                }
            }
        }
    }

    /**
     * Updates {@code param} in place from {@code grad} (not modified). Runs inside a scope that frees
     * the temporaries it creates, with recording off.
     */
    protected abstract void update(int index, Tensor param, Tensor grad);

    /** A zero tensor shaped like {@code like} on its device that lives until {@link #close()}. */
    protected final Tensor newState(Tensor like) {
        Tensor t = Tensor.on(like.device()).zeros(like.dtype(), like.shape()).keepForever();
        state.add(t);
        return t;
    }

    /** Frees every parameter's gradient (the next backward starts from zero). */
    public final void zeroGrad() {
        params.forEach(Var::zeroGrad);
    }

    public final double lr() {
        return lr;
    }

    /** Changes the learning rate (for schedules). */
    public final void setLr(double lr) {
        this.lr = lr;
    }

    /** Number of {@link #step()} calls so far. */
    public final long steps() {
        return steps;
    }

    public final List<Var> params() {
        return params;
    }

    /** Frees the optimizer state (not the parameters). Idempotent. */
    @Override
    public void close() {
        state.forEach(Tensor::close);
        state.clear();
    }
}
