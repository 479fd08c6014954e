package dev.wengert.autograd;

import dev.wengert.autograd.numeric.NumericDiff;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Locale;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Compares analytic derivatives with central finite differences. The function may return any shape;
 * it is reduced to a scalar with a fixed random cotangent w (checking w . J, so every output element
 * counts). Reverse mode is checked through {@link Var#backward}, forward mode through the JVP rules
 * (one pass per input element), both against the central difference (L(x + h e_i) - L(x - h e_i)) / 2h of
 * {@link NumericDiff#centralDifference}, the finite-difference routine NumericDiff uses too.
 *
 * <p>Run it in float64: in float32 the finite differences themselves are only good to about 1e-3,
 * and a warning says so.
 */
public final class GradCheck {
    private static final Logger LOG = Logger.getLogger(GradCheck.class.getName());

    private GradCheck() {
    }

    /** The worst disagreement found. */
    public record Result(double maxRelativeError, String where, double analytic, double numeric) {
        public boolean passes(double tolerance) {
            return maxRelativeError <= tolerance;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "max relative error %.3g at %s (analytic %.10g, numeric %.10g)",
                    maxRelativeError, where, analytic, numeric);
        }
    }

    /** Checks both modes with step {@code h}; see the class comment. */
    public static Result check(Function<Var[], Var> f, double h, Tensor... inputs) {
        warnFloat32("gradcheck", inputs);
        return checkFirstOrder(f, h, inputs);
    }

    /**
     * Second order: checks the derivatives of the analytic gradient. The gradient function
     * {@code G(x) = d (w . f(x)) / dx} (w a fixed random cotangent; the gradients of all float inputs,
     * flattened and concatenated when there are several) is computed with a recorded reverse sweep
     * ({@link Backward#adjoints} with createGraph), and {@link #check} is run on G: reverse over reverse
     * (the recorded sweep swept again) and forward over reverse (tangents pushed through the sweep), both
     * against central differences of G. Fails for a primitive whose VJP rule is not itself
     * differentiable, e.g. one computed on raw tensors. Piecewise primitives pass with a second
     * derivative of 0 away from their kinks.
     */
    public static Result checkSecondOrder(Function<Var[], Var> f, double h, Tensor... inputs) {
        warnFloat32("gradcheck (second order)", inputs);
        Tensor w;
        try (Grad.Mode off = Grad.noGrad()) {
            Var out = f.apply(constants(inputs));
            w = Tensor.on(out.value().device()).uniform(0.5, 1.5, 4321, out.dtype(), out.shape()).keepForever();
        }
        try (w) {
            return checkFirstOrder(vars -> gradientOf(f, w, vars), h, inputs);
        }
    }

    /** G(vars) for {@link #checkSecondOrder}; a constant input is replaced by a param carrying its tangent. */
    private static Var gradientOf(Function<Var[], Var> f, Tensor w, Var[] vars) {
        try (Grad.Mode on = Grad.enableGrad()) {
            Var[] xs = vars.clone();
            java.util.List<Var> wrt = new java.util.ArrayList<>();
            for (int i = 0; i < xs.length; i++) {
                if (!xs[i].dtype().isFloating()) {
                    continue;
                }
                if (!xs[i].requiresGrad()) {
                    Var p = Var.param(xs[i].value());
                    p.setTangent(xs[i].tangent());
                    xs[i] = p;
                }
                wrt.add(xs[i]);
            }
            Var out = f.apply(xs).mul(Var.constant(w)).sum();
            Var[] g = Backward.adjoints(out, null, true, wrt.toArray(new Var[0]));
            if (g.length == 1) {
                return g[0];
            }
            for (int i = 0; i < g.length; i++) {
                g[i] = g[i].reshape(-1);
            }
            return Var.concat(0, g);
        }
    }

    private static void warnFloat32(String what, Tensor[] inputs) {
        for (Tensor t : inputs) {
            if (t.dtype() == DType.FLOAT32) {
                LOG.warning(what + " in float32: finite differences are accurate to about 1e-3 only; use float64");
                return;
            }
        }
    }

    private static Result checkFirstOrder(Function<Var[], Var> f, double h, Tensor... inputs) {
        try (Scope scope = Scope.open()) {
            Tensor w;
            try (Grad.Mode off = Grad.noGrad()) {
                Var out = f.apply(constants(inputs));
                w = Tensor.on(out.value().device()).uniform(0.5, 1.5, 1234, out.dtype(), out.shape());
            }
            Var[] vars = new Var[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                vars[i] = inputs[i].dtype().isFloating() ? Var.param(inputs[i]) : Var.constant(inputs[i]);
            }
            Var out = f.apply(vars);
            if (out.requiresGrad()) {       // else f does not depend on its inputs: all gradients are 0
                out.backward(w);
            }
            Result worst = new Result(0, "nowhere", 0, 0);
            for (int i = 0; i < inputs.length; i++) {
                if (!inputs[i].dtype().isFloating()) {
                    continue;
                }
                double[] analytic = vars[i].gradTensor() == null ? new double[inputs[i].numel()] : vars[i].gradTensor().toDoubleArray();
                double[] x = inputs[i].toDoubleArray();
                for (int e = 0; e < x.length; e++) {
                    double numeric = numericPartial(f, inputs, i, e, x, h, w);
                    double forward = forwardPartial(f, inputs, i, e, w);
                    worst = worse(worst, analytic[e], numeric, "input " + i + " element " + e + " (reverse mode)");
                    worst = worse(worst, forward, numeric, "input " + i + " element " + e + " (forward mode)");
                }
            }
            return worst;
        }
    }

    private static Result worse(Result worst, double analytic, double numeric, String where) {
        double err = Math.abs(analytic - numeric) / Math.max(1, Math.max(Math.abs(analytic), Math.abs(numeric)));
        if (Double.isNaN(analytic) != Double.isNaN(numeric)) {
            err = Double.POSITIVE_INFINITY;
        }
        return err > worst.maxRelativeError() ? new Result(err, where, analytic, numeric) : worst;
    }

    private static Var[] constants(Tensor[] inputs) {
        Var[] v = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            v[i] = Var.constant(inputs[i]);
        }
        return v;
    }

    /** w . f(x) with input {@code which} replaced by a copy whose element {@code e} is {@code value}. */
    private static double loss(Function<Var[], Var> f, Tensor[] inputs, int which, double[] x, int e, double value, Tensor w) {
        double[] moved = x.clone();
        moved[e] = value;
        try (Scope s = Scope.open(); Grad.Mode off = Grad.noGrad()) {
            Tensor[] in = inputs.clone();
            in[which] = like(inputs[which], moved);
            return f.apply(constants(in)).value().mul(w).sum().item();
        }
    }

    /**
     * {@code data} with the shape, dtype and device of {@code like}; reshaped because the factory makes a
     * vector [1] of an empty shape, and a rank-0 input must stay rank 0 (else f sees another function).
     */
    private static Tensor like(Tensor like, double[] data) {
        return Tensor.on(like.device()).of(data, like.shape()).reshape(like.shape()).cast(like.dtype());
    }

    /** d (w . f) / d x_e by the central difference of {@link NumericDiff}, step h·max(1, |x_e|). */
    private static double numericPartial(Function<Var[], Var> f, Tensor[] inputs, int i, int e, double[] x, double h, Tensor w) {
        return NumericDiff.derivative(v -> loss(f, inputs, i, x, e, v, w), x[e], NumericDiff.step(h, x[e]));
    }

    /** w . (J e_i) by forward mode. */
    private static double forwardPartial(Function<Var[], Var> f, Tensor[] inputs, int i, int e, Tensor w) {
        try (Scope s = Scope.open(); Grad.Mode off = Grad.noGrad()) {
            double[] basis = new double[inputs[i].numel()];
            basis[e] = 1;
            Var[] vars = constants(inputs);
            Forward.withTangent(vars[i], like(inputs[i], basis));
            Var out = f.apply(vars);
            return out.tangent() == null ? 0 : out.tangent().value().mul(w).sum().item();
        }
    }
}
