package dev.wengert.models.nn;

import dev.wengert.autograd.Var;

/** Reshapes [B, d1, d2, ...] to [B, d1*d2*...] (a view, no copy); no parameters. */
public final class Flatten extends Module {
    @Override
    public Var forward(Var x) {
        return x.shape().length == 2 ? x : x.reshape(x.shape()[0], -1);
    }
}
