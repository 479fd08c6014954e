package dev.wengert.models.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingPlotTest {

    @TempDir
    Path dir;

    /** Pixels of exactly {@code color} in columns [x0, x1). */
    private static int count(BufferedImage img, Color color, int x0, int x1) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = x0; x < x1; x++) {
                if ((img.getRGB(x, y) & 0xffffff) == (color.getRGB() & 0xffffff)) {
                    n++;
                }
            }
        }
        return n;
    }

    private BufferedImage writeAndRead(String name, double[] loss, double[] acc) throws IOException {
        Path png = dir.resolve(name);
        TrainingPlot.write(png, "test run", loss, acc);
        byte[] bytes = Files.readAllBytes(png);
        assertEquals(0x89, bytes[0] & 0xff);
        assertEquals("PNG", new String(bytes, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "not a readable image");
        assertEquals(TrainingPlot.WIDTH, img.getWidth());
        assertEquals(TrainingPlot.HEIGHT, img.getHeight());
        return img;
    }

    @Test
    void writesReadablePngWithBothCurvesInTheirPanels() throws IOException {
        BufferedImage img = writeAndRead("plot.png", new double[] {2.1, 0.9, 0.6, 0.45, 0.4},
                new double[] {0.80, 0.88, 0.90, 0.915, 0.92});
        int half = TrainingPlot.WIDTH / 2;
        assertTrue(count(img, TrainingPlot.LOSS_COLOR, 0, half) > 100, "loss curve missing");
        assertTrue(count(img, TrainingPlot.ACCURACY_COLOR, half, TrainingPlot.WIDTH) > 100, "accuracy curve missing");
        assertEquals(0, count(img, TrainingPlot.LOSS_COLOR, half, TrainingPlot.WIDTH));
        assertEquals(0, count(img, TrainingPlot.ACCURACY_COLOR, 0, half));
        assertEquals(Color.WHITE.getRGB(), img.getRGB(2, 2), "background");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("plot.png"), s.map(p -> p.getFileName().toString()).toList(), "no temp files left");
        }
    }

    @Test
    void singleEpochAndNaNValuesAreDrawn() throws IOException {
        BufferedImage one = writeAndRead("one.png", new double[] {0.7}, new double[] {0.9});
        assertTrue(count(one, TrainingPlot.LOSS_COLOR, 0, TrainingPlot.WIDTH / 2) > 20, "single marker missing");
        assertTrue(count(one, TrainingPlot.ACCURACY_COLOR, TrainingPlot.WIDTH / 2, TrainingPlot.WIDTH) > 20);

        BufferedImage nan = writeAndRead("nan.png", new double[] {1.0, Double.NaN, 0.5, Double.POSITIVE_INFINITY},
                new double[] {Double.NaN, 0.5, 0.6, 0.7});
        assertTrue(count(nan, TrainingPlot.LOSS_COLOR, 0, TrainingPlot.WIDTH / 2) > 40);
        assertTrue(count(nan, TrainingPlot.ACCURACY_COLOR, TrainingPlot.WIDTH / 2, TrainingPlot.WIDTH) > 60);
    }

    @Test
    void divergedRunsGetALogScaleOrLeaveOutNonFiniteValuesAndSaySo() throws IOException {
        Path png = dir.resolve("diverged.png");
        List<String> notes = TrainingPlot.write(png, "diverged", new double[] {2.3, 40, 9e6, 3e12, Double.NaN, Double.POSITIVE_INFINITY},
                new double[] {0.1, 0.1, 0.098, 0.1, 0.1, 0.1});
        assertEquals(List.of("loss: 2 non-finite values not drawn", "loss: log scale"), notes);
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(count(img, TrainingPlot.LOSS_COLOR, 0, TrainingPlot.WIDTH / 2) > 60, "the finite losses are drawn");
        List<String> calm = TrainingPlot.write(dir.resolve("calm.png"), "calm", new double[] {0.9, 0.5, 0.3}, new double[] {0.8, 0.9, 0.92});
        assertEquals(List.of(), calm);
        List<String> negative = TrainingPlot.write(dir.resolve("neg.png"), "", new double[] {-1e9, 5, 1e9}, new double[] {0.5, 0.5, 0.5});
        assertEquals(List.of(), negative, "no log scale across zero");
    }

    @Test
    void tickLabelsStayShortWhateverTheMagnitude() {
        assertEquals("0.35", TrainingPlot.valueLabel(0.35));
        assertEquals("12.5", TrainingPlot.valueLabel(12.5));
        assertEquals("1.2e+08", TrainingPlot.valueLabel(1.23e8));
        assertEquals("3.0e-05", TrainingPlot.valueLabel(3e-5));
        assertEquals("-4.0e+12", TrainingPlot.valueLabel(-4e12));
        assertEquals("0", TrainingPlot.valueLabel(0.0));
        assertEquals("100", TrainingPlot.valueLabel(100.0));
        for (double v : new double[] {1e300, -1e-300, 123456.789, 99999.99, 0.00123456}) {
            assertTrue(TrainingPlot.valueLabel(v).length() <= 9, v + " -> " + TrainingPlot.valueLabel(v));
        }
        assertEquals("3", TrainingPlot.epochLabel(3.0));
        assertEquals(" ", TrainingPlot.epochLabel(2.5));
        assertEquals(" ", TrainingPlot.epochLabel(0.0));
    }

    @Test
    void noDataGivesEmptyPanels() throws IOException {
        BufferedImage img = writeAndRead("empty.png", new double[0], new double[] {Double.NaN, Double.NaN});
        assertEquals(0, count(img, TrainingPlot.LOSS_COLOR, 0, TrainingPlot.WIDTH));
        assertEquals(0, count(img, TrainingPlot.ACCURACY_COLOR, 0, TrainingPlot.WIDTH));
    }

    @Test
    void runsHeadless() {
        assertNotNull(TrainingPlot.LOSS_COLOR); // initialises the class
        assertEquals("true", System.getProperty("java.awt.headless"));
        assertTrue(GraphicsEnvironment.isHeadless());
    }
}
