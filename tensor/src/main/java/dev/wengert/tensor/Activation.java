package dev.wengert.tensor;

/**
 * The activation of a fused linear layer, y = act(x W^T + b): autograd's {@code Var.linear} primitive and the
 * {@link FusedKernel#BIAS_ACT} / {@link FusedKernel#BIAS_ACT_BACKWARD} kernels. Each is the elementwise op of
 * the same name ({@link UnaryOp#RELU}, {@link UnaryOp#TANH}, {@link UnaryOp#SIGMOID}); NONE is the identity.
 * The derivative of each is a function of the output y alone (relu: y &gt; 0, tanh: 1 - y², sigmoid: y (1 - y)),
 * so a backward pass needs only the layer's output. The CUDA kernels number them in this order (ACT_* in fused.cuh).
 */
public enum Activation {
    NONE(null), RELU(UnaryOp.RELU), TANH(UnaryOp.TANH), SIGMOID(UnaryOp.SIGMOID);

    private final UnaryOp op;

    Activation(UnaryOp op) {
        this.op = op;
    }

    /** The elementwise op this activation applies, or null for NONE. */
    public UnaryOp op() {
        return op;
    }
}
