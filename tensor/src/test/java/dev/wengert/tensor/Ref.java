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
}
