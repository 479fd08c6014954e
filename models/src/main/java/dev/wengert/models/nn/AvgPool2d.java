package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Window2d;

/** torch.nn.AvgPool2d(kernel, stride, padding) with count_include_pad=True (PyTorch's default). No parameters. */
public final class AvgPool2d extends Module {
    private final Window2d window;

    public AvgPool2d(int kernel, int stride, int padding) {
        this(Window2d.of(kernel, stride, padding));
    }

    /** PyTorch's default stride: the kernel size. */
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public AvgPool2d(Window2d window) {
        this.window = window;
    }

    @Override
    public Var forward(Var x) {
        return x.avgPool2d(window);
    }

    @Override
    public String toString() {
        return "AvgPool2d(" + window + ")";
    }
}
