package dev.wengert.models.data;

import dev.wengert.models.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * One IDX file, the format of the original MNIST distribution: two zero bytes, a type byte, a
 * dimension-count byte, that many big-endian int32 dimensions, then the data in row-major order.
 * Only the unsigned-byte type (0x08) is supported. Files may be raw or gzip-compressed; gzip is
 * recognised by its magic bytes {@code 1f 8b}, not by the file name.
 *
 * <p>Instances are immutable: the constructor and the accessors copy the arrays.
 *
 * @param dims the dimensions, e.g. {@code [60000, 28, 28]} for MNIST training images
 * @param data the elements, row-major, {@code product(dims)} bytes
 */
public record IdxFile(int[] dims, byte[] data) {

    /** The IDX type code for unsigned bytes, the only type this class supports. */
    public static final int TYPE_UNSIGNED_BYTE = 0x08;

    private static final int BUFFER_SIZE = 1 << 16;
    /** Largest byte[] the JVM reliably allocates. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /**
     * @throws IllegalArgumentException if a dimension is negative, there are more than 255
     *     dimensions, or {@code data.length} differs from the product of the dimensions
     */
    public IdxFile {
        Objects.requireNonNull(dims, "dims");
        Objects.requireNonNull(data, "data");
        long expected = checkedElementCount(dims);
        if (data.length != expected) {
            throw new IllegalArgumentException("IDX dims " + Arrays.toString(dims) + " imply "
                    + expected + " data bytes, but data has " + data.length);
        }
        dims = dims.clone();
        data = data.clone();
    }

    /** A copy of the dimensions. */
    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** A copy of the data bytes (interpret them as unsigned: {@code b & 0xff}). */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** The four-byte magic number, e.g. {@code 0x00000803} for a 3-D unsigned-byte file. */
    public int magic() {
        return (TYPE_UNSIGNED_BYTE << 8) | dims.length;
    }

    /**
     * Reads a raw or gzip-compressed IDX file.
     *
     * @throws IdxFormatException if the file is missing, is not an unsigned-byte IDX file, or is
     *     truncated or has trailing bytes
     */
    public static IdxFile read(Path file) throws IOException {
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new IdxFormatException("IDX file not found: " + file.toAbsolutePath(), e);
        }
        try (in) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads a raw or gzip-compressed IDX stream to its end, without closing it.
     *
     * @param name how to name the source in error messages (a path or resource name)
     */
    public static IdxFile read(InputStream in, String name) throws IOException {
        // Closing our wrappers frees the gzip inflater at once but must leave the caller's stream open.
        InputStream shielded = new FilterInputStream(in) {
            @Override
            public void close() {}
        };
        BufferedInputStream buffered = new BufferedInputStream(shielded, BUFFER_SIZE);
        buffered.mark(2);
        boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
        buffered.reset();
        try (InputStream body = gzip ? new GZIPInputStream(buffered, BUFFER_SIZE) : buffered) {
            return parse(body, name, gzip);
        } catch (ZipException | EOFException e) {
            // Only gzip decoding raises these; parse() reports its own truncation.
            throw new IdxFormatException(name + ": corrupt or truncated gzip data (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Writes an unsigned-byte IDX file, optionally gzip-compressed. The file is written to a
     * temporary sibling and atomically renamed over {@code file}.
     *
     * @throws IllegalArgumentException if {@code data.length} does not match {@code dims}
     */
    public static void write(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
        Objects.requireNonNull(dims, "dims");
        Objects.requireNonNull(data, "data");
        IdxFile checked = new IdxFile(dims, data);
        AtomicFiles.write(file, out -> {
            OutputStream target = gzip ? new GZIPOutputStream(out, BUFFER_SIZE) : out;
            DataOutputStream header = new DataOutputStream(target);
            header.writeShort(0);
            header.writeByte(TYPE_UNSIGNED_BYTE);
            header.writeByte(checked.dims.length);
            for (int d : checked.dims) {
                header.writeInt(d);
            }
            header.write(checked.data);
            header.flush();
            if (target instanceof GZIPOutputStream g) {
                g.finish();
            }
        });
    }

    private static IdxFile parse(InputStream in, String name, boolean gzip) throws IOException {
        String where = gzip ? " (after gunzip)" : "";
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IdxFormatException(name + ": truncated header: expected 4 magic bytes"
                    + where + ", found " + magic.length);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IdxFormatException(name + ": not an IDX file: expected magic bytes"
                    + " 00 00 <type> <ndims>" + where + ", found " + hex(magic));
        }
        int type = magic[2] & 0xff;
        if (type != TYPE_UNSIGNED_BYTE) {
            throw new IdxFormatException(String.format(
                    "%s: unsupported IDX data type 0x%02X (%s); only 0x08 (unsigned byte) is supported",
                    name, type, typeName(type)));
        }
        int rank = magic[3] & 0xff;
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new IdxFormatException(name + ": truncated header: expected " + 4 * rank
                    + " bytes for " + rank + " dimensions, found " + dimBytes.length);
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            int o = 4 * i;
            dims[i] = (dimBytes[o] & 0xff) << 24 | (dimBytes[o + 1] & 0xff) << 16
                    | (dimBytes[o + 2] & 0xff) << 8 | (dimBytes[o + 3] & 0xff);
        }
        long expected;
        try {
            expected = checkedElementCount(dims);
        } catch (IllegalArgumentException e) {
            throw new IdxFormatException(name + ": " + e.getMessage());
        }
        // Grow the buffer as data arrives, so a corrupt header claiming gigabytes does not
        // allocate them up front.
        ByteArrayOutputStream received = new ByteArrayOutputStream((int) Math.min(expected, BUFFER_SIZE));
        byte[] chunk = new byte[BUFFER_SIZE];
        String ending = "";
        try {
            while (received.size() < expected) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, expected - received.size()));
                if (n < 0) {
                    break;
                }
                received.write(chunk, 0, n);
            }
        } catch (EOFException e) {
            ending = " (the gzip stream is cut off: " + e.getMessage() + ")";
        }
        if (received.size() < expected) {
            throw new IdxFormatException(name + ": truncated data: dims " + Arrays.toString(dims)
                    + " imply " + expected + " data bytes" + where + ", found only " + received.size() + ending);
        }
        byte[] data = received.toByteArray();
        if (in.read() != -1) {
            throw new IdxFormatException(name + ": unexpected trailing bytes after the " + expected
                    + " data bytes that dims " + Arrays.toString(dims) + " imply");
        }
        return new IdxFile(dims, data);
    }

    private static long checkedElementCount(int[] dims) {
        if (dims.length > 255) {
            throw new IllegalArgumentException("IDX supports at most 255 dimensions, found " + dims.length);
        }
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("IDX dimension " + i + " is " + dims[i]
                        + "; expected a non-negative size (dims " + Arrays.toString(dims) + ")");
            }
            count *= dims[i];
            if (count > MAX_ELEMENTS) {
                throw new IllegalArgumentException("IDX dims " + Arrays.toString(dims)
                        + " imply more than " + MAX_ELEMENTS + " bytes, more than one array can hold");
            }
        }
        return count;
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "int16";
            case 0x0C -> "int32";
            case 0x0D -> "float32";
            case 0x0E -> "float64";
            default -> "not an IDX type";
        };
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxFile other && Arrays.equals(dims, other.dims) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "IdxFile[dims=" + Arrays.toString(dims) + ", " + data.length + " bytes]";
    }
}
