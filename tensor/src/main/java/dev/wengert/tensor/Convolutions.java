package dev.wengert.tensor;

/**
 * 2-D convolution and pooling on tensors, composed from the backend's {@link Backend#im2col},
 * {@link Backend#col2im} and {@link Backend#maxPool2d} and its matrix products: a convolution is the weight
 * [Cout, C/G * kh * kw] times the columns [N, C * kh * kw, OH * OW] (per group), and its two adjoints are the
 * transposed products followed by col2im (input) or summed over the batch (weight). Shapes, dtypes and
 * devices are checked here, once, with messages that name the op.
 */
final class Convolutions {

    private Convolutions() {
    }

    static Tensor unfold(Tensor x, Window2d w, double padValue) {
        int[] s = checkImage("unfold", x);
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        Tensor out = Tensor.empty(x.backend(), x.dtype(), s[0], s[1] * w.kernelSize(), oh * ow);
        if (out.numel() > 0) {
            x.backend().im2col(x, w, padValue, out);
        }
        return out;
    }

    static Tensor fold(Tensor cols, Window2d w, int height, int width) {
        cols.ensureOpen("fold");
        checkFloat("fold", cols);
        int[] s = cols.shape();
        int oh = w.outH(height);
        int ow = w.outW(width);
        if (s.length != 3 || s[1] % w.kernelSize() != 0 || s[2] != oh * ow) {
            throw new IllegalArgumentException("fold: columns must be [N, C*" + w.kernelSize() + ", " + oh * ow + "] for a "
                    + height + "x" + width + " image and " + w + ", got " + cols.describe());
        }
        Tensor out = Tensor.empty(cols.backend(), cols.dtype(), s[0], s[1] / w.kernelSize(), height, width);
        if (out.numel() == 0) {
            return out;
        }
        if (cols.numel() == 0) {
            out.backend().fill(out, 0);
        } else {
            cols.backend().col2im(cols, w, out);
        }
        return out;
    }

    static Tensor conv2d(Tensor x, Tensor weight, Window2d w, int groups) {
        int[] s = checkImage("conv2d", x);
        int[] ws = checkWeight("conv2d", x, weight, w, groups);
        int n = s[0];
        int cout = ws[0];
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        try (Tensor cols = unfold(x, w, 0); Tensor y = grouped(weight, false, cols, n, groups)) {
            return y.reshape(n, cout, oh, ow);
        }
    }

    static Tensor inputGrad(Tensor gradOut, Tensor weight, Window2d w, int groups, int height, int width) {
        int[] ws = weight.shape();
        int[] gs = checkGradOut("conv2dInputGrad", gradOut, weight, w, height, width);
        int n = gs[0];
        int k = ws[1] * w.kernelSize();
        checkGroups("conv2dInputGrad", ws[1] * groups, ws[0], groups);
        try (Tensor g = gradOut.reshape(n, ws[0], gs[2] * gs[3]); Tensor cols = grouped(weight, true, g, n, groups);
             Tensor c = cols.reshape(n, groups * k, gs[2] * gs[3])) {
            return fold(c, w, height, width);
        }
    }

    static Tensor weightGrad(Tensor x, Tensor gradOut, Window2d w, int groups, int cout) {
        int[] s = checkImage("conv2dWeightGrad", x);
        checkGroups("conv2dWeightGrad", s[1], cout, groups);
        Tensor.checkCompatible("conv2dWeightGrad", x, gradOut);
        int n = s[0];
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        int[] gs = gradOut.shape();
        if (gs.length != 4 || gs[0] != n || gs[1] != cout || gs[2] != oh || gs[3] != ow) {
            throw new IllegalArgumentException("conv2dWeightGrad: the output gradient must be " + Shape.str(new int[] {n, cout, oh, ow})
                    + " for input " + x.describe() + " and " + w + ", got " + gradOut.describe());
        }
        int cg = s[1] / groups;
        int k = cg * w.kernelSize();
        int l = oh * ow;
        try (Tensor cols = unfold(x, w, 0); Tensor c = cols.reshape(n * groups, k, l);
             Tensor g = gradOut.reshape(n * groups, cout / groups, l); Tensor perSample = g.matmul(false, c, true);
             Tensor r = perSample.reshape(n, cout * k); Tensor sum = r.sum(false, 0)) { // 2-D: a column sum, one GEMM on the CPU
            return sum.reshape(cout, cg, w.kernelH(), w.kernelW());
        }
    }

    /**
     * op(weight) @ data per sample and group: weight [Cout, K] (as [G, Cout/G, K]), data [N, G * rows, L];
     * one shared 2-D weight without groups, else the weight broadcast over the batch.
     */
    private static Tensor grouped(Tensor weight, boolean transposeWeight, Tensor data, int n, int groups) {
        int[] ws = weight.shape();
        int cout = ws[0];
        int k = ws[1] * ws[2] * ws[3];
        int[] ds = data.shape();
        int l = ds[2];
        if (groups == 1) {
            try (Tensor w2 = weight.reshape(cout, k)) {
                return w2.matmul(transposeWeight, data, false);
            }
        }
        int rows = ds[1] / groups;
        try (Tensor w3 = weight.reshape(1, groups, cout / groups, k); Tensor wb = w3.broadcastTo(n, groups, cout / groups, k);
             Tensor wn = wb.reshape(n * groups, cout / groups, k); Tensor d = data.reshape(n * groups, rows, l);
             Tensor y = wn.matmul(transposeWeight, d, false)) {
            return y.reshape(n, groups * y.shape()[1], l);
        }
    }

    static Tensor[] maxPool2d(Tensor x, Window2d w) {
        int[] s = checkImage("maxPool2d", x);
        checkPoolPadding("maxPool2d", w);
        int[] os = {s[0], s[1], w.outH(s[2]), w.outW(s[3])};
        Tensor out = Tensor.empty(x.backend(), x.dtype(), os);
        Tensor idx = Tensor.empty(x.backend(), DType.INT64, os);
        if (out.numel() > 0) {
            x.backend().maxPool2d(x, w, out, idx);
        }
        return new Tensor[] {out, idx};
    }

    /** Average pooling with the zero padding counted (PyTorch's default count_include_pad=True): unfold, then the mean. */
    static Tensor avgPool2d(Tensor x, Window2d w) {
        int[] s = checkImage("avgPool2d", x);
        checkPoolPadding("avgPool2d", w);
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        try (Tensor cols = unfold(x, w, 0); Tensor c = cols.reshape(s[0], s[1], w.kernelSize(), oh * ow);
             Tensor m = c.mean(false, 2)) {
            return m.reshape(s[0], s[1], oh, ow);
        }
    }

    /** PyTorch's rule: padding at most half the kernel, so that no window lies in the padding only. */
    static void checkPoolPadding(String op, Window2d w) {
        if (2 * w.padH() > w.kernelH() || 2 * w.padW() > w.kernelW()) {
            throw new IllegalArgumentException(op + ": padding must be at most half the kernel size (as PyTorch), got " + w);
        }
    }

    static int[] checkImage(String op, Tensor x) {
        x.ensureOpen(op);
        checkFloat(op, x);
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": input must be 4-D [N, C, H, W], got " + x.describe()
                    + "; add a batch dimension with reshape(1, ...) for a single image");
        }
        return x.shape();
    }

    private static void checkFloat(String op, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": not defined for " + x.describe() + "; cast to a float type first");
        }
    }

    private static int[] checkWeight(String op, Tensor x, Tensor weight, Window2d w, int groups) {
        Tensor.checkCompatible(op, x, weight);
        int[] ws = weight.shape();
        int c = x.shape()[1];
        if (ws.length != 4 || ws[2] != w.kernelH() || ws[3] != w.kernelW()) {
            throw new IllegalArgumentException(op + ": weight must be 4-D [Cout, C/groups, " + w.kernelH() + ", " + w.kernelW()
                    + "] for " + w + ", got " + weight.describe());
        }
        checkGroups(op, c, ws[0], groups);
        if (ws[1] * groups != c) {
            throw new IllegalArgumentException(op + ": weight " + weight.describe() + " expects " + ws[1] * groups
                    + " input channels with groups=" + groups + ", but the input " + x.describe() + " has " + c);
        }
        return ws;
    }

    private static void checkGroups(String op, int cin, int cout, int groups) {
        if (groups < 1 || cin % groups != 0 || cout % groups != 0) {
            throw new IllegalArgumentException(op + ": groups=" + groups + " must be at least 1 and divide the input channels ("
                    + cin + ") and output channels (" + cout + ")");
        }
    }

    private static int[] checkGradOut(String op, Tensor gradOut, Tensor weight, Window2d w, int height, int width) {
        gradOut.ensureOpen(op);
        Tensor.checkCompatible(op, gradOut, weight);
        checkFloat(op, gradOut);
        int[] gs = gradOut.shape();
        int[] ws = weight.shape();
        if (ws.length != 4 || ws[2] != w.kernelH() || ws[3] != w.kernelW()) {
            throw new IllegalArgumentException(op + ": weight must be 4-D [Cout, C/groups, " + w.kernelH() + ", " + w.kernelW()
                    + "] for " + w + ", got " + weight.describe());
        }
        if (gs.length != 4 || gs[1] != ws[0] || gs[2] != w.outH(height) || gs[3] != w.outW(width)) {
            throw new IllegalArgumentException(op + ": the output gradient must be [N, " + ws[0] + ", " + w.outH(height) + ", "
                    + w.outW(width) + "] for a " + height + "x" + width + " input and " + w + ", got " + gradOut.describe());
        }
        return gs;
    }
}
