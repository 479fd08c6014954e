package dev.wengert.models.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.models.io.SafeTensors;
import dev.wengert.models.nn.Sequential;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    @Test
    void mlpRoundTripGivesIdenticalParametersAndPredictions() throws IOException {
        ModelSpec spec = ModelSpec.mlp(20, new int[] {16, 8}, 5);
        Path file = dir.resolve("m.safetensors");
        try (Scope s = Scope.open(); Sequential model = spec.build(3, DType.FLOAT32, Device.CPU)) {
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"),
                    List.copyOf(model.namedParameters().keySet()));
            // non-zero biases, so that they are checked too
            model.namedParameters().get("4.bias").value().assign(Tensor.of(new float[] {0.1f, -0.2f, 0.3f, 0f, 1e-7f}));
            Checkpoint.save(file, model, spec, Map.of("test_accuracy", "0.5"));
            Checkpoint.Loaded loaded = Checkpoint.load(file, Device.CPU);
            try (Sequential back = loaded.model()) {
                assertEquals(spec, loaded.spec());
                assertEquals("0.5", loaded.metadata().get("test_accuracy"));
                for (Map.Entry<String, Var> e : model.namedParameters().entrySet()) {
                    assertArrayEquals(e.getValue().value().toFloatArray(), back.namedParameters().get(e.getKey()).value().toFloatArray(),
                            e.getKey());
                }
                Tensor x = Tensor.on(Device.CPU).rand(11, DType.FLOAT32, 7, 20);
                try (Grad.Mode off = Grad.noGrad()) {
                    assertArrayEquals(model.forward(Var.constant(x)).value().toFloatArray(),
                            back.forward(Var.constant(x)).value().toFloatArray(), 0f);
                }
            }
        }
    }

    @Test
    void logregMetadataAndPyTorchNames() throws IOException {
        ModelSpec spec = ModelSpec.logreg(784, 10);
        Path file = dir.resolve("l.safetensors");
        try (Scope s = Scope.open(); Sequential model = spec.build(1, DType.FLOAT32, Device.CPU)) {
            Checkpoint.save(file, model, spec, null);
        }
        SafeTensors.Contents c = SafeTensors.read(file);
        assertEquals(java.util.Set.of("0.weight", "0.bias"), c.tensors().keySet());
        assertArrayEquals(new long[] {10, 784}, c.tensor("0.weight").shape());
        assertEquals("logreg", c.metadata().get("model"));
        assertEquals("", c.metadata().get("hidden"));
        assertEquals(Checkpoint.FORMAT, c.metadata().get(Checkpoint.FORMAT_KEY));
    }

    @Test
    void corruptAndForeignFilesAreRefused() throws IOException {
        ModelSpec spec = ModelSpec.logreg(6, 3);
        Path file = dir.resolve("c.safetensors");
        try (Scope s = Scope.open(); Sequential model = spec.build(1, DType.FLOAT32, Device.CPU)) {
            Checkpoint.save(file, model, spec, null);
        }
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = dir.resolve("t.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertThrows(IOException.class, () -> Checkpoint.load(truncated, Device.CPU));

        Path foreign = dir.resolve("f.safetensors");
        SafeTensors.write(foreign, Map.of("w", SafeTensors.Entry.ofFloats(new long[] {1}, new float[] {1})), Map.of());
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(foreign, Device.CPU));

        Path wrongShape = dir.resolve("w.safetensors");
        SafeTensors.write(wrongShape, Map.of("0.weight", SafeTensors.Entry.ofFloats(new long[] {3, 5}, new float[15]),
                "0.bias", SafeTensors.Entry.ofFloats(new long[] {3}, new float[3])),
                Map.of("format", Checkpoint.FORMAT, "model", "logreg", "inputs", "6", "classes", "3"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(wrongShape, Device.CPU));
        assertEquals(true, e.getMessage().contains("0.weight"), e.getMessage());
    }

    @Test
    void specMetadataRoundTripAndValidation() {
        ModelSpec spec = ModelSpec.mlp(784, new int[] {1024, 1024}, 10);
        assertEquals(spec, ModelSpec.fromMetadata(spec.toMetadata()));
        assertEquals("784-1024-1024-10", spec.layout());
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec("cnn", 1, new int[0], 1));
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.mlp(784, new int[0], 10));
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromMetadata(Map.of("model", "mlp")));
    }
}
