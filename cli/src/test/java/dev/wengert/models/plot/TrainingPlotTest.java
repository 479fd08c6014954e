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
