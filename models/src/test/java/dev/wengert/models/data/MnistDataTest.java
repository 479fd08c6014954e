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
}
