package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Window2d;

/** torch.nn.MaxPool2d(kernel, stride, padding): the gradient goes to each window's first maximum. No parameters. */
public final class MaxPool2d extends Module {
    private final Window2d window;

    public MaxPool2d(int kernel, int stride, int padding) {
        this(Window2d.of(kernel, stride, padding));
    }

    /** PyTorch's default stride: the kernel size. */
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    public MaxPool2d(Window2d window) {
        this.window = window;
    }

    @Override
    public Var forward(Var x) {
        return x.maxPool2d(window);
    }

    @Override
    public String toString() {
        return "MaxPool2d(" + window + ")";
    }
}
