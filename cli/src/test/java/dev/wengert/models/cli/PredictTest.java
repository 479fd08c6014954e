package dev.wengert.models.cli;

import static dev.wengert.models.cli.CliTest.json;
import static dev.wengert.models.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.cli.CliTest.Outcome;
import dev.wengert.models.data.IdxFile;
import dev.wengert.models.data.MnistData;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** wengert predict on IDX image files and PNGs, and its refusals. */
class PredictTest {
    @TempDir
    static Path dir;
    static Path checkpoint;
    static MnistData.Split test;

    @BeforeAll
    static void trainOnce() throws Exception {
        Path run = dir.resolve("run");
        Outcome t = run("train", "--epochs", "1", "--output", run.toString());
        assertEquals(0, t.code(), t.err());
        checkpoint = run.resolve("model.safetensors");
        test = MnistData.embedded().test();
    }

    /** The first n test images as an IDX file. */
    private static Path idx(String name, int n) throws Exception {
        Path f = dir.resolve(name);
        byte[] px = new byte[n * 784];
        System.arraycopy(test.pixels(), 0, px, 0, px.length);
        IdxFile.write(f, new int[] {n, 28, 28}, px, name.endsWith(".gz"));
        return f;
    }

    /** Test image i as a PNG, scaled up by {@code scale}, optionally dark on light and in colour. */
    private static Path png(String name, int i, int scale, boolean darkOnLight, boolean colour) throws Exception {
        byte[] px = test.pixels();
        BufferedImage img = new BufferedImage(28 * scale, 28 * scale, colour ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28 * scale; y++) {
            for (int x = 0; x < 28 * scale; x++) {
                int v = px[i * 784 + (y / scale) * 28 + x / scale] & 0xff;
                if (darkOnLight) {
                    v = 255 - v;
                }
                img.setRGB(x, y, colour ? (v << 16) | (v << 8) | (v * 3 / 4) : (v << 16) | (v << 8) | v);
            }
        }
        Path f = dir.resolve(name);
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    private static int predicted(String out, String name) {
        Matcher m = Pattern.compile(Pattern.quote(name) + ": (\\d) \\(probability (0\\.\\d{3}|1\\.000)\\)").matcher(out);
        assertTrue(m.find(), name + " in " + out);
        return Integer.parseInt(m.group(1));
    }

    @Test
    @SuppressWarnings("unchecked")
    void classifiesEveryImageOfAnIdxFileAndWritesJson() throws Exception {
        Path images = idx("few-images-idx3-ubyte.gz", 20);
        Path out = dir.resolve("predictions.json");
        Outcome r = run("predict", "--checkpoint", checkpoint.toString(), "--json", out.toString(), images.toString());
        assertEquals(0, r.code(), r.err());
        long[] labels = test.labelsAsLongs();
        int right = 0;
        for (int i = 0; i < 20; i++) {
            right += predicted(r.out(), "few-images-idx3-ubyte.gz[" + i + "]") == labels[i] ? 1 : 0;
        }
        assertTrue(right >= 15, right + "/20 right");
        List<Map<String, Object>> rows = (List<Map<String, Object>>) json(out).get("predictions");
        assertEquals(20, rows.size());
        List<Double> p = (List<Double>) rows.get(0).get("probabilities");
        assertEquals(10, p.size());
        assertEquals(1.0, p.stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
        assertEquals(p.get(((Number) rows.get(0).get("class")).intValue()), rows.get(0).get("probability"));
    }

    @Test
    void pngsAreReadAsIsOrAdaptedWithANote() throws Exception {
        Path exact = png("exact.png", 3, 1, false, false);
        Path big = png("big.png", 3, 4, true, true);
        Outcome r = run("predict", "--checkpoint", checkpoint.toString(), exact.toString(), big.toString(),
                idx("one-images-idx3-ubyte", 4).toString());
        assertEquals(0, r.code(), r.err());
        int fromIdx = predicted(r.out(), "one-images-idx3-ubyte[3]");
        assertEquals(fromIdx, predicted(r.out(), "exact.png"));
        assertEquals(fromIdx, predicted(r.out(), "big.png"));
        String exactLine = r.out().lines().filter(l -> l.startsWith("exact.png")).findFirst().orElseThrow();
        assertTrue(!exactLine.contains("["), "a 28x28 gray light-on-dark PNG needs no note: " + exactLine);
        String bigLine = r.out().lines().filter(l -> l.startsWith("big.png")).findFirst().orElseThrow();
        assertTrue(bigLine.contains("resized from 112x112 to 28x28"), bigLine);
        assertTrue(bigLine.contains("inverted (a dark digit on a light background"), bigLine);
        assertTrue(bigLine.contains("colour converted to gray"), bigLine);
    }

    @Test
    void wrongInputsAreRefusedClearly() throws Exception {
        Path wide = dir.resolve("wide.png");
        ImageIO.write(new BufferedImage(280, 28, BufferedImage.TYPE_BYTE_GRAY), "png", wide.toFile());
        Path jpeg = Files.write(dir.resolve("photo.png"), new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 0x10, 'J', 'F'});
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello, world");
        Path labels = dir.resolve("labels-idx1-ubyte");
        IdxFile.write(labels, new int[] {3}, new byte[] {1, 2, 3}, false);
        Path small = dir.resolve("small-idx3-ubyte");
        IdxFile.write(small, new int[] {1, 8, 8}, new byte[64], false);
        Path broken = Files.write(dir.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0});
        Map<Path, String> expected = Map.of(
                wide, "wide.png is 280x28: too far from square to become a 28x28 digit; crop it to the digit first",
                jpeg, "photo.png is neither a PNG image nor an IDX image file (it starts with ff d8 ff e0 00 10 4a 46, a JPEG: convert it to PNG)",
                text, "notes.txt is neither a PNG image nor an IDX image file",
                labels, "labels-idx1-ubyte is an IDX file of 1 dimension (labels?); predict needs images: 3 dimensions, count x rows x cols",
                small, "small-idx3-ubyte holds 8x8 images; the model takes 28x28",
                broken, "broken.png: not a readable PNG",
                dir.resolve("missing.png"), "missing.png: no such file");
        for (Map.Entry<Path, String> e : expected.entrySet()) {
            Outcome r = run("predict", "--checkpoint", checkpoint.toString(), e.getKey().toString());
            assertEquals(1, r.code(), e.getKey() + ": " + r.out());
            assertTrue(r.err().startsWith("wengert predict: error: "), r.err());
            assertTrue(r.err().contains(e.getValue()), r.err() + " should contain " + e.getValue());
        }
    }

    @Test
    void areaAveragingResizeKeepsMeansAndUndoesAnUpscale() {
        double[] src = new double[4 * 4];
        for (int i = 0; i < src.length; i++) {
            src[i] = i / 15.0;
        }
        float[] half = PngDigits.resize(src, 4, 4, 2);
        assertArrayEquals(new float[] {(float) (2.5 / 15), (float) (4.5 / 15), (float) (10.5 / 15), (float) (12.5 / 15)}, half, 1e-6f);
        double[] up = new double[6 * 6];
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                up[y * 6 + x] = src[(y / 3) * 4 + x / 3] + 0 * x;
            }
        }
        float[] back = PngDigits.resize(up, 6, 6, 2);
        assertEquals((float) src[0], back[0], 1e-6f);
    }
}
