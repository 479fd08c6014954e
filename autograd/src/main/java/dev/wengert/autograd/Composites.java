package dev.wengert.autograd;

import java.util.List;

/**
 * The operations of {@link Var} that are not primitives of their own, for the operation table (docs): composites
 * (written with primitives, differentiated through them) and masks (comparisons, logical ops, isnan/isinf/isfinite:
 * constants, never recorded, with no gradient, as PyTorch's bool results). Every other {@code Var} operation is a
 * call of a {@link Prim} constant ({@link Rules#builtins()}). CompositesTest checks that each entry names a public
 * method of {@code Var} and no primitive.
 */
public final class Composites {

    /** What kind of non-primitive an entry is. */
    public enum Kind {
        /** Written with primitives; its gradient is theirs. */
        COMPOSITE,
        /** A 0/1 mask in the operands' dtype: a constant, not recorded, no gradient. */
        MASK
    }

    /**
     * One operation: the {@code Var} method's name, its kind, and its definition or meaning.
     *
     * @param name the method of {@link Var}
     * @param kind composite or mask
     * @param definition how it is computed (composites) or what it tests (masks)
     */
    public record Entry(String name, Kind kind, String definition) {
    }

    private static final List<Entry> ENTRIES = List.of(
            new Entry("square", Kind.COMPOSITE, "mul(x, x)"),
            new Entry("rsub", Kind.COMPOSITE, "sub(c, x)"),
            new Entry("mean", Kind.COMPOSITE, "sum(x, axes) × (1/count)"),
            new Entry("softmax", Kind.COMPOSITE, "exp(logSoftmax(x, axis))"),
            new Entry("logSumExp", Kind.COMPOSITE, "m + log(sum(exp(x - m))), m = max(x) detached (0 where infinite)"),
            new Entry("transpose", Kind.COMPOSITE, "permute swapping the last two axes"),
            new Entry("clampMin", Kind.COMPOSITE, "clamp(x, min, +inf)"),
            new Entry("clampMax", Kind.COMPOSITE, "clamp(x, -inf, max)"),
            new Entry("maxPool2d", Kind.COMPOSITE, "gather(x as [N, C, H*W], the maximum's index (Tensor.maxPool2dWithIndices, a constant))"),
            new Entry("avgPool2d", Kind.COMPOSITE, "mean over the kernel positions of unfold(x)"),
            new Entry("globalAvgPool2d", Kind.COMPOSITE, "mean(x, keepDims, axes 2 and 3)"),
            new Entry("eq", Kind.MASK, "x == y"),
            new Entry("ne", Kind.MASK, "x != y (true for NaN)"),
            new Entry("lt", Kind.MASK, "x < y"),
            new Entry("le", Kind.MASK, "x <= y"),
            new Entry("gt", Kind.MASK, "x > y"),
            new Entry("ge", Kind.MASK, "x >= y"),
            new Entry("logicalAnd", Kind.MASK, "x != 0 and y != 0 (NaN is true)"),
            new Entry("logicalOr", Kind.MASK, "x != 0 or y != 0 (NaN is true)"),
            new Entry("logicalNot", Kind.MASK, "x == 0"),
            new Entry("isnan", Kind.MASK, "x is NaN"),
            new Entry("isinf", Kind.MASK, "x is +inf or -inf"),
            new Entry("isfinite", Kind.MASK, "x is neither infinite nor NaN"));

    private Composites() {
    }

    /** Every entry, composites first, in a fixed order. */
    public static List<Entry> list() {
        return ENTRIES;
    }
}
