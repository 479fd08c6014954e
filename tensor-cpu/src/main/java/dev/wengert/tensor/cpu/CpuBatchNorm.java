package dev.wengert.tensor.cpu;

import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;

/**
 * The CPU's batch-normalisation running-statistics update ({@link FusedKernel#BATCH_NORM_RUNNING_STATS}): one loop
 * over the channels instead of six small tensor operations. The CPU registers no {@link FusedKernel#BATCH_NORM} /
 * {@link FusedKernel#BATCH_NORM_BACKWARD}: Java passes per channel (split over the cores) measured slower than the
 * primitive's composed tensors, whose large elementwise passes run in ND4J and the split Java loops (convnet's first
 * layer, [64, 32, 784] float32, 2 threads: forward 6.5 ms against 3.8 ms, backward 7.5-8.0 ms against 6.7 ms;
 * bench/conv-route/ConvParts.java, bench/RESULTS.md).
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
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
