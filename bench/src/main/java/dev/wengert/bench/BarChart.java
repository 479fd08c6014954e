package dev.wengert.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/** A grouped bar chart of ms per step, one group per workload, log-scaled, written as PNG (temp file, then rename). */
final class BarChart {
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728)};

    private BarChart() {
    }

    /** "0.1 ms", "1 ms", "10,000 ms". */
    static String tick(double ms) {
        return ms >= 1 ? String.format(Locale.ROOT, "%,.0f ms", ms) : String.format(Locale.ROOT, "%s ms", java.math.BigDecimal.valueOf(ms).stripTrailingZeros().toPlainString());
    }

    static void write(Path png, String title, Map<Workload, Map<String, ThroughputRunner.Measurement>> results, List<String> impls)
            throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        int groups = results.size();
        int width = Math.max(640, 120 + groups * (impls.size() * 36 + 40));
        int height = 460;
        int left = 70;
        int bottom = 90;
        int top = 50;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double max = 0;
        double min = Double.MAX_VALUE;
        for (var row : results.values()) {
            for (var m : row.values()) {
                max = Math.max(max, m.medianMs());
                min = Math.min(min, m.medianMs());
            }
        }
        double lo = Math.floor(Math.log10(Math.max(min, 1e-3)));
        double hi = Math.ceil(Math.log10(Math.max(max, 1e-3)));
        if (hi <= lo) {
            hi = lo + 1;
        }
        int plotH = height - top - bottom;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, left, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (double d = lo; d <= hi; d++) {
            int y = top + plotH - (int) ((d - lo) / (hi - lo) * plotH);
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, y, width - 20, y);
            g.setColor(Color.BLACK);
            g.drawString(tick(Math.pow(10, d)), 5, y + 4);
        }
        int x = left + 20;
        for (var e : results.entrySet()) {
            int gx = x;
            for (int i = 0; i < impls.size(); i++) {
                var m = e.getValue().get(impls.get(i).trim());
                double v = Math.log10(Math.max(m.medianMs(), 1e-3));
                int h = (int) ((v - lo) / (hi - lo) * plotH);
                g.setColor(COLORS[i % COLORS.length]);
                g.fillRect(x, top + plotH - h, 30, h);
                x += 36;
            }
            g.setColor(Color.BLACK);
            g.drawString(e.getKey().name(), gx, top + plotH + 18);
            x += 40;
        }
        g.setStroke(new BasicStroke(1));
        g.drawLine(left, top + plotH, width - 20, top + plotH);
        for (int i = 0; i < impls.size(); i++) {
            g.setColor(COLORS[i % COLORS.length]);
            g.fillRect(left + i * 130, height - 40, 14, 14);
            g.setColor(Color.BLACK);
            g.drawString(impls.get(i).trim(), left + i * 130 + 20, height - 28);
        }
        g.dispose();
        Path tmp = Files.createTempFile(png.toAbsolutePath().getParent(), ".chart", ".png");
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
