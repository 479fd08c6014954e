package dev.wengert.tensor.spi;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Stable sorting of host arrays along one axis: the default of {@link dev.wengert.tensor.Backend#argsort} (the
 * device's data downloaded, sorted here, the indices uploaded), for backends without a sorting kernel.
 */
public final class HostSort {
    private HostSort() {
    }

    /**
     * The indices that sort each line of {@code data} (a float[], double[] or long[] of {@code shape}, row-major)
     * along {@code axis}: stable (equal elements keep their order, in both directions), NaN larger than every
     * number (last ascending, first descending) and -0.0 equal to 0.0, as torch.sort(stable=True).
     */
    public static long[] argsort(Object data, int[] shape, int axis, boolean descending) {
        int n = shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int total = 1;
        for (int d : shape) {
            total *= d;
        }
        long[] out = new long[total];
        if (total == 0) {
            return out;
        }
        int outer = total / (n * inner);
        Integer[] idx = new Integer[n];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                for (int j = 0; j < n; j++) {
                    idx[j] = j;
                }
                Comparator<Integer> asc = comparator(data, base, inner);
                Arrays.sort(idx, descending ? asc.reversed() : asc);   // TimSort: stable either way
                for (int j = 0; j < n; j++) {
                    out[base + j * inner] = idx[j];
                }
            }
        }
        return out;
    }

    /** Ascending order of line elements base + j * stride; equal elements compare equal (stability keeps their order). */
    private static Comparator<Integer> comparator(Object data, int base, int stride) {
        if (data instanceof long[] l) {
            return (p, q) -> Long.compare(l[base + p * stride], l[base + q * stride]);
        }
        if (data instanceof float[] f) {
            return (p, q) -> compare(f[base + p * stride], f[base + q * stride]);
        }
        double[] d = (double[]) data;
        return (p, q) -> compare(d[base + p * stride], d[base + q * stride]);
    }

    /** Numbers by value (-0.0 == 0.0), NaN after every number and equal to NaN. */
    static int compare(double a, double b) {
        if (a < b) {
            return -1;
        }
        if (a > b) {
            return 1;
        }
        boolean na = Double.isNaN(a);
        boolean nb = Double.isNaN(b);
        return na == nb ? 0 : na ? 1 : -1;
    }
}
