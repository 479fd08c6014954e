package dev.wengert.tensor.cpu;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.UnaryOp;
import java.util.function.DoubleUnaryOperator;

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

    /** A float32 unary op in float arithmetic. */
    interface FloatUnary {
        float apply(float x);
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
     * result rounded to float exactly (every op but pow; maximum and minimum return an operand or NaN, whose
     * float is Float.NaN either way), else through it.
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
            case POW, ATAN2, FMOD, REMAINDER, HYPOT, LOGICAL_AND, LOGICAL_OR -> (a, b) -> (float) op.apply(a, b);
        };
    }

    /** out = op(x; p0, p1), the parameters as passed to the loop (0 for the ops without). */
    static Loops.ParamMap unary(DType dtype, UnaryOp op) {
        return switch (dtype) {
            case FLOAT32 -> {
                FloatUnary f = switch (op) { // exact in float; the others through double
                    case NEG -> x -> -x;
                    case ABS -> Math::abs;
                    case SIGN -> x -> x > 0 ? 1 : x < 0 ? -1 : 0; // torch.sign: sign(-0) = +0, sign(NaN) = 0
                    case RELU -> x -> x > 0 ? x : 0;
                    default -> null;
                };
                if (f == null) {
                    yield (x, o, p0, p1) -> Buf.putFloat(o, (float) op.apply(Buf.getFloat(x), p0, p1));
                }
                yield (Loops.Map) (x, o) -> Buf.putFloat(o, f.apply(Buf.getFloat(x)));
            }
            case FLOAT64 -> {
                DoubleUnaryOperator f = switch (op) { // UnaryOp.apply's own call to the op is megamorphic: not inlined
                    case NEG -> x -> -x;
                    case ABS -> Math::abs;
                    case SIGN -> x -> x > 0 ? 1 : x < 0 ? -1 : 0;
                    case RELU -> x -> x > 0 ? x : 0;
                    default -> null;
                };
                if (f == null) {
                    yield (x, o, p0, p1) -> Buf.putDouble(o, op.apply(Buf.getDouble(x), p0, p1));
                }
                yield (Loops.Map) (x, o) -> Buf.putDouble(o, f.applyAsDouble(Buf.getDouble(x)));
            }
            case INT64 -> (Loops.Map) (x, o) -> Buf.putLong(o, op.apply(Buf.getLong(x)));
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
