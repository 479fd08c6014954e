package dev.wengert.models.nn;

import dev.wengert.autograd.Var;

/** Elementwise {@code tanh}; no parameters. */
public final class Tanh extends ActivationLayer {
    public Tanh() {
        super(Var::tanh);
    }
}
