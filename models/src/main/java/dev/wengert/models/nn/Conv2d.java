package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.Window2d;

/**
 * A 2-D convolution layer, torch.nn.Conv2d: y = conv2d(x, weight) + bias over NCHW inputs, with
 * {@code weight} [out, in/groups, kh, kw] and {@code bias} [out] under PyTorch's names and layout (a checkpoint's
 * tensors load there unchanged). The convolution is the primitive {@code Var.conv2d} (im2col + GEMM).
 */
public final class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final Window2d window;
    private final int groups;
    private final Var weight;
    private final Var bias;

    /**
     * A layer with fresh parameters: the weight from {@code init} (fan-in in/groups * kh * kw) with {@code seed};
     * the bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with seed + 1, as PyTorch. {@link Init#PYTORCH_DEFAULT} is
     * PyTorch's weight initialisation (kaiming_uniform with a = sqrt(5)).
     */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation, int groups,
                  Init init, long seed, DType dtype, Device device) {
        this(fresh(inChannels, outChannels, kernel, groups, init, seed, dtype, device),
                freshBias(inChannels, outChannels, kernel, groups, seed + 1, dtype, device),
                new Window2d(kernel, kernel, stride, stride, padding, padding, dilation, dilation), groups);
    }

    /** A square kernel, dilation 1, one group. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, Init init, long seed, DType dtype, Device device) {
        this(inChannels, outChannels, kernel, stride, padding, 1, 1, init, seed, dtype, device);
    }

    /**
     * A layer that takes ownership of {@code weight} [out, in/groups, kh, kw] and {@code bias} [out] (detached from
     * their scope, closed by {@link #close()}); the window's kernel must be the weight's.
     */
    public Conv2d(Tensor weight, Tensor bias, Window2d window, int groups) {
        int[] ws = weight.shape();
        if (ws.length != 4 || bias.rank() != 1 || bias.dim(0) != ws[0] || ws[2] != window.kernelH() || ws[3] != window.kernelW()
                || groups < 1 || ws[0] % groups != 0) {
            throw new IllegalArgumentException("Conv2d: weight must be [out, in/groups, " + window.kernelH() + ", " + window.kernelW()
                    + "] with out divisible by groups=" + groups + " and bias [out], got " + weight.describe() + " and " + bias.describe());
        }
        this.outChannels = ws[0];
        this.inChannels = ws[1] * groups;
        this.window = window;
        this.groups = groups;
        this.weight = register("weight", Var.param(weight.keepForever()));
        this.bias = register("bias", Var.param(bias.keepForever()));
    }

    private static int fanIn(int in, int kernel, int groups) {
        if (groups < 1 || in % groups != 0) {
            throw new IllegalArgumentException("Conv2d: groups=" + groups + " must divide the input channels (" + in + ")");
        }
        return in / groups * kernel * kernel;
    }

    private static Tensor fresh(int in, int out, int kernel, int groups, Init init, long seed, DType dtype, Device device) {
        return init.create(fanIn(in, kernel, groups), out * kernel * kernel, seed, dtype, device, out, in / groups, kernel, kernel);
    }

    private static Tensor freshBias(int in, int out, int kernel, int groups, long seed, DType dtype, Device device) {
        double b = 1 / Math.sqrt(fanIn(in, kernel, groups));
        return Tensor.on(device).uniform(-b, b, seed, dtype, out);
    }

    @Override
    public Var forward(Var x) {
        int[] s = x.shape();
        if (s.length != 4 || s[1] != inChannels) {
            throw new IllegalArgumentException(this + ": input " + x.value().describe() + " must be [N, " + inChannels
                    + ", H, W] (reshape a flat batch to images first)");
        }
        return x.conv2d(weight, window, groups).add(bias.reshape(1, outChannels, 1, 1));
    }

    public Var weight() {
        return weight;
    }

    public Var bias() {
        return bias;
    }

    public Window2d window() {
        return window;
    }

    public int groups() {
        return groups;
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + " -> " + outChannels + ", " + window + (groups == 1 ? "" : ", groups=" + groups) + ")";
    }
}
