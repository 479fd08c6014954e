package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import java.util.function.UnaryOperator;

/** A parameter-free elementwise or row-wise layer; see {@link ReLU}, {@link Sigmoid}, {@link Tanh}, {@link Softmax}. */
abstract class ActivationLayer extends Module {
    private final UnaryOperator<Var> f;

    ActivationLayer(UnaryOperator<Var> f) {
        this.f = f;
    }

    @Override
    public final Var forward(Var x) {
        return f.apply(x);
    }
}
