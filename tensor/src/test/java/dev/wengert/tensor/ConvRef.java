package dev.wengert.tensor;

/**
 * Naive references for the sliding-window ops, written from the definitions (direct sums over the window, no
 * im2col, no GEMM): shared by no backend.
 */
public final class ConvRef {

    private ConvRef() {
    }

    /** y[n, o, oy, ox] = sum over c in o's group, i, j of x[n, c, iy, ix] w[o, c - group start, i, j] (zero padding). */
    public static Ref conv2d(Ref x, Ref w, Window2d g, int groups) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
        int cout = w.shape[0], cg = c / groups, og = cout / groups;
        int oh = g.outH(h), ow = g.outW(wd);
        double[] y = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < cout; o++) {
                int grp = o / og;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = 0;
                        for (int ci = 0; ci < cg; ci++) {
                            for (int i = 0; i < g.kernelH(); i++) {
                                for (int j = 0; j < g.kernelW(); j++) {
                                    int iy = oy * g.strideH() - g.padH() + i * g.dilationH();
                                    int ix = ox * g.strideW() - g.padW() + j * g.dilationW();
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        acc += x.v[((b * c + grp * cg + ci) * h + iy) * wd + ix]
                                                * w.v[((o * cg + ci) * g.kernelH() + i) * g.kernelW() + j];
                                    }
                                }
                            }
                        }
                        y[((b * cout + o) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        return new Ref(y, n, cout, oh, ow);
    }

    /** torch unfold, element by element. */
    public static Ref unfold(Ref x, Window2d g, double pad) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
        int oh = g.outH(h), ow = g.outW(wd), kk = g.kernelSize();
        double[] out = new double[n * c * kk * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < g.kernelH(); i++) {
                    for (int j = 0; j < g.kernelW(); j++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int iy = oy * g.strideH() - g.padH() + i * g.dilationH();
                                int ix = ox * g.strideW() - g.padW() + j * g.dilationW();
                                int row = (ch * g.kernelH() + i) * g.kernelW() + j;
                                out[((b * c * kk + row) * oh + oy) * ow + ox] = iy >= 0 && iy < h && ix >= 0 && ix < wd
                                        ? x.v[((b * c + ch) * h + iy) * wd + ix] : pad;
                            }
                        }
                    }
                }
            }
        }
        return new Ref(out, n, c * kk, oh * ow);
    }

    /** {values, indices}: PyTorch's max-pooling loop (greater or NaN wins; starts at -inf on the first in-range position). */
    public static Ref[] maxPool2d(Ref x, Window2d g) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
        int oh = g.outH(h), ow = g.outW(wd);
        double[] v = new double[n * c * oh * ow];
        double[] idx = new double[v.length];
        for (int p = 0; p < n * c; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int at = -1;
                    for (int i = 0; i < g.kernelH(); i++) {
                        for (int j = 0; j < g.kernelW(); j++) {
                            int iy = oy * g.strideH() - g.padH() + i * g.dilationH();
                            int ix = ox * g.strideW() - g.padW() + j * g.dilationW();
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                continue;
                            }
                            if (at < 0) {
                                at = iy * wd + ix;
                            }
                            double e = x.v[p * h * wd + iy * wd + ix];
                            if (e > best || Double.isNaN(e)) {
                                best = e;
                                at = iy * wd + ix;
                            }
                        }
                    }
                    int o = (p * oh + oy) * ow + ox;
                    v[o] = best;
                    idx[o] = at;
                }
            }
        }
        return new Ref[] {new Ref(v, n, c, oh, ow), new Ref(idx, n, c, oh, ow)};
    }

    /** Average over the window, padding counted as zeros (count_include_pad=True). */
    public static Ref avgPool2d(Ref x, Window2d g) {
        Ref cols = unfold(x, g, 0);
        int n = x.shape[0], c = x.shape[1], kk = g.kernelSize(), l = cols.shape[2];
        double[] out = new double[n * c * l];
        for (int p = 0; p < n * c; p++) {
            for (int k = 0; k < kk; k++) {
                for (int q = 0; q < l; q++) {
                    out[p * l + q] += cols.v[(p * kk + k) * l + q] / kk;
                }
            }
        }
        return new Ref(out, n, c, g.outH(x.shape[2]), g.outW(x.shape[3]));
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
