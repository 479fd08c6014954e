package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wengert.autograd.Var;
import dev.wengert.models.io.Json;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BatchNorm1d/BatchNorm2d against PyTorch 1.13's own numbers (float64, CPU): resources/batchnorm/
 * torch_batchnorm.json, written once by make_torch_batchnorm.py next to it (Debian's python3-torch). Each
 * case runs its training batches then one evaluation batch through a module with the same settings,
 * weight and bias, and compares the output, the gradients of sum(y * g) with respect to the input, weight
 * and bias, the running statistics and num_batches_tracked after every batch.
 */
class BatchNormTorchTest {
    private static final double TOL = 1e-12;

    @SuppressWarnings("unchecked")
    static Stream<Map<String, Object>> cases() throws IOException {
        try (InputStream in = BatchNormTorchTest.class.getResourceAsStream("/batchnorm/torch_batchnorm.json")) {
            Map<String, Object> root = (Map<String, Object>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            return ((List<Map<String, Object>>) root.get("cases")).stream();
        }
    }

    static double[] doubles(Object list) {
        return ((List<?>) list).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
    }

    static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOL * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(Map<String, Object> c) {
        String name = (String) c.get("name");
        int features = ((Number) c.get("features")).intValue();
        Double momentum = c.get("momentum") == null ? null : ((Number) c.get("momentum")).doubleValue();
        double eps = ((Number) c.get("eps")).doubleValue();
        boolean affine = (Boolean) c.get("affine");
        boolean track = (Boolean) c.get("track_running_stats");
        int[] shape = ((List<Object>) c.get("shape")).stream().mapToInt(v -> ((Number) v).intValue()).toArray();
        BatchNorm bn;
        try (Scope s = Scope.open()) {
            bn = c.get("module").equals("BatchNorm2d")
                    ? new BatchNorm2d(features, eps, momentum, affine, track, DType.FLOAT64, Device.CPU)
                    : new BatchNorm1d(features, eps, momentum, affine, track, DType.FLOAT64, Device.CPU);
            if (affine) {
                bn.weight().value().assign(Tensor.of(doubles(c.get("weight"))));
                bn.bias().value().assign(Tensor.of(doubles(c.get("bias"))));
            }
        }
        try (bn) {
            int step = 0;
            for (Map<String, Object> s : (List<Map<String, Object>>) c.get("steps")) {
                String at = name + ", batch " + step++ + ": ";
                bn.train((Boolean) s.get("training"));
                bn.zeroGrad();
                try (Scope scope = Scope.open()) {
                    Var x = Var.param(Tensor.of(doubles(s.get("x")), shape));
                    Var y = bn.forward(x);
                    y.mul(Var.constant(Tensor.of(doubles(s.get("g")), shape))).sum().backward();
                    assertClose(doubles(s.get("y")), y.value().toDoubleArray(), at + "y");
                    assertClose(doubles(s.get("grad_x")), x.gradTensor().toDoubleArray(), at + "grad of x");
                    if (affine) {
                        assertClose(doubles(s.get("grad_weight")), bn.weight().gradTensor().toDoubleArray(), at + "grad of weight");
                        assertClose(doubles(s.get("grad_bias")), bn.bias().gradTensor().toDoubleArray(), at + "grad of bias");
                    }
                    if (track) {
                        assertClose(doubles(s.get("running_mean")), bn.runningMean().toDoubleArray(), at + "running_mean");
                        assertClose(doubles(s.get("running_var")), bn.runningVar().toDoubleArray(), at + "running_var");
                        assertEquals(((Number) s.get("num_batches_tracked")).longValue(), bn.numBatchesTracked().toLongArray()[0],
                                at + "num_batches_tracked");
                    }
                }
            }
        }
    }
}
