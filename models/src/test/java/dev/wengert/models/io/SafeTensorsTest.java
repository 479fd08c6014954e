package dev.wengert.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;

    private static Map<String, SafeTensors.Entry> sample() {
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>();
        t.put("layer1.weight", SafeTensors.Entry.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f}));
        t.put("scale", SafeTensors.Entry.ofDoubles(new long[] {}, new double[] {Math.PI}));
        t.put("step", SafeTensors.Entry.ofLongs(new long[] {1}, new long[] {Long.MIN_VALUE}));
        t.put("labels", SafeTensors.Entry.ofLongs(new long[] {2, 2}, new long[] {0, 9, -1, 1L << 40}));
        t.put("empty", SafeTensors.Entry.ofFloats(new long[] {0, 5}, new float[0]));
        t.put("mask", new SafeTensors.Entry("U8", new long[] {3}, new byte[] {0, 1, (byte) 255}));
        t.put("half", new SafeTensors.Entry("BF16", new long[] {1, 1}, new byte[] {(byte) 0x80, 0x3f}));
        return t;
    }

    /** The data-buffer start: 8 + header length. */
    private static long dataStart(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        return 8 + ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** A file with the given header text (unpadded) and data bytes, built by hand. */
    private Path handMade(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Path file = dir.resolve("hand.safetensors");
        Files.write(file, buf.array());
        return file;
    }

    /** Replaces text in a valid file's header with text of the same length. */
    private static void patchHeader(Path file, String from, String to) throws IOException {
        assertEquals(from.length(), to.length());
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf(from);
        assertTrue(at >= 0 && at < dataStart(file), "header lacks " + from);
        System.arraycopy(to.getBytes(StandardCharsets.ISO_8859_1), 0, bytes, at, to.length());
        Files.write(file, bytes);
    }

    private static SafeTensorsFormatException refused(Path file, String... parts) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "\"" + e.getMessage() + "\" lacks \"" + p + "\"");
        }
        return e;
    }

    @Test
    void roundTripKeepsDtypesShapesValuesAndMetadata() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "\u00e9t\u00e9 \"quoted\"");
        SafeTensors.write(file, sample(), meta);
        SafeTensors.Contents c = SafeTensors.read(file);
        // Reference layout: descending dtype alignment (I64 > F64 > F32 > BF16 > U8), then name.
        assertEquals(List.of("labels", "step", "scale", "empty", "layer1.weight", "half", "mask"),
                new ArrayList<>(c.tensors().keySet()));
        assertEquals(sample(), c.tensors());
        assertEquals(meta, c.metadata());
        assertArrayEquals(new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f}, c.tensor("layer1.weight").asFloats());
        assertArrayEquals(new long[] {2, 3}, c.tensor("layer1.weight").shape());
        assertArrayEquals(new double[] {Math.PI}, c.tensor("scale").asDoubles());
        assertArrayEquals(new long[] {}, c.tensor("scale").shape());
        assertEquals(1, c.tensor("scale").elementCount());
        assertArrayEquals(new long[] {0, 9, -1, 1L << 40}, c.tensor("labels").asLongs());
        assertEquals(0, c.tensor("empty").elementCount());
        assertEquals(0, dataStart(file) % 8, "data buffer must start 8-byte aligned");
    }

    @Test
    void emptyOrNullMetadataWritesNoMetadataKey() throws IOException {
        for (Map<String, String> meta : Arrays.asList(Map.<String, String>of(), null)) {
            Path file = dir.resolve("plain.safetensors");
            SafeTensors.write(file, Map.of("x", SafeTensors.Entry.ofFloats(new long[] {1}, new float[] {2f})), meta);
            assertFalse(Files.readString(file, StandardCharsets.ISO_8859_1).contains("__metadata__"));
            SafeTensors.Contents c = SafeTensors.read(file);
            assertEquals(Map.of(), c.metadata());
            assertArrayEquals(new float[] {2f}, c.tensor("x").asFloats());
        }
        Path none = dir.resolve("none.safetensors");
        SafeTensors.write(none, Map.of(), Map.of());
        assertEquals(Map.of(), SafeTensors.read(none).tensors());
    }

    @Test
    void headerIsPaddedSoDataIsAlignedForEveryNameLength() throws IOException {
        for (int len = 1; len <= 9; len++) {
            Path file = dir.resolve("a" + len + ".safetensors");
            SafeTensors.write(file, Map.of("n".repeat(len), SafeTensors.Entry.ofLongs(new long[] {1}, new long[] {len})), null);
            assertEquals(0, dataStart(file) % 8, "name length " + len);
            assertEquals(len, SafeTensors.read(file).tensor("n".repeat(len)).asLongs()[0]);
        }
    }

    @Test
    void byteExactLayoutOfASmallFile() throws IOException {
        Path file = dir.resolve("small.safetensors");
        SafeTensors.write(file, Map.of("w", SafeTensors.Entry.ofFloats(new long[] {2}, new float[] {1.0f, -2.0f})),
                Map.of("format", "pt"));
        // Header JSON is 85 bytes; 3 spaces pad it to 88 so the data starts at 8 + 88 = 96.
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}" + "   ";
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(HexFormat.of().parseHex("5800000000000000")); // 88, little-endian u64
        expected.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        expected.writeBytes(HexFormat.of().parseHex("0000803f" + "000000c0")); // 1.0f, -2.0f little-endian
        assertEquals(88, header.length());
        assertEquals(HexFormat.of().formatHex(expected.toByteArray()), HexFormat.of().formatHex(Files.readAllBytes(file)));
    }

    @Test
    void everyTensorIsAlignedToItsElementSize() throws IOException {
        Path file = dir.resolve("aligned.safetensors");
        SafeTensors.write(file, sample(), Map.of("a", "b"));
        byte[] b = Files.readAllBytes(file);
        int n = (int) (dataStart(file) - 8);
        @SuppressWarnings("unchecked")
        Map<String, Object> header = (Map<String, Object>) Json.parse(new String(b, 8, n, StandardCharsets.UTF_8));
        Map<String, Integer> sizes = Map.of("F32", 4, "F64", 8, "I64", 8, "U8", 1, "BF16", 2);
        int checked = 0;
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            Map<?, ?> info = (Map<?, ?>) e.getValue();
            long begin = (Long) ((List<?>) info.get("data_offsets")).get(0);
            assertEquals(0, (dataStart(file) + begin) % sizes.get((String) info.get("dtype")), e.getKey());
            checked++;
        }
        assertEquals(sample().size(), checked);
    }

    /** 8-byte little-endian length, the header text, then data given in hex. */
    private static String layout(int headerLength, String header, String dataHex) {
        assertEquals(headerLength, header.length());
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength);
        return HexFormat.of().formatHex(len.array())
                + HexFormat.of().formatHex(header.getBytes(StandardCharsets.US_ASCII)) + dataHex;
    }

    private String written(Map<String, SafeTensors.Entry> tensors, Map<String, String> meta) throws IOException {
        Path file = dir.resolve("ref.safetensors");
        SafeTensors.write(file, tensors, meta);
        return HexFormat.of().formatHex(Files.readAllBytes(file));
    }

    /**
     * Expected bytes taken from the reference implementation's own tests (the Rust crate's
     * tensor.rs and the Python binding's test_simple.py), so files match what PyTorch users get.
     */
    @Test
    void bytesMatchTheReferenceImplementation() throws IOException {
        float[] ramp = {0, 1, 2, 3, 4, 5};
        String rampHex = "00000000" + "0000803f" + "00000040" + "00004040" + "00008040" + "0000a040";
        assertEquals(layout(64, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", rampHex),
                written(Map.of("attn.0", SafeTensors.Entry.ofFloats(new long[] {1, 2, 3}, ramp)), null));
        assertEquals(layout(72, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}" + " ".repeat(7), rampHex),
                written(Map.of("attn0", SafeTensors.Entry.ofFloats(new long[] {1, 1, 2, 3}, ramp)), null));
        assertEquals(layout(8, "{}" + " ".repeat(6), ""), written(Map.of(), null));
        assertEquals(layout(40, "{\"__metadata__\":{\"framework\":\"pt\"}}" + " ".repeat(5), ""),
                written(Map.of(), Map.of("framework", "pt")));

        SafeTensors.Entry i32 = new SafeTensors.Entry("I32", new long[] {2, 2}, new byte[16]);
        SafeTensors.Entry f16 = new SafeTensors.Entry("F16", new long[] {2, 2}, new byte[8]);
        String aligned = layout(128, "{\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"test2\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[16,24]}}" + " ".repeat(6), "00".repeat(24));
        Map<String, SafeTensors.Entry> f16First = new LinkedHashMap<>();
        f16First.put("test2", f16);
        f16First.put("test1", i32);
        assertEquals(aligned, written(f16First, null), "layout must not depend on map order");
        assertEquals(layout(96, "{\"__metadata__\":{\"framework\":\"pt\"},"
                + "\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}" + " ", "00".repeat(16)),
                written(Map.of("test1", i32), Map.of("framework", "pt")));
    }

    @Test
    void readsTheReferenceUnpaddedLayout() throws IOException {
        // Older writers did not pad the header; the reference reader accepts that, and so do we.
        Path file = dir.resolve("old.safetensors");
        Files.write(file, HexFormat.of().parseHex(layout(60,
                "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", "00".repeat(12) + "01000000")));
        SafeTensors.Entry e = SafeTensors.read(file).tensor("test");
        assertEquals("I32", e.dtype());
        assertArrayEquals(new long[] {2, 2}, e.shape());
        assertEquals(1, e.littleEndianData()[12]);
    }

    @Test
    void readsAHandMadeFileWithUnpaddedHeaderAndUnusualKeyOrder() throws IOException {
        Path file = handMade("{\"b\":{\"data_offsets\":[4,8],\"shape\":[],\"dtype\":\"I32\"},"
                + "\"a\":{\"shape\":[1],\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
                HexFormat.of().parseHex("0000c03f" + "07000000"));
        SafeTensors.Contents c = SafeTensors.read(file);
        assertEquals(List.of("b", "a"), new ArrayList<>(c.tensors().keySet()));
        assertArrayEquals(new float[] {1.5f}, c.tensor("a").asFloats());
        assertArrayEquals(new byte[] {7, 0, 0, 0}, c.tensor("b").littleEndianData());
    }

    @Test
    void refusesFileShorterThanEightBytes() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3, 4, 5});
        refused(file, "file is 5 bytes", "at least 8");
    }

    @Test
    void refusesHeaderLengthBeyondTheFile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, sample(), null);
        byte[] b = Files.readAllBytes(file);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, b.length);
        Files.write(file, b);
        refused(file, "header length " + b.length + " exceeds the file", "only " + (b.length - 8) + " bytes");
    }

    @Test
    void refusesAbsurdHeaderLength() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, sample(), null);
        byte[] b = Files.readAllBytes(file);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100_000_001L);
        Files.write(file, b);
        refused(file, "header length 100000001 is absurd", "100000000");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        Files.write(file, b);
        refused(file, "header length 18446744073709551615 is absurd");
    }

    @Test
    void refusesHeaderThatIsNotJson() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, sample(), null);
        patchHeader(file, "{\"labels\"", "[\"labels\"");
        SafeTensorsFormatException e = refused(file, "header is not valid JSON", "offset 9", "was expecting comma to separate Array entries");
        assertTrue(e.getCause() instanceof Json.ParseException);
        Path notObject = handMade("[1,2]", new byte[0]);
        refused(notObject, "header must be a JSON object, found an array");
        Path badUtf8 = handMade("{\"\u00e9\":1}", new byte[0]);
        byte[] b = Files.readAllBytes(badUtf8);
        b[10] = (byte) 0xff; // break the two-byte sequence for é
        Files.write(badUtf8, b);
        refused(badUtf8, "not valid UTF-8");
    }

    @Test
    void refusesUnknownDtype() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, sample(), null);
        patchHeader(file, "\"F64\"", "\"Q64\"");
        refused(file, "tensor \"scale\"", "unknown dtype \"Q64\"", "F32");
    }

    @Test
    void refusesOffsetsThatDoNotMatchShapeTimesDtypeSize() throws IOException {
        Path file = handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[12]);
        refused(file, "tensor \"a\"", "span 12 bytes", "shape [2, 2] of F32 needs 16");
    }

    @Test
    void refusesOffsetsOutOfRange() throws IOException {
        Path file = handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[8]);
        refused(file, "tensor \"a\"", "[8, 16] reach beyond the 8-byte data buffer");
        Path backwards = handMade("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", new byte[4]);
        refused(backwards, "end before they begin");
        Path negative = handMade("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0]);
        refused(negative, "\"shape\" must be an array of non-negative integers, found [-1]");
        Path missing = handMade("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", new byte[1]);
        refused(missing, "\"data_offsets\" must be an array of 2 non-negative integers, found nothing");
    }

    @Test
    void refusesOverlappingOffsets() throws IOException {
        Path file = dir.resolve("m.safetensors");
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>();
        t.put("a", SafeTensors.Entry.ofFloats(new long[] {2}, new float[] {1, 2}));
        t.put("b", SafeTensors.Entry.ofFloats(new long[] {2}, new float[] {3, 4}));
        SafeTensors.write(file, t, null);
        patchHeader(file, "[8,16]", "[4,12]");
        refused(file, "tensor \"b\"", "[4, 12] overlap tensor \"a\" [0, 8]");
    }

    @Test
    void refusesGapsAndTrailingBytes() throws IOException {
        Path gap = handMade("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", new byte[4]);
        refused(gap, "bytes [0, 2) belong to no tensor");
        Path trailing = handMade("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[5]);
        refused(trailing, "tensors cover 2 bytes", "has 5 bytes after the header", "3 unexplained trailing bytes");
    }

    @Test
    void refusesTruncatedFile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        SafeTensors.write(file, sample(), null);
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length - 3));
        refused(file, "reach beyond the " + (b.length - 3 - dataStart(file)) + "-byte data buffer", "file truncated?");
    }

    @Test
    void refusesBadMetadata() throws IOException {
        Path file = handMade("{\"__metadata__\":{\"epochs\":5}}", new byte[0]);
        refused(file, "\"__metadata__\" value for \"epochs\" must be a string, found a number");
    }

    @Test
    void failedWriteLeavesOldFileIntactAndNoTempFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        SafeTensors.write(file, sample(), Map.of("epoch", "1"));
        byte[] before = Files.readAllBytes(file);

        Map<String, SafeTensors.Entry> bad = new LinkedHashMap<>(sample());
        bad.put("__metadata__", SafeTensors.Entry.ofFloats(new long[] {1}, new float[] {0}));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, bad, null));
        assertArrayEquals(before, Files.readAllBytes(file));

        // A failure after the temp file is fully written: the target is a non-empty directory.
        Path occupied = dir.resolve("occupied.safetensors");
        Files.createDirectory(occupied);
        Files.writeString(occupied.resolve("keep"), "x");
        assertThrows(IOException.class, () -> SafeTensors.write(occupied, sample(), null));
        assertTrue(Files.isDirectory(occupied));

        try (var s = Files.list(dir)) {
            assertEquals(List.of("ckpt.safetensors", "occupied.safetensors"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(Map.of("epoch", "1"), SafeTensors.read(file).metadata());
    }

    @Test
    void entryValidatesAndConverts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.Entry.ofFloats(new long[] {2, 2}, new float[3]));
        assertTrue(e.getMessage().contains("4 elements, found 3 values"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SafeTensors.Entry("F128", new long[] {1}, new byte[16]));
        assertThrows(IllegalArgumentException.class, () -> new SafeTensors.Entry("F32", new long[] {2}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> new SafeTensors.Entry("F32", new long[] {-1}, new byte[0]));
        IllegalStateException wrongType = assertThrows(IllegalStateException.class,
                () -> SafeTensors.Entry.ofDoubles(new long[] {1}, new double[] {1}).asFloats());
        assertTrue(wrongType.getMessage().contains("dtype F64, not F32"));
        SafeTensors.Contents c = new SafeTensors.Contents(Map.of(), Map.of());
        NoSuchElementException missing = assertThrows(NoSuchElementException.class, () -> c.tensor("w"));
        assertTrue(missing.getMessage().contains("\"w\""));
    }
}
