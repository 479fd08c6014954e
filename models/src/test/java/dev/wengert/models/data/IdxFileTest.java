package dev.wengert.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {

    @TempDir
    Path dir;

    static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7);
        }
        return b;
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(raw);
        }
        return bos.toByteArray();
    }

    static void assertMessageContains(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message \"" + e.getMessage() + "\" lacks \"" + p + "\"");
        }
    }

    @Test
    void rawRoundTripHasTheStandardHeader() throws IOException {
        Path file = dir.resolve("images-idx3-ubyte");
        byte[] data = ramp(2 * 3 * 4);
        IdxFile.write(file, new int[] {2, 3, 4}, data, false);
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(new byte[] {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}, Arrays.copyOf(bytes, 16));
        assertEquals(16 + data.length, bytes.length);
        IdxFile idx = IdxFile.read(file);
        assertArrayEquals(new int[] {2, 3, 4}, idx.dims());
        assertArrayEquals(data, idx.data());
        assertEquals(0x00000803, idx.magic());
        assertEquals(3, idx.rank());
    }

    @Test
    void gzipIsDetectedByContentNotByName() throws IOException {
        byte[] data = ramp(10);
        Path gzNoSuffix = dir.resolve("labels-idx1-ubyte");
        Path rawWithGzSuffix = dir.resolve("labels-idx1-ubyte.gz");
        IdxFile.write(gzNoSuffix, new int[] {10}, data, true);
        IdxFile.write(rawWithGzSuffix, new int[] {10}, data, false);
        byte[] gz = Files.readAllBytes(gzNoSuffix);
        assertEquals(0x1f, gz[0] & 0xff);
        assertEquals(0x8b, gz[1] & 0xff);
        assertEquals(new IdxFile(new int[] {10}, data), IdxFile.read(gzNoSuffix));
        assertEquals(new IdxFile(new int[] {10}, data), IdxFile.read(rawWithGzSuffix));
    }

    @Test
    void zeroCountAndZeroDimensionsAreValid() throws IOException {
        Path empty = dir.resolve("empty");
        IdxFile.write(empty, new int[] {0, 28, 28}, new byte[0], true);
        assertArrayEquals(new int[] {0, 28, 28}, IdxFile.read(empty).dims());
        Path scalar = dir.resolve("scalar");
        IdxFile.write(scalar, new int[] {}, new byte[] {9}, false);
        assertArrayEquals(new byte[] {9}, IdxFile.read(scalar).data());
    }

    @Test
    void wrongMagicIsRefused() throws IOException {
        Path file = dir.resolve("not-idx");
        Files.write(file, new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, file.toString(), "not an IDX file", "00 00", "50 4b 03 04");
    }

    @Test
    void unsupportedTypeIsRefusedByName() throws IOException {
        Path file = dir.resolve("floats-idx1");
        Files.write(file, new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, file.toString(), "0x0D", "float32", "only 0x08 (unsigned byte)");
    }

    @Test
    void truncatedRawDataSaysExpectedAndFound() throws IOException {
        Path file = dir.resolve("short");
        IdxFile.write(file, new int[] {6, 10}, ramp(60), false);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 10));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, file.toString(), "truncated data", "[6, 10]", "60 data bytes", "found only 50");
    }

    @Test
    void truncatedDataInsideValidGzipSaysExpectedAndFound() throws IOException {
        byte[] raw = {0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3};
        Path file = dir.resolve("short.gz");
        Files.write(file, gzip(raw));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, "5 data bytes", "found only 3", "after gunzip");
    }

    @Test
    void cutOffGzipStreamIsReported() throws IOException {
        Path file = dir.resolve("cut.gz");
        IdxFile.write(file, new int[] {4000}, ramp(4000), true);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, file.toString(), "gzip");
    }

    @Test
    void truncatedHeaderIsReported() throws IOException {
        Path file = dir.resolve("header");
        Files.write(file, new byte[] {0, 0, 8, 3, 0, 0, 0, 2, 0});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, "truncated header", "expected 12 bytes for 3 dimensions", "found 5");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[] {0, 0});
        assertMessageContains(assertThrows(IdxFormatException.class, () -> IdxFile.read(tiny)),
                "expected 4 magic bytes", "found 2");
    }

    @Test
    void trailingBytesAreRefused() throws IOException {
        Path file = dir.resolve("long");
        Files.write(file, new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, "trailing bytes", "2 data bytes");
    }

    @Test
    void negativeDimensionIsRefused() throws IOException {
        Path file = dir.resolve("negative");
        Files.write(file, new byte[] {0, 0, 8, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfe});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, file.toString(), "dimension 0 is -2");
    }

    @Test
    void missingFileIsAnIdxFormatExceptionNamingThePath() {
        Path file = dir.resolve("nope-idx3-ubyte");
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file));
        assertMessageContains(e, "not found", file.toString());
    }

    @Test
    void recordIsImmutableAndValidated() {
        int[] dims = {2};
        byte[] data = {1, 2};
        IdxFile idx = new IdxFile(dims, data);
        dims[0] = 5;
        data[0] = 9;
        idx.dims()[0] = 7;
        idx.data()[1] = 7;
        assertArrayEquals(new int[] {2}, idx.dims());
        assertArrayEquals(new byte[] {1, 2}, idx.data());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new IdxFile(new int[] {3, 3}, new byte[8]));
        assertMessageContains(e, "9 data bytes", "has 8");
        assertThrows(IllegalArgumentException.class, () -> IdxFile.write(dir.resolve("x"), new int[] {3}, new byte[2], false));
    }
}
