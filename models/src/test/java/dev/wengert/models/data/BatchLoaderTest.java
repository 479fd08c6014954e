package dev.wengert.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {

    private static BatchLoader tiny(boolean shuffle, long seed) {
        // sample i has features {i, 10 i} and label i
        float[] x = new float[10 * 2];
        long[] y = new long[10];
        for (int i = 0; i < 10; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = 10 * i;
            y[i] = i;
        }
        return new BatchLoader(x, y, 2, 4, shuffle, seed, Device.CPU);
    }

    @Test
    void batchesHaveTheRightShapesAndTheLastOneIsShort() {
        BatchLoader l = tiny(false, 0);
        assertEquals(3, l.batchCount());
        try (Scope s = Scope.open()) {
            BatchLoader.Epoch e = l.epoch(0);
            BatchLoader.Batch b = e.batch(0);
            assertEquals(DType.FLOAT32, b.features().dtype());
            assertEquals(DType.INT64, b.labels().dtype());
            assertArrayEquals(new int[] {4, 2}, b.features().shape());
            assertArrayEquals(new long[] {0, 1, 2, 3}, b.labels().toLongArray());
            BatchLoader.Batch last = e.batch(2);
            assertEquals(2, last.size());
            assertArrayEquals(new float[] {8, 80, 9, 90}, last.features().toFloatArray());
            assertThrows(IndexOutOfBoundsException.class, () -> e.batch(3));
        }
    }

    @Test
    void onTheCpuAPrefetchingEpochPreparesNothingAheadAndGivesTheSameBatches() {
        BatchLoader l = tiny(true, 3);
        BatchLoader.Epoch plain = l.epoch(2);
        try (BatchLoader.Epoch asked = l.epoch(2, true)) {
            assertFalse(asked.prefetches(), "CPU uploads are plain copies: nothing to overlap");
            assertArrayEquals(plain.order(), asked.order());
            LeakCheck leak = LeakCheck.start();
            for (int i : new int[] {0, 1, 2, 1}) {
                try (Scope s = Scope.open()) {
                    BatchLoader.Batch b = asked.batch(i);
                    BatchLoader.Batch p = plain.batch(i);
                    assertArrayEquals(p.features().toFloatArray(), b.features().toFloatArray(), "batch " + i);
                    assertArrayEquals(p.labels().toLongArray(), b.labels().toLongArray(), "batch " + i);
                }
            }
            leak.assertNoLeak("a prefetching epoch on the CPU");
        }
    }

    @Test
    void shufflingIsAPermutationReproducibleFromSeedAndEpoch() {
        BatchLoader a = tiny(true, 5);
        int[] o0 = a.epoch(0).order();
        assertArrayEquals(o0, tiny(true, 5).epoch(0).order(), "same seed and epoch, same order");
        assertFalse(Arrays.equals(o0, a.epoch(1).order()), "each epoch has its own order");
        assertFalse(Arrays.equals(o0, tiny(true, 6).epoch(0).order()), "each seed has its own order");
        int[] sorted = o0.clone();
        Arrays.sort(sorted);
        assertArrayEquals(tiny(false, 0).epoch(0).order(), sorted);
        try (Scope s = Scope.open()) {
            BatchLoader.Batch b = a.epoch(0).batch(0);
            long[] labels = b.labels().toLongArray();
            float[] f = b.features().toFloatArray();
            for (int r = 0; r < labels.length; r++) {
                assertEquals(o0[r], labels[r]);
                assertEquals(labels[r], f[2 * r], "features travel with their label");
            }
        }
    }

    @Test
    void mnistBatchesAreScaledToUnitInterval() throws Exception {
        MnistData m = MnistData.embedded();
        BatchLoader l = BatchLoader.of(m.test(), 500, true, 1, Device.CPU);
        assertEquals(4, l.batchCount());
        try (Scope s = Scope.open()) {
            BatchLoader.Batch b = l.epoch(0).batch(0);
            assertArrayEquals(new int[] {500, 784}, b.features().shape());
            float max = 0;
            for (float v : b.features().toFloatArray()) {
                assertTrue(v >= 0 && v <= 1);
                max = Math.max(max, v);
            }
            assertEquals(1f, max);
        }
    }

    @Test
    void mismatchedSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(new float[6], new long[2], 2, 1, false, 0, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(new float[4], new long[2], 2, 0, false, 0, Device.CPU));
    }

    @Test
    void fingerprintNamesTheDataAndTheOrderNotTheBatching() {
        String f = tiny(false, 0).fingerprint();
        assertEquals(8, f.length());
        assertEquals(f, tiny(true, 99).fingerprint(), "batching, shuffling and the seed are not the data");
        float[] x = new float[20];
        long[] y = new long[10];
        for (int i = 0; i < 10; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = 10 * i;
            y[i] = i;
        }
        y[9] = 8;
        assertFalse(f.equals(new BatchLoader(x, y, 2, 4, false, 0, Device.CPU).fingerprint()), "a changed label");
        assertEquals(2, tiny(false, 0).width());
        assertEquals(99, tiny(true, 99).seed());
        assertTrue(tiny(true, 99).shuffles());
    }
}
