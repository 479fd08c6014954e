package dev.wengert.models.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import dev.wengert.models.onnx.OnnxProto.TensorData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The reader's typed-field paths (the bundled cases mostly use raw_data) on TensorProtos written here
 * with protobuf-java.
 */
class OnnxProtoTest {

    interface Body {
        void write(CodedOutputStream out) throws IOException;
    }

    static TensorData tensor(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        body.write(out);
        out.flush();
        return OnnxProto.readTensor(CodedInputStream.newInstance(bytes.toByteArray()));
    }

    @Test
    void packedFloatDataAndDims() throws IOException {
        TensorData t = tensor(out -> {
            out.writeInt64(1, 2); // dims, unpacked
            out.writeInt64(1, 2);
            out.writeInt32(2, OnnxProto.FLOAT);
            out.writeTag(4, 2); // float_data, packed
            out.writeUInt32NoTag(16);
            for (float f : new float[] {1.5f, -2f, Float.NaN, 3.25f}) {
                out.writeFloatNoTag(f);
            }
            out.writeString(8, "x");
        });
        assertEquals("x", t.name());
        assertArrayEquals(new int[] {2, 2}, t.shape());
        assertArrayEquals(new double[] {1.5, -2, Double.NaN, 3.25}, t.values());
    }

    @Test
    void int64DataUnpackedAndNegative() throws IOException {
        TensorData t = tensor(out -> {
            out.writeInt64(1, 3);
            out.writeInt32(2, OnnxProto.INT64);
            for (long v : new long[] {-9, 0, 1L << 40}) {
                out.writeInt64(7, v);
            }
        });
        assertArrayEquals(new long[] {-9, 0, 1L << 40}, t.longValues());
    }

    @Test
    void rawLittleEndianDoublesAndBools() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-1e300);
        TensorData doubles = tensor(out -> {
            out.writeInt64(1, 2);
            out.writeInt32(2, OnnxProto.DOUBLE);
            out.writeByteArray(9, d.array());
        });
        assertArrayEquals(new double[] {0.1, -1e300}, doubles.values());
        TensorData bools = tensor(out -> {
            out.writeInt64(1, 3);
            out.writeInt32(2, OnnxProto.BOOL);
            out.writeByteArray(9, new byte[] {1, 0, 1});
        });
        assertArrayEquals(new long[] {1, 0, 1}, bools.longValues());
    }

    @Test
    void rankZeroTensorHasOneElement() throws IOException {
        TensorData t = tensor(out -> {
            out.writeInt32(2, OnnxProto.FLOAT);
            out.writeByteArray(9, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.1f).array());
        });
        assertEquals(0, t.dims().length);
        assertArrayEquals(new double[] {0.1f}, t.values());
    }
}
