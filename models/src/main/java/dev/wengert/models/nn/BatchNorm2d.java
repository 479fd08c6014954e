package dev.wengert.models.nn;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;

/**
 * torch.nn.BatchNorm2d: batch normalisation of images [N, C, H, W], statistics per channel over N, H and W.
 * See {@link BatchNorm} for the math, the modes and the state.
 */
public final class BatchNorm2d extends BatchNorm {

    /** PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics. */
    public BatchNorm2d(int features, DType dtype, Device device) {
        this(features, DEFAULT_EPS, DEFAULT_MOMENTUM, true, true, dtype, device);
    }

    /**
     * @param momentum update factor of the running statistics in (0, 1], or null for their cumulative average
     * @param affine whether to learn {@code weight} and {@code bias}
     * @param trackRunningStats whether to keep running statistics (without, evaluation uses the batch's too)
     */
    public BatchNorm2d(int features, double eps, Double momentum, boolean affine, boolean trackRunningStats, DType dtype,
                       Device device) {
        super("BatchNorm2d", features, eps, momentum, affine, trackRunningStats, dtype, device);
    }

    @Override
    int[] ranks() {
        return new int[] {4};
    }

    @Override
    String expectedLayout() {
        return "[N, C, H, W]";
    }
}
