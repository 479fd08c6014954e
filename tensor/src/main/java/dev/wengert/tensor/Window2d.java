package dev.wengert.tensor;

/**
 * The geometry of a 2-D sliding window over the last two dimensions of an NCHW tensor: kernel size, stride,
 * zero padding (both sides) and dilation, each as (height, width), as torch.nn.functional.unfold, conv2d and
 * the pooling layers take them. Output position (oh, ow) with kernel offset (i, j) reads input row
 * {@code oh * strideH - padH + i * dilationH} and column {@code ow * strideW - padW + j * dilationW}.
 */
public record Window2d(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW) {

    public Window2d {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("window: kernel, stride and dilation must be at least 1 and padding at least 0, got "
                    + describe(kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW));
        }
    }

    /** A square window: kernel k, stride s, padding p, dilation 1. */
    public static Window2d of(int kernel, int stride, int padding) {
        return new Window2d(kernel, kernel, stride, stride, padding, padding, 1, 1);
    }

    /** A window from (height, width) pairs, each of length 2 (or 1 for a square value). */
    public static Window2d of(int[] kernel, int[] stride, int[] padding, int[] dilation) {
        return new Window2d(pick(kernel, 0, "kernel"), pick(kernel, 1, "kernel"), pick(stride, 0, "stride"), pick(stride, 1, "stride"),
                pick(padding, 0, "padding"), pick(padding, 1, "padding"), pick(dilation, 0, "dilation"), pick(dilation, 1, "dilation"));
    }

    private static int pick(int[] pair, int i, String what) {
        if (pair == null || pair.length < 1 || pair.length > 2) {
            throw new IllegalArgumentException("window: " + what + " must have 1 or 2 values (height, width), got "
                    + (pair == null ? "null" : java.util.Arrays.toString(pair)));
        }
        return pair[pair.length == 1 ? 0 : i];
    }

    /** The extent of the dilated kernel along the height: dilationH * (kernelH - 1) + 1. */
    public int spanH() {
        return dilationH * (kernelH - 1) + 1;
    }

    /** The extent of the dilated kernel along the width. */
    public int spanW() {
        return dilationW * (kernelW - 1) + 1;
    }

    /** Output height for input height h: floor((h + 2 padH - spanH) / strideH) + 1, or 0 when the window does not fit. */
    public int outH(int h) {
        int room = h + 2 * padH - spanH();
        return room < 0 ? 0 : room / strideH + 1;
    }

    /** Output width for input width w. */
    public int outW(int w) {
        int room = w + 2 * padW - spanW();
        return room < 0 ? 0 : room / strideW + 1;
    }

    /** kernelH * kernelW: the positions one window covers per channel. */
    public int kernelSize() {
        return kernelH * kernelW;
    }

    @Override
    public String toString() {
        return describe(kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW);
    }

    private static String describe(int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
        return "kernel=" + kh + "x" + kw + ", stride=" + sh + "x" + sw + ", padding=" + ph + "x" + pw + ", dilation=" + dh + "x" + dw;
    }
}
