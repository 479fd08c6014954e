package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {

    private static Sequential mlp() {
        return new Sequential(new Linear(4, 3, Init.KAIMING_UNIFORM, 1, DType.FLOAT32, Device.CPU), new ReLU(),
                new Dropout(0.5, 9), new Linear(3, 2, Init.XAVIER_UNIFORM, 2, DType.FLOAT32, Device.CPU));
    }

    @Test
    void parametersAreNamedLikePyTorchStateDict() {
        try (Sequential m = mlp()) {
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), List.copyOf(m.namedParameters().keySet()));
            assertArrayEquals(new int[] {3, 4}, m.namedParameters().get("0.weight").shape());
            assertEquals(4 * 3 + 3 + 3 * 2 + 2, m.parameterCount());
            m.parameters().forEach(p -> assertTrue(p.requiresGrad()));
        }
    }

    @Test
    void parametersSurviveScopesAndCloseWithTheModule() {
        Sequential m;
        try (Scope s = Scope.open()) {
            m = mlp();
        }
        Tensor w = m.namedParameters().get("0.weight").value();
        assertFalse(w.isClosed(), "parameters must not belong to the scope that built the model");
        m.close();
        assertTrue(w.isClosed());
    }

    @Test
    void linearComputesXTimesWTransposedPlusBias() {
        try (Scope s = Scope.open();
                Linear l = new Linear(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), Tensor.of(new float[] {10, 20}))) {
            Var y = l.forward(Var.constant(Tensor.of(new float[] {1, 0, -1, 2, 1, 0}, 2, 3)));
            assertArrayEquals(new float[] {1 - 3 + 10, 4 - 6 + 20, 2 + 2 + 10, 8 + 5 + 20}, y.value().toFloatArray());
            assertEquals(3, l.inFeatures());
            assertEquals(2, l.outFeatures());
        }
    }

    @Test
    void trainAndEvalPropagateAndDropoutObeysThem() {
        try (Scope s = Scope.open(); Sequential m = mlp()) {
            Dropout d = (Dropout) m.layer(2);
            assertTrue(d.isTraining());
            m.eval();
            assertFalse(d.isTraining());
            Var x = Var.constant(Tensor.ones(DType.FLOAT32, 100, 100));
            assertSame(x, d.forward(x), "dropout is the identity in eval mode");
            m.train(true);
            float[] y = d.forward(x).value().toFloatArray();
            int zeros = 0;
            for (float v : y) {
                assertTrue(v == 0f || v == 2f, "kept values are scaled by 1/(1-p)");
                zeros += v == 0 ? 1 : 0;
            }
            assertEquals(5000, zeros, 300);
            assertNotEquals(zeros, count0(d.forward(x)), "each call draws a new mask");
        }
    }

    private static int count0(Var v) {
        int n = 0;
        for (float f : v.value().toFloatArray()) {
            n += f == 0 ? 1 : 0;
        }
        return n;
    }

    @Test
    void initialisersAreSeededAndBounded() {
        try (Scope s = Scope.open()) {
            Tensor a = Init.KAIMING_UNIFORM.create(100, 50, 7, DType.FLOAT32, Device.CPU, 50, 100);
            Tensor b = Init.KAIMING_UNIFORM.create(100, 50, 7, DType.FLOAT32, Device.CPU, 50, 100);
            Tensor c = Init.KAIMING_UNIFORM.create(100, 50, 8, DType.FLOAT32, Device.CPU, 50, 100);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
            assertFalse(java.util.Arrays.equals(a.toFloatArray(), c.toFloatArray()));
            double bound = Math.sqrt(6.0 / 100);
            for (float v : a.toFloatArray()) {
                assertTrue(Math.abs(v) <= bound);
            }
            assertEquals(Math.sqrt(2.0 / 100), std(Init.KAIMING_NORMAL.create(100, 50, 1, DType.FLOAT64, Device.CPU, 200, 100)), 0.005);
            assertEquals(Math.sqrt(2.0 / 150), std(Init.XAVIER_NORMAL.create(100, 50, 1, DType.FLOAT64, Device.CPU, 200, 100)), 0.005);
            double xb = Math.sqrt(6.0 / 150);
            assertEquals(xb / Math.sqrt(3), std(Init.XAVIER_UNIFORM.create(100, 50, 1, DType.FLOAT64, Device.CPU, 200, 100)), 0.005);
        }
    }

    private static double std(Tensor t) {
        double[] v = t.toDoubleArray();
        double sum = 0;
        double sq = 0;
        for (double x : v) {
            sum += x;
            sq += x * x;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, 0));
        try (Scope s = Scope.open()) {
            assertThrows(IllegalArgumentException.class, () -> new Linear(Tensor.zeros(DType.FLOAT32, 2, 3), Tensor.zeros(DType.FLOAT32, 3)));
        }
    }

    /**
     * Dropout's mask counter is the model's random state: saved after two training forwards and loaded into
     * a fresh model, the third forward draws the same mask as the original's third; evaluation draws none.
     */
    @Test
    void randomStateRoundTripRepeatsTheDropoutMasks() {
        try (Sequential a = mlp(); Sequential b = mlp(); Sequential plain = new Sequential(new ReLU()); Scope s = Scope.open()) {
            assertEquals(Map.of("2.seed", 9L, "2.calls", 0L), a.randomState());
            assertEquals(Map.of(), plain.randomState());
            Var x = Var.constant(Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4));
            a.forward(x);
            a.forward(x);
            a.eval();
            a.forward(x);
            a.train(true);
            assertEquals(Map.of("2.seed", 9L, "2.calls", 2L), a.randomState());
            b.loadRandomState(a.randomState());
            assertArrayEquals(a.forward(x).value().toFloatArray(), b.forward(x).value().toFloatArray());
            assertEquals(Map.of("2.seed", 9L, "2.calls", 3L), b.randomState());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plain.loadRandomState(a.randomState()));
            assertTrue(e.getMessage().contains("the saved random state [2.calls, 2.seed] does not match this model's []"), e.getMessage());
        }
    }
}
