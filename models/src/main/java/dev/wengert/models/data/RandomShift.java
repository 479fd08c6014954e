package dev.wengert.models.data;

import java.util.SplittableRandom;

/**
 * Data augmentation for images: each training image, each epoch, moved by a small random offset
 * {@code (dy, dx)}, both drawn uniformly from {@code [-max, max]}, the pixels that come in from the border
 * zero (MNIST's background). The offset is a pure function of (seed, epoch, sample index), not of the order
 * or the batch the sample is in, so a resumed run, a data-parallel rank and an uninterrupted run shift every
 * sample alike, and the same run draws the same shifts on every machine and Java version.
 *
 * @param rows image height
 * @param cols image width
 * @param max the largest shift in pixels along each axis (0: no augmentation)
 */
public record RandomShift(int rows, int cols, int max) {

    public RandomShift {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("RandomShift: image size must be > 0, got " + rows + "x" + cols);
        }
        if (max < 0 || max >= Math.min(rows, cols)) {
            throw new IllegalArgumentException("RandomShift: the largest shift must be between 0 and " + (Math.min(rows, cols) - 1)
                    + " pixels for " + rows + "x" + cols + " images, got " + max);
        }
    }

    /** The shift of sample {@code sample} in epoch {@code epoch}: {@code {dy, dx}}, each in [-max, max]. */
    public int[] offset(long seed, int epoch, int sample) {
        if (max == 0) {
            return new int[] {0, 0};
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + sample * 0x94D049BB133111EBL);
        int span = 2 * max + 1;
        return new int[] {r.nextInt(span) - max, r.nextInt(span) - max};
    }

    /**
     * Writes image {@code sample} of {@code epoch}, read from {@code src} at {@code from} ({@code rows*cols}
     * values, row-major), shifted, to {@code dst} at {@code to}: {@code dst(r, c) = src(r - dy, c - dx)}, 0
     * outside the source. Modifies only that range of {@code dst}.
     */
    public void apply(float[] src, int from, float[] dst, int to, long seed, int epoch, int sample) {
        int[] d = offset(seed, epoch, sample);
        int dy = d[0];
        int dx = d[1];
        for (int r = 0; r < rows; r++) {
            int sr = r - dy;
            int row = to + r * cols;
            if (sr < 0 || sr >= rows) {
                java.util.Arrays.fill(dst, row, row + cols, 0f);
                continue;
            }
            int c0 = Math.max(0, dx);            // first output column with a source pixel
            int c1 = Math.min(cols, cols + dx);  // one past the last
            java.util.Arrays.fill(dst, row, row + c0, 0f);
            System.arraycopy(src, from + sr * cols + c0 - dx, dst, row + c0, c1 - c0);
            java.util.Arrays.fill(dst, row + c1, row + cols, 0f);
        }
    }

    /** "shift:2" (the command line's spelling). */
    @Override
    public String toString() {
        return "shift:" + max;
    }
}
