package dev.wengert.tensor;

/** Elementwise binary primitives with NumPy broadcasting. Comparisons yield 1 or 0 in the operands' dtype. */
public enum BinaryOp {
    ADD("add"), SUB("sub"), MUL("mul"), DIV("div"), POW("pow"), MAXIMUM("maximum"), MINIMUM("minimum"),
    EQ("eq"), NE("ne"), LT("lt"), LE("le"), GT("gt"), GE("ge");

    private final String opName;

    BinaryOp(String opName) {
        this.opName = opName;
    }

    public String opName() {
        return opName;
    }

    /** True for the comparisons, whose results are masks (1 or 0). */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }

    /** Reference scalar semantics; backends must agree with this. */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAXIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MINIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
        };
    }

    /** Integer semantics for int64 operands (exact, no rounding through double). */
    public long apply(long a, long b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> {
                if (b == 0) {
                    throw new ArithmeticException("div: integer division by zero");
                }
                yield Math.floorDiv(a, b);
            }
            case POW -> {
                if (b < 0) {
                    throw new ArithmeticException("pow: negative integer exponent " + b + "; cast to a float type first");
                }
                long r = 1;
                for (long i = 0; i < b; i++) {
                    r *= a;
                }
                yield r;
            }
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
        };
    }
}
