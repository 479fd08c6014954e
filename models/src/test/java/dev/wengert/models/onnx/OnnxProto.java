package dev.wengert.models.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small reader for the parts of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that the node
 * test cases use, decoded field by field with protobuf-java's {@link CodedInputStream}; unknown fields
 * are skipped. Field numbers: ModelProto opset_import 8, graph 7; OperatorSetIdProto domain 1, version 2;
 * GraphProto node 1, initializer 5, input 11, output 12; ValueInfoProto name 1; NodeProto input 1,
 * output 2, name 3, op_type 4, attribute 5, domain 7; AttributeProto name 1, f 2, i 3, s 4, t 5,
 * floats 7, ints 8, strings 9, type 20; TensorProto dims 1, data_type 2, float_data 4, int32_data 5,
 * int64_data 7, name 8, raw_data 9 (little-endian, fixed width; bool one byte), double_data 10,
 * uint64_data 11. Repeated scalars are read packed or unpacked.
 */
final class OnnxProto {
    private OnnxProto() {
    }

    /** TensorProto.DataType values. */
    static final int FLOAT = 1;
    static final int UINT8 = 2;
    static final int INT8 = 3;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int UINT16 = 4;
    static final int INT16 = 5;
    static final int BOOL = 9;
    static final int FLOAT16 = 10;
    static final int DOUBLE = 11;
    static final int UINT32 = 12;
    static final int UINT64 = 13;

    static String typeName(int dataType) {
        return switch (dataType) {
            case FLOAT -> "float32";
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case 4 -> "uint16";
            case 5 -> "int16";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case 8 -> "string";
            case BOOL -> "bool";
            case 10 -> "float16";
            case DOUBLE -> "float64";
            case UINT32 -> "uint32";
            case UINT64 -> "uint64";
            case 16 -> "bfloat16";
            default -> "type" + dataType;
        };
    }

    /** A decoded tensor: its values widened to double (exact for every type the cases use) or long. */
    record TensorData(String name, int dataType, long[] dims, double[] values, long[] longValues) {
        int numel() {
            return values.length;
        }

        boolean isFloat() {
            return dataType == FLOAT || dataType == DOUBLE;
        }

        int[] shape() {
            int[] s = new int[dims.length];
            for (int i = 0; i < s.length; i++) {
                s[i] = Math.toIntExact(dims[i]);
            }
            return s;
        }

        @Override
        public String toString() {
            return name + ":" + typeName(dataType) + Arrays.toString(dims);
        }
    }

    /** An attribute: the field given by its type is set. */
    record Attribute(String name, int type, float f, long i, String s, TensorData t, float[] floats, long[] ints) {
    }

    record Node(String opType, String domain, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {
        Attribute attr(String name) {
            return attributes.get(name);
        }

        long intAttr(String name, long dflt) {
            Attribute a = attributes.get(name);
            return a == null ? dflt : a.i();
        }

        float floatAttr(String name, float dflt) {
            Attribute a = attributes.get(name);
            return a == null ? dflt : a.f();
        }

        String stringAttr(String name, String dflt) {
            Attribute a = attributes.get(name);
            return a == null ? dflt : a.s();
        }

        long[] intsAttr(String name) {
            Attribute a = attributes.get(name);
            return a == null ? null : a.ints();
        }
    }

    record Model(Map<String, Long> opsets, List<Node> nodes, List<String> inputs, List<String> outputs,
                 Map<String, TensorData> initializers) {
    }

    static Model readModel(Path file) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(Files.readAllBytes(file));
        Map<String, Long> opsets = new LinkedHashMap<>();
        Model graph = null;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 7 -> graph = readGraph(in.readBytes().newCodedInput());
                case 8 -> {
                    CodedInputStream o = in.readBytes().newCodedInput();
                    String domain = "";
                    long version = 0;
                    int t;
                    while ((t = o.readTag()) != 0) {
                        switch (WireFormat.getTagFieldNumber(t)) {
                            case 1 -> domain = o.readStringRequireUtf8();
                            case 2 -> version = o.readInt64();
                            default -> o.skipField(t);
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> in.skipField(tag);
            }
        }
        if (graph == null) {
            throw new IOException(file + ": no graph");
        }
        return new Model(opsets, graph.nodes(), graph.inputs(), graph.outputs(), graph.initializers());
    }

    private static Model readGraph(CodedInputStream in) throws IOException {
        List<Node> nodes = new ArrayList<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, TensorData> inits = new LinkedHashMap<>();
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> nodes.add(readNode(in.readBytes().newCodedInput()));
                case 5 -> {
                    TensorData t = readTensor(in.readBytes().newCodedInput());
                    inits.put(t.name(), t);
                }
                case 11 -> inputs.add(readValueInfoName(in.readBytes().newCodedInput()));
                case 12 -> outputs.add(readValueInfoName(in.readBytes().newCodedInput()));
                default -> in.skipField(tag);
            }
        }
        return new Model(Map.of(), nodes, inputs, outputs, inits);
    }

    private static String readValueInfoName(CodedInputStream in) throws IOException {
        String name = "";
        int tag;
        while ((tag = in.readTag()) != 0) {
            if (WireFormat.getTagFieldNumber(tag) == 1) {
                name = in.readStringRequireUtf8();
            } else {
                in.skipField(tag);
            }
        }
        return name;
    }

    private static Node readNode(CodedInputStream in) throws IOException {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String opType = "";
        String domain = "";
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> inputs.add(in.readStringRequireUtf8());
                case 2 -> outputs.add(in.readStringRequireUtf8());
                case 4 -> opType = in.readStringRequireUtf8();
                case 5 -> {
                    Attribute a = readAttribute(in.readBytes().newCodedInput());
                    attrs.put(a.name(), a);
                }
                case 7 -> domain = in.readStringRequireUtf8();
                default -> in.skipField(tag);
            }
        }
        return new Node(opType, domain, inputs, outputs, attrs);
    }

    private static Attribute readAttribute(CodedInputStream in) throws IOException {
        String name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        String s = null;
        TensorData t = null;
        FloatList floats = new FloatList();
        LongList ints = new LongList();
        int tag;
        while ((tag = in.readTag()) != 0) {
            int field = WireFormat.getTagFieldNumber(tag);
            int wire = WireFormat.getTagWireType(tag);
            switch (field) {
                case 1 -> name = in.readStringRequireUtf8();
                case 2 -> f = in.readFloat();
                case 3 -> i = in.readInt64();
                case 4 -> s = in.readBytes().toStringUtf8();
                case 5 -> t = readTensor(in.readBytes().newCodedInput());
                case 7 -> readFloats(in, wire, floats);
                case 8 -> readVarints(in, wire, ints);
                case 20 -> type = in.readEnum();
                default -> in.skipField(tag);
            }
        }
        return new Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray());
    }

    /** Reads a serialized TensorProto file (input_N.pb, output_N.pb). */
    static TensorData readTensor(Path file) throws IOException {
        return readTensor(CodedInputStream.newInstance(Files.readAllBytes(file)));
    }

    static TensorData readTensor(CodedInputStream in) throws IOException {
        LongList dims = new LongList();
        int dataType = 0;
        String name = "";
        FloatList floatData = new FloatList();
        LongList int32Data = new LongList();
        LongList int64Data = new LongList();
        LongList uint64Data = new LongList();
        DoubleList doubleData = new DoubleList();
        byte[] raw = null;
        int tag;
        while ((tag = in.readTag()) != 0) {
            int field = WireFormat.getTagFieldNumber(tag);
            int wire = WireFormat.getTagWireType(tag);
            switch (field) {
                case 1 -> readVarints(in, wire, dims);
                case 2 -> dataType = in.readInt32();
                case 4 -> readFloats(in, wire, floatData);
                case 5 -> readVarints(in, wire, int32Data);
                case 7 -> readVarints(in, wire, int64Data);
                case 8 -> name = in.readStringRequireUtf8();
                case 9 -> raw = in.readByteArray();
                case 10 -> readDoubles(in, wire, doubleData);
                case 11 -> readVarints(in, wire, uint64Data);
                case 13 -> throw new IOException("tensor " + name + " keeps its data externally; not supported");
                default -> in.skipField(tag);
            }
        }
        long n = 1;
        for (long d : dims.toArray()) {
            n *= d;
        }
        int count = Math.toIntExact(n);
        double[] values = new double[count];
        long[] longs = new long[count];
        if (raw != null) {
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            int width = switch (dataType) {
                case FLOAT, INT32, UINT32 -> 4;
                case DOUBLE, INT64, UINT64 -> 8;
                case BOOL, UINT8, INT8 -> 1;
                case UINT16, INT16, FLOAT16 -> 2;
                default -> throw new IOException("tensor " + name + ": raw data of type " + typeName(dataType) + " not supported");
            };
            if (raw.length != (long) width * count) {
                throw new IOException("tensor " + name + ": " + raw.length + " raw bytes for " + count + " elements of " + typeName(dataType));
            }
            for (int k = 0; k < count; k++) {
                switch (dataType) {
                    case FLOAT -> values[k] = b.getFloat();
                    case DOUBLE -> values[k] = b.getDouble();
                    case INT32 -> longs[k] = b.getInt();
                    case UINT32 -> longs[k] = Integer.toUnsignedLong(b.getInt());
                    case INT64 -> longs[k] = b.getLong();
                    case UINT64 -> longs[k] = b.getLong(); // the cases' uint64 values are small
                    case BOOL, UINT8 -> longs[k] = b.get() & 0xff;
                    case INT8 -> longs[k] = b.get();
                    case INT16 -> longs[k] = b.getShort();
                    case UINT16 -> longs[k] = b.getShort() & 0xffff;
                    case FLOAT16 -> values[k] = halfToDouble(b.getShort() & 0xffff);
                    default -> throw new AssertionError();
                }
            }
        } else {
            switch (dataType) {
                case FLOAT -> copy(floatData.toArray(), values, name);
                case DOUBLE -> copyD(doubleData.toArray(), values, name);
                case INT32, BOOL, UINT8, INT8, INT16, UINT16 -> copyL(int32Data.toArray(), longs, name);
                case FLOAT16 -> {
                    long[] bits = int32Data.toArray();
                    if (bits.length != values.length) {
                        throw new IOException("tensor " + name + ": " + bits.length + " values for " + values.length + " elements");
                    }
                    for (int k = 0; k < bits.length; k++) {
                        values[k] = halfToDouble((int) bits[k] & 0xffff);
                    }
                }
                case INT64 -> copyL(int64Data.toArray(), longs, name);
                case UINT32, UINT64 -> copyL(uint64Data.toArray(), longs, name);
                default -> throw new IOException("tensor " + name + ": type " + typeName(dataType) + " not supported");
            }
        }
        if (dataType != FLOAT && dataType != DOUBLE && dataType != FLOAT16) {
            for (int k = 0; k < count; k++) {
                values[k] = longs[k];
            }
        } else {
            longs = null;
        }
        return new TensorData(name, dataType, dims.toArray(), values, longs);
    }

    /** IEEE 754 binary16 bits as a double (Java 17 has no Float.float16ToFloat). */
    static double halfToDouble(int h) {
        int sign = (h >>> 15) != 0 ? -1 : 1;
        int exp = (h >>> 10) & 0x1f;
        int frac = h & 0x3ff;
        if (exp == 0) {
            return sign * frac * 0x1p-24;
        }
        if (exp == 31) {
            return frac == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        return sign * (1 + frac / 1024.0) * Math.pow(2, exp - 15);
    }

    private static void copy(float[] src, double[] dst, String name) throws IOException {
        check(src.length, dst.length, name);
        for (int k = 0; k < src.length; k++) {
            dst[k] = src[k];
        }
    }

    private static void copyD(double[] src, double[] dst, String name) throws IOException {
        check(src.length, dst.length, name);
        System.arraycopy(src, 0, dst, 0, src.length);
    }

    private static void copyL(long[] src, long[] dst, String name) throws IOException {
        check(src.length, dst.length, name);
        System.arraycopy(src, 0, dst, 0, src.length);
    }

    private static void check(int have, int want, String name) throws IOException {
        if (have != want) {
            throw new IOException("tensor " + name + ": " + have + " values for " + want + " elements");
        }
    }

    private static void readVarints(CodedInputStream in, int wire, LongList out) throws IOException {
        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            int limit = in.pushLimit(in.readRawVarint32());
            while (in.getBytesUntilLimit() > 0) {
                out.add(in.readInt64());
            }
            in.popLimit(limit);
        } else {
            out.add(in.readInt64());
        }
    }

    private static void readFloats(CodedInputStream in, int wire, FloatList out) throws IOException {
        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            int limit = in.pushLimit(in.readRawVarint32());
            while (in.getBytesUntilLimit() > 0) {
                out.add(in.readFloat());
            }
            in.popLimit(limit);
        } else {
            out.add(in.readFloat());
        }
    }

    private static void readDoubles(CodedInputStream in, int wire, DoubleList out) throws IOException {
        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            int limit = in.pushLimit(in.readRawVarint32());
            while (in.getBytesUntilLimit() > 0) {
                out.add(in.readDouble());
            }
            in.popLimit(limit);
        } else {
            out.add(in.readDouble());
        }
    }

    private static final class LongList {
        private long[] a = new long[8];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    private static final class FloatList {
        private float[] a = new float[8];
        private int n;

        void add(float v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }

        float[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    private static final class DoubleList {
        private double[] a = new double[8];
        private int n;

        void add(double v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }

        double[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
