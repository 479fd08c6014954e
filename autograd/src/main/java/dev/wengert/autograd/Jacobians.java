package dev.wengert.autograd;

import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Derivatives of whole functions {@code f: Var -> Var} at a point, built from the two sweeps:
 * {@link #jvp} (forward mode, J v, one pass), {@link #vjp} (reverse mode, u^T J, one recorded pass and
 * one sweep), {@link #jacobian} (either mode, or the cheaper one), and the second-order {@link #hvp}
 * and {@link #hessian}.
 *
 * <p>None of these modify their arguments: {@code x} is wrapped in a fresh variable for every pass,
 * and results are new tensors in the caller's {@link Scope} (intermediates of the passes are closed).
 * The Jacobian of {@code f} at {@code x} has shape {@code f(x).shape ++ x.shape}: element
 * {@code [i..., j...]} is d f(x)[i...] / d x[j...].
 */
public final class Jacobians {

    private Jacobians() {
    }

    /** How {@link #jacobian} builds the matrix. */
    public enum Mode {
        /** One forward (JVP) pass per input element: columns J e_j. Cheap when inputs are few. */
        FORWARD,
        /** One recorded pass, then one reverse sweep per output element: rows e_i^T J. Cheap when outputs are few. */
        REVERSE,
        /** FORWARD when the input has at most as many elements as the output, else REVERSE. */
        AUTO;

        /** The concrete mode for an input of {@code inputSize} and an output of {@code outputSize} elements. */
        public Mode resolve(int inputSize, int outputSize) {
            if (this != AUTO) {
                return this;
            }
            return inputSize <= outputSize ? FORWARD : REVERSE;
        }
    }

    /** Result of {@link #vjp}: f(x) and u^T J_f(x), the latter with x's shape. */
    public record Vjp(Tensor value, Tensor cotangent) {
    }

    /** f(x) and J_f(x) v in one forward pass; see {@link Forward#jvp}. */
    public static Forward.Jvp jvp(Function<Var, Var> f, Tensor x, Tensor v) {
        return Forward.jvp(f, x, v);
    }

    /**
     * f(x) and u^T J_f(x): one recorded forward pass and one reverse sweep (the reverse-mode counterpart of
     * {@link #jvp}).
     *
     * @throws IllegalArgumentException when u does not have f(x)'s shape, dtype and device
     */
    public static Vjp vjp(Function<Var, Var> f, Tensor x, Tensor u) {
        Var in = param("vjp", x);
        Var out = f.apply(in);
        if (!Arrays.equals(out.shape(), u.shape())) {
            throw new IllegalArgumentException("vjp: cotangent u " + u.describe() + " must have the shape of f(x) "
                    + out.value().describe());
        }
        Tensor.checkCompatible("vjp", out.value(), u);
        return new Vjp(out.value(), Backward.adjoints(out, u, false, in)[0].value());
    }

    /** The gradient of a scalar f at x (shape of x). */
    public static Tensor grad(Function<Var, Var> f, Tensor x) {
        Var in = param("grad", x);
        Var out = f.apply(in);
        requireScalar("grad", out);
        return Backward.adjoints(out, null, false, in)[0].value();
    }

    /** {@link #jacobian(Function, Tensor, Mode)} with {@link Mode#AUTO}. */
    public static Tensor jacobian(Function<Var, Var> f, Tensor x) {
        return jacobian(f, x, Mode.AUTO);
    }

    /**
     * The Jacobian of f at x, shape {@code f(x).shape ++ x.shape}, dtype of f(x). FORWARD costs one JVP pass
     * per element of x; REVERSE one recorded pass plus one sweep per element of f(x); AUTO evaluates f once
     * (recorded) to learn the output size, then takes the cheaper (reusing that pass when it picks REVERSE).
     */
    public static Tensor jacobian(Function<Var, Var> f, Tensor x, Mode mode) {
        int n = x.numel();
        double[] jac;
        int[] outShape;
        try (Scope s = Scope.open()) {
            Var in = null;
            Var out = null;
            if (mode != Mode.FORWARD) {
                in = param("jacobian", x);
                out = f.apply(in);
            } else {
                try (Grad.Mode off = Grad.noGrad()) {
                    out = f.apply(Var.constant(x));
                }
            }
            outShape = out.shape();
            int m = out.value().numel();
            jac = new double[m * n];
            if (mode.resolve(n, m) == Mode.FORWARD) {
                for (int j = 0; j < n; j++) {
                    try (Scope col = Scope.open()) {
                        double[] column = jvp(f, x, basis(x, j)).tangent().toDoubleArray();
                        for (int i = 0; i < m; i++) {
                            jac[i * n + j] = column[i];
                        }
                    }
                }
            } else {
                for (int i = 0; i < m; i++) {
                    try (Scope row = Scope.open()) {
                        double[] r = Backward.adjoints(out, basis(out.value(), i), false, in)[0].value().toDoubleArray();
                        System.arraycopy(r, 0, jac, i * n, n);
                    }
                }
            }
        }
        return tensor(x, jac, concat(outShape, x.shape())).cast(x.dtype());
    }

    /**
     * The Hessian-vector product H v of a scalar f at x, by forward over reverse: x carries the tangent v
     * ({@link Forward#withTangent}), the gradient is computed with a recorded sweep, and the gradient's
     * tangent is H v. One pass, about the cost of a gradient; H is never formed.
     */
    public static Tensor hvp(Function<Var, Var> f, Tensor x, Tensor v) {
        Tensor.checkCompatible("hvp", x, v);
        if (!Arrays.equals(x.shape(), v.shape())) {
            throw new IllegalArgumentException("hvp: direction v " + v.describe() + " must have the shape of x " + x.describe());
        }
        Var in = Forward.withTangent(param("hvp", x), v);
        Var out = f.apply(in);
        requireScalar("hvp", out);
        Var g = Backward.adjoints(out, null, true, in)[0];
        return g.tangent() != null ? g.tangent().value() : Tensor.on(x.device()).zeros(x.dtype(), x.shape());
    }

    /**
     * The Hessian of a scalar f at x, shape {@code x.shape ++ x.shape}: one {@link #hvp} per element of x
     * (column H e_j). Second derivatives through piecewise primitives (relu, abs, max, maximum, minimum)
     * are 0, their masks being constants.
     */
    public static Tensor hessian(Function<Var, Var> f, Tensor x) {
        int n = x.numel();
        double[] h = new double[n * n];
        for (int j = 0; j < n; j++) {
            try (Scope s = Scope.open()) {
                double[] column = hvp(f, x, basis(x, j)).toDoubleArray();
                for (int i = 0; i < n; i++) {
                    h[i * n + j] = column[i];
                }
            }
        }
        return tensor(x, h, concat(x.shape(), x.shape())).cast(x.dtype());
    }

    private static Var param(String fn, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(fn + ": x " + x.describe() + " is not a float tensor; derivatives need float32 or float64");
        }
        return Var.param(x);
    }

    private static void requireScalar(String fn, Var out) {
        if (out.value().numel() != 1) {
            throw new IllegalArgumentException(fn + ": f must return one element, got " + out.value().describe()
                    + "; reduce it (sum(), mean()) or use jacobian/vjp for vector-valued f");
        }
    }

    /** e_j shaped like t (the j-th element in row-major order is 1). */
    static Tensor basis(Tensor like, int j) {
        double[] e = new double[like.numel()];
        e[j] = 1;
        return tensor(like, e, like.shape()).cast(like.dtype());
    }

    /** A float64 tensor on like's device; reshaped because the factory makes a vector of an empty shape. */
    private static Tensor tensor(Tensor like, double[] data, int[] shape) {
        return Tensor.on(like.device()).of(data, shape).reshape(shape);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
