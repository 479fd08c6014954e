package dev.wengert.tensor.cuda;

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
        int ops = strides.length;
        int[] dims = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int r = 0; // dims[r-1] is the innermost kept so far, built from the back
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = (long) strides[k][d] == (long) st[k][r - 1] * dims[r - 1];
            }
            if (merge) {
                dims[r - 1] *= shape[d];
            } else {
                dims[r] = shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][r] = strides[k][d];
                }
                r++;
            }
        }
        if (r > MAX_DIMS) {
            throw new IllegalArgumentException(op + ": shape " + Shape.str(shape) + " still has " + r
                    + " dimensions after merging; the CUDA backend supports " + MAX_DIMS + " (reshape first)");
        }
        int[] outShape = new int[r];
        int[][] outStrides = new int[ops][r];
        for (int i = 0; i < r; i++) { // reverse: outermost first
            outShape[i] = dims[r - 1 - i];
            for (int k = 0; k < ops; k++) {
                outStrides[k][i] = st[k][r - 1 - i];
            }
        }
        return new Geo(outShape, outStrides);
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
