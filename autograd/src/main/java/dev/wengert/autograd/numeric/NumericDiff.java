package dev.wengert.autograd.numeric;

import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.DoubleFunction;
import java.util.function.Function;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;

/**
 * Numeric differentiation by finite differences: the baseline that automatic differentiation
 * is compared against, and the tool used to <em>check</em> AD (gradient checking).
 *
 * <p><b>Why the step size matters.</b> A finite difference has two error sources pulling in
 * opposite directions:
 * <ul>
 *   <li><em>truncation error</em> from cutting off the Taylor series, which shrinks as h
 *       shrinks: O(h) for the forward difference {@code (f(x+h) - f(x))/h}, O(h²) for the
 *       central difference {@code (f(x+h) - f(x-h))/(2h)} because the even-order terms cancel;
 *   <li><em>rounding error</em>: f(x±h) each carry a relative error of about ε (machine
 *       epsilon, {@value #EPSILON}), and subtracting two nearly equal numbers then dividing by
 *       a small h amplifies it to about ε·|f|/h, which <em>grows</em> as h shrinks.
 * </ul>
 * Plotting |error| against h on log-log axes therefore gives a V: the error falls with slope 1
 * (forward) or 2 (central) while truncation dominates, reaches a minimum, then rises with slope
 * -1 once rounding dominates ({@link #stepSizeSweep} computes that curve). Balancing the two
 * terms gives the optimal step: h ~ ε^(1/2) for the forward difference (error ~ ε^(1/2) ≈ 1e-8)
 * and h ~ ε^(1/3) for the central difference (error ~ ε^(2/3) ≈ 1e-11). The defaults below use
 * exactly these, scaled by max(1, |x|) so that x ± h actually differs from x for large |x|.
 * Even at its best, numeric differentiation loses about a third to a half of the significant
 * digits, and a gradient in n dimensions costs 2n evaluations — the two reasons AD exists.
 *
 * <p>Every first derivative here, and the numeric side of {@link dev.wengert.autograd.GradCheck}, is one
 * routine, {@link #centralDifference}, with steps from {@link #step}.
 *
 * <p>All methods are stateless and thread-safe.
 */
public final class NumericDiff {

    /** Machine epsilon for double, 2^-52 ≈ 2.22e-16: the gap between 1.0 and the next double. */
    public static final double EPSILON = 0x1.0p-52;

    /** ε^(1/3) ≈ 6.06e-6: the step that balances O(h²) truncation against O(ε/h) rounding. */
    public static final double CENTRAL_STEP = Math.cbrt(EPSILON);

    /** ε^(1/2) ≈ 1.49e-8: the step that balances O(h) truncation against O(ε/h) rounding. */
    public static final double FORWARD_STEP = Math.sqrt(EPSILON);

    /**
     * ε^(1/4) ≈ 1.22e-4: for the second difference truncation is O(h²) but rounding is O(ε/h²)
     * (the difference is divided by h²), so the balance is at h⁴ ~ ε.
     */
    public static final double SECOND_DERIVATIVE_STEP = Math.sqrt(Math.sqrt(EPSILON));

    private NumericDiff() {
    }

    /**
     * Central difference {@code (f(x+h) - f(x-h)) / ((x+h) - (x-h))}, truncation error O(h²).
     *
     * <p>The denominator is the distance between the two points actually evaluated rather than
     * the nominal 2h: x ± h is rounded to a double, and dividing by the rounded distance
     * removes that error from the result at no cost.
     *
     * @param f the function
     * @param x the point
     * @param h the step; must be positive and finite
     * @return the approximate derivative f'(x)
     */
    public static double derivative(DoubleUnaryOperator f, double x, double h) {
        Objects.requireNonNull(f, "f");
        return centralDifference(v -> new double[] {f.applyAsDouble(v)}, x, h)[0];
    }

    /**
     * The central difference of a function of one coordinate with any number of outputs:
     * {@code (f(x+h)[i] - f(x-h)[i]) / ((x+h) - (x-h))} for each i, f evaluated once at x + h, then once at
     * x - h. The one finite-difference routine of first derivatives: {@link #derivative}, {@link #gradient},
     * {@link #jacobian} and {@link dev.wengert.autograd.GradCheck} all call it.
     *
     * @param f the function; must return arrays of one length
     * @param x the point
     * @param h the step; must be positive and finite (see {@link #step})
     * @return a new array, the approximate derivative of each output
     * @throws IllegalArgumentException when f returns arrays of different lengths
     */
    public static double[] centralDifference(DoubleFunction<double[]> f, double x, double h) {
        Objects.requireNonNull(f, "f");
        checkStep(h);
        double xp = x + h;
        double xm = x - h;
        double[] plus = f.apply(xp);
        double[] minus = f.apply(xm);
        if (plus.length != minus.length) {
            throw new IllegalArgumentException("central difference: f returned " + plus.length + " values at x + h and "
                    + minus.length + " at x - h");
        }
        double dist = xp - xm;
        double[] d = new double[plus.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = (plus[i] - minus[i]) / dist;
        }
        return d;
    }

    /**
     * The step {@code base·max(1, |x|)}: relative for large |x| (where an absolute step could be lost in
     * rounding x + h), absolute near 0. The defaults use the bases {@link #CENTRAL_STEP},
     * {@link #FORWARD_STEP} and {@link #SECOND_DERIVATIVE_STEP}.
     */
    public static double step(double base, double x) {
        return base * Math.max(1.0, Math.abs(x));
    }

    /**
     * Central difference with the default step {@code h = cbrt(ε)·max(1, |x|)}: with truncation
     * error ≈ h²|f'''|/6 and rounding error ≈ ε|f|/h, the sum is minimised at h ∝ ε^(1/3),
     * giving an error of order ε^(2/3) (about 1e-11 relative) for well-scaled f. The
     * max(1, |x|) factor makes the step relative for large |x| (where an absolute 6e-6 could
     * be lost entirely in rounding x + h) and absolute near 0.
     */
    public static double derivative(DoubleUnaryOperator f, double x) {
        return derivative(f, x, step(CENTRAL_STEP, x));
    }

    /**
     * Forward difference {@code (f(x+h) - f(x)) / ((x+h) - x)}, truncation error O(h). Needs
     * only one new evaluation if f(x) is known, which is why it is still used, but it is
     * markedly less accurate than {@link #derivative(DoubleUnaryOperator, double, double)}.
     */
    public static double forwardDerivative(DoubleUnaryOperator f, double x, double h) {
        Objects.requireNonNull(f, "f");
        checkStep(h);
        double xp = x + h;
        return (f.applyAsDouble(xp) - f.applyAsDouble(x)) / (xp - x);
    }

    /**
     * Forward difference with the default step {@code h = sqrt(ε)·max(1, |x|)}: truncation
     * ≈ h|f''|/2 against rounding ≈ 2ε|f|/h balances at h ∝ ε^(1/2), error ~ 1e-8.
     */
    public static double forwardDerivative(DoubleUnaryOperator f, double x) {
        return forwardDerivative(f, x, step(FORWARD_STEP, x));
    }

    /**
     * Second central difference {@code (f(x+h) - 2f(x) + f(x-h)) / h²}, truncation error O(h²).
     *
     * @param h the step; must be positive and finite
     */
    public static double secondDerivative(DoubleUnaryOperator f, double x, double h) {
        Objects.requireNonNull(f, "f");
        checkStep(h);
        double xp = x + h;
        double xm = x - h;
        double hp = xp - x;
        double hm = x - xm;
        // Non-uniform three-point formula on the points actually evaluated; equals the textbook
        // (f+ - 2f0 + f-)/h² when x ± h are exact.
        double fp = f.applyAsDouble(xp);
        double f0 = f.applyAsDouble(x);
        double fm = f.applyAsDouble(xm);
        return 2.0 * (hm * fp - (hp + hm) * f0 + hp * fm) / (hp * hm * (hp + hm));
    }

    /**
     * Second derivative with the default step {@code h = ε^(1/4)·max(1, |x|)}: rounding error is
     * now ≈ 4ε|f|/h² (division by h²), so balancing against O(h²) truncation gives h ∝ ε^(1/4)
     * and an error of order ε^(1/2) ≈ 1e-8.
     */
    public static double secondDerivative(DoubleUnaryOperator f, double x) {
        return secondDerivative(f, x, step(SECOND_DERIVATIVE_STEP, x));
    }

    /**
     * Gradient of f: R^n → R by one central difference per coordinate, with the default step
     * {@code cbrt(ε)·max(1, |x_i|)} for each coordinate. Costs 2n evaluations of f — the cost
     * that reverse-mode AD reduces to a small constant multiple of one evaluation.
     *
     * <p>f receives a fresh copy of the point on each call, so neither the caller's {@code x}
     * nor later evaluations are affected if f modifies its argument.
     *
     * @param f the function
     * @param x the point (not modified)
     * @return a new array with the approximate partial derivatives
     */
    public static double[] gradient(ToDoubleFunction<double[]> f, double[] x) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(x, "x");
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int coordinate = i;
            grad[i] = derivative(v -> {
                double[] point = x.clone();
                point[coordinate] = v;
                return f.applyAsDouble(point);
            }, x[i], step(CENTRAL_STEP, x[i]));
        }
        return grad;
    }

    /**
     * For each step size in {@code hs}, the absolute error
     * {@code |centralDifference(f, x, h) - fprime(x)|} of the central difference against the
     * exact derivative. Sweeping h over many decades shows the V-shaped error curve described in
     * the class comment: truncation-dominated (falling as h shrinks) for large h,
     * rounding-dominated (rising) for tiny h, with the minimum near {@link #CENTRAL_STEP}.
     *
     * @param f      the function
     * @param fprime its exact derivative
     * @param x      the point
     * @param hs     the step sizes to try, each positive and finite
     * @return the absolute errors, index-aligned with {@code hs}
     */
    public static double[] stepSizeSweep(DoubleUnaryOperator f, DoubleUnaryOperator fprime, double x, double[] hs) {
        Objects.requireNonNull(fprime, "fprime");
        Objects.requireNonNull(hs, "hs");
        double exact = fprime.applyAsDouble(x);
        double[] errors = new double[hs.length];
        for (int i = 0; i < hs.length; i++) {
            errors[i] = Math.abs(derivative(f, x, hs[i]) - exact);
        }
        return errors;
    }

    /**
     * Jacobian of a tensor function by central differences, one pair of evaluations per element of
     * {@code x}, with the default step {@code cbrt(ε)·max(1, |x_j|)} per element. The result is float64
     * with shape {@code f(x).shape ++ x.shape}; element {@code [i..., j...]} approximates
     * d f(x)[i...] / d x[j...]. Neither {@code x} nor its elements are modified: f receives new tensors
     * (of x's dtype; in float32 expect only about 3 correct digits).
     *
     * @param f the function; must return tensors of one fixed shape
     * @param x the point (not modified)
     * @return a new float64 tensor on x's device
     */
    public static Tensor jacobian(Function<Tensor, Tensor> f, Tensor x) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(x, "x");
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException("NumericDiff.jacobian: x " + x.describe() + " must be a float tensor");
        }
        double[] x0 = x.toDoubleArray().clone();
        int n = x0.length;
        double[] jac = null;
        int[][] shape = new int[1][];      // f's output shape, from its first call
        for (int j = 0; j < n; j++) {
            int element = j;
            double[] column = centralDifference(v -> {
                double[] point = x0.clone();
                point[element] = v;
                try (Scope s = Scope.open()) {
                    Tensor fx = f.apply(Tensor.on(x.device()).of(point, x.shape()).reshape(x.shape()).cast(x.dtype()));
                    if (shape[0] == null) {
                        shape[0] = fx.shape();
                    } else if (!Arrays.equals(fx.shape(), shape[0])) {
                        throw new IllegalArgumentException("NumericDiff.jacobian: f returned shapes " + Arrays.toString(shape[0])
                                + " and " + Arrays.toString(fx.shape()) + ", expected one shape every time");
                    }
                    return fx.toDoubleArray();
                }
            }, x0[j], step(CENTRAL_STEP, x0[j]));
            if (jac == null) {
                jac = new double[column.length * n];
            }
            for (int i = 0; i < column.length; i++) {
                jac[i * n + j] = column[i];
            }
        }
        int[] outShape = shape[0];
        if (outShape == null) {     // x has no elements: ask f once for the output shape
            try (Scope s = Scope.open()) {
                outShape = f.apply(x).shape();
            }
            jac = new double[0];
        }
        int[] jacShape = Arrays.copyOf(outShape, outShape.length + x.rank());
        System.arraycopy(x.shape(), 0, jacShape, outShape.length, x.rank());
        return Tensor.on(x.device()).of(jac, jacShape).reshape(jacShape);
    }

    private static void checkStep(double h) {
        if (!(h > 0.0) || Double.isInfinite(h)) {
            throw new IllegalArgumentException("step size must be positive and finite: " + h);
        }
    }
}
