package dev.wengert.tensor;

import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Elementwise unary primitives every backend implements: one row per op with its name, its reference
 * scalar semantics (what the CPU backend computes, and what every other backend is tested against) and,
 * for the ops defined on int64 tensors, its exact integer semantics. The CUDA kernel of an op is the case
 * of the same name in elementwise.cuh ({@code U_EXP} for {@link #EXP}), looked up by name.
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
    /** -1, 0 or 1; used by the derivative of abs. */
    SIGN("sign", Math::signum, Long::signum);

    private final String opName;
    private final DoubleUnaryOperator real;
    private final LongUnaryOperator integer;

    UnaryOp(String opName, DoubleUnaryOperator real) {
        this(opName, real, null);
    }

    UnaryOp(String opName, DoubleUnaryOperator real, LongUnaryOperator integer) {
        this.opName = opName;
        this.real = real;
        this.integer = integer;
    }

    /** Name used in messages and Wengert lists. */
    public String opName() {
        return opName;
    }

    /** Reference scalar semantics; backends must agree with this (the contract tests check). */
    public double apply(double x) {
        return real.applyAsDouble(x);
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
}
