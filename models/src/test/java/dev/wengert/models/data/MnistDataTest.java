package dev.wengert.models.data;

import static dev.wengert.models.data.IdxFileTest.assertMessageContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDataTest {

    @TempDir
    Path dir;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = MnistData.class.getResourceAsStream(MnistData.EMBEDDED_RESOURCE_DIR + name)) {
            assertNotNull(in, "missing class-path resource " + name);
            return in.readAllBytes();
        }
    }

    @Test
    void embeddedSubsetHas8000TrainAnd2000TestDigits() throws IOException {
        MnistData mnist = MnistData.embedded();
        assertEquals(8000, mnist.train().count());
        assertEquals(2000, mnist.test().count());
        for (MnistData.Split s : new MnistData.Split[] {mnist.train(), mnist.test()}) {
            assertEquals(28, s.rows());
            assertEquals(28, s.cols());
            float[] images = s.imagesAsFloats();
            assertEquals(s.count() * 28 * 28, images.length);
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float v : images) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertEquals(0f, min);
            assertEquals(1f, max);
            long[] labels = s.labelsAsLongs();
            assertEquals(s.count(), labels.length);
            int[] perClass = new int[10];
            for (long l : labels) {
                assertTrue(l >= 0 && l <= 9, "label " + l);
                perClass[(int) l]++;
            }
            for (int c = 0; c < 10; c++) {
                assertTrue(perClass[c] > s.count() / 20, "class " + c + " has only " + perClass[c] + " examples");
            }
        }
        assertTrue(mnist.source().contains(MnistData.EMBEDDED_RESOURCE_DIR), mnist.source());
    }

    @Test
    void bundledFilesMatchTheSha256InTheirReadme() throws IOException, NoSuchAlgorithmException {
        String readme = new String(resource("README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains("Provenance"), "README must keep the provenance note");
        Matcher m = Pattern.compile("(?m)^([0-9a-f]{64})\\s+(\\S+)\\s*$").matcher(readme);
        Map<String, String> expected = new LinkedHashMap<>();
        while (m.find()) {
            expected.put(m.group(2), m.group(1));
        }
        assertEquals(4, expected.size(), "README should list the sha256 of the four files: " + expected);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(resource(e.getKey()));
            assertEquals(e.getValue(), HexFormat.of().formatHex(digest), "sha256 of " + e.getKey());
        }
    }

    /** Writes a tiny data set: 3 train and 2 test images of 2x2. */
    private void writeSet(String testPrefix, boolean gzip) throws IOException {
        String gz = gzip ? ".gz" : "";
        IdxFile.write(dir.resolve("train-images-idx3-ubyte" + gz), new int[] {3, 2, 2},
                new byte[] {0, 51, (byte) 255, 1, 2, 3, 4, 5, 6, 7, 8, 9}, gzip);
        IdxFile.write(dir.resolve("train-labels-idx1-ubyte" + gz), new int[] {3}, new byte[] {0, 9, 4}, gzip);
        IdxFile.write(dir.resolve(testPrefix + "-images-idx3-ubyte" + gz), new int[] {2, 2, 2}, new byte[8], gzip);
        IdxFile.write(dir.resolve(testPrefix + "-labels-idx1-ubyte" + gz), new int[] {2}, new byte[] {7, 1}, gzip);
    }

    @Test
    void loadsRawT10kNamesFromADirectory() throws IOException {
        writeSet("t10k", false);
        MnistData mnist = MnistData.load(dir);
        assertEquals(3, mnist.train().count());
        assertEquals(2, mnist.test().count());
        assertEquals(2, mnist.train().rows());
        float[] f = mnist.train().imagesAsFloats();
        assertEquals(0f, f[0]);
        assertEquals(0.2f, f[1], 1e-7f);
        assertEquals(1f, f[2]);
        assertArrayEquals(new long[] {0, 9, 4}, mnist.train().labelsAsLongs());
        assertArrayEquals(new long[] {7, 1}, mnist.test().labelsAsLongs());
        assertEquals(dir.toAbsolutePath().toString(), mnist.source());
    }

    @Test
    void loadsGzippedTestNamesFromADirectory() throws IOException {
        writeSet("test", true);
        MnistData mnist = MnistData.load(dir);
        assertArrayEquals(new byte[] {7, 1}, mnist.test().labels());
        assertEquals(12, mnist.train().pixels().length);
    }

    @Test
    void missingFileListsEveryNameTriedAndTheDirectory() throws IOException {
        writeSet("t10k", false);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> MnistData.load(dir));
        assertMessageContains(e, "test labels", dir.toAbsolutePath().toString(), "t10k-labels-idx1-ubyte,",
                "t10k-labels-idx1-ubyte.gz", "test-labels-idx1-ubyte,", "test-labels-idx1-ubyte.gz");
    }

    @Test
    void missingDirectoryIsNamed() {
        Path missing = dir.resolve("no-such-dir");
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> MnistData.load(missing));
        assertMessageContains(e, "directory not found", missing.toString());
    }

    @Test
    void imagesMustBeThreeDimensional() throws IOException {
        writeSet("t10k", false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        IdxFile.write(images, new int[] {3, 4}, new byte[12], false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> MnistData.load(dir));
        assertMessageContains(e, images.toString(), "expected an image file", "0x00000803", "found magic 0x00000802");
    }

    @Test
    void labelsMustBeOneDimensional() throws IOException {
        writeSet("t10k", false);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte");
        IdxFile.write(labels, new int[] {2, 1}, new byte[] {1, 2}, false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> MnistData.load(dir));
        assertMessageContains(e, labels.toString(), "expected a label file", "0x00000801", "found magic 0x00000802");
    }

    @Test
    void imageAndLabelCountsMustMatch() throws IOException {
        writeSet("t10k", false);
        IdxFile.write(dir.resolve("train-labels-idx1-ubyte"), new int[] {2}, new byte[] {1, 2}, false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> MnistData.load(dir));
        assertMessageContains(e, "3 images in", "train-images-idx3-ubyte", "2 labels in", "train-labels-idx1-ubyte");
    }

    @Test
    void labelsOutsideZeroToNineAreRefused() throws IOException {
        writeSet("t10k", false);
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        IdxFile.write(labels, new int[] {3}, new byte[] {1, 10, 2}, false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> MnistData.load(dir));
        assertMessageContains(e, labels.toString(), "label 10 at index 1", "outside 0..9");
    }

    @Test
    void splitValidatesAndCopies() {
        byte[] labels = {3};
        MnistData.Split s = new MnistData.Split(1, 1, 2, new byte[] {1, 2}, labels);
        labels[0] = 5;
        s.labels()[0] = 6;
        assertArrayEquals(new long[] {3}, s.labelsAsLongs());
        assertThrows(IllegalArgumentException.class, () -> new MnistData.Split(2, 1, 2, new byte[2], new byte[2]));
        assertThrows(IllegalArgumentException.class, () -> new MnistData.Split(1, 1, 2, new byte[2], new byte[] {11}));
    }

    /** {@code count} images of 1x2 pixels: image i holds i (pixels i % 256 and i / 256) and has label i % 10. */
    private static MnistData.Split indexed(int count) {
        byte[] pixels = new byte[2 * count];
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            pixels[2 * i] = (byte) (i % 256);
            pixels[2 * i + 1] = (byte) (i / 256);
            labels[i] = (byte) (i % 10);
        }
        return new MnistData.Split(count, 1, 2, pixels, labels);
    }

    private static int[] indices(MnistData.Split s) {
        byte[] p = s.pixels();
        int[] out = new int[s.count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (p[2 * i] & 0xff) + 256 * (p[2 * i + 1] & 0xff);
        }
        return out;
    }

    /**
     * holdOut partitions the samples (each exactly once, pixels with their labels), holds out round(f * n),
     * keeps the original order within each part, and is a function of (split, fraction, seed) only.
     */
    @Test
    void holdOutPartitionsDeterministically() {
        MnistData.Split all = indexed(1000);
        MnistData.HoldOut h = all.holdOut(0.1, 7);
        assertEquals(100, h.validation().count());
        assertEquals(900, h.train().count());
        int[] v = indices(h.validation());
        int[] t = indices(h.train());
        boolean[] seen = new boolean[1000];
        for (int[] part : new int[][] {v, t}) {
            for (int k = 0; k < part.length; k++) {
                assertTrue(!seen[part[k]], "sample " + part[k] + " in both parts");
                seen[part[k]] = true;
                assertTrue(k == 0 || part[k] > part[k - 1], "original order kept");
            }
        }
        byte[] vl = h.validation().labels();
        for (int k = 0; k < v.length; k++) {
            assertEquals(v[k] % 10, vl[k], "label travels with its image");
        }
        assertEquals(h, all.holdOut(0.1, 7), "same seed, same parts");
        assertEquals(h.validation(), indexed(1000).holdOut(0.1, 7).validation());
        assertTrue(!h.validation().equals(all.holdOut(0.1, 8).validation()), "another seed, another part");
        assertEquals(250, all.holdOut(0.25, 1).validation().count());
        MnistData.HoldOut none = all.holdOut(0, 7);
        assertEquals(0, none.validation().count());
        assertEquals(all, none.train());
    }

    @Test
    void holdOutRefusesBadFractions() {
        MnistData.Split all = indexed(10);
        for (double bad : new double[] {-0.1, 1, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> all.holdOut(bad, 1));
            assertMessageContains(e, "validation fraction must be in [0, 1)", String.valueOf(bad));
        }
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> all.holdOut(0.01, 1));
        assertMessageContains(none, "0.01 of 10 samples holds out no sample", "use at least 0.1");
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> indexed(1).holdOut(0.6, 1));
        assertMessageContains(empty, "leaves no sample to train on");
    }
}
