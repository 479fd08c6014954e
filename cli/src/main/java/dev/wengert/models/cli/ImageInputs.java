package dev.wengert.models.cli;

import dev.wengert.models.data.IdxFile;
import dev.wengert.models.data.IdxFormatException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The images {@code wengert predict} classifies: every image of an IDX image file (as in MNIST's
 * t10k-images-idx3-ubyte, raw or gzipped), or one PNG per file. A PNG becomes an MNIST-like digit: gray
 * levels (colour and transparency flattened onto white), inverted when it is a dark digit on a light
 * background (MNIST digits are light on dark), and resized to the model's size when it has another one;
 * each of these steps is reported as a note.
 */
final class ImageInputs {

    /** One image: where it came from, its pixels in [0, 1] (row-major, side x side) and how it was adapted. */
    record Image(String name, Path file, int index, float[] pixels, List<String> notes) {
    }

    /** A PNG whose sides differ by more than this factor is refused rather than squashed into a square. */
    static final double MAX_ASPECT = 2.0;

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private ImageInputs() {
    }

    /** Reads {@code file} as an IDX image file or a PNG (told apart by their first bytes), for a model of side x side inputs. */
    static List<Image> read(Path file, int side) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " is not a file");
        }
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new IOException(file + ": " + dev.wengert.models.io.IoErrors.reason(e), e);
        }
        if (n == 8 && java.util.Arrays.equals(head, PNG_MAGIC)) {
            return List.of(png(file, side));
        }
        boolean gzip = n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        boolean idx = n >= 4 && head[0] == 0 && head[1] == 0 && head[2] == IdxFile.TYPE_UNSIGNED_BYTE;
        if (gzip || idx) {
            return idx(file, side);
        }
        throw new IOException(file + " is neither a PNG image nor an IDX image file (it starts with "
                + HexFormat.ofDelimiter(" ").formatHex(head, 0, n) + describeHead(head, n) + ")");
    }

    private static String describeHead(byte[] head, int n) {
        if (n >= 3 && (head[0] & 0xff) == 0xff && (head[1] & 0xff) == 0xd8) {
            return ", a JPEG: convert it to PNG";
        }
        if (n >= 4 && head[0] == 'G' && head[1] == 'I' && head[2] == 'F') {
            return ", a GIF: convert it to PNG";
        }
        return "";
    }

    private static List<Image> idx(Path file, int side) throws IOException {
        IdxFile f;
        try {
            f = IdxFile.read(file);
        } catch (IdxFormatException e) {
            throw new IOException(e.getMessage(), e);
        }
        int[] d = f.dims();
        if (d.length != 3) {
            throw new IOException(file + " is an IDX file of " + d.length + " dimension" + (d.length == 1 ? " (labels?)" : "s")
                    + "; predict needs images: 3 dimensions, count x rows x cols");
        }
        if (d[1] != side || d[2] != side) {
            throw new IOException(file + " holds " + d[1] + "x" + d[2] + " images; the model takes " + side + "x" + side);
        }
        byte[] data = f.data();
        int size = side * side;
        List<Image> images = new ArrayList<>(d[0]);
        String base = file.getFileName().toString();
        for (int i = 0; i < d[0]; i++) {
            float[] px = new float[size];
            for (int k = 0; k < size; k++) {
                px[k] = (data[i * size + k] & 0xff) / 255f;
            }
            images.add(new Image(base + "[" + i + "]", file, i, px, List.of()));
        }
        return images;
    }

    private static Image png(Path file, int side) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (LinkageError e) {
            throw new IOException("reading PNG images needs the java.desktop module, which this Java runtime lacks", e);
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
        return new Image(file.getFileName().toString(), file, 0, px, notes);
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
