package dev.wengert.tensor;

import java.util.Arrays;

/**
 * A deliberately naive plain-Java reference for the contract tests: doubles, one element at a time,
 * index arithmetic written out (no shared code with any backend).
 */
public final class Ref {
    public final double[] v;
    public final int[] shape;

    public Ref(double[] v, int... shape) {
        this.v = v;
        this.shape = shape;
    }

    public static Ref of(Tensor t) {
        return new Ref(t.toDoubleArray(), t.shape());
    }

    static int[] index(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    static int flat(int[] idx, int[] shape) {
        int f = 0;
        for (int d = 0; d < shape.length; d++) {
            f = f * shape[d] + idx[d];
        }
        return f;
    }

    /** Element at a broadcast index of a larger shape. */
    double at(int[] outIdx) {
        int[] idx = new int[shape.length];
        int off = outIdx.length - shape.length;
        for (int d = 0; d < shape.length; d++) {
            idx[d] = shape[d] == 1 ? 0 : outIdx[off + d];
        }
        return v[flat(idx, shape)];
    }

    static int numel(int[] s) {
        int n = 1;
        for (int d : s) {
            n *= d;
        }
        return n;
    }

    public static Ref binary(BinaryOp op, Ref a, Ref b) {
        int rank = Math.max(a.shape.length, b.shape.length);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.shape.length) >= 0 ? a.shape[i - (rank - a.shape.length)] : 1;
            int db = i - (rank - b.shape.length) >= 0 ? b.shape[i - (rank - b.shape.length)] : 1;
            s[i] = Math.max(da, db);
        }
        double[] out = new double[numel(s)];
        for (int i = 0; i < out.length; i++) {
            int[] idx = index(i, s);
            out[i] = op.apply(a.at(idx), b.at(idx));
        }
        return new Ref(out, s);
    }

    public Ref unary(UnaryOp op) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = op.apply(v[i]);
        }
        return new Ref(out, shape);
    }

    /** A unary op with its scalar parameters, written out here rather than taken from the op's row. */
    public Ref unary(UnaryOp op, double p0, double p1) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double x = v[i];
            out[i] = switch (op) {
                case SOFTPLUS -> x * p0 > p1 ? x : Math.log(1 + Math.exp(x * p0)) / p0;
                case LEAKY_RELU -> x > 0 ? x : p0 * x;
                case ELU -> x > 0 ? x : p0 * (Math.exp(x) - 1);
                case CLAMP -> Double.isNaN(x) ? x : x < p0 ? Math.min(p0, p1) : x > p1 ? p1 : x;
                default -> throw new IllegalArgumentException(op + " takes no parameters");
            };
        }
        return new Ref(out, shape);
    }

    /** Reduction with keepdims. */
    public Ref reduce(ReduceOp op, int... axes) {
        int[] s = shape.clone();
        for (int a : axes) {
            s[a] = 1;
        }
        double[] out = new double[numel(s)];
        Arrays.fill(out, op == ReduceOp.SUM ? 0 : Double.NEGATIVE_INFINITY);
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            for (int a : axes) {
                idx[a] = 0;
            }
            int o = flat(idx, s);
            out[o] = op == ReduceOp.SUM ? out[o] + v[i] : Math.max(out[o], v[i]);
        }
        return new Ref(out, s);
    }

    public static Ref matmul(Ref a, boolean ta, Ref b, boolean tb) {
        boolean batched = a.shape.length == 3 || b.shape.length == 3;
        int batch = a.shape.length == 3 ? a.shape[0] : b.shape.length == 3 ? b.shape[0] : 1;
        int ar = a.shape.length;
        int br = b.shape.length;
        int m = ta ? a.shape[ar - 1] : a.shape[ar - 2];
        int k = ta ? a.shape[ar - 2] : a.shape[ar - 1];
        int n = tb ? b.shape[br - 2] : b.shape[br - 1];
        double[] out = new double[batch * m * n];
        for (int q = 0; q < batch; q++) {
            int ao = ar == 3 ? q * m * k : 0;
            int bo = br == 3 ? q * k * n : 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double x = ta ? a.v[ao + p * m + i] : a.v[ao + i * k + p];
                        double y = tb ? b.v[bo + j * k + p] : b.v[bo + p * n + j];
                        acc += x * y;
                    }
                    out[q * m * n + i * n + j] = acc;
                }
            }
        }
        return batched ? new Ref(out, batch, m, n) : new Ref(out, m, n);
    }

    public Ref permute(int... perm) {
        int[] s = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            s[i] = shape[perm[i]];
        }
        double[] out = new double[v.length];
        for (int i = 0; i < out.length; i++) {
            int[] oi = index(i, s);
            int[] ii = new int[perm.length];
            for (int d = 0; d < perm.length; d++) {
                ii[perm[d]] = oi[d];
            }
            out[i] = v[flat(ii, shape)];
        }
        return new Ref(out, s);
    }

    public Ref slice(int axis, int start, int end) {
        int[] s = shape.clone();
        s[axis] = end - start;
        double[] out = new double[numel(s)];
        for (int i = 0; i < out.length; i++) {
            int[] idx = index(i, s);
            idx[axis] += start;
            out[i] = v[flat(idx, shape)];
        }
        return new Ref(out, s);
    }

    public Ref logSoftmax(int axis) {
        Ref max = reduce(ReduceOp.MAX, axis);
        double[] out = new double[v.length];
        double[] sums = new double[max.v.length];
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            idx[axis] = 0;
            int o = flat(idx, max.shape);
            sums[o] += Math.exp(v[i] - max.v[o]);
        }
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            idx[axis] = 0;
            int o = flat(idx, max.shape);
            out[i] = v[i] - max.v[o] - Math.log(sums[o]);
        }
        return new Ref(out, shape);
    }

    // ------------------------------------------------------------------ the composed ops (each written out, sharing no code with Tensor)

    /** Reduction over {@code axes} with keepdims, folding left to right from {@code init}. */
    private Ref fold(int[] axes, double init, java.util.function.DoubleBinaryOperator f) {
        int[] s = shape.clone();
        for (int a : axes) {
            s[a] = 1;
        }
        double[] out = new double[numel(s)];
        Arrays.fill(out, init);
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            for (int a : axes) {
                idx[a] = 0;
            }
            int o = flat(idx, s);
            out[o] = f.applyAsDouble(out[o], v[i]);
        }
        return new Ref(out, s);
    }

    /** Minimum with keepdims (NaN propagates, as Math.min). */
    public Ref min(int... axes) {
        return fold(axes, Double.POSITIVE_INFINITY, Math::min);
    }

    /** Product with keepdims. */
    public Ref prod(int... axes) {
        return fold(axes, 1, (a, b) -> a * b);
    }

    /** Index of the first minimum along {@code axis} (the first NaN if any), keepdims. */
    public Ref argmin(int axis) {
        int[] s = shape.clone();
        s[axis] = 1;
        double[] out = new double[numel(s)];
        for (int o = 0; o < out.length; o++) {
            int[] idx = index(o, s);
            int best = 0;
            for (int j = 0; j < shape[axis]; j++) {
                idx[axis] = j;
                double x = v[flat(idx, shape)];
                idx[axis] = best;
                double b = v[flat(idx, shape)];
                if (!Double.isNaN(b) && (Double.isNaN(x) || x < b)) {
                    best = j;
                }
            }
            out[o] = best;
        }
        return new Ref(out, s);
    }

    /** Running sum along {@code axis}. */
    public Ref cumsum(int axis) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            double acc = 0;
            for (int j = 0; j <= idx[axis]; j++) {
                int[] k = idx.clone();
                k[axis] = j;
                acc += v[flat(k, shape)];
            }
            out[i] = acc;
        }
        return new Ref(out, shape);
    }

    /** Sum of squared deviations from the mean over {@code axes}, divided by max(0, n - correction); keepdims. */
    public Ref var(int correction, int... axes) {
        Ref sum = fold(axes, 0, Double::sum);
        int n = v.length / Math.max(1, sum.v.length);
        if (v.length == 0) {
            n = 0;
        }
        double[] sq = new double[sum.v.length];
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            for (int a : axes) {
                idx[a] = 0;
            }
            int o = flat(idx, sum.shape);
            double d = v[i] - sum.v[o] / n;
            sq[o] += d * d;
        }
        for (int o = 0; o < sq.length; o++) {
            sq[o] /= Math.max(0, n - correction);
        }
        return new Ref(sq, sum.shape);
    }

    /** The vector p-norm (1, 2 or infinity) over {@code axes}, keepdims. */
    public Ref norm(double p, int... axes) {
        if (p == 1) {
            return fold(axes, 0, (a, b) -> a + Math.abs(b));
        }
        if (p == 2) {
            Ref s = fold(axes, 0, (a, b) -> a + b * b);
            double[] out = new double[s.v.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = Math.sqrt(s.v[i]);
            }
            return new Ref(out, s.shape);
        }
        return fold(axes, 0, (a, b) -> Math.max(a, Math.abs(b)));
    }

    /** The element order reversed along each of {@code axes}. */
    public Ref flip(int... axes) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            for (int a : axes) {
                idx[a] = shape[a] - 1 - idx[a];
            }
            out[i] = v[flat(idx, shape)];
        }
        return new Ref(out, shape);
    }

    /** Slices at {@code index} along {@code axis}. */
    public Ref indexSelect(int axis, long[] index) {
        int[] s = shape.clone();
        s[axis] = index.length;
        double[] out = new double[numel(s)];
        for (int i = 0; i < out.length; i++) {
            int[] idx = index(i, s);
            idx[axis] = (int) index[idx[axis]];
            out[i] = v[flat(idx, shape)];
        }
        return new Ref(out, s);
    }

    /** torch.tile. */
    public Ref tile(int... reps) {
        int r = Math.max(shape.length, reps.length);
        int[] in = new int[r];
        int[] s = new int[r];
        for (int d = 0; d < r; d++) {
            in[d] = d < r - shape.length ? 1 : shape[d - (r - shape.length)];
            int n = d < r - reps.length ? 1 : reps[d - (r - reps.length)];
            s[d] = in[d] * n;
        }
        double[] out = new double[numel(s)];
        for (int i = 0; i < out.length; i++) {
            int[] idx = index(i, s);
            for (int d = 0; d < r; d++) {
                idx[d] %= in[d];
            }
            out[i] = v[flat(idx, in)];
        }
        return new Ref(out, s);
    }

    /** torch.nn.functional.pad with (before, after) per dimension, element by element from the source index of each mode. */
    public Ref pad(int[][] pairs, PadMode mode, double value) {
        int[] s = shape.clone();
        for (int d = 0; d < s.length; d++) {
            s[d] += pairs[d][0] + pairs[d][1];
        }
        double[] out = new double[numel(s)];
        outer:
        for (int i = 0; i < out.length; i++) {
            int[] idx = index(i, s);
            for (int d = 0; d < s.length; d++) {
                int n = shape[d];
                int j = idx[d] - pairs[d][0];
                if (j < 0 || j >= n) {
                    switch (mode) {
                        case CONSTANT -> {
                            out[i] = value;
                            continue outer;
                        }
                        case REFLECT -> j = j < 0 ? -j : 2 * (n - 1) - j;
                        case REPLICATE -> j = j < 0 ? 0 : n - 1;
                        case CIRCULAR -> j = ((j % n) + n) % n;
                    }
                }
                idx[d] = j;
            }
            out[i] = v[flat(idx, shape)];
        }
        return new Ref(out, s);
    }

    /** Stable sort indices along {@code axis} by insertion sort; NaN larger than every number, -0.0 equal to 0.0. */
    public Ref argsort(int axis, boolean descending) {
        double[] out = new double[v.length];
        int n = shape[axis];
        for (int i = 0; i < v.length; i++) {
            int[] idx = index(i, shape);
            if (idx[axis] != 0) {
                continue;
            }
            int[] order = new int[n];
            double[] key = new double[n];
            for (int j = 0; j < n; j++) {
                idx[axis] = j;
                key[j] = v[flat(idx, shape)];
                int k = j;
                while (k > 0 && before(key[j], key[order[k - 1]], descending)) {
                    order[k] = order[k - 1];
                    k--;
                }
                order[k] = j;
            }
            for (int j = 0; j < n; j++) {
                idx[axis] = j;
                out[flat(idx, shape)] = order[j];
            }
        }
        return new Ref(out, shape);
    }

    /** Whether a strictly precedes b in the order (ascending or descending, NaN largest). */
    private static boolean before(double a, double b, boolean descending) {
        double x = descending ? b : a;
        double y = descending ? a : b;
        if (Double.isNaN(x)) {
            return false;
        }
        return Double.isNaN(y) || x < y;
    }

    /** torch.matmul, written out: vectors as rows / columns (dropped from the result), broadcast batch dimensions. */
    public static Ref matmulTorch(Ref a, Ref b) {
        int[] as = a.shape.length == 1 ? new int[] {1, a.shape[0]} : a.shape;
        int[] bs = b.shape.length == 1 ? new int[] {b.shape[0], 1} : b.shape;
        int m = as[as.length - 2];
        int k = as[as.length - 1];
        int n = bs[bs.length - 1];
        int rank = Math.max(as.length, bs.length) - 2;
        int[] batch = new int[rank];
        for (int d = 0; d < rank; d++) {
            int da = d - (rank - (as.length - 2)) >= 0 ? as[d - (rank - (as.length - 2))] : 1;
            int db = d - (rank - (bs.length - 2)) >= 0 ? bs[d - (rank - (bs.length - 2))] : 1;
            batch[d] = da == 1 ? db : da;
        }
        int nb = numel(batch);
        double[] out = new double[nb * m * n];
        for (int q = 0; q < nb; q++) {
            int[] bi = index(q, batch);
            int ao = 0;
            int bo = 0;
            int[] ab = Arrays.copyOf(as, as.length - 2);
            int[] bb = Arrays.copyOf(bs, bs.length - 2);
            int[] ai = new int[ab.length];
            int[] bj = new int[bb.length];
            for (int d = 0; d < ab.length; d++) {
                ai[d] = ab[d] == 1 ? 0 : bi[d + rank - ab.length];
            }
            for (int d = 0; d < bb.length; d++) {
                bj[d] = bb[d] == 1 ? 0 : bi[d + rank - bb.length];
            }
            ao = flat(ai, ab) * m * k;
            bo = flat(bj, bb) * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        acc += a.v[ao + i * k + p] * b.v[bo + p * n + j];
                    }
                    out[q * m * n + i * n + j] = acc;
                }
            }
        }
        int[] s = Arrays.copyOf(batch, rank + (a.shape.length == 1 ? 0 : 1) + (b.shape.length == 1 ? 0 : 1));
        int at = rank;
        if (a.shape.length > 1) {
            s[at++] = m;
        }
        if (b.shape.length > 1) {
            s[at] = n;
        }
        return new Ref(out, s);
    }

    /** The same values with another shape (squeeze, unsqueeze, keepdims dropped). */
    public Ref reshape(int... s) {
        return new Ref(v, s);
    }
}
