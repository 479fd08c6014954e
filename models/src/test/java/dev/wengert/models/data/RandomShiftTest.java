package dev.wengert.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Random shifts: the pixel arithmetic, the distribution, and a pure function of (seed, epoch, sample) in a BatchLoader. */
class RandomShiftTest {

    /** A 4x5 image whose pixel (r, c) is 1 + 10 r + c. */
    private static float[] image() {
        float[] x = new float[20];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 5; c++) {
                x[r * 5 + c] = 1 + 10 * r + c;
            }
        }
        return x;
    }

    /** Finds (seed) whose first offset is {dy, dx}, to test the copy for a given shift. */
    private static long seedFor(RandomShift s, int dy, int dx) {
        for (long seed = 0; seed < 100_000; seed++) {
            int[] d = s.offset(seed, 0, 0);
            if (d[0] == dy && d[1] == dx) {
                return seed;
            }
        }
        throw new AssertionError("no seed gives " + dy + ", " + dx);
    }

    @Test
    void aShiftMovesThePixelsAndZeroFillsTheBorder() {
        RandomShift s = new RandomShift(4, 5, 2);
        float[] src = image();
        for (int dy = -2; dy <= 2; dy++) {
            for (int dx = -2; dx <= 2; dx++) {
                float[] dst = new float[24];
                java.util.Arrays.fill(dst, -7f);
                s.apply(src, 0, dst, 2, seedFor(s, dy, dx), 0, 0);
                assertEquals(-7f, dst[0]);
                assertEquals(-7f, dst[1]);
                assertEquals(-7f, dst[22], "nothing written past the image");
                for (int r = 0; r < 4; r++) {
                    for (int c = 0; c < 5; c++) {
                        int sr = r - dy;
                        int sc = c - dx;
                        float want = sr >= 0 && sr < 4 && sc >= 0 && sc < 5 ? src[sr * 5 + sc] : 0f;
                        assertEquals(want, dst[2 + r * 5 + c], "shift " + dy + "," + dx + " at " + r + "," + c);
                    }
                }
            }
        }
    }

    @Test
    void offsetsCoverTheRangeUniformlyAndDependOnSeedEpochAndSampleOnly() {
        RandomShift s = new RandomShift(28, 28, 2);
        int[] counts = new int[25];
        for (int i = 0; i < 25_000; i++) {
            int[] d = s.offset(42, i % 7, i);
            assertTrue(Math.abs(d[0]) <= 2 && Math.abs(d[1]) <= 2);
            counts[(d[0] + 2) * 5 + d[1] + 2]++;
        }
        for (int c : counts) {
            assertTrue(c > 850 && c < 1150, "about 1,000 of each of the 25 offsets: " + java.util.Arrays.toString(counts));
        }
        assertArrayEquals(s.offset(42, 3, 17), s.offset(42, 3, 17));
        Set<String> differ = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            differ.add(java.util.Arrays.toString(s.offset(42, i, 17)));
        }
        assertTrue(differ.size() > 5, "a sample moves differently from epoch to epoch: " + differ);
        assertArrayEquals(new int[] {0, 0}, new RandomShift(28, 28, 0).offset(1, 2, 3));
    }

    @Test
    void aLoaderWithShiftsGivesEachSampleTheSameShiftWhateverItsBatch() {
        int n = 10;
        float[] features = new float[n * 20];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(image(), 0, features, i * 20, 20);
            features[i * 20 + 6] = 100 + i;      // pixel (1, 1) marks the sample
            labels[i] = i;
        }
        RandomShift shift = new RandomShift(4, 5, 1);
        BatchLoader byThree = new BatchLoader(features, labels, 20, 3, true, 9, Device.CPU).withShifts(shift);
        BatchLoader byFour = new BatchLoader(features, labels, 20, 4, true, 9, Device.CPU).withShifts(shift);
        BatchLoader plain = new BatchLoader(features, labels, 20, 3, true, 9, Device.CPU);
        assertNotEquals(plain.fingerprint(), byThree.fingerprint(), "a checkpoint tells augmented data from plain");
        assertEquals(shift, byThree.shifts());
        try (Scope s = Scope.open()) {
            for (int epoch = 0; epoch < 3; epoch++) {
                float[][] a = samples(byThree, epoch, n);
                float[][] b = samples(byFour, epoch, n);
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(a[i], b[i], "sample " + i + " in epoch " + epoch);
                    float[] want = new float[20];
                    shift.apply(features, i * 20, want, 0, 9, epoch, i);
                    assertArrayEquals(want, a[i], "sample " + i + " in epoch " + epoch + " is its own shift");
                }
            }
            // rows of a batch (a data-parallel rank's share) are shifted alike
            BatchLoader.Epoch e = byThree.epoch(1);
            float[] whole = e.batch(2).features().toFloatArray();
            float[] rows = e.batch(2, 1, 3).features().toFloatArray();
            assertArrayEquals(java.util.Arrays.copyOfRange(whole, 20, 60), rows);
        }
        assertThrows(IllegalArgumentException.class, () -> plain.withShifts(new RandomShift(28, 28, 2)));
        assertThrows(IllegalArgumentException.class, () -> new RandomShift(4, 5, 4));
        assertThrows(IllegalArgumentException.class, () -> new RandomShift(4, 5, -1));
    }

    /** Every sample of an epoch by its label (= its index). */
    private static float[][] samples(BatchLoader loader, int epoch, int n) {
        float[][] out = new float[n][];
        BatchLoader.Epoch e = loader.epoch(epoch);
        for (int b = 0; b < e.batches(); b++) {
            BatchLoader.Batch batch = e.batch(b);
            float[] x = batch.features().toFloatArray();
            long[] y = batch.labels().toLongArray();
            for (int r = 0; r < y.length; r++) {
                out[(int) y[r]] = java.util.Arrays.copyOfRange(x, r * 20, r * 20 + 20);
            }
        }
        return out;
    }
}
