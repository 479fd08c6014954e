package dev.wengert.models.cli;

import dev.wengert.models.data.IdxFile;
import dev.wengert.models.data.IdxFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The images {@code wengert predict} classifies: every image of an IDX image file (as in MNIST's
 * t10k-images-idx3-ubyte, raw or gzipped), or one PNG per file. A PNG becomes an MNIST-like digit: gray
 * levels (colour and transparency flattened onto white), inverted when it is a dark digit on a light
 * background (MNIST digits are light on dark), and resized to the model's size when it has another one;
 * each of these steps is reported as a note ({@link PngDigits}: the only class here that needs java.desktop).
 */
final class ImageInputs {

    /** One image: where it came from, its pixels in [0, 1] (row-major, side x side) and how it was adapted. */
    record Image(String name, Path file, int index, float[] pixels, List<String> notes) {
    }

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
            try {
                return List.of(PngDigits.read(file, side));
            } catch (LinkageError e) {
                throw new IOException("reading PNG images needs the java.desktop module, which this Java runtime lacks", e);
            }
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

}
