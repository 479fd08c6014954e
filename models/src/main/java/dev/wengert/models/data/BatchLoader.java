package dev.wengert.models.data;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Cuts a labelled data set into mini-batches of tensors on a device: float32 features {@code [B, features]}
 * and int64 labels {@code [B]}. With shuffling, each epoch visits the samples in an order drawn from
 * (seed, epoch), so runs are reproducible; the last batch may be smaller. The data arrays are used,
 * not copied, and never modified. A loader {@link #withShifts with shifts} moves each image of a batch by a
 * {@link RandomShift} drawn from (seed, epoch, sample index): augmentation that a resumed run repeats exactly.
 */
public final class BatchLoader {
    private final float[] features;
    private final long[] labels;
    private final int width;
    private final int count;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final Device device;
    /** Augmentation of the batches, or null for none. */
    private final RandomShift shift;

    /**
     * @param features row-major {@code count x width} values
     * @param labels {@code count} class labels
     */
    public BatchLoader(float[] features, long[] labels, int width, int batchSize, boolean shuffle, long seed, Device device) {
        this(features, labels, width, batchSize, shuffle, seed, device, null);
    }

    private BatchLoader(float[] features, long[] labels, int width, int batchSize, boolean shuffle, long seed, Device device,
            RandomShift shift) {
        if (width <= 0 || features.length % width != 0 || features.length / width != labels.length) {
            throw new IllegalArgumentException("BatchLoader: " + features.length + " features of width " + width
                    + " do not match " + labels.length + " labels");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("BatchLoader: batch size must be > 0, got " + batchSize);
        }
        this.features = features;
        this.labels = labels;
        this.width = width;
        this.count = labels.length;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.device = device;
        if (shift != null && shift.rows() * shift.cols() != width) {
            throw new IllegalArgumentException("BatchLoader: shifts of " + shift.rows() + "x" + shift.cols()
                    + " images do not fit samples of " + width + " features");
        }
        this.shift = shift == null || shift.max() == 0 ? null : shift;
    }

    /**
     * This loader's data, batches and orders, each image moved by {@code shift} (a new loader; this one is
     * unchanged). The shift of a sample depends on the seed, the epoch and the sample's index only.
     *
     * @throws IllegalArgumentException if the shift's image size does not match the samples' width
     */
    public BatchLoader withShifts(RandomShift shift) {
        return new BatchLoader(features, labels, width, batchSize, shuffle, seed, device, shift);
    }

    /** The augmentation of this loader's batches, or null for none. */
    public RandomShift shifts() {
        return shift;
    }

    /** Images scaled to [0, 1] ({@code [B, rows*cols]}) and labels of one MNIST split. */
    public static BatchLoader of(MnistData.Split split, int batchSize, boolean shuffle, long seed, Device device) {
        return new BatchLoader(split.imagesAsFloats(), split.labelsAsLongs(), split.rows() * split.cols(), batchSize, shuffle, seed, device);
    }

    /** One mini-batch; its tensors belong to the scope that was current when {@link Epoch#batch} returned it. */
    public record Batch(Tensor features, Tensor labels) {
        public int size() {
            return labels.dim(0);
        }
    }

    /**
     * The batches of one epoch, in the order for that epoch. A prefetching epoch ({@link #epoch(int, boolean)})
     * prepares batch i + 1 (gathered on the host, its upload queued) when it hands out batch i, so that
     * on a GPU the copy overlaps step i; the prepared batch belongs to no scope until it is handed out, and
     * {@link #close} frees it when the epoch is abandoned. Confined to one thread.
     */
    public final class Epoch implements AutoCloseable {
        private final int[] order;
        private final int index;
        private final Backend prefetchOn;
        private Batch ahead;
        private int aheadIndex = -1;

        private Epoch(int[] order, int index, boolean prefetch) {
            this.order = order;
            this.index = index;
            Backend b = prefetch ? Backends.of(device) : null;
            this.prefetchOn = b != null && b.uploadsOverlapCompute() ? b : null;
        }

        public int batches() {
            return batchCount();
        }

        /** True when this epoch prepares the next batch ahead (asked for, and the device's uploads overlap compute). */
        public boolean prefetches() {
            return prefetchOn != null;
        }

        /**
         * Batch {@code i} (0-based), as tensors in the current scope. Any order is allowed; a prefetching
         * epoch then prepares batch i + 1 (a prepared batch that is not the one asked for is freed).
         */
        public Batch batch(int i) {
            if (i < 0 || i >= batchCount()) {
                throw new IndexOutOfBoundsException("batch " + i + " of " + batchCount());
            }
            Batch b;
            if (ahead != null && aheadIndex == i) {
                b = ahead;
                ahead = null;
                prefetchOn.awaitUploadsAhead();     // the kernels queued from now on wait for its copy
                b.features().keepInCurrentScope();
                b.labels().keepInCurrentScope();
            } else {
                close();
                b = make(i, null);
            }
            if (prefetchOn != null && i + 1 < batchCount()) {
                Batch next = make(i + 1, prefetchOn);
                ahead = new Batch(next.features().keepForever(), next.labels().keepForever());
                aheadIndex = i + 1;
            }
            return b;
        }

        /** Gathers batch {@code i}; uploads it ahead on {@code ahead} (not awaited), or plainly when null. */
        private Batch make(int i, Backend uploadAhead) {
            int from = i * batchSize;
            int n = Math.min(batchSize, count - from);
            float[] x = new float[n * width];
            long[] y = new long[n];
            for (int r = 0; r < n; r++) {
                int s = order == null ? from + r : order[from + r];
                copySample(s, x, r);
                y[r] = labels[s];
            }
            if (uploadAhead == null) {
                return new Batch(Tensor.on(device).of(x, n, width), Tensor.on(device).of(y, n));
            }
            Tensor xt = Tensor.on(device).empty(DType.FLOAT32, n, width);
            Tensor yt = Tensor.on(device).empty(DType.INT64, n);
            try {
                uploadAhead.uploadAhead(x, xt);
                uploadAhead.uploadAhead(y, yt);
            } catch (RuntimeException ex) {
                uploadAhead.awaitUploadsAhead();   // before the current scope frees them
                throw ex;
            }
            return new Batch(xt, yt);
        }

        /**
         * Frees the batch prepared ahead, if any (after ordering the device's later work after its copy, so
         * its memory is not reused while the copy writes it). Idempotent; the epoch stays usable.
         */
        @Override
        public void close() {
            if (ahead != null) {
                Batch b = ahead;
                ahead = null;
                aheadIndex = -1;
                prefetchOn.awaitUploadsAhead();
                b.features().close();
                b.labels().close();
            }
        }

        /**
         * Rows {@code [from, to)} of batch {@code i}, as new tensors in the current scope: one process's share of
         * the batch in data-parallel training, built without the rest of the batch.
         */
        public Batch batch(int i, int from, int to) {
            if (i < 0 || i >= batchCount()) {
                throw new IndexOutOfBoundsException("batch " + i + " of " + batchCount());
            }
            int start = i * batchSize;
            int n = Math.min(batchSize, count - start);
            if (from < 0 || to < from || to > n) {
                throw new IndexOutOfBoundsException("rows " + from + ".." + to + " of batch " + i + " (" + n + " rows)");
            }
            float[] x = new float[(to - from) * width];
            long[] y = new long[to - from];
            for (int r = from; r < to; r++) {
                int s = order == null ? start + r : order[start + r];
                copySample(s, x, r - from);
                y[r - from] = labels[s];
            }
            return new Batch(Tensor.on(device).of(x, to - from, width), Tensor.on(device).of(y, to - from));
        }

        /** Sample {@code s} (shifted when the loader augments) into row {@code row} of {@code x}. */
        private void copySample(int s, float[] x, int row) {
            if (shift == null) {
                System.arraycopy(features, s * width, x, row * width, width);
            } else {
                shift.apply(features, s * width, x, row * width, seed, index, s);
            }
        }

        /** Rows in batch {@code i}: the batch size, or fewer for the last batch. */
        public int batchRows(int i) {
            return Math.min(batchSize, count - i * batchSize);
        }

        /** Sample indices in visiting order. */
        public int[] order() {
            if (order != null) {
                return order.clone();
            }
            int[] identity = new int[count];
            for (int i = 0; i < count; i++) {
                identity[i] = i;
            }
            return identity;
        }
    }

    /** Epoch {@code e} (0-based): a permutation from (seed, e) when shuffling, else the stored order; no prefetch. */
    public Epoch epoch(int e) {
        return epoch(e, false);
    }

    /**
     * Epoch {@code e}, prefetching when {@code prefetch} and the device's uploads overlap computation (a
     * GPU; on the CPU uploads are plain copies and nothing is prepared ahead). Close a prefetching epoch
     * (try-with-resources) so that a batch prepared ahead is freed when the epoch is abandoned.
     */
    public Epoch epoch(int e, boolean prefetch) {
        if (!shuffle) {
            return new Epoch(null, e, prefetch);
        }
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e);
        for (int i = count - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new Epoch(order, e, prefetch);
    }

    /** Number of batches per epoch: ceil(count / batchSize). */
    public int batchCount() {
        return (count + batchSize - 1) / batchSize;
    }

    public int size() {
        return count;
    }

    public int batchSize() {
        return batchSize;
    }

    public Device device() {
        return device;
    }

    /** Features per sample (the width of a batch's feature matrix). */
    public int width() {
        return width;
    }

    /** True when each epoch visits the samples in an order drawn from (seed, epoch). */
    public boolean shuffles() {
        return shuffle;
    }

    /** The seed of the epochs' orders (unused without shuffling). */
    public long seed() {
        return seed;
    }

    /**
     * A checksum of the data (width, count, every feature's bits and every label, and the shifts when the
     * loader augments) as 8 hex digits
     * (CRC-32C): equal for the same samples in the same order, and almost surely different otherwise. A
     * checkpoint records it so that a resumed run can refuse different data.
     */
    public String fingerprint() {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(width).putInt(count);
        for (float f : features) {
            if (buf.remaining() < Float.BYTES) {
                crc.update(buf.flip());
                buf.clear();
            }
            buf.putFloat(f);
        }
        for (long l : labels) {
            if (buf.remaining() < Long.BYTES) {
                crc.update(buf.flip());
                buf.clear();
            }
            buf.putLong(l);
        }
        crc.update(buf.flip());
        if (shift != null) {
            crc.update(shift.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        return String.format("%08x", crc.getValue());
    }
}
