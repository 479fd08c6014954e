package dev.wengert.models.nn;

import dev.wengert.autograd.Var;

/** Elementwise {@code relu}; no parameters. */
public final class ReLU extends ActivationLayer {
    public ReLU() {
        super(Var::relu);
    }
}
