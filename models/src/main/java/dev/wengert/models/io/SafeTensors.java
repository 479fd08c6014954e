package dev.wengert.models.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, as used by PyTorch and the Python {@code safetensors} library.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8
 * JSON; then the data buffer. The header maps each tensor name to
 * {@code {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}} (offsets relative to
 * the data buffer) and may hold a {@code "__metadata__"} object of string to string. Tensors are
 * little-endian, row-major and packed back to back. The writer pads the header with spaces so
 * the data buffer starts at a multiple of 8 bytes, as the reference implementation does.
 *
 * <p>The reader applies the reference implementation's checks: offsets must tile the data buffer
 * exactly (no gaps, no overlaps, nothing left over) and match each tensor's shape and dtype.
 */
public final class SafeTensors {

    /** Largest header accepted, the same limit as the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";
    private static final int LENGTH_FIELD_BYTES = 8;
    private static final int ALIGNMENT = 8;

    /**
     * Element size in bytes of every dtype this class understands, in the reference
     * implementation's {@code Dtype} order (increasing alignment), which the writer sorts by.
     */
    private static final Map<String, Integer> DTYPE_SIZES = dtypeSizes();
    private static final List<String> DTYPE_RANK = List.copyOf(DTYPE_SIZES.keySet());

    /** The reference layout order: larger dtypes first (keeps every tensor aligned), then by name. */
    private static final Comparator<Map.Entry<String, Entry>> LAYOUT_ORDER =
            Comparator.<Map.Entry<String, Entry>>comparingInt(t -> -DTYPE_RANK.indexOf(t.getValue().dtype))
                    .thenComparing((a, b) -> Arrays.compareUnsigned(
                            a.getKey().getBytes(StandardCharsets.UTF_8), b.getKey().getBytes(StandardCharsets.UTF_8)));

    private SafeTensors() {}

    private static Map<String, Integer> dtypeSizes() {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        for (String d : List.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3")) {
            sizes.put(d, 1);
        }
        for (String d : List.of("I16", "U16", "F16", "BF16")) {
            sizes.put(d, 2);
        }
        for (String d : List.of("I32", "U32", "F32")) {
            sizes.put(d, 4);
        }
        for (String d : List.of("F64", "I64", "U64")) {
            sizes.put(d, 8);
        }
        return Collections.unmodifiableMap(sizes);
    }

    /**
     * One tensor: its dtype name (e.g. {@code "F32"}), its shape ({@code []} for a scalar) and its
     * elements as little-endian bytes in row-major order. Immutable: the constructor and the array
     * accessors copy.
     */
    public record Entry(String dtype, long[] shape, byte[] littleEndianData) {

        /**
         * @throws IllegalArgumentException for an unknown dtype, a negative dimension, or data
         *     whose length is not {@code product(shape) * dtypeSize}
         */
        public Entry {
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(shape, "shape");
            Objects.requireNonNull(littleEndianData, "littleEndianData");
            Integer size = DTYPE_SIZES.get(dtype);
            if (size == null) {
                throw new IllegalArgumentException("unknown dtype \"" + dtype + "\"; expected one of " + DTYPE_SIZES.keySet());
            }
            long bytes = checkedByteCount(shape, size);
            if (littleEndianData.length != bytes) {
                throw new IllegalArgumentException("dtype " + dtype + " with shape " + Arrays.toString(shape)
                        + " needs " + bytes + " bytes, found " + littleEndianData.length);
            }
            shape = shape.clone();
            littleEndianData = littleEndianData.clone();
        }

        /** An {@code F32} tensor. */
        public static Entry ofFloats(long[] shape, float[] values) {
            ByteBuffer buf = allocate(shape, values.length, Float.BYTES);
            buf.asFloatBuffer().put(values);
            return new Entry("F32", shape, buf.array());
        }

        /** An {@code F64} tensor. */
        public static Entry ofDoubles(long[] shape, double[] values) {
            ByteBuffer buf = allocate(shape, values.length, Double.BYTES);
            buf.asDoubleBuffer().put(values);
            return new Entry("F64", shape, buf.array());
        }

        /** An {@code I64} tensor. */
        public static Entry ofLongs(long[] shape, long[] values) {
            ByteBuffer buf = allocate(shape, values.length, Long.BYTES);
            buf.asLongBuffer().put(values);
            return new Entry("I64", shape, buf.array());
        }

        /** The elements of an {@code F32} tensor. */
        public float[] asFloats() {
            float[] out = new float[littleEndianData.length / Float.BYTES];
            view("F32").asFloatBuffer().get(out);
            return out;
        }

        /** The elements of an {@code F64} tensor. */
        public double[] asDoubles() {
            double[] out = new double[littleEndianData.length / Double.BYTES];
            view("F64").asDoubleBuffer().get(out);
            return out;
        }

        /** The elements of an {@code I64} tensor. */
        public long[] asLongs() {
            long[] out = new long[littleEndianData.length / Long.BYTES];
            view("I64").asLongBuffer().get(out);
            return out;
        }

        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** A copy of the raw little-endian bytes. */
        @Override
        public byte[] littleEndianData() {
            return littleEndianData.clone();
        }

        /** Number of elements: the product of the shape (1 for a scalar). */
        public long elementCount() {
            return littleEndianData.length / DTYPE_SIZES.get(dtype);
        }

        private ByteBuffer view(String expected) {
            if (!dtype.equals(expected)) {
                throw new IllegalStateException("tensor has dtype " + dtype + ", not " + expected);
            }
            return ByteBuffer.wrap(littleEndianData).order(ByteOrder.LITTLE_ENDIAN);
        }

        private static ByteBuffer allocate(long[] shape, int valueCount, int size) {
            long bytes = checkedByteCount(shape, size);
            if (bytes != (long) valueCount * size) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + bytes / size
                        + " elements, found " + valueCount + " values");
            }
            return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && dtype.equals(e.dtype) && Arrays.equals(shape, e.shape)
                    && Arrays.equals(littleEndianData, e.littleEndianData);
        }

        @Override
        public int hashCode() {
            return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(littleEndianData));
        }

        @Override
        public String toString() {
            return "Entry[" + dtype + " " + Arrays.toString(shape) + ", " + littleEndianData.length + " bytes]";
        }
    }

    /**
     * What a file holds: tensors in header order (for files this class or the reference
     * implementation wrote: descending dtype alignment, then name), and the {@code __metadata__}
     * (empty if absent).
     * Both maps are unmodifiable.
     */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /**
         * The tensor called {@code name}.
         *
         * @throws NoSuchElementException naming the tensors that are present
         */
        public Entry tensor(String name) {
            Entry e = tensors.get(name);
            if (e == null) {
                throw new NoSuchElementException("no tensor \"" + name + "\"; found " + tensors.keySet());
            }
            return e;
        }
    }

    /**
     * Writes {@code tensors} and {@code metadata} (may be null or empty; then no
     * {@code __metadata__} is written). Like the reference implementation, tensors are laid out
     * (and listed in the header) by descending dtype alignment, then by name, so every tensor's
     * data is aligned to its element size and the bytes match what Python's {@code safetensors}
     * writes for the same tensors. The map's own order therefore does not matter. The file is
     * written to a temporary sibling and atomically renamed over {@code file}, so a crash never
     * leaves a half-written checkpoint.
     *
     * @throws IllegalArgumentException for a null or empty tensor name, the reserved name
     *     {@code __metadata__}, or null entries, metadata keys or values
     */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        List<Map.Entry<String, Entry>> ordered = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, Entry> t : ordered) {
            String name = t.getKey();
            if (name == null || name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("invalid tensor name " + (name == null ? "null" : "\"" + name + "\""));
            }
            Objects.requireNonNull(t.getValue(), () -> "tensor \"" + name + "\" is null");
        }
        ordered.sort(LAYOUT_ORDER);
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            Map<String, Object> meta = new LinkedHashMap<>();
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null: " + k + " -> " + v);
                }
                meta.put(k, v);
            });
            header.put(METADATA_KEY, meta);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> t : ordered) {
            Entry e = t.getValue();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", e.dtype);
            info.put("shape", e.shape);
            info.put("data_offsets", new long[] {offset, offset + e.littleEndianData.length});
            header.put(t.getKey(), info);
            offset += e.littleEndianData.length;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padding = (ALIGNMENT - json.length % ALIGNMENT) % ALIGNMENT;
        ByteBuffer prefix = ByteBuffer.allocate(LENGTH_FIELD_BYTES + json.length + padding).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(json.length + padding).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        AtomicFiles.write(file, out -> {
            out.write(prefix.array());
            for (Map.Entry<String, Entry> t : ordered) {
                out.write(t.getValue().littleEndianData);
            }
        });
    }

    /** Location of one tensor, as declared in the header. */
    private record Declared(String name, String dtype, long[] shape, long begin, long end) {}

    /**
     * Reads a whole safetensors file.
     *
     * @throws SafeTensorsFormatException if the file is too short, the header length is absurd or
     *     beyond the file, the header is not valid UTF-8 JSON of the expected form, a dtype is
     *     unknown, offsets are out of range, overlap, leave gaps or do not match shape and dtype,
     *     or the data buffer is shorter or longer than declared
     * @throws java.nio.file.NoSuchFileException if the file does not exist
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < LENGTH_FIELD_BYTES) {
                throw error(file, "file is " + size + " bytes; expected at least 8 (the little-endian header length)");
            }
            long headerLength = readAt(ch, file, 0, LENGTH_FIELD_BYTES).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw error(file, "header length " + Long.toUnsignedString(headerLength) + " is absurd (limit "
                        + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
            }
            long dataStart = LENGTH_FIELD_BYTES + headerLength;
            if (dataStart > size) {
                throw error(file, "header length " + headerLength + " exceeds the file: only "
                        + (size - LENGTH_FIELD_BYTES) + " bytes follow the length field");
            }
            byte[] headerBytes = readAt(ch, file, LENGTH_FIELD_BYTES, (int) headerLength).array();
            Map<String, Object> header = parseHeader(file, headerBytes);
            Map<String, String> metadata = parseMetadata(file, header.remove(METADATA_KEY));
            List<Declared> declared = new ArrayList<>();
            for (Map.Entry<String, Object> e : header.entrySet()) {
                declared.add(parseTensor(file, e.getKey(), e.getValue()));
            }
            checkLayout(file, declared, size - dataStart, size);
            Map<String, Entry> tensors = new LinkedHashMap<>();
            for (Declared d : declared) {
                byte[] bytes = readAt(ch, file, dataStart + d.begin, (int) (d.end - d.begin)).array();
                tensors.put(d.name, new Entry(d.dtype, d.shape, bytes));
            }
            return new Contents(tensors, metadata);
        }
    }

    private static Map<String, Object> parseHeader(Path file, byte[] bytes) throws SafeTensorsFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw error(file, "header is not valid UTF-8 (" + e + ")");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new SafeTensorsFormatException(file + ": header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map)) {
            throw error(file, "header must be a JSON object, found " + jsonType(parsed));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) parsed;
        return map;
    }

    private static Map<String, String> parseMetadata(Path file, Object value) throws SafeTensorsFormatException {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (value == null) {
            return metadata;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw error(file, "\"__metadata__\" must be an object of strings, found " + jsonType(value));
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw error(file, "\"__metadata__\" value for \"" + e.getKey() + "\" must be a string, found "
                        + jsonType(e.getValue()));
            }
            metadata.put((String) e.getKey(), s);
        }
        return metadata;
    }

    private static Declared parseTensor(Path file, String name, Object value) throws SafeTensorsFormatException {
        String where = "tensor \"" + name + "\"";
        if (!(value instanceof Map<?, ?> info)) {
            throw error(file, where + ": expected an object with dtype, shape and data_offsets, found " + jsonType(value));
        }
        if (!(info.get("dtype") instanceof String dtype)) {
            throw error(file, where + ": \"dtype\" must be a string, found " + jsonType(info.get("dtype")));
        }
        Integer size = DTYPE_SIZES.get(dtype);
        if (size == null) {
            throw error(file, where + ": unknown dtype \"" + dtype + "\"; expected one of " + DTYPE_SIZES.keySet());
        }
        long[] shape = longs(file, where, "shape", info.get("shape"), -1);
        long[] offsets = longs(file, where, "data_offsets", info.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw error(file, where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long needed;
        try {
            needed = checkedByteCount(shape, size);
        } catch (IllegalArgumentException e) {
            throw error(file, where + ": " + e.getMessage());
        }
        if (end - begin != needed) {
            throw error(file, where + ": data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                    + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + needed);
        }
        return new Declared(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers, of the given length (or any length if negative). */
    private static long[] longs(Path file, String where, String key, Object value, int length)
            throws SafeTensorsFormatException {
        String expected = "\"" + key + "\" must be an array of " + (length >= 0 ? length + " " : "")
                + "non-negative integers";
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw error(file, where + ": " + expected + ", found " + describeJson(value));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long n) || n < 0) {
                throw error(file, where + ": " + expected + ", found " + describeJson(value));
            }
            out[i] = n;
        }
        return out;
    }

    /** Offsets must tile [0, dataLength) exactly, as the reference implementation requires. */
    private static void checkLayout(Path file, List<Declared> declared, long dataLength, long fileSize)
            throws SafeTensorsFormatException {
        for (Declared d : declared) {
            if (d.end > dataLength) {
                throw error(file, "tensor \"" + d.name + "\": data_offsets [" + d.begin + ", " + d.end
                        + "] reach beyond the " + dataLength + "-byte data buffer (file truncated? it is "
                        + fileSize + " bytes)");
            }
        }
        List<Declared> byOffset = new ArrayList<>(declared);
        byOffset.sort(Comparator.comparingLong(Declared::begin).thenComparingLong(Declared::end));
        long cursor = 0;
        Declared previous = null;
        for (Declared d : byOffset) {
            if (d.begin < cursor) {
                throw error(file, "tensor \"" + d.name + "\": data_offsets [" + d.begin + ", " + d.end
                        + "] overlap tensor \"" + previous.name + "\" [" + previous.begin + ", " + previous.end + "]");
            }
            if (d.begin > cursor) {
                throw error(file, "data buffer bytes [" + cursor + ", " + d.begin + ") belong to no tensor;"
                        + " expected tensor \"" + d.name + "\" to start at " + cursor);
            }
            cursor = d.end;
            previous = d;
        }
        if (cursor != dataLength) {
            throw error(file, "tensors cover " + cursor + " bytes of data but the file has " + dataLength
                    + " bytes after the header (" + (dataLength - cursor) + " unexplained trailing bytes)");
        }
    }

    private static long checkedByteCount(long[] shape, int elementSize) {
        long bytes = elementSize;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            if (d != 0 && bytes > (Integer.MAX_VALUE - 8) / d) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                        + " needs more bytes than one Java array can hold (2 GiB per tensor)");
            }
            bytes *= d;
        }
        return bytes;
    }

    private static ByteBuffer readAt(FileChannel ch, Path file, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) {
                throw error(file, "file ended at byte " + (position + buf.position()) + " while reading "
                        + length + " bytes from offset " + position + " (was it truncated while being read?)");
            }
        }
        buf.flip();
        return buf;
    }

    private static String jsonType(Object v) {
        if (v == null) {
            return "null";
        } else if (v instanceof Map) {
            return "an object";
        } else if (v instanceof List) {
            return "an array";
        } else if (v instanceof String) {
            return "a string";
        } else if (v instanceof Boolean) {
            return "a boolean";
        }
        return "a number";
    }

    private static String describeJson(Object v) {
        String text = v == null ? "nothing" : Json.write(v);
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    private static SafeTensorsFormatException error(Path file, String message) {
        return new SafeTensorsFormatException(file + ": " + message);
    }
}
