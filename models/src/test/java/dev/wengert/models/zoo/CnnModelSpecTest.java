package dev.wengert.models.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.nn.Sequential;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zoo's convolutional networks: PyTorch's layer indices, parameter names, shapes and counts (those of
 * bench/reference/pytorch_cnn_reference.py), PyTorch's default initialisation bounds, the metadata round trip,
 * and the refusals.
 */
class CnnModelSpecTest {
    @TempDir
    Path dir;

    private static Map<String, List<Integer>> shapes(Sequential model) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> out.put(n, java.util.Arrays.stream(p.shape()).boxed().toList()));
        return out;
    }

    @Test
    void lenet5HasPyTorchsNamesShapesAndCount() {
        ModelSpec spec = ModelSpec.lenet5(784, 10);
        try (Scope s = Scope.open(); Sequential m = spec.build(1, DType.FLOAT32, Device.CPU)) {
            Map<String, List<Integer>> expected = new LinkedHashMap<>();
            expected.put("1.weight", List.of(6, 1, 5, 5));
            expected.put("1.bias", List.of(6));
            expected.put("4.weight", List.of(16, 6, 5, 5));
            expected.put("4.bias", List.of(16));
            expected.put("8.weight", List.of(120, 400));
            expected.put("8.bias", List.of(120));
            expected.put("10.weight", List.of(84, 120));
            expected.put("10.bias", List.of(84));
            expected.put("12.weight", List.of(10, 84));
            expected.put("12.bias", List.of(10));
            assertEquals(expected, shapes(m));
            assertEquals(61_706, m.parameterCount(), "PyTorch's count for this LeNet-5");
            assertEquals(13, m.size());
            assertEquals("lenet5 1x28x28-6@5x5-pool2-16@5x5-pool2-400-120-84-10", spec.toString());
        }
    }

    @Test
    void convnetHasPyTorchsNamesWithAndWithoutBatchNormAndDropout() {
        try (Scope s = Scope.open(); Sequential plain = ModelSpec.convnet(784, 10, false, 0).build(1, DType.FLOAT32, Device.CPU);
                Sequential full = ModelSpec.convnet(784, 10, true, 0.25).build(1, DType.FLOAT32, Device.CPU)) {
            assertEquals(List.of("1.weight", "1.bias", "4.weight", "4.bias", "8.weight", "8.bias", "10.weight", "10.bias"),
                    List.copyOf(plain.namedParameters().keySet()));
            assertEquals(List.of(128, 3136), shapes(plain).get("8.weight"));
            assertEquals(421_642, plain.parameterCount(), "PyTorch's count for the plain convnet");
            // conv, bn, relu, pool, conv, bn, relu, pool, flatten, linear, bn1d, relu, dropout, linear after the Unflatten
            assertEquals(List.of("1.weight", "1.bias", "2.weight", "2.bias", "5.weight", "5.bias", "6.weight", "6.bias",
                    "10.weight", "10.bias", "11.weight", "11.bias", "14.weight", "14.bias"), List.copyOf(full.namedParameters().keySet()));
            assertEquals(List.of(64), shapes(full).get("6.weight"));
            assertEquals(List.of(128), shapes(full).get("11.bias"));
            assertEquals(421_642 + 2 * (32 + 64 + 128), full.parameterCount());
            assertEquals(Map.of("13.seed", 1L + 13, "13.calls", 0L), full.randomState(), "the dropout layer's seed is seed + its index");
        }
    }

    @Test
    void theNetworksMapFlatImagesToLogitsAndDifferentiate() {
        for (ModelSpec spec : List.of(ModelSpec.lenet5(784, 10), ModelSpec.convnet(784, 10, true, 0.5))) {
            try (Scope s = Scope.open(); Sequential m = spec.build(3, DType.FLOAT32, Device.CPU)) {
                Var x = Var.constant(Tensor.on(Device.CPU).uniform(0, 1, 5, DType.FLOAT32, 4, 784));
                Var logits = m.forward(x);
                assertArrayEquals(new int[] {4, 10}, logits.shape(), spec.toString());
                logits.square().sum().backward();
                for (var e : m.namedParameters().entrySet()) {
                    assertTrue(e.getValue().gradTensor() != null, e.getKey() + " of " + spec + " gets a gradient");
                }
                m.zeroGrad();
                m.eval();
                try (Grad.Mode ng = Grad.noGrad()) {
                    assertArrayEquals(new int[] {4, 10}, m.forward(x).shape());
                }
            }
        }
    }

    @Test
    void parametersStartWithinPyTorchsDefaultBounds() {
        try (Scope s = Scope.open(); Sequential m = ModelSpec.lenet5(784, 10).build(7, DType.FLOAT32, Device.CPU)) {
            // fan_in: 1*5*5, 6*5*5, 400, 120, 84; bound 1/sqrt(fan_in) for weight and bias alike
            Map<String, Double> bound = Map.of("1", 1 / 5.0, "4", 1 / Math.sqrt(150), "8", 1 / 20.0, "10", 1 / Math.sqrt(120),
                    "12", 1 / Math.sqrt(84));
            for (var e : m.namedParameters().entrySet()) {
                double b = bound.get(e.getKey().substring(0, e.getKey().indexOf('.')));
                float[] v = e.getValue().value().toFloatArray();
                double maxAbs = 0;
                double sumSq = 0;
                for (float f : v) {
                    maxAbs = Math.max(maxAbs, Math.abs(f));
                    sumSq += f * f;
                }
                assertTrue(maxAbs <= b, e.getKey() + ": " + maxAbs + " > " + b);
                if (v.length >= 100) {
                    double rms = Math.sqrt(sumSq / v.length);
                    assertEquals(b / Math.sqrt(3), rms, 0.15 * b, e.getKey() + ": uniform on +/-" + b);
                }
            }
            float[] w = m.namedParameters().get("8.weight").value().toFloatArray();
            float[] bias = m.namedParameters().get("8.bias").value().toFloatArray();
            assertFalse(w[0] == bias[0] && w[1] == bias[1], "the bias has a seed of its own");
        }
    }

    @Test
    void theMetadataRebuildsTheSameSpecAndOlderMetadataMeansPlain() {
        for (ModelSpec spec : List.of(ModelSpec.lenet5(784, 10), ModelSpec.convnet(784, 10, true, 0.25),
                ModelSpec.convnet(784, 10, false, 0), ModelSpec.mlp(784, new int[] {32}, 10))) {
            assertEquals(spec, ModelSpec.fromMetadata(spec.toMetadata()), spec.toString());
        }
        assertFalse(ModelSpec.mlp(784, new int[] {32}, 10).toMetadata().containsKey("batch_norm"), "other models' metadata is as before");
        Map<String, String> old = new LinkedHashMap<>(ModelSpec.convnet(784, 10, false, 0).toMetadata());
        old.remove("batch_norm");
        old.remove("dropout");
        assertEquals(ModelSpec.convnet(784, 10, false, 0), ModelSpec.fromMetadata(old));
        assertFalse(ModelSpec.convnet(784, 10, true, 0).equals(ModelSpec.convnet(784, 10, false, 0)));
    }

    @Test
    void aCheckpointOfTheConvnetLoadsBack() throws Exception {
        ModelSpec spec = ModelSpec.convnet(784, 10, false, 0.25);
        Path file = dir.resolve("c.safetensors");
        try (Scope s = Scope.open(); Sequential m = spec.build(5, DType.FLOAT32, Device.CPU)) {
            Checkpoint.save(file, m, spec, Map.of());
            Checkpoint.Loaded back = Checkpoint.load(file, Device.CPU);
            try (Sequential b = back.model()) {
                assertEquals(spec, back.spec());
                for (var e : m.namedParameters().entrySet()) {
                    assertArrayEquals(e.getValue().value().toFloatArray(), b.namedParameters().get(e.getKey()).value().toFloatArray(), e.getKey());
                }
            }
        }
    }

    @Test
    void wrongSizesAndOptionsAreRefusedSayingWhy() {
        IllegalArgumentException notSquare = assertThrows(IllegalArgumentException.class, () -> ModelSpec.convnet(785, 10, false, 0));
        assertTrue(notSquare.getMessage().contains("square single-channel images"), notSquare.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.lenet5(100, 10), "10x10 is too small for LeNet-5's two 5x5 convolutions");
        IllegalArgumentException bn = assertThrows(IllegalArgumentException.class,
                () -> new ModelSpec(ModelSpec.MLP, 784, new int[] {8}, 10, true, 0));
        assertTrue(bn.getMessage().contains("options of convnet"), bn.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.convnet(784, 10, false, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(ModelSpec.LENET5, 784, new int[] {8}, 10));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> new ModelSpec("resnet", 784, new int[0], 10));
        assertTrue(unknown.getMessage().contains("logreg, mlp, lenet5, convnet"), unknown.getMessage());
    }
}
