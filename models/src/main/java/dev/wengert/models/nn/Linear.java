package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Activation;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;

/**
 * y = x W^T + b, with W stored {@code [out, in]} as in PyTorch (so checkpoints load there unchanged).
 * The transpose is a flag of the matrix product, never a copy. Parameters: {@code weight}, {@code bias}.
 * One primitive, {@link Var#linear} (a GEMM and one bias kernel on CUDA), which can also apply the activation
 * that follows the layer ({@link #forward(Var, Activation)}; {@link Sequential} fuses a Linear followed by a
 * ReLU, Tanh or Sigmoid module that way).
 */
public final class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final Var weight;
    private final Var bias;

    /**
     * A layer with fresh parameters on {@code device}: the weight from {@code init} with {@code seed},
     * the bias zero.
     */
    public Linear(int inFeatures, int outFeatures, Init init, long seed, DType dtype, Device device) {
        this(init.create(inFeatures, outFeatures, seed, dtype, device, outFeatures, inFeatures),
                Tensor.on(device).zeros(dtype, outFeatures));
    }

    /**
     * A layer that takes ownership of {@code weight} [out, in] and {@code bias} [out] (they are detached
     * from their scope and closed by {@link #close()}).
     */
    public Linear(Tensor weight, Tensor bias) {
        if (weight.rank() != 2 || bias.rank() != 1 || bias.dim(0) != weight.dim(0)) {
            throw new IllegalArgumentException("Linear: weight must be [out, in] and bias [out], got " + weight.describe()
                    + " and " + bias.describe());
        }
        this.outFeatures = weight.dim(0);
        this.inFeatures = weight.dim(1);
        this.weight = register("weight", Var.param(weight.keepForever()));
        this.bias = register("bias", Var.param(bias.keepForever()));
    }

    /** x [B, in] @ weight^T [in, out] + bias [out]: the function this layer computes, for any parameters. */
    public static Var apply(Var x, Var weight, Var bias) {
        return apply(x, weight, bias, Activation.NONE);
    }

    /** act(x [B, in] @ weight^T [in, out] + bias [out]) as one primitive ({@link Var#linear}). */
    public static Var apply(Var x, Var weight, Var bias, Activation activation) {
        return x.linear(weight, bias, activation);
    }

    @Override
    public Var forward(Var x) {
        return forward(x, Activation.NONE);
    }

    /** This layer followed by {@code activation}, fused into one primitive; the same values as the two modules. */
    public Var forward(Var x, Activation activation) {
        int[] s = x.shape();
        if (s.length < 1 || s[s.length - 1] != inFeatures) {
            throw new IllegalArgumentException(this + ": input " + x.value().describe() + " must have " + inFeatures
                    + " features in its last dimension (reshape or Flatten it first)");
        }
        return apply(x, weight, bias, activation);
    }

    public Var weight() {
        return weight;
    }

    public Var bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public String toString() {
        return "Linear(" + inFeatures + " -> " + outFeatures + ")";
    }
}
