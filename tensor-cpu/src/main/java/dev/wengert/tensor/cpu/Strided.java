package dev.wengert.tensor.cpu;

import dev.wengert.tensor.spi.Strides;

/**
 * Walks a shape in row-major order for several operands at once, each with its own strides (0 on
 * broadcast dimensions) and start offset. Dimensions are merged first ({@link Shape#merge}), so
 * same-shape operands become one long run. The kernels work run by run.
 */
final class Strided {

    /** Body of a walk: called once per run along the innermost (merged) dimension. */
    interface Run {
        /**
         * @param off   each operand's offset at the start of the run (do not modify)
         * @param inner each operand's stride along the run
         * @param len   run length
         */
        void run(int[] off, int[] inner, int len);
    }

    private Strided() {
    }

    static void walk(int[] shape, int[][] strides, int[] base, Run body) {
        for (int d : shape) {
            if (d == 0) {
                return;
            }
        }
        Strides.Merged m = Strides.merge(shape, strides);
        int[] dims = m.shape();
        int[][] st = m.strides();
        int ops = strides.length;
        int r = dims.length;
        int[] off = base.clone();
        int[] inner = new int[ops];
        if (r == 0) {
            body.run(off, inner, 1);
            return;
        }
        for (int k = 0; k < ops; k++) {
            inner[k] = st[k][r - 1];
        }
        int len = dims[r - 1];
        long outer = 1;
        for (int d = 0; d < r - 1; d++) {
            outer *= dims[d];
        }
        int[] idx = new int[r];
        for (long o = 0; o < outer; o++) {
            body.run(off, inner, len);
            for (int d = r - 2; d >= 0; d--) { // odometer over the outer dimensions, innermost first
                idx[d]++;
                for (int k = 0; k < ops; k++) {
                    off[k] += st[k][d];
                }
                if (idx[d] < dims[d]) {
                    break;
                }
                for (int k = 0; k < ops; k++) {
                    off[k] -= st[k][d] * dims[d];
                }
                idx[d] = 0;
            }
        }
    }
}
