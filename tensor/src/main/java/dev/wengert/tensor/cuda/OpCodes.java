package dev.wengert.tensor.cuda;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.UnaryOp;

/**
 * The integer codes the kernels switch on (the enums at the top of elementwise.cuh and reduce.cuh),
 * spelled out rather than taken from ordinal() so that reordering a Java enum cannot silently change
 * which op a kernel runs.
 */
final class OpCodes {
    private OpCodes() {
    }

    static int of(UnaryOp op) {
        return switch (op) {
            case NEG -> 0;
            case EXP -> 1;
            case LOG -> 2;
            case SQRT -> 3;
            case ABS -> 4;
            case SIN -> 5;
            case COS -> 6;
            case TANH -> 7;
            case SIGMOID -> 8;
            case RELU -> 9;
            case SIGN -> 10;
        };
    }

    static int of(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case POW -> 4;
            case MAXIMUM -> 5;
            case MINIMUM -> 6;
            case EQ -> 7;
            case NE -> 8;
            case LT -> 9;
            case LE -> 10;
            case GT -> 11;
            case GE -> 12;
        };
    }

    static int of(ReduceOp op) {
        return switch (op) {
            case SUM -> 0;
            case MAX -> 1;
        };
    }

    /** Kernel name suffix of an element type: unary_f32, unary_f64, unary_i64. */
    static String suffix(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "f32";
            case FLOAT64 -> "f64";
            case INT64 -> "i64";
        };
    }

    /** Suffix of the bit-moving kernels (copies, transposes) for an element size. */
    static String bits(DType dtype) {
        return dtype.bytes() == 4 ? "b32" : "b64";
    }

    /** The condType argument of where_*: 0 float32, 1 float64, 2 int64. */
    static int typeCode(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> 0;
            case FLOAT64 -> 1;
            case INT64 -> 2;
        };
    }
}
