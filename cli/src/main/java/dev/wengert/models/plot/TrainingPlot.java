package dev.wengert.models.plot;

import dev.wengert.models.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.DoubleStream;
import javax.imageio.ImageIO;

/**
 * Draws training curves to a PNG: train loss per epoch on the left, test accuracy per epoch on
 * the right, each with axes, tick labels, a grid, a title and a marker on every point.
 *
 * <p>Non-finite values (NaN, infinity) are skipped and break the line; the panel title says how
 * many were skipped. A single epoch is drawn as a lone marker. Rendering needs no display: unless
 * {@code java.awt.headless} was set explicitly, this class sets it to {@code true}.
 */
public final class TrainingPlot {

    /** Image width in pixels. */
    public static final int WIDTH = 1200;
    /** Image height in pixels. */
    public static final int HEIGHT = 480;
    /** Colour of the loss curve and its markers. */
    public static final Color LOSS_COLOR = new Color(31, 119, 180);
    /** Colour of the accuracy curve and its markers. */
    public static final Color ACCURACY_COLOR = new Color(255, 127, 14);

    private static final int TITLE_HEIGHT = 40;
    private static final int MARGIN_LEFT = 80;
    private static final int MARGIN_RIGHT = 30;
    private static final int MARGIN_TOP = 36;
    private static final int MARGIN_BOTTOM = 56;
    private static final int TARGET_TICKS = 6;
    private static final double MARKER_RADIUS = 4.5;
    private static final Color GRID = new Color(225, 225, 225);
    private static final Color AXIS = new Color(60, 60, 60);
    private static final Color TEXT = new Color(30, 30, 30);

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private TrainingPlot() {}

    /**
     * Writes the two-panel plot as a {@link #WIDTH} x {@link #HEIGHT} PNG (via a temporary file
     * and an atomic rename).
     *
     * @param png the output file
     * @param title the figure title, e.g. {@code "MLP on MNIST"}
     * @param trainLoss mean training loss of each epoch (epoch 1 first); may be empty
     * @param testAccuracy test accuracy after each epoch; may be empty
     */
    public static void write(Path png, String title, double[] trainLoss, double[] testAccuracy) throws IOException {
        Objects.requireNonNull(png, "png");
        BufferedImage image = render(title == null ? "" : title,
                Objects.requireNonNull(trainLoss, "trainLoss"), Objects.requireNonNull(testAccuracy, "testAccuracy"));
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer available in this JVM (javax.imageio)");
            }
        });
    }

    /** Renders the figure in memory. */
    static BufferedImage render(String title, double[] trainLoss, double[] testAccuracy) {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setColor(TEXT);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            drawCentered(g, title, WIDTH / 2, 28);
            int panelWidth = WIDTH / 2;
            new Panel("train loss", "loss", trainLoss, LOSS_COLOR)
                    .draw(g, 0, TITLE_HEIGHT, panelWidth, HEIGHT - TITLE_HEIGHT);
            new Panel("test accuracy", "accuracy", testAccuracy, ACCURACY_COLOR)
                    .draw(g, panelWidth, TITLE_HEIGHT, panelWidth, HEIGHT - TITLE_HEIGHT);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** One chart: a series of per-epoch values. */
    private record Panel(String title, String yLabel, double[] values, Color color) {

        void draw(Graphics2D g, int x0, int y0, int width, int height) {
            int left = x0 + MARGIN_LEFT;
            int right = x0 + width - MARGIN_RIGHT;
            int top = y0 + MARGIN_TOP;
            int bottom = y0 + height - MARGIN_BOTTOM;

            int skipped = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (double v : values) {
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                } else {
                    skipped++;
                }
            }
            g.setColor(TEXT);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            String heading = skipped == 0 ? title : title + " (" + skipped + " non-finite skipped)";
            drawCentered(g, heading, (left + right) / 2, top - 12);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            drawCentered(g, "epoch", (left + right) / 2, bottom + 42);
            drawRotated(g, yLabel, x0 + 18, (top + bottom) / 2);

            if (min > max) {
                drawFrame(g, left, top, right, bottom);
                g.setColor(TEXT);
                drawCentered(g, "no data", (left + right) / 2, (top + bottom) / 2);
                return;
            }
            Axis xAxis = Axis.forEpochs(values.length);
            Axis yAxis = Axis.forValues(min, max);
            Scale sx = new Scale(xAxis.lo, xAxis.hi, left, right);
            Scale sy = new Scale(yAxis.lo, yAxis.hi, bottom, top);

            FontMetrics fm = g.getFontMetrics();
            for (double t : xAxis.ticks) {
                double px = sx.map(t);
                g.setColor(GRID);
                g.draw(new Line2D.Double(px, top, px, bottom));
                g.setColor(AXIS);
                g.draw(new Line2D.Double(px, bottom, px, bottom + 5));
                g.setColor(TEXT);
                drawCentered(g, xAxis.label(t), (int) Math.round(px), bottom + 8 + fm.getAscent());
            }
            for (double t : yAxis.ticks) {
                double py = sy.map(t);
                g.setColor(GRID);
                g.draw(new Line2D.Double(left, py, right, py));
                g.setColor(AXIS);
                g.draw(new Line2D.Double(left - 5, py, left, py));
                g.setColor(TEXT);
                String text = yAxis.label(t);
                g.drawString(text, left - 8 - fm.stringWidth(text), (int) Math.round(py + fm.getAscent() / 2.0 - 1));
            }
            drawFrame(g, left, top, right, bottom);

            g.setColor(color);
            g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            for (int i = 1; i < values.length; i++) {
                if (Double.isFinite(values[i - 1]) && Double.isFinite(values[i])) {
                    g.draw(new Line2D.Double(sx.map(i), sy.map(values[i - 1]), sx.map(i + 1), sy.map(values[i])));
                }
            }
            // Shrink markers when epochs are crowded so they do not merge into a thick band.
            double r = Math.min(MARKER_RADIUS, Math.max(1.5, (sx.map(2) - sx.map(1)) / 3));
            for (int i = 0; i < values.length; i++) {
                if (Double.isFinite(values[i])) {
                    g.fill(new Ellipse2D.Double(sx.map(i + 1) - r, sy.map(values[i]) - r, 2 * r, 2 * r));
                }
            }
            g.setStroke(new BasicStroke(1f));
        }

        private static void drawFrame(Graphics2D g, int left, int top, int right, int bottom) {
            g.setColor(AXIS);
            g.setStroke(new BasicStroke(1f));
            g.drawRect(left, top, right - left, bottom - top);
        }
    }

    /** Linear map from data coordinates to pixels. */
    private record Scale(double lo, double hi, double pixelLo, double pixelHi) {
        double map(double v) {
            return pixelLo + (v - lo) / (hi - lo) * (pixelHi - pixelLo);
        }
    }

    /** An axis range with "nice" tick positions (1, 2 or 5 times a power of ten). */
    private record Axis(double lo, double hi, double[] ticks, int decimals) {

        /** Epochs 1..n with half an epoch of room on each side; ticks at multiples of a nice integer step. */
        static Axis forEpochs(int n) {
            double step = Math.max(1, niceStep(n / (double) TARGET_TICKS));
            DoubleStream.Builder ticks = DoubleStream.builder();
            for (double t = step; t <= n; t += step) {
                ticks.add(t);
            }
            return new Axis(0.5, n + 0.5, ticks.build().toArray(), 0);
        }

        /** A range covering [min, max], widened when all values are equal. */
        static Axis forValues(double min, double max) {
            if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
                double pad = Math.abs(max) > 0 ? Math.abs(max) * 0.1 : 0.5;
                min -= pad;
                max += pad;
            }
            double step = niceStep((max - min) / (TARGET_TICKS - 1));
            double lo = Math.floor(min / step) * step;
            double hi = Math.ceil(max / step) * step;
            int count = (int) Math.round((hi - lo) / step);
            double[] ticks = new double[count + 1];
            for (int i = 0; i <= count; i++) {
                ticks[i] = lo + i * step;
            }
            int decimals = (int) Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
            return new Axis(lo, hi, ticks, decimals);
        }

        String label(double v) {
            return String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < 1e-12 ? 0.0 : v);
        }

        private static double niceStep(double rough) {
            double magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
            double f = rough / magnitude;
            double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
            return nice * magnitude;
        }
    }

    private static void drawCentered(Graphics2D g, String text, int centerX, int baseline) {
        g.drawString(text, centerX - g.getFontMetrics().stringWidth(text) / 2, baseline);
    }

    private static void drawRotated(Graphics2D g, String text, int x, int centerY) {
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, x, centerY);
        drawCentered(g, text, x, centerY + g.getFontMetrics().getAscent() / 2);
        g.setTransform(saved);
    }
}
