package dev.wengert.models.nn;

import dev.wengert.autograd.Var;

/** torch.nn.AdaptiveAvgPool2d(1): [N, C, H, W] to [N, C, 1, 1], the mean of each channel. No parameters. */
public final class GlobalAvgPool2d extends Module {
    @Override
    public Var forward(Var x) {
        return x.globalAvgPool2d();
    }

    @Override
    public String toString() {
        return "GlobalAvgPool2d()";
    }
}
