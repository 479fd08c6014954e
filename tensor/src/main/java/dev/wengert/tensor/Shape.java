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

    // ------------------------------------------------------------------ shape rules of the composed ops

    /**
     * The shape without the size-1 dimensions among {@code axes} (every size-1 dimension when none are given);
     * a listed dimension of another size stays, as torch.squeeze.
     */
    public static int[] squeeze(String op, int[] shape, int[] axes) {
        boolean[] drop = new boolean[shape.length];
        if (axes == null || axes.length == 0) {
            for (int d = 0; d < shape.length; d++) {
                drop[d] = shape[d] == 1;
            }
        } else {
            for (int ax : axes) {
                int a = axis(op, ax, shape.length);
                drop[a] = shape[a] == 1;
            }
        }
        int n = 0;
        for (boolean b : drop) {
            n += b ? 0 : 1;
        }
        int[] out = new int[n];
        int k = 0;
        for (int d = 0; d < shape.length; d++) {
            if (!drop[d]) {
                out[k++] = shape[d];
            }
        }
        return out;
    }

    /** Normalises the axis of a new dimension: 0..rank, negative counting from the end (-1 appends one). */
    public static int newAxis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank + 1 : axis;
        if (a < 0 || a > rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for a new dimension of a tensor of rank "
                    + rank + " (allowed: " + (-rank - 1) + " to " + rank + ")");
        }
        return a;
    }

    /** The shape with a dimension of size 1 inserted at {@code axis} (see {@link #newAxis}). */
    public static int[] unsqueeze(String op, int[] shape, int axis) {
        int a = newAxis(op, axis, shape.length);
        int[] out = new int[shape.length + 1];
        for (int d = 0, k = 0; d < out.length; d++) {
            out[d] = d == a ? 1 : shape[k++];
        }
        return out;
    }

    /** The sizes of torch.split with a split size: pieces of {@code size}, the last one smaller when it does not divide. */
    public static int[] splitSizes(String op, int length, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException(op + ": the split size must be positive, got " + size);
        }
        int n = Math.max(1, (length + size - 1) / size);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.min(size, length - i * size);
        }
        return out;
    }

    /**
     * The sizes of torch.chunk: pieces of ceil(length / chunks), the last one smaller; fewer than {@code chunks}
     * pieces when the length does not allow that many (chunk(4) of 6 gives 2, 2, 2).
     */
    public static int[] chunkSizes(String op, int length, int chunks) {
        if (chunks <= 0) {
            throw new IllegalArgumentException(op + ": the number of chunks must be positive, got " + chunks);
        }
        return splitSizes(op, length, Math.max(1, (length + chunks - 1) / chunks));
    }

    /** Checks the sizes of a split into sections: non-negative, summing to {@code length}. */
    public static void checkSections(String op, int length, int[] sizes) {
        long total = 0;
        for (int s : sizes) {
            if (s < 0) {
                throw new IllegalArgumentException(op + ": negative section size in " + Arrays.toString(sizes));
            }
            total += s;
        }
        if (total != length) {
            throw new IllegalArgumentException(op + ": sections " + Arrays.toString(sizes) + " sum to " + total
                    + ", the dimension has " + length);
        }
    }

    /**
     * torch.nn.functional.pad's padding list as (before, after) per dimension: {@code pads} holds pairs from the
     * last dimension backwards (left and right of the last, then of the one before, ...); dimensions it does not
     * reach get (0, 0). Negative padding (cropping) is not supported.
     */
    public static int[][] padPairs(String op, int[] shape, int[] pads) {
        if (pads.length % 2 != 0 || pads.length / 2 > shape.length) {
            throw new IllegalArgumentException(op + ": padding " + Arrays.toString(pads) + " must hold (before, after) pairs for "
                    + "at most the " + shape.length + " dimension(s) of " + str(shape) + ", last dimension first");
        }
        int[][] out = new int[shape.length][2];
        for (int j = 0; j < pads.length / 2; j++) {
            int d = shape.length - 1 - j;
            out[d][0] = pads[2 * j];
            out[d][1] = pads[2 * j + 1];
            if (out[d][0] < 0 || out[d][1] < 0) {
                throw new IllegalArgumentException(op + ": negative padding " + Arrays.toString(pads) + " (cropping) is not "
                        + "supported; use narrow");
            }
        }
        return out;
    }

    /**
     * The result shape of torch.matmul: a 1-D left operand is a row (its dimension removed from the result), a
     * 1-D right operand a column (likewise), and the dimensions before the last two broadcast (NumPy rules).
     * {@code ta} / {@code tb} transpose the last two dimensions of an operand of rank 2 or more.
     *
     * @throws IllegalArgumentException naming both shapes when they do not fit
     */
    public static int[] matmul(String op, int[] a, boolean ta, int[] b, boolean tb) {
        if (a.length == 0 || b.length == 0) {
            throw new IllegalArgumentException(op + ": both operands need at least one dimension, got " + str(a) + " and " + str(b));
        }
        if ((a.length == 1 && ta) || (b.length == 1 && tb)) {
            throw new IllegalArgumentException(op + ": a 1-D operand has no transpose (" + str(a) + (ta ? "^T" : "") + " @ "
                    + str(b) + (tb ? "^T" : "") + ")");
        }
        int[] a2 = a.length == 1 ? new int[] {1, a[0]} : a;
        int[] b2 = b.length == 1 ? new int[] {b[0], 1} : b;
        int m = ta ? a2[a2.length - 1] : a2[a2.length - 2];
        int ka = ta ? a2[a2.length - 2] : a2[a2.length - 1];
        int kb = tb ? b2[b2.length - 1] : b2[b2.length - 2];
        int n = tb ? b2[b2.length - 2] : b2[b2.length - 1];
        if (ka != kb) {
            throw new IllegalArgumentException(op + ": inner dimensions differ: " + str(a) + (ta ? "^T" : "") + " @ " + str(b)
                    + (tb ? "^T" : "") + " (" + ka + " vs " + kb + ")");
        }
        int[] batch = broadcast(op, Arrays.copyOf(a2, a2.length - 2), Arrays.copyOf(b2, b2.length - 2));
        int[] out = Arrays.copyOf(batch, batch.length + (a.length == 1 ? 0 : 1) + (b.length == 1 ? 0 : 1));
        int k = batch.length;
        if (a.length > 1) {
            out[k++] = m;
        }
        if (b.length > 1) {
            out[k] = n;
        }
        return out;
    }

    /** True for operand shapes the backends multiply directly: 2-D or 3-D, with equal batches or one 2-D operand. */
    public static boolean isDirectMatmul(int[] a, int[] b) {
        return a.length >= 2 && a.length <= 3 && b.length >= 2 && b.length <= 3
                && (a.length == 2 || b.length == 2 || a[0] == b[0]);
    }

    /**
     * How one operand of a torch.matmul whose shapes the backends do not take directly ({@link #isDirectMatmul})
     * becomes one they do: {shape to reshape to, shape to broadcast to first or null}. A vector becomes a row
     * (left) or a column (right); an operand with a batch of one a 2-D matrix shared by every batch; other batches
     * are broadcast to the common batch shape (only when they differ from it in size) and flattened to 3-D.
     */
    public static int[][] matmulOperand(int[] s, boolean left, int[] other) {
        if (s.length == 1) {
            return new int[][] {left ? new int[] {1, s[0]} : new int[] {s[0], 1}, null};
        }
        int[] mat = Arrays.copyOfRange(s, s.length - 2, s.length);
        int[] batch = Arrays.copyOf(s, s.length - 2);
        int[] otherBatch = other.length > 2 ? Arrays.copyOf(other, other.length - 2) : new int[0];
        int[] common = broadcast("matmul", batch, otherBatch);
        if (numel(batch) == 1) {
            return new int[][] {mat, null};
        }
        int n = numel(common);
        int[] flat = {n, mat[0], mat[1]};
        if (numel(batch) == n) {
            return new int[][] {flat, null};
        }
        int[] full = Arrays.copyOf(common, common.length + 2);
        full[common.length] = mat[0];
        full[common.length + 1] = mat[1];
        return new int[][] {flat, full};
    }

    /** The p-norms supported: 1, 2 and infinity. */
    public static void checkNormOrder(String op, double p) {
        if (p != 1 && p != 2 && p != Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(op + ": p must be 1, 2 or Double.POSITIVE_INFINITY, got " + p);
        }
    }

    /** The axes of a flip, normalised and sorted; at least one (torch.flip names the dimensions it reverses). */
    public static int[] flipAxes(String op, int[] axes, int rank) {
        if (axes == null || axes.length == 0) {
            throw new IllegalArgumentException(op + ": name the axes to reverse (torch.flip's dims)");
        }
        return axes(op, axes, rank);
    }

    /**
     * The shapes of tile (torch.tile): {the input with a 1 before each dimension, that broadcast with the
     * repetitions in place of the 1s, the result}. With fewer repetitions than dimensions the leading
     * dimensions are repeated once; with more, the input gets leading dimensions of 1.
     */
    public static int[][] tile(String op, int[] shape, int[] reps) {
        int r = Math.max(shape.length, reps.length);
        int[] inter = new int[2 * r];
        int[] wide = new int[2 * r];
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int s = i < r - shape.length ? 1 : shape[i - (r - shape.length)];
            int n = i < r - reps.length ? 1 : reps[i - (r - reps.length)];
            if (n < 0) {
                throw new IllegalArgumentException(op + ": negative repetition count in " + Arrays.toString(reps));
            }
            inter[2 * i] = 1;
            inter[2 * i + 1] = s;
            wide[2 * i] = n;
            wide[2 * i + 1] = s;
            out[i] = n * s;
        }
        return new int[][] {inter, wide, out};
    }

    /** torch.Tensor.repeat's rule: as many repetition counts as dimensions, or more. */
    public static void checkRepeat(String op, int[] shape, int[] reps) {
        if (reps.length < shape.length) {
            throw new IllegalArgumentException(op + ": " + reps.length + " repetition count(s) " + Arrays.toString(reps)
                    + " for the " + shape.length + " dimensions of " + str(shape) + "; give one per dimension (or use tile)");
        }
    }

    /** Checks the padding (before, after) of dimension {@code axis} of size {@code n} against its mode's limits (PyTorch's). */
    public static void checkPad(String op, int n, int axis, int before, int after, PadMode mode) {
        int most = Math.max(before, after);
        boolean ok = switch (mode) {
            case CONSTANT -> true;
            case REFLECT -> most < n;
            case REPLICATE -> n > 0;
            case CIRCULAR -> most <= n;
        };
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + mode + " padding (" + before + ", " + after + ") of dimension " + axis
                    + " (size " + n + ") must be " + switch (mode) {
                        case REFLECT -> "smaller than the dimension";
                        case CIRCULAR -> "at most the dimension";
                        default -> "of a non-empty dimension";
                    });
        }
    }

    /**
     * The gather index of index_select as shapes: {the 1-D index reshaped to a line along {@code axis}, that
     * broadcast to the result's shape}. Checks the index: int64, rank 0 or 1.
     */
    public static int[][] indexSelect(String op, int[] shape, int axis, DType indexType, int[] indexShape) {
        if (indexType != DType.INT64 || indexShape.length > 1) {
            throw new IllegalArgumentException(op + ": index must be an int64 vector, got " + indexType + str(indexShape));
        }
        int k = numel(indexShape);
        int[] line = new int[shape.length];
        Arrays.fill(line, 1);
        line[axis] = k;
        int[] out = shape.clone();
        out[axis] = k;
        return new int[][] {line, out};
    }

    /** Checks that a mask broadcasts to the shape it selects in (masked_fill). */
    public static void checkMask(String op, int[] mask, int[] target) {
        if (!broadcastsTo(mask, target)) {
            throw new IllegalArgumentException(op + ": mask " + str(mask) + " does not broadcast to " + str(target));
        }
    }
}
