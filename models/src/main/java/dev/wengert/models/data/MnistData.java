package dev.wengert.models.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The MNIST handwritten digits: a training and a test {@link Split}, each a set of 8-bit
 * grayscale images with labels 0..9, loaded from IDX files.
 *
 * @param train the training images and labels
 * @param test the test images and labels
 * @param source where the data came from (a directory or the bundled resources), for logs
 */
public record MnistData(Split train, Split test, String source) {

    /** Class-path folder of the bundled subset (8,000 train / 2,000 test digits, see its README.md). */
    public static final String EMBEDDED_RESOURCE_DIR = "/dev/wengert/models/data/mnist-subset/";

    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;
    private static final int NUM_CLASSES = 10;

    public MnistData {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
        Objects.requireNonNull(source, "source");
    }

    /**
     * Images and labels of one split. Immutable: the constructor and the array accessors copy.
     *
     * @param count number of images
     * @param rows image height in pixels
     * @param cols image width in pixels
     * @param pixels {@code count * rows * cols} unsigned bytes, image after image, row-major
     * @param labels {@code count} labels in 0..9
     */
    public record Split(int count, int rows, int cols, byte[] pixels, byte[] labels) {

        /**
         * @throws IllegalArgumentException if a size is negative, an array length does not match
         *     the sizes, or a label is outside 0..9
         */
        public Split {
            Objects.requireNonNull(pixels, "pixels");
            Objects.requireNonNull(labels, "labels");
            if (count < 0 || rows < 0 || cols < 0) {
                throw new IllegalArgumentException("negative size: count " + count + ", rows " + rows + ", cols " + cols);
            }
            if (pixels.length != (long) count * rows * cols) {
                throw new IllegalArgumentException("expected " + count + " x " + rows + " x " + cols
                        + " = " + (long) count * rows * cols + " pixels, found " + pixels.length);
            }
            if (labels.length != count) {
                throw new IllegalArgumentException("expected " + count + " labels, found " + labels.length);
            }
            int bad = firstBadLabel(labels);
            if (bad >= 0) {
                throw new IllegalArgumentException("label " + (labels[bad] & 0xff) + " at index " + bad
                        + " is outside 0.." + (NUM_CLASSES - 1));
            }
            pixels = pixels.clone();
            labels = labels.clone();
        }

        /** A copy of the raw pixel bytes (unsigned: {@code b & 0xff}). */
        @Override
        public byte[] pixels() {
            return pixels.clone();
        }

        /** A copy of the labels. */
        @Override
        public byte[] labels() {
            return labels.clone();
        }

        /** Pixels scaled to [0, 1] ({@code pixel / 255f}), row-major {@code count x (rows*cols)}. */
        public float[] imagesAsFloats() {
            float[] out = new float[pixels.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (pixels[i] & 0xff) / 255f;
            }
            return out;
        }

        /** Labels as longs (the usual class-index type for cross-entropy). */
        public long[] labelsAsLongs() {
            long[] out = new long[labels.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = labels[i] & 0xff;
            }
            return out;
        }

        /**
         * Splits off a validation part: {@code round(fraction * count)} samples chosen uniformly at random
         * (the first ones of a permutation drawn from {@code seed}), the rest for training; each part keeps
         * the samples in their original order. Not stratified: each part's class proportions differ from the
         * whole by chance (a few tenths of a percent for MNIST's sizes). Deterministic: the same split,
         * fraction and seed give the same parts on every machine and Java version. A fraction of 0 gives an
         * empty validation part (no monitoring). Does not modify this split.
         *
         * @throws IllegalArgumentException if {@code fraction} is outside [0, 1), or if a positive fraction
         *     leaves the validation or the training part empty (too few samples)
         */
        public HoldOut holdOut(double fraction, long seed) {
            if (!(fraction >= 0 && fraction < 1)) {
                throw new IllegalArgumentException("validation fraction must be in [0, 1) (0 for no validation), got " + fraction);
            }
            int held = (int) Math.round(fraction * count);
            if (fraction > 0 && held == 0) {
                throw new IllegalArgumentException("a validation fraction of " + fraction + " of " + count
                        + " samples holds out no sample; use at least " + 1.0 / count + " (one sample), or 0 for no validation");
            }
            if (held == count && count > 0) {
                throw new IllegalArgumentException("a validation fraction of " + fraction + " of " + count
                        + " samples leaves no sample to train on; use a smaller fraction");
            }
            int[] order = new int[count];
            for (int i = 0; i < count; i++) {
                order[i] = i;
            }
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = count - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            boolean[] validation = new boolean[count];
            for (int i = 0; i < held; i++) {
                validation[order[i]] = true;
            }
            return new HoldOut(select(validation, false, count - held), select(validation, true, held));
        }

        /** The samples whose flag equals {@code which}, in order ({@code n} of them). */
        private Split select(boolean[] flags, boolean which, int n) {
            int size = rows * cols;
            byte[] p = new byte[n * size];
            byte[] l = new byte[n];
            int k = 0;
            for (int i = 0; i < count; i++) {
                if (flags[i] == which) {
                    System.arraycopy(pixels, i * size, p, k * size, size);
                    l[k++] = labels[i];
                }
            }
            return new Split(n, rows, cols, p, l);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Split s && count == s.count && rows == s.rows && cols == s.cols
                    && Arrays.equals(pixels, s.pixels) && Arrays.equals(labels, s.labels);
        }

        @Override
        public int hashCode() {
            return Objects.hash(count, rows, cols, Arrays.hashCode(pixels), Arrays.hashCode(labels));
        }

        @Override
        public String toString() {
            return "Split[count=" + count + ", rows=" + rows + ", cols=" + cols + "]";
        }
    }

    /**
     * The two parts of {@link Split#holdOut}: what to train on and what to validate on (monitor each
     * epoch, choose the best epoch by). The test split stays for one evaluation at the end.
     */
    public record HoldOut(Split train, Split validation) {
        public HoldOut {
            Objects.requireNonNull(train, "train");
            Objects.requireNonNull(validation, "validation");
        }
    }

    /** The four files of a data set; each has alternative names, tried in order. */
    private enum Part {
        TRAIN_IMAGES("train images", "train-images-idx3-ubyte"),
        TRAIN_LABELS("train labels", "train-labels-idx1-ubyte"),
        TEST_IMAGES("test images", "t10k-images-idx3-ubyte", "test-images-idx3-ubyte"),
        TEST_LABELS("test labels", "t10k-labels-idx1-ubyte", "test-labels-idx1-ubyte");

        final String description;
        final List<String> candidates = new ArrayList<>();

        Part(String description, String... baseNames) {
            this.description = description;
            for (String base : baseNames) {
                candidates.add(base);
                candidates.add(base + ".gz");
            }
        }
    }

    /** Opens one part of the data set and names it in messages. */
    @FunctionalInterface
    private interface PartReader {
        Named read(Part part) throws IOException;
    }

    private record Named(IdxFile file, String name) {}

    /**
     * Loads MNIST from a directory holding the four standard files, raw or gzipped:
     * {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
     * {@code t10k-images-idx3-ubyte} (or {@code test-images-idx3-ubyte}) and
     * {@code t10k-labels-idx1-ubyte} (or {@code test-labels-idx1-ubyte}), each optionally with
     * {@code .gz}.
     *
     * @throws IdxFormatException if a file is missing (the message lists every name tried), is
     *     malformed, or the files do not fit together
     */
    public static MnistData load(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        if (!Files.isDirectory(absolute)) {
            throw new IdxFormatException("MNIST directory not found: " + absolute);
        }
        return assemble(absolute.toString(), part -> {
            for (String candidate : part.candidates) {
                Path file = absolute.resolve(candidate);
                if (Files.isRegularFile(file)) {
                    return new Named(IdxFile.read(file), file.toString());
                }
            }
            throw new IdxFormatException("MNIST " + part.description + " not found in " + absolute
                    + ": looked for " + String.join(", ", part.candidates));
        });
    }

    /**
     * Loads the subset bundled with this library (class-path resources under
     * {@link #EMBEDDED_RESOURCE_DIR}): 8,000 training and 2,000 test digits.
     */
    public static MnistData embedded() throws IOException {
        return assemble("embedded MNIST subset (classpath:" + EMBEDDED_RESOURCE_DIR + ")", part -> {
            for (String candidate : part.candidates) {
                String resource = EMBEDDED_RESOURCE_DIR + candidate;
                InputStream in = MnistData.class.getResourceAsStream(resource);
                if (in != null) {
                    try (in) {
                        String name = "classpath:" + resource;
                        return new Named(IdxFile.read(in, name), name);
                    }
                }
            }
            throw new IdxFormatException("MNIST " + part.description + " not found on the class path in "
                    + EMBEDDED_RESOURCE_DIR + ": looked for " + String.join(", ", part.candidates));
        });
    }

    private static MnistData assemble(String source, PartReader reader) throws IOException {
        Split train = split(reader.read(Part.TRAIN_IMAGES), reader.read(Part.TRAIN_LABELS));
        Split test = split(reader.read(Part.TEST_IMAGES), reader.read(Part.TEST_LABELS));
        if (train.rows() != test.rows() || train.cols() != test.cols()) {
            throw new IdxFormatException(source + ": train images are " + train.rows() + "x" + train.cols()
                    + " but test images are " + test.rows() + "x" + test.cols());
        }
        return new MnistData(train, test, source);
    }

    private static Split split(Named images, Named labels) throws IdxFormatException {
        requireMagic(images, IMAGES_MAGIC, "an image file");
        requireMagic(labels, LABELS_MAGIC, "a label file");
        int[] imageDims = images.file().dims();
        int count = imageDims[0];
        int labelCount = labels.file().dims()[0];
        if (count != labelCount) {
            throw new IdxFormatException("image/label count mismatch: " + count + " images in "
                    + images.name() + " but " + labelCount + " labels in " + labels.name());
        }
        byte[] labelBytes = labels.file().data();
        int bad = firstBadLabel(labelBytes);
        if (bad >= 0) {
            throw new IdxFormatException(labels.name() + ": label " + (labelBytes[bad] & 0xff)
                    + " at index " + bad + " is outside 0.." + (NUM_CLASSES - 1));
        }
        return new Split(count, imageDims[1], imageDims[2], images.file().data(), labelBytes);
    }

    private static void requireMagic(Named named, int expected, String what) throws IdxFormatException {
        int found = named.file().magic();
        if (found != expected) {
            throw new IdxFormatException(String.format(
                    "%s: expected %s (magic 0x%08X, %d dimensions), found magic 0x%08X (%d dimensions)",
                    named.name(), what, expected, expected & 0xff, found, named.file().rank()));
        }
    }

    /** Index of the first label outside 0..9, or -1. */
    private static int firstBadLabel(byte[] labels) {
        for (int i = 0; i < labels.length; i++) {
            if ((labels[i] & 0xff) >= NUM_CLASSES) {
                return i;
            }
        }
        return -1;
    }
}
