package dev.wengert.autograd.numeric;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Prim;
import dev.wengert.autograd.Rules;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Tensor;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class NumericDiffTest {

    private static double[] decades(int from, int to) {
        double[] hs = new double[to - from + 1];
        for (int i = 0; i < hs.length; i++) {
            hs[i] = Math.pow(10, -(from + i));
        }
        return hs;
    }

    @Test
    void stepSizeSweepForSinShowsTheVShape() {
        double[] hs = decades(1, 15); // 1e-1 .. 1e-15
        double[] err = NumericDiff.stepSizeSweep(Math::sin, Math::cos, 1.0, hs);
        assertEquals(hs.length, err.length);
        int best = 0;
        for (int i = 1; i < err.length; i++) {
            if (err[i] < err[best]) {
                best = i;
            }
        }
        // minimum near cbrt(eps) ~ 6e-6, i.e. h = 1e-5 or a neighbour
        assertTrue(best >= 3 && best <= 6, "minimum at h=" + hs[best]);
        assertTrue(err[best] < 1e-9, "best error " + err[best]);
        // left arm: truncation error ~ h^2 cos(1)/6 falls by ~100 per decade
        for (int i = 0; i < 3; i++) {
            assertTrue(err[i + 1] < err[i] / 50, "falling at h=" + hs[i + 1]);
        }
        assertEquals(Math.cos(1.0) / 6 * 1e-2, err[0], 1e-5);
        // right arm: rounding error ~ eps/h rises (noisily, so compare three decades apart)
        for (int i = 8; i + 3 < err.length; i += 3) {
            assertTrue(err[i + 3] > 10 * err[i], "rising from h=" + hs[i] + " to " + hs[i + 3]);
        }
        assertTrue(err[err.length - 1] > 1e-4, "tiny steps are useless: " + err[err.length - 1]);
    }

    @Test
    void defaultCentralStepIsAccurate() {
        DoubleUnaryOperator[] fs = {Math::sin, Math::exp, x -> x * x * x, Math::atan};
        DoubleUnaryOperator[] dfs = {Math::cos, Math::exp, x -> 3 * x * x, x -> 1 / (1 + x * x)};
        for (int k = 0; k < fs.length; k++) {
            for (double x : new double[] {-3.0, -0.5, 0.0, 0.7, 2.0, 10.0}) {
                double exact = dfs[k].applyAsDouble(x);
                double approx = NumericDiff.derivative(fs[k], x);
                assertEquals(exact, approx, 1e-8 * Math.max(1, Math.abs(exact)), "f" + k + " at " + x);
            }
        }
    }

    @Test
    void defaultStepScalesWithX() {
        // with an absolute step of 6e-6, x + h would round badly at x = 1e8
        double x = 1e8;
        double d = NumericDiff.derivative(t -> t * t, x);
        assertEquals(2e8, d, 2e8 * 1e-9);
        double fwd = NumericDiff.forwardDerivative(t -> t * t, x);
        assertEquals(2e8, fwd, 2e8 * 1e-6);
    }

    @Test
    void centralBeatsForwardAtTheirDefaultSteps() {
        double sumCentral = 0;
        double sumForward = 0;
        for (int i = 0; i < 50; i++) {
            double x = -2 + 0.09 * i;
            sumCentral += Math.abs(NumericDiff.derivative(Math::exp, x) - Math.exp(x));
            sumForward += Math.abs(NumericDiff.forwardDerivative(Math::exp, x) - Math.exp(x));
        }
        assertTrue(sumForward < 50 * 1e-6, "forward ok: " + sumForward);
        assertTrue(sumCentral * 100 < sumForward, sumCentral + " vs " + sumForward);
    }

    @Test
    void truncationOrdersAreOneAndTwo() {
        double x = 0.5;
        double exact = Math.exp(x);
        double f1 = Math.abs(NumericDiff.forwardDerivative(Math::exp, x, 1e-2) - exact);
        double f2 = Math.abs(NumericDiff.forwardDerivative(Math::exp, x, 1e-3) - exact);
        double c1 = Math.abs(NumericDiff.derivative(Math::exp, x, 1e-2) - exact);
        double c2 = Math.abs(NumericDiff.derivative(Math::exp, x, 1e-3) - exact);
        assertEquals(10, f1 / f2, 0.5, "forward: error ~ h");
        assertEquals(100, c1 / c2, 5, "central: error ~ h^2");
        assertEquals(exact / 2 * 1e-2, f1, 1e-4 * exact, "forward error ~ f''h/2");
    }

    @Test
    void secondDerivative() {
        for (double x : new double[] {-2.0, 0.0, 0.4, 1.0, 3.0}) {
            assertEquals(-Math.sin(x), NumericDiff.secondDerivative(Math::sin, x), 1e-6, "sin'' at " + x);
            assertEquals(Math.exp(x), NumericDiff.secondDerivative(Math::exp, x), 1e-6 * Math.exp(x), "exp'' at " + x);
            assertEquals(6 * x, NumericDiff.secondDerivative(t -> t * t * t, x, 1e-3), 1e-6, "x^3'' at " + x);
        }
    }

    @Test
    void gradientOfTheSurveyExample() {
        double[] x = {2.0, 5.0};
        double[] g = NumericDiff.gradient(v -> Math.log(v[0]) + v[0] * v[1] - Math.sin(v[1]), x);
        assertArrayEquals(new double[] {5.5, 2 - Math.cos(5)}, g, 1e-8);
        assertArrayEquals(new double[] {2.0, 5.0}, x, 0.0, "input untouched");
    }

    @Test
    void gradientIsRobustToFunctionsThatMutateTheirArgument() {
        double[] x = {1.0, -2.0, 0.5};
        double[] g = NumericDiff.gradient(v -> {
            double s = v[0] * v[0] + 3 * v[1] + Math.exp(v[2]);
            v[0] = 99; // a badly behaved f
            return s;
        }, x);
        assertArrayEquals(new double[] {2.0, 3.0, Math.exp(0.5)}, g, 1e-8);
        assertArrayEquals(new double[] {1.0, -2.0, 0.5}, x, 0.0);
        assertEquals(0, NumericDiff.gradient(v -> 1.0, new double[0]).length);
    }

    @Test
    void rejectsInvalidSteps() {
        assertThrows(IllegalArgumentException.class, () -> NumericDiff.derivative(Math::sin, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> NumericDiff.derivative(Math::sin, 1, -1e-3));
        assertThrows(IllegalArgumentException.class, () -> NumericDiff.forwardDerivative(Math::sin, 1, Double.NaN));
        assertThrows(IllegalArgumentException.class,
                () -> NumericDiff.secondDerivative(Math::sin, 1, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class,
                () -> NumericDiff.stepSizeSweep(Math::sin, Math::cos, 1, new double[] {1e-3, 0}));
    }

    @Test
    void constantsHaveTheirDocumentedValues() {
        assertEquals(Math.ulp(1.0), NumericDiff.EPSILON, 0.0);
        assertEquals(6.055454452393343e-6, NumericDiff.CENTRAL_STEP, 1e-20);
        assertEquals(1.4901161193847656e-8, NumericDiff.FORWARD_STEP, 0.0);
        assertEquals(1.220703125e-4, NumericDiff.SECOND_DERIVATIVE_STEP, 0.0);
    }

    @Test
    void centralDifferenceOfAVectorFunctionIsTheScalarOneForEachOutput() {
        double[] d = NumericDiff.centralDifference(v -> new double[] {Math.sin(v), v * v, 7}, 0.3, 1e-5);
        assertEquals(NumericDiff.derivative(Math::sin, 0.3, 1e-5), d[0], 0.0);
        assertEquals(NumericDiff.derivative(v -> v * v, 0.3, 1e-5), d[1], 0.0);
        assertEquals(0.0, d[2], 0.0);
        assertEquals(Math.cos(0.3), d[0], 1e-9);
        assertThrows(IllegalArgumentException.class, () -> NumericDiff.centralDifference(v -> new double[v > 0.3 ? 2 : 1], 0.3, 1e-5));
        assertThrows(IllegalArgumentException.class, () -> NumericDiff.centralDifference(v -> new double[1], 0.3, 0));
        assertEquals(1e-3 * 2.5, NumericDiff.step(1e-3, -2.5), 0.0);
        assertEquals(1e-3, NumericDiff.step(1e-3, 0.25), 0.0);
    }

    /**
     * GradCheck's numeric side is NumericDiff's central difference: the numeric value it reports for its worst
     * element is, to the bit, {@link NumericDiff#derivative} of the same loss w . f(x) with the same step.
     */
    @Test
    void gradCheckUsesTheSameCentralDifference() {
        Prim<Object> wrong = new Prim<>("cubeWithWrongVjp");
        Rules.define(wrong, (g, o, in, a) -> new Var[] {g.mul(in[0]).mul(2)}, (t, o, in, a) -> t[0].mul(in[0].square().mul(3)));
        double[] x = {0.5, 2.0, 1.0};
        Tensor input = Tensor.of(x, 3);
        GradCheck.Result r = GradCheck.check(v -> Var.custom(wrong, null, v[0].value().pow(3.0), v[0]), 1e-6, input);
        assertEquals("input 0 element 1 (reverse mode)", r.where(), r.toString());
        Tensor w = Tensor.on(Device.CPU).uniform(0.5, 1.5, 1234, DType.FLOAT64, 3);   // GradCheck's fixed cotangent
        double numeric = NumericDiff.derivative(v -> {
            double[] moved = x.clone();
            moved[1] = v;
            return Tensor.of(moved, 3).pow(3.0).mul(w).sum().item();
        }, x[1], NumericDiff.step(1e-6, x[1]));
        assertEquals(numeric, r.numeric(), 0.0);
        assertEquals(12 * w.toDoubleArray()[1], r.numeric(), 1e-6);
    }
}
