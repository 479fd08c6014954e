package dev.wengert.tensor.cpu;

import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.Window2d;

/**
 * The CPU's im2col, col2im and max pooling ({@link dev.wengert.tensor.Backend}'s window ops): plain loops over
 * the buffers, one output row (a kernel offset of one channel across all output positions) at a time, so the
 * inner loop walks the input row with a fixed stride. The convolution's GEMMs run through
 * {@link CpuBackend#matmul} (OpenBLAS through ND4J): bench/RESULTS.md has the measurement against ND4J's own
 * conv2d op that chose this route.
 */
final class CpuConv {

    private CpuConv() {
    }

    static void im2col(Tensor x, Window2d w, double padValue, Tensor out) {
        int[] s = x.shape();
        int n = s[0], c = s[1], h = s[2], wd = s[3];
        int oh = w.outH(h), ow = w.outW(wd);
        int kh = w.kernelH(), kw = w.kernelW();
        Buf xb = CpuBackend.buf(x);
        Buf ob = CpuBackend.buf(out);
        int row = 0;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int plane = (b * c + ch) * h * wd;
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++, row++) {
                        int o = row * oh * ow;
                        for (int y = 0; y < oh; y++) {
                            int iy = y * w.strideH() - w.padH() + i * w.dilationH();
                            if (iy < 0 || iy >= h) {
                                for (int z = 0; z < ow; z++) {
                                    ob.set(o++, padValue);
                                }
                                continue;
                            }
                            int base = plane + iy * wd;
                            for (int z = 0; z < ow; z++) {
                                int ix = z * w.strideW() - w.padW() + j * w.dilationW();
                                ob.set(o++, ix < 0 || ix >= wd ? padValue : xb.get(base + ix));
                            }
                        }
                    }
                }
            }
        }
    }

    static void col2im(Tensor cols, Window2d w, Tensor out) {
        int[] s = out.shape();
        int n = s[0], c = s[1], h = s[2], wd = s[3];
        int oh = w.outH(h), ow = w.outW(wd);
        int kh = w.kernelH(), kw = w.kernelW();
        Buf cb = CpuBackend.buf(cols);
        Buf ob = CpuBackend.buf(out);
        int total = out.numel();
        for (int i = 0; i < total; i++) {
            ob.set(i, 0);
        }
        int row = 0;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int plane = (b * c + ch) * h * wd;
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++, row++) {
                        int o = row * oh * ow;
                        for (int y = 0; y < oh; y++, o += ow) {
                            int iy = y * w.strideH() - w.padH() + i * w.dilationH();
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int base = plane + iy * wd;
                            for (int z = 0; z < ow; z++) {
                                int ix = z * w.strideW() - w.padW() + j * w.dilationW();
                                if (ix >= 0 && ix < wd) {
                                    ob.set(base + ix, ob.get(base + ix) + cb.get(o + z));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static void maxPool2d(Tensor x, Window2d w, Tensor out, Tensor indices) {
        int[] s = x.shape();
        int n = s[0], c = s[1], h = s[2], wd = s[3];
        int oh = w.outH(h), ow = w.outW(wd);
        Buf xb = CpuBackend.buf(x);
        Buf ob = CpuBackend.buf(out);
        Buf.I64 ib = (Buf.I64) CpuBackend.buf(indices);
        int o = 0;
        for (int plane = 0; plane < n * c; plane++) {
            int p0 = plane * h * wd;
            for (int y = 0; y < oh; y++) {
                int y0 = y * w.strideH() - w.padH();
                for (int z = 0; z < ow; z++, o++) {
                    int x0 = z * w.strideW() - w.padW();
                    // PyTorch's loop: start at the first in-range position with -inf; take greater values or NaN
                    int firstY = y0;
                    while (firstY < 0) {
                        firstY += w.dilationH();
                    }
                    int firstX = x0;
                    while (firstX < 0) {
                        firstX += w.dilationW();
                    }
                    int best = firstY * wd + firstX;
                    double bv = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < w.kernelH(); i++) {
                        int iy = y0 + i * w.dilationH();
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int j = 0; j < w.kernelW(); j++) {
                            int ix = x0 + j * w.dilationW();
                            if (ix < 0 || ix >= wd) {
                                continue;
                            }
                            double v = xb.get(p0 + iy * wd + ix);
                            if (v > bv || Double.isNaN(v)) {
                                bv = v;
                                best = iy * wd + ix;
                            }
                        }
                    }
                    ob.set(o, bv);
                    ib.setLong(o, best);
                }
            }
        }
    }
}
