package dev.wengert.autograd;

import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Forward mode on tensors: while a function runs, every variable carries a tangent, and each recorded
 * primitive computes its output's tangent from its inputs' with the JVP rule in {@link Rules}. One pass
 * gives f(x) and the Jacobian-vector product J v.
 */
public final class Forward {
    private static final ThreadLocal<int[]> SUSPENDED = ThreadLocal.withInitial(() -> new int[1]);

    private Forward() {
    }

    /** Result of {@link #jvp}: the value f(x) and the tangent J v. */
    public record Jvp(Tensor value, Tensor tangent) {
    }

    /**
     * f(x) and J_f(x) v in one forward pass.
     *
     * @throws IllegalArgumentException when v does not match x's shape, dtype or device
     */
    public static Jvp jvp(Function<Var, Var> f, Tensor x, Tensor v) {
        Tensor.checkCompatible("jvp", x, v);
        if (!Arrays.equals(x.shape(), v.shape())) {
            throw new IllegalArgumentException("jvp: tangent " + v.describe() + " must have the shape of x " + x.describe());
        }
        Var in = Var.constant(x);
        in.setTangent(Var.constant(v));
        Var out = f.apply(in);
        Tensor t = out.tangent() != null ? out.tangent().value()
                : Tensor.on(x.device()).zeros(out.dtype(), out.shape());
        return new Jvp(out.value(), t);
    }

    /** Seeds a tangent on an existing variable (for forward-over-reverse compositions). Returns v. */
    public static Var withTangent(Var v, Tensor tangent) {
        v.setTangent(Var.constant(tangent));
        return v;
    }

    static boolean propagating() {
        return SUSPENDED.get()[0] == 0;
    }

    /** While open, JVP rules run without computing tangents of their own intermediate results. */
    static Suspension suspend() {
        int[] s = SUSPENDED.get();
        s[0]++;
        return new Suspension(s);
    }

    static final class Suspension implements AutoCloseable {
        private final int[] counter;

        private Suspension(int[] counter) {
            this.counter = counter;
        }

        @Override
        public void close() {
            counter[0]--;
        }
    }
}
