package dev.wengert.autograd.lessons;

/**
 * An immutable dual number {@code a + b·ε} with {@code ε² = 0}: the smallest complete
 * implementation of forward-mode automatic differentiation.
 *
 * <p>Why it works: for a smooth f, Taylor expansion gives
 * {@code f(a + bε) = f(a) + f'(a)·b·ε + (terms in ε², which vanish)}. So if every operation
 * maps {@code (value, tangent)} to {@code (f(value), f'(value)·tangent)}, the chain rule is
 * applied automatically, one elementary operation at a time, and evaluating a program on
 * {@code Dual.variable(x) = x + 1ε} returns {@code f(x) + f'(x)ε}. The tangent is exact up to
 * floating-point rounding of the same kind as the value itself — no step size, unlike
 * {@link dev.wengert.autograd.numeric.NumericDiff}, and no expression swell, unlike
 * {@link Expr}.
 *
 * <p><b>Zero tangents are exact zeros.</b> Every rule multiplies an incoming tangent by a local
 * derivative. When the incoming tangent is 0 (the operand does not depend on the input) the
 * product is taken to be 0 even if the local derivative is infinite or NaN, e.g.
 * {@code Dual.constant(0).sqrt()} has tangent 0, not {@code 0·∞ = NaN}. A constant cannot make
 * the derivative of anything undefined (the same idea as JAX's symbolic-zero tangents).
 *
 * <p><b>Non-differentiable points</b>: {@code abs'(0) = 0} and {@code relu'(0) = 0} as in
 * PyTorch, so that results agree with the tensor API; {@code max}/{@code min} pass on the first
 * argument's tangent on ties (as {@code torch.fmax}/{@code fmin} do; {@code torch.maximum}
 * averages the two instead). Each method documents its choice.
 *
 * <p>Equality is structural on both doubles with {@link Double#compare} semantics (as for a
 * record): {@code NaN} equals {@code NaN}, {@code 0.0} differs from {@code -0.0}.
 */
public final class Dual {

    /** The primal value a. */
    public final double value;
    /** The tangent b (the coefficient of ε): the derivative carried along with the value. */
    public final double tangent;

    private Dual(double value, double tangent) {
        this.value = value;
        this.tangent = tangent;
    }

    /** Creates {@code value + tangent·ε} with an arbitrary seed, e.g. for a directional derivative. */
    public static Dual of(double value, double tangent) {
        return new Dual(value, tangent);
    }

    /** The independent variable {@code x + 1ε}: seeding tangent 1 asks for d/dx. */
    public static Dual variable(double x) {
        return new Dual(x, 1.0);
    }

    /** A constant {@code c + 0ε}: it does not depend on the input, so its tangent is 0. */
    public static Dual constant(double c) {
        return new Dual(c, 0.0);
    }

    /** Returns {@link #value}. */
    public double value() {
        return value;
    }

    /** Returns {@link #tangent}. */
    public double tangent() {
        return tangent;
    }

    // ------------------------------------------------------------------ derivative drivers

    /**
     * Returns f'(x) by evaluating f once on {@code x + 1ε}.
     *
     * @param f a function built from {@code Dual} operations
     * @param x the point
     * @return the tangent of {@code f(Dual.variable(x))}
     */
    public static double derivative(DualFunction f, double x) {
        return f.apply(variable(x)).tangent;
    }

    /**
     * Returns {@code f(x) + f'(x)ε}: forward mode produces value and derivative together, in one
     * pass, at a small constant multiple of the cost of evaluating f.
     */
    public static Dual valueAndDerivative(DualFunction f, double x) {
        return f.apply(variable(x));
    }

    // ------------------------------------------------------------------ helpers

    /**
     * {@code tangent · localDerivative}, except that a zero tangent stays exactly zero (see the
     * class comment) so that constants never pick up {@code 0·∞} or {@code 0·NaN}.
     */
    private static double scale(double tangent, double localDerivative) {
        return tangent == 0.0 ? 0.0 : tangent * localDerivative;
    }

    private Dual unary(double newValue, double localDerivative) {
        return new Dual(newValue, scale(tangent, localDerivative));
    }

    // ------------------------------------------------------------------ arithmetic

    /** (a + a'ε) + (b + b'ε) = (a + b) + (a' + b')ε: differentiation is linear. */
    public Dual plus(Dual other) {
        return new Dual(value + other.value, tangent + other.tangent);
    }

    /** Adding a constant shifts the value and leaves the tangent unchanged. */
    public Dual plus(double c) {
        return new Dual(value + c, tangent);
    }

    /** (a - b) + (a' - b')ε: differentiation is linear. */
    public Dual minus(Dual other) {
        return new Dual(value - other.value, tangent - other.tangent);
    }

    /** Subtracting a constant leaves the tangent unchanged. */
    public Dual minus(double c) {
        return new Dual(value - c, tangent);
    }

    /**
     * Product rule: (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε, the a'b'ε² term vanishing because
     * ε² = 0.
     */
    public Dual times(Dual other) {
        return new Dual(value * other.value, scale(tangent, other.value) + scale(other.tangent, value));
    }

    /** Scaling by a constant scales the tangent by the same constant. */
    public Dual times(double c) {
        return new Dual(value * c, scale(tangent, c));
    }

    /**
     * Quotient rule (a/b)' = a'/b - (a/b)·b'/b, written in terms of the quotient q = a/b so that
     * only one extra division is needed and b² (which can overflow) is never formed.
     */
    public Dual div(Dual other) {
        double q = value / other.value;
        return new Dual(q, scale(tangent, 1.0 / other.value) - scale(other.tangent, q / other.value));
    }

    /** Dividing by a constant divides the tangent by it. */
    public Dual div(double c) {
        return new Dual(value / c, tangent == 0.0 ? 0.0 : tangent / c);
    }

    /** -(a + a'ε) = -a - a'ε. */
    public Dual negate() {
        return new Dual(-value, -tangent);
    }

    /**
     * Power with a constant exponent: (a^p)' = p·a^(p-1)·a'.
     *
     * <p>For p = 0 the result is the constant 1 and the tangent is 0 even at a = 0, where the
     * formula would give {@code 0·0^(-1) = 0·∞ = NaN} (PyTorch's {@code pow_backward} makes the
     * same special case).
     */
    public Dual pow(double p) {
        double v = Math.pow(value, p);
        if (p == 0.0) {
            return new Dual(v, 0.0);
        }
        return unary(v, p * Math.pow(value, p - 1.0));
    }

    /**
     * General power a^b with both operands dual:
     * {@code d(a^b) = b·a^(b-1)·a' + a^b·ln(a)·b'}.
     *
     * <p>Conventions, as in PyTorch: the base term is 0 when b = 0 (a^0 is the constant 1), and
     * the exponent term is 0 when a = 0 and b &ge; 0, where {@code a^b·ln a} is {@code 0·(-∞)} but
     * the one-sided limit is 0. For a &lt; 0 and a varying exponent ln(a) is NaN, which is the
     * honest answer: a^b is not real-differentiable in b there. {@code Var.pow} (both modes)
     * follows the same conventions (docs/design.md, "Numerical conventions").
     */
    public Dual pow(Dual exponent) {
        double a = value;
        double b = exponent.value;
        double v = Math.pow(a, b);
        double dBase = b == 0.0 ? 0.0 : b * Math.pow(a, b - 1.0);
        double dExponent = (a == 0.0 && b >= 0.0) ? 0.0 : v * Math.log(a);
        return new Dual(v, scale(tangent, dBase) + scale(exponent.tangent, dExponent));
    }

    // ------------------------------------------------------------------ elementary functions

    /** exp' = exp: the already computed value is reused as the local derivative. */
    public Dual exp() {
        double e = Math.exp(value);
        return unary(e, e);
    }

    /** Natural logarithm, log'(a) = 1/a (so +∞ at a = 0 and NaN value below 0). */
    public Dual log() {
        return unary(Math.log(value), 1.0 / value);
    }

    /**
     * sqrt'(a) = 1/(2·sqrt(a)), reusing the computed root. At a = 0 the derivative is +∞, as in
     * PyTorch; it is the true one-sided limit.
     */
    public Dual sqrt() {
        double s = Math.sqrt(value);
        return unary(s, 0.5 / s);
    }

    /**
     * |a|' = sign(a). At a = 0 the derivative is taken to be {@code sign(0) = 0} (PyTorch's
     * {@code abs} backward is {@code grad * sgn(x)}); 0 is a valid subgradient and is the choice
     * that makes gradient descent stop at the kink.
     */
    public Dual abs() {
        return unary(Math.abs(value), Math.signum(value));
    }

    /** sin' = cos. */
    public Dual sin() {
        return unary(Math.sin(value), Math.cos(value));
    }

    /** cos' = -sin. */
    public Dual cos() {
        return unary(Math.cos(value), -Math.sin(value));
    }

    /** tanh' = 1 - tanh², reusing the computed value. */
    public Dual tanh() {
        double t = Math.tanh(value);
        return unary(t, 1.0 - t * t);
    }

    /**
     * The logistic function σ(a) = 1/(1 + e^(-a)), with σ' = σ(1 - σ) reusing the value. For
     * very negative a, e^(-a) overflows to +∞ and σ correctly becomes 0.
     */
    public Dual sigmoid() {
        double s = 1.0 / (1.0 + Math.exp(-value));
        return unary(s, s * (1.0 - s));
    }

    /**
     * relu(a) = max(a, 0). Its derivative is 1 for a &gt; 0 and 0 otherwise, including at the
     * kink a = 0 (PyTorch's {@code threshold_backward} passes the gradient only where the
     * output is strictly positive). A NaN input gives a NaN value and tangent 0.
     */
    public Dual relu() {
        return new Dual(Math.max(value, 0.0), value > 0.0 ? tangent : 0.0);
    }

    /**
     * max(this, other). The tangent is that of the argument whose value is selected; on a tie
     * ({@code this.value == other.value}) it is <em>this</em> (the first argument's) tangent,
     * which is the project's documented convention and keeps the result one of the two inputs'
     * tangents (a valid one-sided derivative). Note that {@code torch.maximum} instead averages
     * the two tangents on ties; {@code torch.fmax} picks the first, as here. A NaN value
     * propagates, and then the tangent is the sum of both tangents: the transpose of giving the
     * full gradient to both inputs, which is what {@code torch.maximum}'s backward and
     * {@code Var.maximum} do (docs/design.md, "Numerical conventions").
     */
    public Dual max(Dual other) {
        if (Double.isNaN(value) || Double.isNaN(other.value)) {
            return new Dual(Double.NaN, tangent + other.tangent);
        }
        return new Dual(Math.max(value, other.value), value >= other.value ? tangent : other.tangent);
    }

    /** Static form of {@link #max(Dual)}: ties pass on {@code a}'s tangent. */
    public static Dual max(Dual a, Dual b) {
        return a.max(b);
    }

    /**
     * min(this, other). Ties pass on <em>this</em> (the first argument's) tangent, mirroring
     * {@link #max(Dual)}. A NaN value propagates, with the sum of both tangents as in
     * {@link #max(Dual)}.
     */
    public Dual min(Dual other) {
        if (Double.isNaN(value) || Double.isNaN(other.value)) {
            return new Dual(Double.NaN, tangent + other.tangent);
        }
        return new Dual(Math.min(value, other.value), value <= other.value ? tangent : other.tangent);
    }

    /** Static form of {@link #min(Dual)}: ties pass on {@code a}'s tangent. */
    public static Dual min(Dual a, Dual b) {
        return a.min(b);
    }

    /** a² with derivative 2a; cheaper and more accurate than {@code pow(2)}. */
    public Dual square() {
        return unary(value * value, 2.0 * value);
    }

    /** 1/a with derivative -1/a², computed as -(1/a)² from the value (∞ at a = 0). */
    public Dual reciprocal() {
        double r = 1.0 / value;
        return unary(r, -r * r);
    }

    // ------------------------------------------------------------------ Object

    @Override
    public boolean equals(Object o) {
        return o instanceof Dual d
                && Double.compare(value, d.value) == 0
                && Double.compare(tangent, d.tangent) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * Double.hashCode(value) + Double.hashCode(tangent);
    }

    /** Renders as {@code "2.0 + 1.0ε"} (or {@code "2.0 - 1.0ε"} for a negative tangent). */
    @Override
    public String toString() {
        if (Double.compare(tangent, 0.0) < 0) {
            return value + " - " + (-tangent) + "ε";
        }
        return value + " + " + tangent + "ε";
    }
}
