package dev.wengert.models.cli;

import dev.wengert.models.data.IdxFile;
import dev.wengert.models.data.IdxFormatException;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.io.IoErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The four MNIST IDX files of a data source (the bundled subset, or a folder given with {@code --data}), found
 * under the names {@link MnistData#load} accepts: for the record (their SHA-256s) and for reading the test
 * split alone ({@code evaluate} never reads the training files).
 */
final class DataFiles {

    /** The four files, in the order their digests are combined; each has alternative names, tried in order. */
    enum Part {
        TRAIN_IMAGES("train images", 3, "train-images-idx3-ubyte"),
        TRAIN_LABELS("train labels", 1, "train-labels-idx1-ubyte"),
        TEST_IMAGES("test images", 3, "t10k-images-idx3-ubyte", "test-images-idx3-ubyte"),
        TEST_LABELS("test labels", 1, "t10k-labels-idx1-ubyte", "test-labels-idx1-ubyte");

        final String description;
        final int rank;
        final List<String> candidates = new ArrayList<>();

        Part(String description, int rank, String... baseNames) {
            this.description = description;
            this.rank = rank;
            for (String base : baseNames) {
                candidates.add(base);
                candidates.add(base + ".gz");
            }
        }
    }

    /** One located file: its name for messages and the record, and how to open it. */
    private record Found(String name, String label, Opener opener) {
    }

    @FunctionalInterface
    private interface Opener {
        InputStream open() throws IOException;
    }

    private final Path dir;

    private DataFiles(Path dir) {
        this.dir = dir;
    }

    /** The files in {@code dir}, or the bundled subset when {@code dir} is null. */
    static DataFiles of(Path dir) {
        return new DataFiles(dir == null ? null : dir.toAbsolutePath().normalize());
    }

    boolean bundled() {
        return dir == null;
    }

    /** "bundled MNIST subset" or the folder's absolute path. */
    String source() {
        return bundled() ? "bundled MNIST subset" : dir.toString();
    }

    private Found find(Part part) throws IOException {
        if (bundled()) {
            for (String c : part.candidates) {
                String resource = MnistData.EMBEDDED_RESOURCE_DIR + c;
                if (MnistData.class.getResource(resource) != null) {
                    return new Found(c, "classpath:" + resource, () -> {
                        InputStream in = MnistData.class.getResourceAsStream(resource);
                        if (in == null) {
                            throw new IOException("classpath:" + resource + " disappeared");
                        }
                        return in;
                    });
                }
            }
            throw new IdxFormatException("MNIST " + part.description + " not found in the bundled subset");
        }
        if (!Files.isDirectory(dir)) {
            throw new IdxFormatException("--data " + dir + (Files.exists(dir) ? " is not a folder" : " does not exist"));
        }
        for (String c : part.candidates) {
            Path f = dir.resolve(c);
            if (Files.isRegularFile(f)) {
                return new Found(c, f.toString(), () -> Files.newInputStream(f));
            }
        }
        throw new IdxFormatException("MNIST " + part.description + " not found in " + dir + ": looked for "
                + String.join(", ", part.candidates));
    }

    /**
     * The SHA-256 of each file as stored (gzipped files hashed compressed), by file name in {@link Part} order,
     * and under {@code "all"} the SHA-256 of the four files' bytes one after the other.
     */
    Map<String, String> sha256() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        MessageDigest all = digest();
        for (Part p : Part.values()) {
            Found f = find(p);
            MessageDigest one = digest();
            byte[] buffer = new byte[1 << 16];
            try (InputStream in = new DigestInputStream(f.opener().open(), one)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    all.update(buffer, 0, n);
                }
            } catch (IOException e) {
                throw new IOException(IoErrors.describe("cannot read " + f.label(), e), e);
            }
            out.put(f.name(), HexFormat.of().formatHex(one.digest()));
        }
        out.put("all", HexFormat.of().formatHex(all.digest()));
        return out;
    }

    /** The test images and labels alone, checked as {@link MnistData#load} checks them. */
    MnistData.Split readTest() throws IOException {
        IdxFile images = read(Part.TEST_IMAGES);
        IdxFile labels = read(Part.TEST_LABELS);
        int[] d = images.dims();
        int count = labels.dims()[0];
        if (d[0] != count) {
            throw new IdxFormatException("image/label count mismatch: " + d[0] + " test images but " + count + " labels");
        }
        try {
            return new MnistData.Split(d[0], d[1], d[2], images.data(), labels.data());
        } catch (IllegalArgumentException e) {
            throw new IdxFormatException("MNIST test labels: " + e.getMessage());
        }
    }

    private IdxFile read(Part part) throws IOException {
        Found f = find(part);
        IdxFile file;
        try (InputStream in = f.opener().open()) {
            file = IdxFile.read(in, f.label());
        }
        if (file.rank() != part.rank) {
            throw new IdxFormatException(f.label() + ": expected MNIST " + part.description + " (" + part.rank
                    + " dimension" + (part.rank == 1 ? "" : "s") + "), found " + file.rank() + " dimensions");
        }
        return file;
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java runtime has no SHA-256", e);
        }
    }
}
