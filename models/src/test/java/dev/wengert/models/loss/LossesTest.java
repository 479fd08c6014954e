package dev.wengert.models.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ScopePerTest.class)
class LossesTest {
    private static Tensor randn(long seed, int... shape) {
        return Tensor.on(Device.CPU).randn(seed, DType.FLOAT64, shape);
    }

    private static Tensor labels(long... l) {
        return Tensor.on(Device.CPU).of(l);
    }

    @Test
    void mseGradientInBothArguments() {
        GradCheck.Result r = GradCheck.check(in -> Losses.mse(in[0], in[1]), 1e-6, randn(1, 4, 3), randn(2, 4, 3));
        assertTrue(r.passes(1e-6), r.toString());
    }

    @Test
    void mseValue() {
        Var p = Var.constant(Tensor.of(new double[] {1, 2, 3}));
        Var t = Var.constant(Tensor.of(new double[] {1, 0, 6}));
        assertEquals((0 + 4 + 9) / 3.0, Losses.mse(p, t).item(), 1e-12);
    }

    @Test
    void bceWithLogitsGradientInLogitsAndTargets() {
        Tensor targets = Tensor.on(Device.CPU).rand(5, DType.FLOAT64, 4, 3);
        GradCheck.Result r = GradCheck.check(in -> Losses.bceWithLogits(in[0], in[1]), 1e-6, randn(1, 4, 3).mul(4), targets);
        assertTrue(r.passes(1e-6), r.toString());
    }

    @Test
    void bceWithLogitsMatchesDefinitionAndIsExactAtZero() {
        double[] x = {-3, -0.5, 0, 0.7, 4};
        double[] y = {0, 1, 1, 0.3, 1};
        Var logits = Var.param(Tensor.of(x));
        Var loss = Losses.bceWithLogits(logits, Var.constant(Tensor.of(y)));
        double expected = 0;
        for (int i = 0; i < x.length; i++) {
            double s = 1 / (1 + Math.exp(-x[i]));
            expected -= y[i] * Math.log(s) + (1 - y[i]) * Math.log(1 - s);
        }
        assertEquals(expected / x.length, loss.item(), 1e-12);
        loss.backward();
        double[] g = logits.gradTensor().toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            assertEquals((1 / (1 + Math.exp(-x[i])) - y[i]) / x.length, g[i], 1e-12, "d loss / d x at " + x[i]);
        }
    }

    @Test
    void bceWithLogitsIsFiniteForHugeLogits() {
        Var logits = Var.param(Tensor.of(new float[] {1000, -1000, 1000, -1000}));
        Var loss = Losses.bceWithLogits(logits, Var.constant(Tensor.of(new float[] {1, 0, 0, 1})));
        assertEquals((0 + 0 + 1000 + 1000) / 4.0, loss.item(), 1e-3);
        loss.backward();
        assertArrayEquals(new float[] {0, 0, 0.25f, -0.25f}, logits.gradTensor().toFloatArray(), 1e-6f);
    }

    @Test
    void crossEntropyGradient() {
        Tensor l = labels(2, 0, 4, 4);
        GradCheck.Result r = GradCheck.check(in -> Losses.crossEntropy(in[0], l), 1e-6, randn(3, 4, 5).mul(3));
        assertTrue(r.passes(1e-6), r.toString());
    }

    @Test
    void crossEntropyMatchesSoftmaxComposition() {
        double[] z = {0.5, -1, 2, 3, 0, -2};
        Var loss = Losses.crossEntropy(Var.constant(Tensor.of(z, 2, 3)), labels(2, 0));
        double row0 = -Math.log(Math.exp(2) / (Math.exp(0.5) + Math.exp(-1) + Math.exp(2)));
        double row1 = -Math.log(Math.exp(3) / (Math.exp(3) + Math.exp(0) + Math.exp(-2)));
        assertEquals((row0 + row1) / 2, loss.item(), 1e-12);
    }

    @Test
    void crossEntropyIsFiniteAndCorrectForHugeLogits() {
        Var logits = Var.param(Tensor.of(new float[] {1000, 0, -1000, -1000, 1000, 0}, 2, 3));
        Var loss = Losses.crossEntropy(logits, labels(0, 0));
        assertEquals((0 + 2000) / 2.0, loss.item(), 1e-3);
        loss.backward();
        // d/dz = (softmax - onehot) / B
        assertArrayEquals(new float[] {0, 0, 0, -0.5f, 0.5f, 0}, logits.gradTensor().toFloatArray(), 1e-6f);
    }

    @Test
    void badShapesAreRejected() {
        Var logits = Var.constant(Tensor.zeros(DType.FLOAT32, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, labels(0, 1, 2)));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, Tensor.of(new float[] {0, 1})));
        assertThrows(IllegalArgumentException.class, () -> Losses.mse(logits, Var.constant(Tensor.zeros(DType.FLOAT32, 3, 2))));
    }
}
