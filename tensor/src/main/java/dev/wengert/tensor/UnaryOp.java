package dev.wengert.tensor;

/** Elementwise unary primitives every backend implements. */
public enum UnaryOp {
    NEG("neg"), EXP("exp"), LOG("log"), SQRT("sqrt"), ABS("abs"), SIN("sin"), COS("cos"),
    TANH("tanh"), SIGMOID("sigmoid"), RELU("relu"),
    /** -1, 0 or 1; used by the derivative of abs. */
    SIGN("sign");

    private final String opName;

    UnaryOp(String opName) {
        this.opName = opName;
    }

    /** Name used in messages and Wengert lists. */
    public String opName() {
        return opName;
    }

    /** Reference scalar semantics; backends must agree with this (the contract tests check). */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
            case RELU -> x > 0 ? x : 0;
            case SIGN -> Math.signum(x);
        };
    }

    /** Integer semantics for int64 tensors (exact); only the ops that {@link #allowsIntegers()}. */
    public long apply(long x) {
        return switch (this) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case RELU -> Math.max(x, 0);
            case SIGN -> Long.signum(x);
            default -> throw new IllegalArgumentException(opName + ": not defined for int64; cast to a float type first");
        };
    }

    /** True when the op is defined on int64 tensors. */
    public boolean allowsIntegers() {
        return this == NEG || this == ABS || this == RELU || this == SIGN;
    }
}
