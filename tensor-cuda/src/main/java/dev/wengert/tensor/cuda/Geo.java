package dev.wengert.tensor.cuda;

import dev.wengert.tensor.spi.Strides;
import dev.wengert.tensor.Shape;
import java.util.Arrays;

/**
 * The kernels' {@code struct Geo} (common.cuh): an iteration shape and up to four operands' element
 * strides along it. {@link #merged} first drops size-1 dimensions and merges dimensions that are
 * contiguous for every operand, so that typical broadcasts become rank 1 or 2 and index arithmetic
 * stays cheap.
 */
final class Geo {
    static final int MAX_DIMS = 8;
    private static final int OPERANDS = 4;

    final int[] shape;
    final int[][] strides;

    private Geo(int[] shape, int[][] strides) {
        this.shape = shape;
        this.strides = strides;
    }

    /**
     * Merged geometry of {@code shape} (row-major iteration order is kept).
     *
     * @param op      named in the error when more than {@value #MAX_DIMS} dimensions remain
     * @param strides one array per operand, each of shape's length
     */
    static Geo merged(String op, int[] shape, int[]... strides) {
        Strides.Merged m = Strides.merge(shape, strides);
        if (m.shape().length > MAX_DIMS) {
            throw new IllegalArgumentException(op + ": shape " + Shape.str(shape) + " still has " + m.shape().length
                    + " dimensions after merging; the CUDA backend supports " + MAX_DIMS + " (reshape first)");
        }
        return new Geo(m.shape(), m.strides());
    }

    /** The struct's memory image: rank, shape[8], st[4][8]. */
    int[] packed() {
        int[] p = new int[1 + MAX_DIMS + OPERANDS * MAX_DIMS];
        p[0] = shape.length;
        System.arraycopy(shape, 0, p, 1, shape.length);
        for (int k = 0; k < strides.length; k++) {
            System.arraycopy(strides[k], 0, p, 1 + MAX_DIMS + k * MAX_DIMS, shape.length);
        }
        return p;
    }

    @Override
    public String toString() {
        return "Geo" + Arrays.toString(shape) + Arrays.deepToString(strides);
    }
}
