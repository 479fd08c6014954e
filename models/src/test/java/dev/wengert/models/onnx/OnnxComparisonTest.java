package dev.wengert.models.onnx;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.wengert.models.onnx.OnnxProto.TensorData;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The conformance suite's comparison: NaN equals NaN, the float32 tolerance, and shape and dtype checks. */
class OnnxComparisonTest {

    @Test
    void comparisonTreatsNanAsEqualAndRejectsDifferences() throws IOException {
        TensorData expected = OnnxProtoTest.tensor(out -> {
            out.writeInt64(1, 3);
            out.writeInt32(2, OnnxProto.FLOAT);
            out.writeTag(4, 2);
            out.writeUInt32NoTag(12);
            out.writeFloatNoTag(1f);
            out.writeFloatNoTag(Float.NaN);
            out.writeFloatNoTag(100f);
        });
        try (Scope s = Scope.open()) {
            assertNull(OnnxNodeConformanceTest.compare(List.of(Tensor.of(new float[] {1f, Float.NaN, 100.0009f})), List.of(expected)));
            assertNotNull(OnnxNodeConformanceTest.compare(List.of(Tensor.of(new float[] {1f, 0f, 100f})), List.of(expected)));
            assertNotNull(OnnxNodeConformanceTest.compare(List.of(Tensor.of(new float[] {1f, Float.NaN, 100.01f})), List.of(expected)));
            assertNotNull(OnnxNodeConformanceTest.compare(List.of(Tensor.of(new double[] {1, Double.NaN, 100})), List.of(expected)));
            assertNotNull(OnnxNodeConformanceTest.compare(List.of(Tensor.of(new float[] {1f, Float.NaN, 100f}).reshape(1, 3)), List.of(expected)));
        }
    }
}
