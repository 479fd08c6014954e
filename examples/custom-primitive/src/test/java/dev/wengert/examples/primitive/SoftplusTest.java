package dev.wengert.examples.primitive;

import static dev.wengert.examples.primitive.Softplus.softplus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SoftplusTest {
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void valueIsLogOnePlusExp() {
        double[] x = {-3, -0.5, 0, 0.25, 2};
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = Math.log1p(Math.exp(2 * x[i])) / 2;
        }
        assertArrayEquals(expected, softplus(Var.constant(Tensor.of(x)), 2).value().toDoubleArray(), 1e-14);
    }

    @Test
    void rulesAgreeWithFiniteDifferencesInBothModesAndToSecondOrder() {
        Tensor x = Tensor.of(new double[] {-3, -0.5, 0.25, 2});
        GradCheck.Result first = GradCheck.check(v -> softplus(v[0], 2), 1e-6, x);
        assertTrue(first.passes(1e-8), first.toString());
        GradCheck.Result second = GradCheck.checkSecondOrder(v -> softplus(v[0], 2), 1e-6, x);
        assertTrue(second.passes(1e-6), second.toString());
    }

    @Test
    void finiteWhereTheComposedFormOverflows() {
        Var x = Var.param(Tensor.of(new double[] {1000, -1000}));
        Var y = softplus(x, 1);
        y.sum().backward();
        assertArrayEquals(new double[] {1000, 0}, y.value().toDoubleArray(), 0);
        assertArrayEquals(new double[] {1, 0}, x.gradTensor().toDoubleArray(), 0);
        x.zeroGrad();
        Var composed = x.exp().add(1).log();
        composed.sum().backward();
        assertEquals(Double.POSITIVE_INFINITY, composed.value().toDoubleArray()[0]);
        assertTrue(Double.isNaN(x.gradTensor().toDoubleArray()[0]));
    }

    @Test
    void mainRuns() {
        Softplus.main(new String[0]);
    }
}
