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
