package dev.wengert.tensor;

import java.util.Arrays;

/** Static helpers over shapes ({@code int[]} of dimension sizes, row-major). Never modifies its arguments. */
public final class Shape {
    private Shape() {
    }

    /** Number of elements (1 for a scalar shape {@code []}). */
    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
        }
        return (int) n;
    }

    /** Row-major (C order) strides in elements. */
    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Shape as {@code [2, 3]}. */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /**
     * The NumPy broadcast of two shapes: align trailing dimensions; each pair must be equal or contain a 1.
     *
     * @throws IllegalArgumentException naming {@code op} and both shapes when they do not broadcast
     */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " do not broadcast (dimension " + i + " of the result: " + da + " vs " + db
                        + "); each trailing dimension pair must be equal or 1");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** True when {@code from} broadcasts to exactly {@code to}. */
    public static boolean broadcastsTo(int[] from, int[] to) {
        if (from.length > to.length) {
            return false;
        }
        for (int i = 0; i < from.length; i++) {
            int f = from[from.length - 1 - i];
            int t = to[to.length - 1 - i];
            if (f != t && f != 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Strides for reading {@code from} as if broadcast to {@code to}: 0 on broadcast dimensions.
     * The result has {@code to.length} entries.
     */
    public static int[] broadcastStrides(int[] from, int[] to) {
        int[] fs = strides(from);
        int[] out = new int[to.length];
        int off = to.length - from.length;
        for (int i = 0; i < from.length; i++) {
            out[off + i] = from[i] == 1 && to[off + i] != 1 ? 0 : fs[i];
        }
        return out;
    }

    /** Normalises an axis that may be negative (Python style) and checks its range. */
    public static int axis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.max(rank, 1) || rank == 0) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for a tensor of rank " + rank);
        }
        return a;
    }

    /** Normalised, sorted, duplicate-free axes; an empty array means every axis. */
    public static int[] axes(String op, int[] axes, int rank) {
        if (axes == null || axes.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) {
                all[i] = i;
            }
            return all;
        }
        boolean[] seen = new boolean[rank];
        for (int ax : axes) {
            int a = axis(op, ax, rank);
            if (seen[a]) {
                throw new IllegalArgumentException(op + ": axis " + ax + " is given twice in " + Arrays.toString(axes));
            }
            seen[a] = true;
        }
        int[] out = new int[axes.length];
        int k = 0;
        for (int i = 0; i < rank; i++) {
            if (seen[i]) {
                out[k++] = i;
            }
        }
        return out;
    }

    /** Shape after reducing {@code axes} with keepdims: those dimensions become 1. */
    public static int[] reducedKeepDims(int[] shape, int[] axes) {
        int[] out = shape.clone();
        for (int a : axes) {
            out[a] = 1;
        }
        return out;
    }

    /** A shape and per-operand strides after {@link #merge}: outermost dimension first. */
    public record Merged(int[] shape, int[][] strides) {
    }

    /**
     * Simplifies a walk over {@code shape} for several operands (each with its own element strides, 0 on
     * broadcast dimensions): drops size-1 dimensions and merges neighbours that are contiguous for every
     * operand, so same-shape operands become one dimension. Both backends' elementwise kernels walk the
     * result. A scalar or fully merged walk has rank 0 or 1.
     */
    public static Merged merge(int[] shape, int[]... strides) {
        int ops = strides.length;
        int[] dims = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int r = 0; // dims[r-1] is the innermost kept so far, built from the back
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = (long) strides[k][d] == (long) st[k][r - 1] * dims[r - 1];
            }
            if (merge) {
                dims[r - 1] *= shape[d];
            } else {
                dims[r] = shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][r] = strides[k][d];
                }
                r++;
            }
        }
        int[] outShape = new int[r];
        int[][] outStrides = new int[ops][r];
        for (int i = 0; i < r; i++) { // reverse: outermost first
            outShape[i] = dims[r - 1 - i];
            for (int k = 0; k < ops; k++) {
                outStrides[k][i] = st[k][r - 1 - i];
            }
        }
        return new Merged(outShape, outStrides);
    }

    /** Shape after reducing {@code axes} without keepdims: those dimensions are removed. */
    public static int[] reducedDropDims(int[] shape, int[] axes) {
        int[] out = new int[shape.length - axes.length];
        int k = 0;
        outer:
        for (int i = 0; i < shape.length; i++) {
            for (int a : axes) {
                if (a == i) {
                    continue outer;
                }
            }
            out[k++] = shape[i];
        }
        return out;
    }
}
