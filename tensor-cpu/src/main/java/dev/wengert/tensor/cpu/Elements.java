package dev.wengert.tensor.cpu;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.UnaryOp;
import java.util.function.LongUnaryOperator;

/**
 * What one element of each elementwise Java kernel does, per dtype and op: the kernels that {@link Loops}
 * compiles into loops. The semantics are the ops' reference scalars ({@link BinaryOp#apply}, {@link UnaryOp#apply}),
 * in long arithmetic for int64 (exact) and in double for the floating dtypes, except the float32 ops that
 * float arithmetic computes exactly alike (one IEEE rounding of the exact result, so {@code (float) (a + b)}
 * in double equals {@code a + b} in float; comparisons are exact in either): those are float kernels of their
 * own, because a float32 loop through double was 2.5x slower on JDK 17 (float32 add, 3.1 against 1.2 ns
 * per element in a standalone loop; the float-double conversions, not the arithmetic).
 */
final class Elements {
    private Elements() {
    }

    /** A float32 binary op in float arithmetic. */
    interface FloatBinary {
        float apply(float a, float b);
    }

    /** A float32 unary op in float arithmetic, with the op's parameters as passed (doubles). */
    interface FloatUnary {
        float apply(float x, double p0, double p1);
    }

    /** Reads the element at an address as a double. */
    interface Load {
        double at(long address);
    }

    /** Writes a double (rounded or truncated to the dtype) to the element at an address. */
    interface Store {
        void at(long address, double v);
    }

    static Load load(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> Buf::getFloat;
            case FLOAT64 -> Buf::getDouble;
            case INT64 -> a -> Buf.getLong(a);
        };
    }

    static Store store(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> (a, v) -> Buf.putFloat(a, (float) v);
            case FLOAT64 -> Buf::putDouble;
            case INT64 -> (a, v) -> Buf.putLong(a, (long) v);
        };
    }

    /** out = op(a, b). */
    static Loops.Zip binary(DType dtype, BinaryOp op) {
        return switch (dtype) {
            case FLOAT32 -> {
                FloatBinary f = floatOp(op);
                yield (a, b, o) -> Buf.putFloat(o, f.apply(Buf.getFloat(a), Buf.getFloat(b)));
            }
            case FLOAT64 -> (a, b, o) -> Buf.putDouble(o, op.apply(Buf.getDouble(a), Buf.getDouble(b)));
            case INT64 -> (a, b, o) -> Buf.putLong(o, op.apply(Buf.getLong(a), Buf.getLong(b)));
        };
    }

    /**
     * op on float32 operands, in float arithmetic where that gives {@link BinaryOp#apply(double, double)}'s
     * result rounded to float exactly, else in double as it, rounded once (pow, atan2, hypot). Exact: the arithmetic and
     * remainder's fmod + b (a double rounding of +, -, *, / of floats through double, whose 53 bits are more
     * than twice float's 24, equals the one float rounding), fmod (exact in either), maximum and minimum (an
     * operand or NaN), the comparisons and the logical ops (1 or 0).
     */
    private static FloatBinary floatOp(BinaryOp op) {
        return switch (op) {
            case ADD -> (a, b) -> a + b;
            case SUB -> (a, b) -> a - b;
            case MUL -> (a, b) -> a * b;
            case DIV -> (a, b) -> a / b;
            case MAXIMUM -> (a, b) -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.max(a, b);
            case MINIMUM -> (a, b) -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.min(a, b);
            case EQ -> (a, b) -> a == b ? 1 : 0;
            case NE -> (a, b) -> a != b ? 1 : 0;
            case LT -> (a, b) -> a < b ? 1 : 0;
            case LE -> (a, b) -> a <= b ? 1 : 0;
            case GT -> (a, b) -> a > b ? 1 : 0;
            case GE -> (a, b) -> a >= b ? 1 : 0;
            case FMOD -> (a, b) -> a % b;
            case REMAINDER -> (a, b) -> {
                float mod = a % b;
                return mod != 0 && (b < 0) != (mod < 0) ? mod + b : mod;
            };
            case LOGICAL_AND -> (a, b) -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> (a, b) -> a != 0 || b != 0 ? 1 : 0;
            case POW -> (a, b) -> (float) Math.pow(a, b);
            case ATAN2 -> (a, b) -> (float) Math.atan2(a, b);
            case HYPOT -> (a, b) -> (float) Math.hypot(a, b);
        };
    }

    /**
     * out = op(x; p0, p1), the parameters as the loop passes them (0 for the ops without): float32 in float
     * arithmetic where {@link #floatUnary} has the op, else through {@link #real} rounded once; float64
     * through {@link #real}; int64 through {@link #integer}.
     */
    static Loops.ParamMap unary(DType dtype, UnaryOp op) {
        return switch (dtype) {
            case FLOAT32 -> {
                FloatUnary f = floatUnary(op);
                if (f != null) {
                    yield (x, o, p0, p1) -> Buf.putFloat(o, f.apply(Buf.getFloat(x), p0, p1));
                }
                UnaryOp.Parametric r = real(op);
                yield (x, o, p0, p1) -> Buf.putFloat(o, (float) r.apply(Buf.getFloat(x), p0, p1));
            }
            case FLOAT64 -> {
                UnaryOp.Parametric r = real(op);
                yield (x, o, p0, p1) -> Buf.putDouble(o, r.apply(Buf.getDouble(x), p0, p1));
            }
            case INT64 -> {
                LongUnaryOperator f = integer(op);
                yield (Loops.Map) (x, o) -> Buf.putLong(o, f.applyAsLong(Buf.getLong(x)));
            }
        };
    }

    /**
     * The float32 unary ops that float arithmetic computes exactly as {@link UnaryOp#apply(double, double, double)}
     * rounded to float; null for the others. Exact: the ops that return x, a constant or a sign
     * change (neg, abs, relu, sign, the masks), reciprocal (one division: see {@link #floatOp}), clamp (rounding
     * is monotonic, so clamping to the bounds rounded to float is clamping and rounding) and leakyRelu (its
     * product in double, rounded once, for a slope that is not a float).
     */
    private static FloatUnary floatUnary(UnaryOp op) {
        return switch (op) {
            case NEG -> (x, p0, p1) -> -x;
            case ABS -> (x, p0, p1) -> Math.abs(x);
            case RELU -> (x, p0, p1) -> Float.intBitsToFloat(reluBits(Float.floatToRawIntBits(x)));
            case SIGN -> (x, p0, p1) -> x > 0 ? 1 : x < 0 ? -1 : 0;
            case RECIPROCAL -> (x, p0, p1) -> 1 / x;
            case ISNAN -> (x, p0, p1) -> x != x ? 1 : 0;
            case ISINF -> (x, p0, p1) -> Float.isInfinite(x) ? 1 : 0;
            case ISFINITE -> (x, p0, p1) -> Float.isFinite(x) ? 1 : 0;
            case LOGICAL_NOT -> (x, p0, p1) -> x == 0 ? 1 : 0;
            case LEAKY_RELU -> (x, slope, unused) -> x > 0 ? x : (float) (x * slope);
            case CLAMP -> (x, lo, hi) -> x != x ? x : Math.min(Math.max(x, (float) lo), (float) hi);
            default -> null;
        };
    }

    /**
     * {@link UnaryOp#apply(double, double, double)} written out per op, so that the JIT inlines it into the loop
     * (UnaryOp.apply calls the op through a field, one call site for every op, which the JIT does not
     * inline); the same formulas as UnaryOp's rows, which CpuKernelsTest checks bit for bit. erf, erfc and gelu
     * call UnaryOp.apply: their FDLIBM erf and erfc are UnaryOp's own.
     */
    private static UnaryOp.Parametric real(UnaryOp op) {
        return switch (op) {
            case NEG -> (x, p0, p1) -> -x;
            case EXP -> (x, p0, p1) -> Math.exp(x);
            case LOG -> (x, p0, p1) -> Math.log(x);
            case SQRT -> (x, p0, p1) -> Math.sqrt(x);
            case ABS -> (x, p0, p1) -> Math.abs(x);
            case SIN -> (x, p0, p1) -> Math.sin(x);
            case COS -> (x, p0, p1) -> Math.cos(x);
            case TANH -> (x, p0, p1) -> Math.tanh(x);
            case SIGMOID -> (x, p0, p1) -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
            case RELU -> (x, p0, p1) -> Double.longBitsToDouble(reluBits(Double.doubleToRawLongBits(x)));
            case SIGN -> (x, p0, p1) -> x > 0 ? 1 : x < 0 ? -1 : 0;
            case ERF, ERFC, GELU -> op::apply;
            case LOG1P -> (x, p0, p1) -> Math.log1p(x);
            case EXPM1 -> (x, p0, p1) -> Math.expm1(x);
            case TAN -> (x, p0, p1) -> Math.tan(x);
            case ATAN -> (x, p0, p1) -> Math.atan(x);
            case ASIN -> (x, p0, p1) -> Math.asin(x);
            case ACOS -> (x, p0, p1) -> Math.acos(x);
            case SINH -> (x, p0, p1) -> Math.sinh(x);
            case COSH -> (x, p0, p1) -> Math.cosh(x);
            case RECIPROCAL -> (x, p0, p1) -> 1 / x;
            case FLOOR -> (x, p0, p1) -> Math.floor(x);
            case CEIL -> (x, p0, p1) -> Math.ceil(x);
            case ROUND -> (x, p0, p1) -> Math.rint(x);
            case TRUNC -> (x, p0, p1) -> x < 0 ? Math.ceil(x) : Math.floor(x);
            case GELU_TANH -> (x, p0, p1) -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case SILU -> (x, p0, p1) -> x / (1 + Math.exp(-x));
            case ISNAN -> (x, p0, p1) -> x != x ? 1 : 0;
            case ISINF -> (x, p0, p1) -> Double.isInfinite(x) ? 1 : 0;
            case ISFINITE -> (x, p0, p1) -> Double.isFinite(x) ? 1 : 0;
            case LOGICAL_NOT -> (x, p0, p1) -> x == 0 ? 1 : 0;
            case SOFTPLUS -> (x, beta, threshold) -> x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta;
            case LEAKY_RELU -> (x, slope, unused) -> x > 0 ? x : x * slope;
            case ELU -> (x, alpha, unused) -> x > 0 ? x : Math.expm1(x) * alpha;
            case CLAMP -> (x, lo, hi) -> x != x ? x : Math.min(Math.max(x, lo), hi);
        };
    }

    /**
     * relu (x &gt; 0 ? x : 0, NaN to 0) on a float's bits without a branch, which on ReLU's inputs (about half
     * negative, in no order) the CPU mispredicts half the time (measured 4 ns an element against 1): keeps the
     * bits of +0 &lt; x &lt;= +inf, else +0.
     */
    static int reluBits(int b) {
        return b & ~(b >> 31) & ~((0x7f800000 - b) >> 31);
    }

    /** {@link #reluBits(int)} for a double's bits. */
    static long reluBits(long b) {
        return b & ~(b >> 63) & ~((0x7ff0000000000000L - b) >> 63);
    }

    /** sqrt(2/pi), UnaryOp's constant of geluTanh. */
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;

    /**
     * {@link UnaryOp#apply(long)} written out for the ops defined on int64 (see {@link #real}); the others call
     * it, which refuses them.
     */
    private static LongUnaryOperator integer(UnaryOp op) {
        return switch (op) {
            case NEG -> x -> -x;
            case ABS -> Math::abs;
            case RELU -> x -> Math.max(x, 0);
            case SIGN -> Long::signum;
            case FLOOR, CEIL, ROUND, TRUNC -> x -> x;
            case ISNAN, ISINF -> x -> 0;
            case ISFINITE -> x -> 1;
            case LOGICAL_NOT -> x -> x == 0 ? 1 : 0;
            default -> op::apply;
        };
    }

    /** out = x converted to out's dtype through double (as {@link Buf#set}({@link Buf#get})). */
    static Loops.Map cast(DType from, DType to) {
        Load in = load(from);
        Store out = store(to);
        return (x, o) -> out.at(o, in.at(x));
    }

    /** out = x, bit for bit, for elements of {@code bytes} bytes (4 or 8). */
    static Loops.Map copy(int bytes) {
        return bytes == 4 ? (x, o) -> Buf.putInt(o, Buf.getInt(x)) : (x, o) -> Buf.putLong(o, Buf.getLong(x));
    }

    /**
     * acc = op(acc, x) into an accumulator of int64 for int64 x (long arithmetic: exact, sums wrap as
     * Java's long) and of float64 for the floating dtypes. Max keeps NaN and max(-0, +0) = +0 (Math.max), as on CUDA.
     */
    static Loops.Map reduce(DType dtype, ReduceOp op) {
        if (dtype == DType.INT64) {
            return switch (op) {
                case SUM -> (x, acc) -> Buf.putLong(acc, Buf.getLong(acc) + Buf.getLong(x));
                case MAX -> (x, acc) -> Buf.putLong(acc, Math.max(Buf.getLong(acc), Buf.getLong(x)));
            };
        }
        Load in = load(dtype);
        return switch (op) {
            case SUM -> (x, acc) -> Buf.putDouble(acc, Buf.getDouble(acc) + in.at(x));
            case MAX -> (x, acc) -> Buf.putDouble(acc, Math.max(Buf.getDouble(acc), in.at(x)));
        };
    }

    /** A floating {@link #reduce} along a row, the accumulator in a register: the same operations in the same order. */
    static Loops.Fold fold(DType dtype, ReduceOp op) {
        Load in = load(dtype);
        return switch (op) {
            case SUM -> (acc, x) -> acc + in.at(x);
            case MAX -> (acc, x) -> Math.max(acc, in.at(x));
        };
    }

    /** The dtype of {@link #reduce}'s accumulator. */
    static DType accumulator(DType dtype) {
        return dtype == DType.INT64 ? DType.INT64 : DType.FLOAT64;
    }
}
