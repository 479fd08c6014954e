package dev.wengert.tensor;

/**
 * Batch normalisation's training-mode forward and first-order backward ({@link FusedKernel.BatchNormForward},
 * {@link FusedKernel.BatchNormBackward}) in double from the kernels' own inputs, for [N, C, L] values: the
 * reference the backends' kernels are tested against (the contract suite, the CUDA kernel test). Each result
 * comes with a scale, the sum of the magnitudes its rounding errors grow with, for a relative tolerance.
 */
public final class BatchNormRef {

    public final double[] mean;
    public final double[] var;
    public final double[] y;
    public final double[] yScale;
    public final double[] dx;
    public final double[] dxScale;
    public final double[] dweight;
    public final double[] dweightScale;
    public final double[] dbias;
    public final double[] dbiasScale;

    /** x, w, b, dy as read back; mean and var for the backward are the kernel's ({@code kMean}, {@code kVar}). */
    public BatchNormRef(int n, int c, int l, double eps, double[] x, double[] w, double[] b, double[] dy, double[] kMean, double[] kVar) {
        int m = n * l;
        mean = new double[c];
        var = new double[c];
        y = new double[x.length];
        yScale = new double[x.length];
        dx = new double[x.length];
        dxScale = new double[x.length];
        dweight = new double[c];
        dweightScale = new double[c];
        dbias = new double[c];
        dbiasScale = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int k = 0; k < m; k++) {
                sum += x[at(ch, k, c, l)];
            }
            mean[ch] = sum / m;
            double sq = 0;
            for (int k = 0; k < m; k++) {
                double d = x[at(ch, k, c, l)] - mean[ch];
                sq += d * d;
            }
            var[ch] = sq / m;
            double inv = 1 / Math.sqrt(var[ch] + eps);
            for (int k = 0; k < m; k++) {
                int i = at(ch, k, c, l);
                double xh = (x[i] - mean[ch]) * inv;
                y[i] = xh * w[ch] + b[ch];
                // float32 rounds the mean before it is used: y moves by |w| inv ulp(mean)
                yScale[i] = 1 + Math.abs(xh * w[ch]) + Math.abs(b[ch]) + Math.abs(w[ch]) * inv * Math.abs(mean[ch]);
            }
            double kInv = 1 / Math.sqrt(kVar[ch] + eps);
            double sDy = 0;
            double sDyXhat = 0;
            double aDy = 0;
            double aDyXhat = 0;
            for (int k = 0; k < m; k++) {
                int i = at(ch, k, c, l);
                double xh = (x[i] - kMean[ch]) * kInv;
                sDy += dy[i];
                sDyXhat += dy[i] * xh;
                aDy += Math.abs(dy[i]);
                aDyXhat += Math.abs(dy[i] * xh);
            }
            dbias[ch] = sDy;
            dbiasScale[ch] = 1 + aDy;
            dweight[ch] = sDyXhat;
            dweightScale[ch] = 1 + aDyXhat;
            for (int k = 0; k < m; k++) {
                int i = at(ch, k, c, l);
                double xh = (x[i] - kMean[ch]) * kInv;
                dx[i] = w[ch] * kInv * (dy[i] - sDy / m - xh * sDyXhat / m);
                dxScale[i] = 1 + Math.abs(w[ch]) * kInv * (Math.abs(dy[i]) + aDy / m + Math.abs(xh) * aDyXhat / m);
            }
        }
    }

    /** The offset of value k of channel ch in a contiguous [N, C, L] tensor. */
    public static int at(int ch, int k, int c, int l) {
        return (k / l) * c * l + ch * l + k % l;
    }
}
