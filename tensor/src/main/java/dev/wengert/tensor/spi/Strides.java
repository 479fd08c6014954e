package dev.wengert.tensor.spi;

/**
 * Element strides for the backends' kernels (row-major layouts, broadcast reads, merged walks). Part of the
 * backend SPI: users see shapes ({@link dev.wengert.tensor.Shape}), never strides. Never modifies its arguments.
 */
public final class Strides {
    private Strides() {
    }

    /** Row-major (C order) strides in elements. */
    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /**
     * Strides for reading {@code from} as if broadcast to {@code to}: 0 on broadcast dimensions.
     * The result has {@code to.length} entries.
     */
    public static int[] broadcastStrides(int[] from, int[] to) {
        int[] fs = strides(from);
        int[] out = new int[to.length];
        int off = to.length - from.length;
        for (int i = 0; i < from.length; i++) {
            out[off + i] = from[i] == 1 && to[off + i] != 1 ? 0 : fs[i];
        }
        return out;
    }

    /** A shape and per-operand strides after {@link #merge}: outermost dimension first. */
    public record Merged(int[] shape, int[][] strides) {
    }

    /**
     * Simplifies a walk over {@code shape} for several operands (each with its own element strides, 0 on
     * broadcast dimensions): drops size-1 dimensions and merges neighbours that are contiguous for every
     * operand, so same-shape operands become one dimension. Both backends' elementwise kernels walk the
     * result. A scalar or fully merged walk has rank 0 or 1.
     */
    public static Merged merge(int[] shape, int[]... strides) {
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
        int[] outShape = new int[r];
        int[][] outStrides = new int[ops][r];
        for (int i = 0; i < r; i++) { // reverse: outermost first
            outShape[i] = dims[r - 1 - i];
            for (int k = 0; k < ops; k++) {
                outStrides[k][i] = st[k][r - 1 - i];
            }
        }
        return new Merged(outShape, outStrides);
    }

}
