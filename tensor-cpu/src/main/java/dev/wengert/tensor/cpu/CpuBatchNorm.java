package dev.wengert.tensor.cpu;

import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;

/**
 * The CPU's fused batch normalisation ({@link FusedKernel#BATCH_NORM}, {@link FusedKernel#BATCH_NORM_BACKWARD}):
 * per channel, a few Java passes over its M = N * L values (x [N, C, L] contiguous: L values at a time, C * L
 * apart) instead of the composed version's dozen full-tensor operations, the channels split over the cores
 * ({@link Parallel}). Sums accumulate in double, in index order (the same bits on every run and any number of
 * threads); the statistics are rounded to the tensors' dtype once, where they are written.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    /** {@link FusedKernel.BatchNormForward}. */
    static void forward(Tensor x, Tensor weight, Tensor bias, double eps, Tensor y, Tensor mean, Tensor var) {
        int[] s = x.shape();
        int n = s[0], c = s[1], l = s[2];
        Buf xb = CpuBackend.buf(x);
        Buf yb = CpuBackend.buf(y);
        Buf wb = CpuBackend.buf(weight);
        Buf bb = CpuBackend.buf(bias);
        Buf mb = CpuBackend.buf(mean);
        Buf vb = CpuBackend.buf(var);
        long m = (long) n * l;
        Parallel.forRange(c, x.numel(), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double sum = 0;
                for (int b = 0; b < n; b++) {
                    for (int i = 0, at = (b * c + ch) * l; i < l; i++) {
                        sum += xb.get(at + i);
                    }
                }
                double mu = sum / m;
                double squares = 0;
                for (int b = 0; b < n; b++) {
                    for (int i = 0, at = (b * c + ch) * l; i < l; i++) {
                        double d = xb.get(at + i) - mu;
                        squares += d * d;
                    }
                }
                double sigma2 = squares / m;
                double scale = wb.get(ch) / Math.sqrt(sigma2 + eps);
                double shift = bb.get(ch);
                for (int b = 0; b < n; b++) {
                    for (int i = 0, at = (b * c + ch) * l; i < l; i++) {
                        yb.set(at + i, (xb.get(at + i) - mu) * scale + shift);
                    }
                }
                mb.set(ch, mu);
                vb.set(ch, sigma2);
            }
        });
    }

    /** {@link FusedKernel.BatchNormBackward}. */
    static void backward(Tensor dy, Tensor x, Tensor mean, Tensor var, Tensor weight, double eps, Tensor dx, Tensor dweight,
                         Tensor dbias) {
        int[] s = x.shape();
        int n = s[0], c = s[1], l = s[2];
        Buf gb = CpuBackend.buf(dy);
        Buf xb = CpuBackend.buf(x);
        Buf mb = CpuBackend.buf(mean);
        Buf vb = CpuBackend.buf(var);
        Buf wb = CpuBackend.buf(weight);
        Buf dxb = dx == null ? null : CpuBackend.buf(dx);
        Buf dwb = dweight == null ? null : CpuBackend.buf(dweight);
        Buf dbb = dbias == null ? null : CpuBackend.buf(dbias);
        long m = (long) n * l;
        Parallel.forRange(c, x.numel(), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double mu = mb.get(ch);
                double invStd = 1 / Math.sqrt(vb.get(ch) + eps);
                double sumDy = 0;
                double sumDyXhat = 0;
                for (int b = 0; b < n; b++) {
                    for (int i = 0, at = (b * c + ch) * l; i < l; i++) {
                        double g = gb.get(at + i);
                        sumDy += g;
                        sumDyXhat += g * (xb.get(at + i) - mu) * invStd;
                    }
                }
                if (dbb != null) {
                    dbb.set(ch, sumDy);
                }
                if (dwb != null) {
                    dwb.set(ch, sumDyXhat);
                }
                if (dxb == null) {
                    continue;
                }
                double k = wb.get(ch) * invStd;
                double meanDy = sumDy / m;
                double meanDyXhat = sumDyXhat / m;
                for (int b = 0; b < n; b++) {
                    for (int i = 0, at = (b * c + ch) * l; i < l; i++) {
                        double xhat = (xb.get(at + i) - mu) * invStd;
                        dxb.set(at + i, k * (gb.get(at + i) - meanDy - xhat * meanDyXhat));
                    }
                }
            }
        });
    }

    /**
     * {@link FusedKernel.BatchNormRunningStats}: the composed update's arithmetic (products and sum rounded to the
     * dtype), in one loop over the channels.
     */
    static void runningStats(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor var, double momentum, double varFactor) {
        Buf rm = CpuBackend.buf(runningMean);
        Buf rv = CpuBackend.buf(runningVar);
        Buf mb = CpuBackend.buf(mean);
        Buf vb = CpuBackend.buf(var);
        boolean f32 = runningMean.dtype() == dev.wengert.tensor.DType.FLOAT32;
        double keep = round(1 - momentum, f32);
        double m = round(momentum, f32);
        double mv = round(momentum * varFactor, f32);
        for (int i = 0, c = runningMean.numel(); i < c; i++) {
            rm.set(i, round(round(rm.get(i) * keep, f32) + round(mb.get(i) * m, f32), f32));
            rv.set(i, round(round(rv.get(i) * keep, f32) + round(vb.get(i) * mv, f32), f32));
        }
    }

    /** v rounded to float when {@code f32} (a float product of floats is exact in double, so this is float arithmetic). */
    private static double round(double v, boolean f32) {
        return f32 ? (float) v : v;
    }
}
