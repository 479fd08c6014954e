package dev.wengert.models.plot;

import dev.wengert.models.io.AtomicFiles;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws training curves with <a href="https://knowm.org/open-source/xchart/">XChart</a> to one PNG: train
 * loss per epoch on the left, validation accuracy (in percent) per epoch on the right, under the run's title.
 *
 * <p>Diverged runs stay readable: non-finite values (NaN, infinity) are left out, and a loss that spans more
 * than three orders of magnitude is drawn on a logarithmic axis; the panel's title says so
 * ({@link #write} also returns these notes). Tick labels are short ({@code 0.35}, {@code 1.2e+08}) whatever
 * the values. Rendering needs no display: unless {@code java.awt.headless} was set explicitly, this class sets
 * it to {@code true}; it does need the {@code java.desktop} module and fonts, so callers that must not fail
 * for want of them catch {@link LinkageError} and {@link Error}s from AWT.
 */
public final class TrainingPlot {

    /** Image width in pixels (two panels side by side). */
    public static final int WIDTH = 1200;
    /** Image height in pixels. */
    public static final int HEIGHT = 480;
    /** Height of the run's title above the two panels. */
    private static final int TITLE_HEIGHT = 32;
    /** Colour of the loss curve and its markers. */
    public static final Color LOSS_COLOR = new Color(31, 119, 180);
    /** Colour of the accuracy curve and its markers. */
    public static final Color ACCURACY_COLOR = new Color(255, 127, 14);
    /** Above this ratio of the largest to the smallest positive loss, the loss axis is logarithmic. */
    public static final double LOG_SCALE_RATIO = 1e3;

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private TrainingPlot() {
    }

    /**
     * Writes the two-panel plot as a {@link #WIDTH} x {@link #HEIGHT} PNG (via a temporary file and an atomic
     * rename), the right panel titled "validation accuracy".
     *
     * @param png the output file
     * @param title what the run was, e.g. {@code "mlp 784-512-256-10 on cpu"}; each panel's title starts with it
     * @param trainLoss mean training loss of each epoch (epoch 1 first); may be empty
     * @param accuracy validation accuracy in [0, 1] after each epoch; may be empty
     * @return notes on how the values were drawn (log scale, values left out); empty when drawn as they are
     */
    public static List<String> write(Path png, String title, double[] trainLoss, double[] accuracy) throws IOException {
        return write(png, title, trainLoss, accuracy, "validation accuracy");
    }

    /**
     * The same with the right panel's title, e.g. "no validation (--val-fraction 0)" over an empty {@code accuracy}.
     */
    public static List<String> write(Path png, String title, double[] trainLoss, double[] accuracy, String accuracyTitle)
            throws IOException {
        Objects.requireNonNull(png, "png");
        List<String> notes = new ArrayList<>();
        BufferedImage image = render(title == null ? "" : title, Objects.requireNonNull(trainLoss, "trainLoss"),
                Objects.requireNonNull(accuracy, "accuracy"), Objects.requireNonNull(accuracyTitle, "accuracyTitle"), notes);
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer available in this JVM (javax.imageio)");
            }
        });
        return notes;
    }

    /** Renders the figure in memory; appends notes on how values were drawn to {@code notes}. */
    static BufferedImage render(String title, double[] trainLoss, double[] accuracy, String accuracyTitle, List<String> notes) {
        double[] percent = new double[accuracy.length];
        for (int i = 0; i < percent.length; i++) {
            percent[i] = 100 * accuracy[i];
        }
        int top = title.isEmpty() ? 0 : TITLE_HEIGHT;
        BufferedImage left = BitmapEncoder.getBufferedImage(panel("train loss", "loss", trainLoss, LOSS_COLOR, true, HEIGHT - top, notes));
        BufferedImage right = BitmapEncoder.getBufferedImage(panel(accuracyTitle, "accuracy (%)", percent,
                ACCURACY_COLOR, false, HEIGHT - top, notes));
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            if (top > 0) {
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                g.setColor(new Color(30, 30, 30));
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
                FontMetrics fm = g.getFontMetrics();
                String shown = title;
                while (fm.stringWidth(shown) > WIDTH - 20 && shown.length() > 4) {
                    shown = shown.substring(0, shown.length() - 4) + "...";
                }
                g.drawString(shown, (WIDTH - fm.stringWidth(shown)) / 2, (top + fm.getAscent() - fm.getDescent()) / 2 + 2);
            }
            g.drawImage(left, 0, top, null);
            g.drawImage(right, WIDTH / 2, top, null);
        } finally {
            g.dispose();
        }
        return image;
    }

    private static XYChart panel(String title, String yTitle, double[] values, Color color, boolean mayUseLog, int height,
            List<String> notes) {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < values.length; i++) {
            if (Double.isFinite(values[i])) {
                xs.add(i + 1.0);
                ys.add(values[i]);
                min = Math.min(min, values[i]);
                max = Math.max(max, values[i]);
            }
        }
        List<String> panelNotes = new ArrayList<>();
        int skipped = values.length - ys.size();
        if (skipped > 0) {
            panelNotes.add(skipped + " non-finite value" + (skipped == 1 ? "" : "s") + " not drawn");
        }
        boolean log = mayUseLog && !ys.isEmpty() && min > 0 && max / min > LOG_SCALE_RATIO;
        if (log) {
            panelNotes.add("log scale");
        }
        String fullTitle = panelNotes.isEmpty() ? title : title + " (" + String.join("; ", panelNotes) + ")";
        for (String n : panelNotes) {
            notes.add(yTitle.replace(" (%)", "") + ": " + n);
        }

        XYChart chart = new XYChartBuilder().width(WIDTH / 2).height(height).title(fullTitle)
                .xAxisTitle("epoch").yAxisTitle(yTitle).build();
        var st = chart.getStyler();
        st.setLegendVisible(false);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotBorderVisible(true);
        st.setPlotGridLinesColor(new Color(225, 225, 225));
        st.setChartTitleBoxVisible(false);
        st.setLocale(Locale.ROOT);
        st.setAntiAlias(true);
        st.setMarkerSize(8);
        st.setToolTipsEnabled(false);
        st.setxAxisTickLabelsFormattingFunction(TrainingPlot::epochLabel);
        if (log) {
            // XChart's logarithmic ticks (decades) take a decimal pattern; a formatting function would make them linear
            st.setYAxisLogarithmic(true);
            st.setYAxisDecimalPattern("0.#E0");
        } else {
            st.setyAxisTickLabelsFormattingFunction(TrainingPlot::valueLabel);
        }
        st.setXAxisMin(values.length <= 1 ? 0.0 : 1.0);
        st.setXAxisMax(Math.max(2.0, values.length + (values.length <= 1 ? 1.0 : 0.0)));
        if (ys.isEmpty()) {
            st.setYAxisMin(0.0);
            st.setYAxisMax(1.0);
        } else if (!log && max - min < 1e-12 * Math.max(1, Math.abs(max))) {
            double pad = Math.max(1e-3, Math.abs(max) * 0.1);
            st.setYAxisMin(min - pad);
            st.setYAxisMax(max + pad);
        }
        if (!ys.isEmpty()) {
            // one series per run of finite values, so that the line breaks where values were left out
            int segment = 0;
            for (int start = 0; start < xs.size(); ) {
                int end = start + 1;
                while (end < xs.size() && xs.get(end) - xs.get(end - 1) == 1.0) {
                    end++;
                }
                XYSeries s = chart.addSeries(yTitle + " " + ++segment, xs.subList(start, end), ys.subList(start, end));
                s.setLineColor(color);
                s.setMarkerColor(color);
                s.setMarker(SeriesMarkers.CIRCLE);
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                start = end;
            }
        } else {
            // XChart needs a series to lay out the axes: one invisible point
            XYSeries s = chart.addSeries(yTitle, new double[] {1}, new double[] {0.5});
            s.setLineColor(new Color(0, 0, 0, 0));
            s.setMarkerColor(new Color(0, 0, 0, 0));
            s.setMarker(SeriesMarkers.NONE);
        }
        return chart;
    }

    /** Whole epochs only; ticks between them get a blank label (XChart cannot lay out an empty one). */
    static String epochLabel(Double x) {
        double r = Math.rint(x);
        return Math.abs(x - r) < 1e-9 && r >= 1 ? Long.toString((long) r) : " ";
    }

    /** At most about seven characters, whatever the magnitude: 0.35, 12.5, 1.2e+08, 3.0e-05. */
    static String valueLabel(Double v) {
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1e5 || a < 1e-3) {
            return String.format(Locale.ROOT, "%.1e", v);
        }
        String s = String.format(Locale.ROOT, "%.4g", v);
        if (s.contains(".") && !s.contains("e")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s;
    }
}
