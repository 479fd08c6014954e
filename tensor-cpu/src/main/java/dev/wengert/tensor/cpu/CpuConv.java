package dev.wengert.tensor.cpu;

import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.Window2d;

/**
 * The CPU's im2col, col2im and max pooling ({@link dev.wengert.tensor.Backend}'s window ops): plain loops over
 * the buffers, split over the cores by image plane ({@link Parallel}: each plane writes its own rows of
 * columns, its own output plane), one column row (a kernel offset of one channel across all output positions)
 * at a time. For each kernel offset the output positions whose input lies inside the image are computed once,
 * so the inner loops neither test bounds nor branch on padding. The convolution's GEMMs run through
 * {@link CpuBackend#matmul} (OpenBLAS through ND4J): bench/RESULTS.md has the measurement against ND4J's own
 * conv2d op that chose this route.
 */
final class CpuConv {

    private CpuConv() {
    }

    /** A window over an image of h x w: the window's geometry and the output size, read once per op. */
    private record Geometry(Window2d w, int h, int wd, int oh, int ow) {
        Geometry(Window2d w, int h, int wd) {
            this(w, h, wd, w.outH(h), w.outW(wd));
        }

        /** The first output column whose input column, for kernel column j, lies inside the image. */
        int fromX(int j) {
            return first(j * w.dilationW() - w.padW(), w.strideW(), ow);
        }

        /** One past the last output column whose input column, for kernel column j, lies inside the image (at least fromX). */
        int toX(int j) {
            return Math.max(fromX(j), end(j * w.dilationW() - w.padW(), w.strideW(), wd, ow));
        }

        /** The input row of output row y and kernel row i (may lie outside [0, h)). */
        int inY(int y, int i) {
            return y * w.strideH() - w.padH() + i * w.dilationH();
        }

        /** The first output position z in [0, out] with z * stride + offset >= 0. */
        private static int first(int offset, int stride, int out) {
            return offset >= 0 ? 0 : Math.min(out, (-offset + stride - 1) / stride);
        }

        /** One past the last output position z with z * stride + offset < size, within [0, out]. */
        private static int end(int offset, int stride, int size, int out) {
            return offset >= size ? 0 : Math.min(out, (size - offset + stride - 1) / stride);
        }
    }

    static void im2col(Tensor x, Window2d w, double padValue, Tensor out) {
        int[] s = x.shape();
        Geometry g = new Geometry(w, s[2], s[3]);
        Buf xb = CpuBackend.buf(x);
        Buf ob = CpuBackend.buf(out);
        Parallel.forRange(s[0] * s[1], out.numel(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                im2colPlane(g, xb, plane, padValue, ob);
            }
        });
    }

    /** The kh * kw column rows of one (image, channel) plane. */
    private static void im2colPlane(Geometry g, Buf xb, int plane, double padValue, Buf ob) {
        Window2d w = g.w();
        int sw = w.strideW();
        int in = plane * g.h() * g.wd();
        int row = plane * w.kernelSize();
        for (int i = 0; i < w.kernelH(); i++) {
            for (int j = 0; j < w.kernelW(); j++, row++) {
                int z0 = g.fromX(j);
                int z1 = g.toX(j);
                int xOff = j * w.dilationW() - w.padW();
                int o = row * g.oh() * g.ow();
                for (int y = 0; y < g.oh(); y++, o += g.ow()) {
                    int iy = g.inY(y, i);
                    if (iy < 0 || iy >= g.h()) {
                        for (int z = 0; z < g.ow(); z++) {
                            ob.set(o + z, padValue);
                        }
                        continue;
                    }
                    int base = in + iy * g.wd() + xOff;
                    for (int z = 0; z < z0; z++) {
                        ob.set(o + z, padValue);
                    }
                    for (int z = z0; z < z1; z++) {
                        ob.set(o + z, xb.get(base + z * sw));
                    }
                    for (int z = z1; z < g.ow(); z++) {
                        ob.set(o + z, padValue);
                    }
                }
            }
        }
    }

    static void col2im(Tensor cols, Window2d w, Tensor out) {
        int[] s = out.shape();
        Geometry g = new Geometry(w, s[2], s[3]);
        Buf cb = CpuBackend.buf(cols);
        Buf ob = CpuBackend.buf(out);
        Parallel.forRange(s[0] * s[1], cols.numel(), (from, to) -> {
            double[] sums = new double[g.h() * g.wd()];
            for (int plane = from; plane < to; plane++) {
                col2imPlane(g, cb, plane, sums);
                int at = plane * sums.length;
                for (int e = 0; e < sums.length; e++) {
                    ob.set(at + e, sums[e]);
                }
            }
        });
    }

    /**
     * The sums of one (image, channel) plane's kh * kw column rows, in {@code sums} (overwritten): an array
     * on the heap, which the JIT knows apart from the columns' off-heap memory, so it keeps loads and adds
     * in flight instead of waiting for each store (3x faster than adding into the output in place). Its walk
     * over the kernel offsets and rows repeats {@link #im2colPlane}'s on purpose: one walker calling each kernel's
     * row body through an interface measured 10-15% slower in both (ConvParts, 2026-12-01).
     */
    private static void col2imPlane(Geometry g, Buf cb, int plane, double[] sums) {
        java.util.Arrays.fill(sums, 0);
        Window2d w = g.w();
        int sw = w.strideW();
        int row = plane * w.kernelSize();
        for (int i = 0; i < w.kernelH(); i++) {
            for (int j = 0; j < w.kernelW(); j++, row++) {
                int z0 = g.fromX(j);
                int z1 = g.toX(j);
                int xOff = j * w.dilationW() - w.padW();
                int o = row * g.oh() * g.ow();
                for (int y = 0; y < g.oh(); y++, o += g.ow()) {
                    int iy = g.inY(y, i);
                    if (iy < 0 || iy >= g.h()) {
                        continue;
                    }
                    int base = iy * g.wd() + xOff;
                    for (int z = z0; z < z1; z++) {
                        sums[base + z * sw] += cb.get(o + z);
                    }
                }
            }
        }
    }

    static void maxPool2d(Tensor x, Window2d w, Tensor out, Tensor indices) {
        int[] s = x.shape();
        Geometry g = new Geometry(w, s[2], s[3]);
        Buf xb = CpuBackend.buf(x);
        Buf ob = CpuBackend.buf(out);
        Buf.I64 ib = (Buf.I64) CpuBackend.buf(indices);
        Parallel.forRange(s[0] * s[1], x.numel(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                maxPoolPlane(g, xb, plane, ob, ib);
            }
        });
    }

    /**
     * One plane, PyTorch's loop: each window starts at its first in-range position with -inf and takes a
     * greater value or a NaN, so the first maximum wins ties (-0 ties +0) and the last NaN wins; the index is
     * the position in the input plane. Without branches on the values (on a network's activations every
     * comparison is a coin toss, and mispredictions took 3/4 of the time): the values compare as
     * {@link #orderKey}s and the winner is picked with masks; a 2x2 window inside the image (the usual
     * pooling) in a tree of three picks rather than a chain of four.
     */
    private static void maxPoolPlane(Geometry g, Buf xb, int plane, Buf ob, Buf.I64 ib) {
        Window2d w = g.w();
        int wd = g.wd();
        int dw = w.dilationW();
        int p0 = plane * g.h() * wd;
        int o = plane * g.oh() * g.ow();
        boolean twoByTwo = w.kernelH() == 2 && w.kernelW() == 2 && w.dilationH() == 1 && dw == 1;
        for (int y = 0; y < g.oh(); y++) {
            int iLo = 0;
            while (g.inY(y, iLo) < 0) {
                iLo++;
            }
            int iHi = w.kernelH();
            while (iHi > iLo && g.inY(y, iHi - 1) >= g.h()) {
                iHi--;
            }
            for (int z = 0; z < g.ow(); z++, o++) {
                int x0 = z * w.strideW() - w.padW();
                int jLo = 0;
                while (x0 + jLo * dw < 0) {
                    jLo++;
                }
                int jHi = w.kernelW();
                while (jHi > jLo && x0 + (jHi - 1) * dw >= wd) {
                    jHi--;
                }
                int best;
                if (twoByTwo && iLo == 0 && iHi == 2 && jLo == 0 && jHi == 2) {
                    int a = g.inY(y, 0) * wd + x0;
                    best = pick2(orderKey(xb, p0, a), a, orderKey(xb, p0, a + 1), a + 1,
                            orderKey(xb, p0, a + wd), a + wd, orderKey(xb, p0, a + wd + 1), a + wd + 1);
                } else {
                    best = g.inY(y, iLo) * wd + x0 + jLo * dw;
                    long bestKey = MINUS_INF_KEY;
                    for (int i = iLo; i < iHi; i++) {
                        int rowAt = g.inY(y, i) * wd + x0;
                        for (int j = jLo; j < jHi; j++) {
                            int at = rowAt + j * dw;
                            long key = orderKey(xb, p0, at);
                            long take = -less(bestKey, key);
                            bestKey ^= (bestKey ^ key) & take;
                            best ^= (best ^ at) & (int) take;
                        }
                    }
                }
                ob.set(o, xb.get(p0 + best));
                ib.setLong(o, best);
            }
        }
    }

    /** The winner of four (key, position) pairs in reading order: (a vs b) vs (c vs d), the later only when greater. */
    private static int pick2(long ka, int a, long kb, int b, long kc, int c, long kd, int d) {
        long t = -less(ka, kb);
        long kab = ka ^ ((ka ^ kb) & t);
        int ab = a ^ ((a ^ b) & (int) t);
        t = -less(kc, kd);
        long kcd = kc ^ ((kc ^ kd) & t);
        int cd = c ^ ((c ^ d) & (int) t);
        t = -less(kab, kcd);
        return ab ^ ((ab ^ cd) & (int) t);
    }

    private static final long INFINITY_BITS = 0x7ff0000000000000L;
    /** Every NaN's key is this plus its position: above +inf's, and a later NaN above an earlier one. */
    private static final long NAN_KEYS = INFINITY_BITS + (1L << 40);
    /** The key of -inf: no value's key is less (after the two constants it is computed from). */
    private static final long MINUS_INF_KEY = orderKey(Double.NEGATIVE_INFINITY, 0);

    private static long orderKey(Buf xb, int p0, int at) {
        return orderKey(xb.get(p0 + at), at);
    }

    /**
     * A long that orders as the max-pooling loop prefers values: the bits, with the magnitude bits of
     * negatives flipped, so keys order as the doubles; -0 is read as +0 (adding +0 turns -0 into +0) so that
     * the two tie; a NaN's key is {@link #NAN_KEYS} plus its position {@code at} (a NaN is rare: its branch
     * is predicted).
     */
    static long orderKey(double v, int at) {
        long bits = Double.doubleToRawLongBits(v + 0.0);
        if ((bits & Long.MAX_VALUE) > INFINITY_BITS) {
            return NAN_KEYS + at;
        }
        return bits ^ ((bits >> 63) & Long.MAX_VALUE);
    }

    /** 1 when a &lt; b, else 0, without a branch (Hacker's Delight 2-12: the sign of a - b, corrected for overflow). */
    private static long less(long a, long b) {
        long d = a - b;
        return (d ^ ((a ^ b) & (d ^ a))) >>> 63;
    }
}
