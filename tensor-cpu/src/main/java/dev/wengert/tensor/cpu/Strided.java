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

    /** Walks the whole shape on this thread, run after run in row-major order. */
    static void walk(int[] shape, int[][] strides, int[] base, Run body) {
        walk(shape, strides, base, body, false);
    }

    /**
     * As {@link #walk}, split over the cores ({@link Parallel}) when the shape is big: by outer positions, or
     * by pieces of the run when it is a single one. Only for bodies whose runs write disjoint elements (a
     * map or a zip into its own output, a gather): never an accumulation into a broadcast output.
     */
    static void walkSplit(int[] shape, int[][] strides, int[] base, Run body) {
        walk(shape, strides, base, body, true);
    }

    /**
     * As {@link #walk} from offsets 0, split over the cores ({@link Parallel}) by positions of dimension
     * {@code dim} when the shape is big: each part walks the shape with dimension {@code dim} cut to its range,
     * in row-major order. For bodies whose writes depend on the position along {@code dim} (an accumulator
     * kept per position of {@code dim}, a scatter along another axis): no two parts write the same element, and
     * each element sees its updates in the order of the whole walk.
     */
    static void walkSplitAlong(int dim, int[] shape, int[][] strides, Run body) {
        long numel = 1;
        for (int d : shape) {
            numel *= d;
        }
        Parallel.forRange(shape[dim], numel, (from, to) -> {
            int[] part = shape.clone();
            part[dim] = to - from;
            int[] base = new int[strides.length];
            for (int k = 0; k < strides.length; k++) {
                base[k] = from * strides[k][dim];
            }
            walk(part, strides, base, body, false);
        });
    }

    private static void walk(int[] shape, int[][] strides, int[] base, Run body, boolean split) {
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
        if (r == 0) {
            body.run(base.clone(), new int[ops], 1);
            return;
        }
        int[] inner = new int[ops];
        for (int k = 0; k < ops; k++) {
            inner[k] = st[k][r - 1];
        }
        int len = dims[r - 1];
        int outer = 1;
        for (int d = 0; d < r - 1; d++) {
            outer *= dims[d];
        }
        long work = split ? (long) outer * len : 0;
        if (outer == 1) { // one run: its pieces
            Parallel.forRange(len, work, (from, to) -> {
                int[] off = base.clone();
                for (int k = 0; k < ops; k++) {
                    off[k] += from * inner[k];
                }
                body.run(off, inner, to - from);
            });
            return;
        }
        Parallel.forRange(outer, work, (from, to) -> runs(dims, st, base, inner, len, from, to, body));
    }

    /** The runs at outer positions [from, to): an odometer over the outer dimensions, innermost first. */
    private static void runs(int[] dims, int[][] st, int[] base, int[] inner, int len, int from, int to, Run body) {
        int r = dims.length;
        int ops = st.length;
        int[] off = base.clone();
        int[] idx = new int[r];
        for (int d = r - 2, rest = from; d >= 0; d--) { // the odometer's reading at position from
            idx[d] = rest % dims[d];
            rest /= dims[d];
            for (int k = 0; k < ops; k++) {
                off[k] += idx[d] * st[k][d];
            }
        }
        for (int o = from; o < to; o++) {
            body.run(off, inner, len);
            for (int d = r - 2; d >= 0; d--) {
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
