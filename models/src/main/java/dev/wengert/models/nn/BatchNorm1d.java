package dev.wengert.models.nn;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;

/**
 * torch.nn.BatchNorm1d: batch normalisation of [N, C] (features) or [N, C, L] (channels of sequences),
 * statistics per channel over N (and L). See {@link BatchNorm} for the math, the modes and the state.
 */
public final class BatchNorm1d extends BatchNorm {

    /** PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics. */
    public BatchNorm1d(int features, DType dtype, Device device) {
        this(features, DEFAULT_EPS, DEFAULT_MOMENTUM, true, true, dtype, device);
    }

    /**
     * @param momentum update factor of the running statistics in (0, 1], or null for their cumulative average
     * @param affine whether to learn {@code weight} and {@code bias}
     * @param trackRunningStats whether to keep running statistics (without, evaluation uses the batch's too)
     */
    public BatchNorm1d(int features, double eps, Double momentum, boolean affine, boolean trackRunningStats, DType dtype,
                       Device device) {
        super("BatchNorm1d", features, eps, momentum, affine, trackRunningStats, dtype, device);
    }

    @Override
    int[] ranks() {
        return new int[] {2, 3};
    }

    @Override
    String expectedLayout() {
        return "[N, C] or [N, C, L]";
    }
}
