package dev.wengert.tensor.cpu;

/**
 * Walks a shape in row-major order for several operands at once, each with its own strides (0 on
 * broadcast dimensions) and start offset. Dimensions that are contiguous for every operand are merged
 * first, so same-shape operands become one long run. The kernels work run by run.
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
        int ops = strides.length;
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n == 0) {
            return;
        }
        // merge dimensions from the innermost outwards; drop size-1 dimensions
        int[] dims = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int r = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = strides[k][d] == st[k][r - 1] * dims[r - 1];
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
        int[] off = base.clone();
        int[] inner = new int[ops];
        if (r == 0) {
            body.run(off, inner, 1);
            return;
        }
        // dims[0] is now the innermost dimension, dims[r-1] the outermost
        for (int k = 0; k < ops; k++) {
            inner[k] = st[k][0];
        }
        int len = dims[0];
        int outer = n / len;
        int[] idx = new int[r];
        for (int o = 0; o < outer; o++) {
            body.run(off, inner, len);
            for (int d = 1; d < r; d++) {
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
