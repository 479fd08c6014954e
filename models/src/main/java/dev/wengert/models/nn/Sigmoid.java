package dev.wengert.models.nn;

import dev.wengert.autograd.Var;

/** Elementwise {@code sigmoid}; no parameters. */
public final class Sigmoid extends ActivationLayer {
    public Sigmoid() {
        super(Var::sigmoid);
    }
}
