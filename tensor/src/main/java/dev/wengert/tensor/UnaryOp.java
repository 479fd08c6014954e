package dev.wengert.tensor;

import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Elementwise unary primitives every backend implements: one row per op with its name, its reference
 * scalar semantics (what the CPU backend computes, and what every other backend is tested against) and,
 * for the ops defined on int64 tensors, its exact integer semantics. The CUDA kernel of an op is the case
 * of the same name in elementwise.cuh ({@code U_EXP} for {@link #EXP}), looked up by name.
 *
 * <p>Values follow PyTorch's CPU kernels, edge values included (0, -0, infinities, NaN): where PyTorch's
 * formula gives NaN (gelu and silu of -inf) so does the row. A few ops take up to two scalar parameters
 * ({@link #parameterCount()}: softplus's beta and threshold, leakyRelu's slope, elu's alpha, clamp's bounds),
 * passed with {@link Tensor#apply(UnaryOp, double, double)} and to the backends with
 * {@link Backend#unary(UnaryOp, double, double, Tensor, Tensor)}; {@link #apply(double)} uses their
 * {@link #defaultParameter defaults} (PyTorch's). The masks ({@link #isMask()}: isnan, isinf, isfinite,
 * logicalNot) give 1 or 0 in the operand's dtype.
 */
public enum UnaryOp {
    NEG("neg", x -> -x, x -> -x),
    EXP("exp", Math::exp),
    LOG("log", Math::log),
    SQRT("sqrt", Math::sqrt),
    ABS("abs", Math::abs, Math::abs),
    SIN("sin", Math::sin),
    COS("cos", Math::cos),
    TANH("tanh", Math::tanh),
    SIGMOID("sigmoid", x -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    RELU("relu", x -> x > 0 ? x : 0, x -> Math.max(x, 0)),
    /**
     * -1, 0 or 1 as torch.sign: (0 &lt; x) - (x &lt; 0), so sign(-0.0) = +0.0 and sign(NaN) = 0 (Math.signum keeps
     * both); the derivative of abs.
     */
    SIGN("sign", x -> x > 0 ? 1 : x < 0 ? -1 : 0, Long::signum),
    /** The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x, as torch.erf: within 1 ulp. */
    ERF("erf", Fdlibm::erf),
    /** 1 - erf(x) without the cancellation (FDLIBM's erfc, below 1 ulp), as torch.erfc. */
    ERFC("erfc", Fdlibm::erfc),
    /** log(1 + x), accurate near 0: log1p(-1) = -inf, NaN below -1. */
    LOG1P("log1p", Math::log1p),
    /** e^x - 1, accurate near 0. */
    EXPM1("expm1", Math::expm1),
    TAN("tan", Math::tan),
    ATAN("atan", Math::atan),
    /** NaN outside [-1, 1]. */
    ASIN("asin", Math::asin),
    /** NaN outside [-1, 1]. */
    ACOS("acos", Math::acos),
    SINH("sinh", Math::sinh),
    COSH("cosh", Math::cosh),
    /** 1/x: reciprocal(+-0) = +-inf. */
    RECIPROCAL("reciprocal", x -> 1 / x),
    /** Identity on int64, as the rounding ops below. */
    FLOOR("floor", Math::floor, x -> x),
    CEIL("ceil", Math::ceil, x -> x),
    /** Rounds half to even (torch.round, std::nearbyint): round(2.5) = 2, round(-0.5) = -0.0. */
    ROUND("round", Math::rint, x -> x),
    /** Rounds toward zero: trunc(-0.5) = -0.0. */
    TRUNC("trunc", x -> x < 0 ? Math.ceil(x) : Math.floor(x), x -> x),
    /** x Phi(x) = x/2 (1 + erf(x/sqrt 2)), PyTorch's formula (gelu(-inf) = NaN, as PyTorch's). */
    GELU("gelu", x -> x * 0.5 * (1 + Fdlibm.erf(x * Constants.SQRT1_2))),
    /** gelu's tanh approximation, x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch's approximate='tanh'. */
    GELU_TANH("geluTanh", x -> 0.5 * x * (1 + Math.tanh(Constants.SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))),
    /** x sigmoid(x), computed as PyTorch's x / (1 + e^-x) (silu(-inf) = NaN, as PyTorch's). */
    SILU("silu", x -> x / (1 + Math.exp(-x))),
    /** 1 where x is NaN, else 0; int64: 0. */
    ISNAN("isnan", x -> x != x ? 1 : 0, x -> 0),
    /** 1 where x is +-inf, else 0; int64: 0. */
    ISINF("isinf", x -> Double.isInfinite(x) ? 1 : 0, x -> 0),
    /** 1 where x is neither infinite nor NaN, else 0; int64: 1. */
    ISFINITE("isfinite", x -> Double.isFinite(x) ? 1 : 0, x -> 1),
    /** 1 where x == 0, else 0 (NaN counts as true, so gives 0), as torch.logical_not. */
    LOGICAL_NOT("logicalNot", x -> x == 0 ? 1 : 0, x -> x == 0 ? 1 : 0),
    /**
     * (x beta) > threshold ? x : log1p(e^(x beta)) / beta, as torch.nn.functional.softplus; parameters beta
     * (default 1) and threshold (default 20).
     */
    SOFTPLUS("softplus", 2, (x, beta, threshold) -> x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta, 1, 20),
    /** x > 0 ? x : slope x; parameter slope (default 0.01). */
    LEAKY_RELU("leakyRelu", 1, (x, slope, unused) -> x > 0 ? x : x * slope, 0.01, 0),
    /** x > 0 ? x : alpha (e^x - 1), with expm1 (PyTorch's CUDA kernel); parameter alpha (default 1). */
    ELU("elu", 1, (x, alpha, unused) -> x > 0 ? x : Math.expm1(x) * alpha, 1, 0),
    /**
     * min(max(x, lo), hi) with NaN propagated from x; parameters lo and hi (defaults -inf and +inf: no bound).
     * Where lo > hi every element is hi, as torch.clamp.
     */
    CLAMP("clamp", 2, (x, lo, hi) -> x != x ? x : Math.min(Math.max(x, lo), hi), Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);

    /** A unary op with two scalar parameters. */
    @FunctionalInterface
    public interface Parametric {
        double apply(double x, double p0, double p1);
    }

    /** Constants the rows share (an enum's constructor arguments cannot read its own static fields). */
    private static final class Constants {
        static final double SQRT1_2 = 0.7071067811865476;            // M_SQRT1_2
        static final double SQRT_2_OVER_PI = 0.7978845608028654;     // M_SQRT2 * M_2_SQRTPI * 0.5
    }

    private final String opName;
    private final Parametric real;
    private final LongUnaryOperator integer;
    private final int parameters;
    private final double default0;
    private final double default1;

    UnaryOp(String opName, DoubleUnaryOperator real) {
        this(opName, real, null);
    }

    UnaryOp(String opName, DoubleUnaryOperator real, LongUnaryOperator integer) {
        this.opName = opName;
        this.real = (x, p0, p1) -> real.applyAsDouble(x);
        this.integer = integer;
        this.parameters = 0;
        this.default0 = 0;
        this.default1 = 0;
    }

    UnaryOp(String opName, int parameters, Parametric real, double default0, double default1) {
        this.opName = opName;
        this.real = real;
        this.integer = null;
        this.parameters = parameters;
        this.default0 = default0;
        this.default1 = default1;
    }

    /** Name used in messages and Wengert lists. */
    public String opName() {
        return opName;
    }

    /** Reference scalar semantics; backends must agree with this (the contract tests check). Default parameters. */
    public double apply(double x) {
        return real.apply(x, default0, default1);
    }

    /** Reference scalar semantics with the op's parameters (ignored by the ops without). */
    public double apply(double x, double p0, double p1) {
        return real.apply(x, p0, p1);
    }

    /** Integer semantics for int64 tensors (exact); only the ops that {@link #allowsIntegers()}. */
    public long apply(long x) {
        if (integer == null) {
            throw new IllegalArgumentException(opName + ": not defined for int64; cast to a float type first");
        }
        return integer.applyAsLong(x);
    }

    /** True when the op is defined on int64 tensors. */
    public boolean allowsIntegers() {
        return integer != null;
    }

    /** How many scalar parameters the op takes (0, 1 or 2). */
    public int parameterCount() {
        return parameters;
    }

    /** The default of parameter {@code i} (0 or 1), PyTorch's; 0 for a parameter the op does not take. */
    public double defaultParameter(int i) {
        return i == 0 ? default0 : i == 1 ? default1 : 0;
    }

    /** True for the ops whose result is a 0/1 mask (isnan, isinf, isfinite, logicalNot): they have no gradient. */
    public boolean isMask() {
        return this == ISNAN || this == ISINF || this == ISFINITE || this == LOGICAL_NOT;
    }

    /**
     * erf(x) of FDLIBM's s_erf.c (version 1.3 95/01/18, netlib.org/fdlibm), translated to Java: rational
     * approximations on |x| in [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 6), and +-1 beyond;
     * FDLIBM states an error below 1 ulp. The coefficients are FDLIBM's. Its notice, as its license asks:
     *
     * <pre>
     * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
     * Developed at SunSoft, a Sun Microsystems, Inc. business.
     * Permission to use, copy, modify, and distribute this software is freely granted, provided that this
     * notice is preserved.
     * </pre>
     */
    private static final class Fdlibm {
        private static final double ERX = 8.45062911510467529297e-01;
        private static final double EFX = 1.28379167095512586316e-01;
        private static final double EFX8 = 1.02703333676410069053e+00;
        private static final double PP0 = 1.28379167095512558561e-01;
        private static final double PP1 = -3.25042107247001499370e-01;
        private static final double PP2 = -2.84817495755985104766e-02;
        private static final double PP3 = -5.77027029648944159157e-03;
        private static final double PP4 = -2.37630166566501626084e-05;
        private static final double QQ1 = 3.97917223959155352819e-01;
        private static final double QQ2 = 6.50222499887672944485e-02;
        private static final double QQ3 = 5.08130628187576562776e-03;
        private static final double QQ4 = 1.32494738004321644526e-04;
        private static final double QQ5 = -3.96022827877536812320e-06;
        private static final double PA0 = -2.36211856075265944077e-03;
        private static final double PA1 = 4.14856118683748331666e-01;
        private static final double PA2 = -3.72207876035701323847e-01;
        private static final double PA3 = 3.18346619901161753674e-01;
        private static final double PA4 = -1.10894694282396677476e-01;
        private static final double PA5 = 3.54783043256182359371e-02;
        private static final double PA6 = -2.16637559486879084300e-03;
        private static final double QA1 = 1.06420880400844228286e-01;
        private static final double QA2 = 5.40397917702171048937e-01;
        private static final double QA3 = 7.18286544141962662868e-02;
        private static final double QA4 = 1.26171219808761642112e-01;
        private static final double QA5 = 1.36370839120290507362e-02;
        private static final double QA6 = 1.19844998467991074170e-02;
        private static final double RA0 = -9.86494403484714822705e-03;
        private static final double RA1 = -6.93858572707181764372e-01;
        private static final double RA2 = -1.05586262253232909814e+01;
        private static final double RA3 = -6.23753324503260060396e+01;
        private static final double RA4 = -1.62396669462573470355e+02;
        private static final double RA5 = -1.84605092906711035994e+02;
        private static final double RA6 = -8.12874355063065934246e+01;
        private static final double RA7 = -9.81432934416914548592e+00;
        private static final double SA1 = 1.96512716674392571292e+01;
        private static final double SA2 = 1.37657754143519042600e+02;
        private static final double SA3 = 4.34565877475229228821e+02;
        private static final double SA4 = 6.45387271733267880336e+02;
        private static final double SA5 = 4.29008140027567833386e+02;
        private static final double SA6 = 1.08635005541779435134e+02;
        private static final double SA7 = 6.57024977031928170135e+00;
        private static final double SA8 = -6.04244152148580987438e-02;
        private static final double RB0 = -9.86494292470009928597e-03;
        private static final double RB1 = -7.99283237680523006574e-01;
        private static final double RB2 = -1.77579549177547519889e+01;
        private static final double RB3 = -1.60636384855821916062e+02;
        private static final double RB4 = -6.37566443368389627722e+02;
        private static final double RB5 = -1.02509513161107724954e+03;
        private static final double RB6 = -4.83519191608651397019e+02;
        private static final double SB1 = 3.03380607434824582924e+01;
        private static final double SB2 = 3.25792512996573918826e+02;
        private static final double SB3 = 1.53672958608443695994e+03;
        private static final double SB4 = 3.19985821950859553908e+03;
        private static final double SB5 = 2.55305040643316442583e+03;
        private static final double SB6 = 4.74528541206955367215e+02;
        private static final double SB7 = -2.24409524465858183362e+01;

        static double erf(double x) {
            int hx = (int) (Double.doubleToRawLongBits(x) >>> 32);
            int ix = hx & 0x7fffffff;
            if (ix >= 0x7ff00000) {                 // NaN, or erf(+-inf) = +-1
                return Double.isNaN(x) ? x : hx >= 0 ? 1.0 : -1.0;
            }
            if (ix < 0x3feb0000) {                  // |x| < 0.84375: x + x R(x^2)
                if (ix < 0x3e300000) {              // |x| < 2^-28 (keeps -0.0 and avoids underflow)
                    return ix < 0x00800000 ? 0.125 * (8.0 * x + EFX8 * x) : x + EFX * x;
                }
                double z = x * x;
                double r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
                double s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
                return x + x * (r / s);
            }
            if (ix < 0x3ff40000) {                  // 0.84375 <= |x| < 1.25: erf(1) expanded, c + P1(s)/Q1(s)
                double s = Math.abs(x) - 1.0;
                double p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
                double q = 1.0 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
                return hx >= 0 ? ERX + p / q : -ERX - p / q;
            }
            if (ix >= 0x40180000) {                 // |x| >= 6: +-(1 - tiny), which rounds to +-1
                return hx >= 0 ? 1.0 : -1.0;
            }
            double ax = Math.abs(x);                // 1 - erfc(|x|), erfc(x) = exp(-x^2 - 0.5625 + R/S) / x
            double s = 1.0 / (ax * ax);
            double r;
            double q;
            if (ix < 0x4006DB6E) {                  // |x| < 1/0.35
                r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
                q = 1.0 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
            } else {
                r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
                q = 1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
            }
            double z = Double.longBitsToDouble(Double.doubleToRawLongBits(ax) & 0xffffffff00000000L); // low word cleared
            double e = StrictMath.exp(-z * z - 0.5625) * StrictMath.exp((z - ax) * (z + ax) + r / q);
            return hx >= 0 ? 1.0 - e / ax : e / ax - 1.0;
        }

        /** erfc(x) of the same s_erf.c: the same approximations, arranged so that no 1 - erf cancels. */
        static double erfc(double x) {
            int hx = (int) (Double.doubleToRawLongBits(x) >>> 32);
            int ix = hx & 0x7fffffff;
            if (ix >= 0x7ff00000) {                 // erfc(NaN) = NaN, erfc(+inf) = 0, erfc(-inf) = 2
                return Double.isNaN(x) ? x : hx >= 0 ? 0.0 : 2.0;
            }
            if (ix < 0x3feb0000) {                  // |x| < 0.84375
                if (ix < 0x3c700000) {              // |x| < 2^-56
                    return 1.0 - x;
                }
                double z = x * x;
                double r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
                double s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
                double y = r / s;
                if (hx < 0x3fd00000) {              // x < 1/4 (every negative x too)
                    return 1.0 - (x + x * y);
                }
                return 0.5 - (x * y + (x - 0.5));
            }
            if (ix < 0x3ff40000) {                  // 0.84375 <= |x| < 1.25
                double s = Math.abs(x) - 1.0;
                double p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
                double q = 1.0 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
                return hx >= 0 ? (1.0 - ERX) - p / q : 1.0 + (ERX + p / q);
            }
            if (ix < 0x403c0000) {                  // |x| < 28
                double ax = Math.abs(x);
                double s = 1.0 / (ax * ax);
                double r;
                double q;
                if (ix < 0x4006DB6D) {              // |x| < 1/0.35
                    r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
                    q = 1.0 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
                } else {
                    if (hx < 0 && ix >= 0x40180000) {   // x <= -6: 2 - tiny, which rounds to 2
                        return 2.0;
                    }
                    r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
                    q = 1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
                }
                double z = Double.longBitsToDouble(Double.doubleToRawLongBits(ax) & 0xffffffff00000000L);
                double e = StrictMath.exp(-z * z - 0.5625) * StrictMath.exp((z - ax) * (z + ax) + r / q);
                return hx > 0 ? e / ax : 2.0 - e / ax;
            }
            return hx > 0 ? 0.0 : 2.0;              // tiny * tiny underflows to 0; 2 - tiny rounds to 2
        }
    }
}
