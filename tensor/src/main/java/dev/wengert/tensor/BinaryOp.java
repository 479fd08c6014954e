package dev.wengert.tensor;

/**
 * Elementwise binary primitives with NumPy broadcasting. Comparisons and the logical ops yield 1 or 0 in the
 * operands' dtype (masks); the logical ops treat any nonzero value, NaN included, as true. Values follow
 * PyTorch's kernels: fmod has the sign of the dividend (C's fmod, Java's %), remainder the sign of the divisor
 * (Python's %, torch.remainder).
 */
public enum BinaryOp {
    ADD("add"), SUB("sub"), MUL("mul"), DIV("div"), POW("pow"), MAXIMUM("maximum"), MINIMUM("minimum"),
    EQ("eq"), NE("ne"), LT("lt"), LE("le"), GT("gt"), GE("ge"),
    /** atan2(a, b): the angle of the point (b, a), in [-pi, pi]; float types only. */
    ATAN2("atan2"),
    /** a - trunc(a / b) b (C's fmod): the sign of a; int64: the same, integer division by zero is an error. */
    FMOD("fmod"),
    /** a - floor(a / b) b: the sign of b (torch.remainder); int64: Math.floorMod, division by zero is an error. */
    REMAINDER("remainder"),
    /** sqrt(a^2 + b^2) without overflow or underflow in between (std::hypot); float types only. */
    HYPOT("hypot"),
    LOGICAL_AND("logicalAnd"), LOGICAL_OR("logicalOr");

    private final String opName;

    BinaryOp(String opName) {
        this.opName = opName;
    }

    public String opName() {
        return opName;
    }

    /** True for the comparisons eq, ne, lt, le, gt, ge, whose results are masks (1 or 0). */
    public boolean isComparison() {
        return switch (this) {
            case EQ, NE, LT, LE, GT, GE -> true;
            default -> false;
        };
    }

    /** True for the ops whose result is a 0/1 mask: the comparisons and logicalAnd/logicalOr. No gradient. */
    public boolean isMask() {
        return isComparison() || this == LOGICAL_AND || this == LOGICAL_OR;
    }

    /** True when the op is defined on int64 operands (all but atan2 and hypot). */
    public boolean allowsIntegers() {
        return this != ATAN2 && this != HYPOT;
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
            case ATAN2 -> Math.atan2(a, b);
            case FMOD -> a % b;
            case REMAINDER -> {                 // PyTorch's: fmod, moved to the divisor's sign
                double mod = a % b;
                yield mod != 0 && (b < 0) != (mod < 0) ? mod + b : mod;
            }
            case HYPOT -> Math.hypot(a, b);
            case LOGICAL_AND -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> a != 0 || b != 0 ? 1 : 0;
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
            case FMOD, REMAINDER -> {
                if (b == 0) {
                    throw new ArithmeticException(opName + ": integer division by zero");
                }
                yield this == FMOD ? a % b : Math.floorMod(a, b);
            }
            case ATAN2, HYPOT -> throw new IllegalArgumentException(opName + ": not defined for int64; cast to a float type first");
            case LOGICAL_AND -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> a != 0 || b != 0 ? 1 : 0;
        };
    }
}
