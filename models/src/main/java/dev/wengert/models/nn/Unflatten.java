package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import java.util.Arrays;

/**
 * Reshapes [B, d1*d2*...] to [B, d1, d2, ...] (a view, no copy), like PyTorch's {@code nn.Unflatten(1, (d1, d2, ...))};
 * no parameters. The zoo's convolutional networks start with one, so that they take the flat images every
 * other model takes ({@code Unflatten(1, 28, 28)}: [B, 784] to [B, 1, 28, 28]).
 */
public final class Unflatten extends Module {
    private final int[] dims;

    /** @param dims the sizes that the second axis becomes, each > 0 */
    public Unflatten(int... dims) {
        if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d <= 0)) {
            throw new IllegalArgumentException("Unflatten: sizes must be given and > 0, got " + Arrays.toString(dims));
        }
        this.dims = dims.clone();
    }

    @Override
    public Var forward(Var x) {
        int[] s = x.shape();
        int n = Arrays.stream(dims).reduce(1, Math::multiplyExact);
        if (s.length != 2 || s[1] != n) {
            throw new IllegalArgumentException(this + ": input " + x.value().describe() + " must be [B, " + n + "]");
        }
        int[] to = new int[dims.length + 1];
        to[0] = s[0];
        System.arraycopy(dims, 0, to, 1, dims.length);
        return x.reshape(to);
    }

    @Override
    public String toString() {
        return "Unflatten(" + String.join("x", Arrays.stream(dims).mapToObj(Integer::toString).toList()) + ")";
    }
}
