package dev.wengert.models.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A PNG as an MNIST-like digit: gray levels (colour and transparency flattened onto white), inverted when it is
 * a dark digit on a light background, resized (area averaging) to the model's side; each step a note. Needs
 * java.desktop, which only this class of the command line's input code touches.
 */
final class PngDigits {
    /** A PNG whose sides differ by more than this factor is refused rather than squashed into a square. */
    static final double MAX_ASPECT = 2.0;

    private PngDigits() {
    }

    static ImageInputs.Image read(Path file, int side) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not a readable PNG (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new IOException(file + ": not a readable PNG");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        if (w < 1 || h < 1) {
            throw new IOException(file + " is an empty image (" + w + "x" + h + ")");
        }
        if ((double) Math.max(w, h) / Math.min(w, h) > MAX_ASPECT) {
            throw new IOException(file + " is " + w + "x" + h + ": too far from square to become a " + side + "x" + side
                    + " digit; crop it to the digit first");
        }
        List<String> notes = new ArrayList<>();
        double[] gray = new double[w * h];
        double sum = 0;
        boolean colour = false;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                double a = (argb >>> 24) / 255.0;
                int r = (argb >> 16) & 0xff;
                int g = (argb >> 8) & 0xff;
                int b = argb & 0xff;
                colour |= r != g || g != b;
                double lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
                double v = a * lum + (1 - a); // onto white
                gray[y * w + x] = v;
                sum += v;
            }
        }
        if (colour) {
            notes.add("colour converted to gray");
        }
        if (img.getColorModel().hasAlpha()) {
            notes.add("transparency flattened onto white");
        }
        if (sum / gray.length > 0.5) {
            for (int i = 0; i < gray.length; i++) {
                gray[i] = 1 - gray[i];
            }
            notes.add("inverted (a dark digit on a light background; MNIST digits are light on dark)");
        }
        float[] px;
        if (w == side && h == side) {
            px = new float[side * side];
            for (int i = 0; i < px.length; i++) {
                px[i] = (float) gray[i];
            }
        } else {
            px = resize(gray, w, h, side);
            notes.add(String.format(Locale.ROOT, "resized from %dx%d to %dx%d", w, h, side, side));
        }
        return new ImageInputs.Image(file.getFileName().toString(), file, 0, px, notes);
    }

    /** Area-averaging resize to side x side (each output pixel: the mean of the source pixels it covers, weighted by overlap). */
    static float[] resize(double[] src, int w, int h, int side) {
        float[] out = new float[side * side];
        double sx = (double) w / side;
        double sy = (double) h / side;
        for (int oy = 0; oy < side; oy++) {
            double y0 = oy * sy;
            double y1 = y0 + sy;
            for (int ox = 0; ox < side; ox++) {
                double x0 = ox * sx;
                double x1 = x0 + sx;
                double acc = 0;
                double area = 0;
                for (int y = (int) Math.floor(y0); y < Math.min(h, (int) Math.ceil(y1)); y++) {
                    double wy = Math.min(y1, y + 1) - Math.max(y0, y);
                    for (int x = (int) Math.floor(x0); x < Math.min(w, (int) Math.ceil(x1)); x++) {
                        double wx = Math.min(x1, x + 1) - Math.max(x0, x);
                        double weight = wx * wy;
                        acc += weight * src[y * w + x];
                        area += weight;
                    }
                }
                out[oy * side + ox] = (float) (area > 0 ? acc / area : 0);
            }
        }
        return out;
    }
}
