package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What reverse mode promises beyond individual rules: accumulation, modes, freeing, errors, memory. */
@ExtendWith(ScopePerTest.class)
class AutogradSemanticsTest {
    static Var scalar(double v) {
        return Var.param(Tensor.scalar(v, DType.FLOAT64));
    }

    @Test
    void baydinSurveyExample() {
        // f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5): Baydin et al. (2018), tables 2 and 3
        Var x1 = scalar(2).named("x1");
        Var x2 = scalar(5).named("x2");
        Var f = x1.log().add(x1.mul(x2)).sub(x2.sin());
        assertEquals(Math.log(2) + 10 - Math.sin(5), f.item(), 1e-12);
        assertEquals(11.652, f.item(), 5e-4);
        f.backward();
        assertEquals(5.5, x1.gradTensor().item(), 1e-12);                 // 1/x1 + x2
        assertEquals(2 - Math.cos(5), x2.gradTensor().item(), 1e-12);     // x1 - cos x2
        assertEquals(1.716, x2.gradTensor().item(), 5e-4);
    }

    @Test
    void fanOutSumsEveryUse() {
        Var x = Var.param(Tensor.of(new double[] {1, 2, 3}));
        Var y = x.mul(x).add(x).sum();          // x used three times
        y.backward();
        assertArrayEquals(new double[] {3, 5, 7}, x.gradTensor().toDoubleArray(), 1e-12);
        Var h = x.exp();
        Var z = h.mul(h).add(h.sin()).sum();    // an intermediate with two parents
        x.zeroGrad();
        z.backward();
        double[] xv = {1, 2, 3};
        for (int i = 0; i < 3; i++) {
            double e = Math.exp(xv[i]);
            assertEquals(2 * e * e + Math.cos(e) * e, x.gradTensor().toDoubleArray()[i], 1e-9);
        }
    }

    @Test
    void gradientsAccumulateAcrossCallsUntilZeroed() {
        Var x = Var.param(Tensor.of(new double[] {2}));
        x.mul(3).sum().backward();
        x.mul(4).sum().backward();
        assertEquals(7, x.gradTensor().item(), 1e-12);
        x.zeroGrad();
        assertNull(x.grad());
        x.mul(5).sum().backward();
        assertEquals(5, x.gradTensor().item(), 1e-12);
    }

    @Test
    void broadcastGradientsSumBackToTheInputShape() {
        Var w = Var.param(Tensor.of(new double[] {1, 2, 3}));
        Var x = Var.constant(Tensor.ones(DType.FLOAT64, 4, 3));
        x.mul(w).sum().backward();
        assertArrayEquals(new double[] {4, 4, 4}, w.gradTensor().toDoubleArray(), 1e-12);
    }

    @Test
    void noGradRecordsNothing() {
        Var x = scalar(3);
        Var y;
        try (Grad.Mode off = Grad.noGrad()) {
            y = x.mul(x);
        }
        assertFalse(y.requiresGrad());
        assertTrue(y.isLeaf());
        assertTrue(Grad.isEnabled(), "mode restored");
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("does not depend"), e.getMessage());
    }

    @Test
    void detachStopsGradients() {
        Var x = scalar(3);
        Var y = x.mul(x.detach());              // d/dx = x (the detached factor is a constant)
        y.backward();
        assertEquals(3, x.gradTensor().item(), 1e-12);
    }

    @Test
    void graphIsFreedAfterBackwardUnlessRetained() {
        Var x = scalar(2);
        Var y = x.mul(x).sin();
        y.backward(null, true, false);
        y.backward(null, false, false);
        assertEquals(2 * 2 * 2 * Math.cos(4), x.gradTensor().item(), 1e-12, "two passes accumulate");
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("freed") && e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void nonScalarOutputNeedsACotangent() {
        Var x = Var.param(Tensor.of(new double[] {1, 2}));
        Var y = x.mul(x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, y::backward);
        assertTrue(e.getMessage().contains("not a scalar") && e.getMessage().contains("[2]"), e.getMessage());
        y.backward(Tensor.of(new double[] {1, 10}));
        assertArrayEquals(new double[] {2, 40}, x.gradTensor().toDoubleArray(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> x.mul(x).backward(Tensor.of(new double[] {1, 2, 3})));
    }

    @Test
    void primitiveWithoutRuleFailsLoudly() {
        Prim cube = new Prim("cube");
        Var x = scalar(2);
        Var y = Var.custom(cube, null, x.value().pow(3), x);
        assertEquals(8, y.item(), 1e-12);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, y::backward);
        assertTrue(e.getMessage().contains("'cube'") && e.getMessage().contains("argument 0"), e.getMessage());
        Rules.define(cube, (g, out, in, a) -> new Var[] {g.mul(in[0].square().mul(3))}, null);
        Var z = Var.custom(cube, null, x.value().pow(3), x);
        z.backward();
        assertEquals(12, x.gradTensor().item(), 1e-12);
    }

    @Test
    void builtInRulesCannotBeReplacedProcessWide() {
        for (Prim<?> builtin : Rules.builtins()) {
            assertTrue(builtin.isBuiltin(), builtin.name());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rules.define(builtin, null, null));
            assertTrue(e.getMessage().contains("'" + builtin.name() + "' is a built-in primitive")
                    && e.getMessage().contains("Var.custom") && e.getMessage().contains("new Prim"), e.getMessage());
            assertTrue(builtin.hasVjp() && builtin.hasJvp(), builtin.name() + ": its rules are untouched");
        }
        Var x = scalar(0.5);
        x.exp().backward();
        assertEquals(Math.exp(0.5), x.gradTensor().item(), 1e-15, "exp still differentiates as before");
        assertFalse(new Prim<>("mine").isBuiltin());
    }

    /** The example of Var.custom's Javadoc and docs/design.md ("User-defined primitives"). */
    private static final Prim<Void> CUBE = new Prim<>("cube");

    static {
        Rules.define(CUBE, (g, out, in, a) -> new Var[] {g.mul(in[0].square().mul(3))},
                (t, out, in, a) -> t[0].mul(in[0].square().mul(3)));
    }

    static Var cube(Var x) {
        return Var.custom(CUBE, null, x.value().pow(3), x);
    }

    @Test
    void aUserDefinedPrimitiveIsDifferentiableToAnyOrderInBothModes() {
        Tensor x = Tensor.of(new double[] {0.5, -1.25, 2.0});
        assertTrue(GradCheck.check(v -> cube(v[0]), 1e-6, x).passes(1e-7));
        assertTrue(GradCheck.checkSecondOrder(v -> cube(v[0]), 1e-6, x).passes(1e-6));
        Var p = Var.param(x);
        Var[] g = Backward.adjoints(cube(p).sum(), null, true, p);
        Var[] h = Backward.adjoints(g[0].sum(), null, false, p);
        assertArrayEquals(new double[] {3.0, -7.5, 12.0}, h[0].value().toDoubleArray(), 1e-12);  // 6x
    }

    @Test
    void integerInputsCannotRequireGrad() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Var.param(Tensor.of(new long[] {1, 2})));
        assertTrue(e.getMessage().contains("integer") && e.getMessage().contains("int64"), e.getMessage());
    }

    @Test
    void secondDerivativeThroughCreateGraph() {
        Var x = scalar(1.5);
        Var y = x.pow(3).add(x.sin());
        y.backward(null, true, true);
        Var dy = x.grad();
        assertEquals(3 * 1.5 * 1.5 + Math.cos(1.5), dy.item(), 1e-12);
        assertTrue(dy.requiresGrad(), "the gradient is itself differentiable");
        x.zeroGrad();
        dy.backward();
        assertEquals(6 * 1.5 - Math.sin(1.5), x.gradTensor().item(), 1e-10);
    }

    @Test
    void jvpGivesTheDirectionalDerivativeInOnePass() {
        Tensor x = Tensor.of(new double[] {0.5, 1.0});
        Tensor v = Tensor.of(new double[] {1.0, -2.0});
        Forward.Jvp r = Forward.jvp(a -> a.mul(a).sin(), x, v);
        assertArrayEquals(new double[] {Math.sin(0.25), Math.sin(1)}, r.value().toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {Math.cos(0.25) * 2 * 0.5 * 1, Math.cos(1) * 2 * 1 * -2},
                r.tangent().toDoubleArray(), 1e-12);
    }

    @Test
    void fusedLogSoftmaxMatchesItsComposition() {
        Tensor data = Tensor.randn(5, DType.FLOAT64, 4, 6).mul(3);
        Var a = Var.param(data);
        Var b = Var.param(data);
        Tensor w = Tensor.randn(6, DType.FLOAT64, 4, 6);
        Var fused = a.logSoftmax(1);
        Var composed = b.sub(b.logSumExp(true, 1));   // x - log sum exp x, built from primitives
        assertArrayEquals(composed.value().toDoubleArray(), fused.value().toDoubleArray(), 1e-12);
        fused.backward(w);
        composed.backward(w);
        assertArrayEquals(b.gradTensor().toDoubleArray(), a.gradTensor().toDoubleArray(), 1e-12);
    }

    @Test
    void fusedCrossEntropyMatchesItsCompositionToSecondOrder() {
        Tensor data = Tensor.randn(8, DType.FLOAT64, 5, 4).mul(4);
        Tensor labels = Tensor.of(new long[] {0, 3, 1, 1, 2});
        Tensor column = labels.reshape(5, 1);
        Var a = Var.param(data);
        Var b = Var.param(data);
        Var fused = a.softmaxCrossEntropy(labels).mean();
        Var composed = b.logSoftmax(1).gather(1, column).mean().neg();
        assertEquals(composed.item(), fused.item(), 1e-12);
        fused.backward(null, true, true);            // recorded: the backward primitive, differentiable again
        composed.backward(null, true, true);
        assertEquals(Prim.SOFTMAX_CROSS_ENTROPY_GRAD, a.grad().node().prim(), "the VJP is a primitive of its own");
        assertArrayEquals(b.gradTensor().toDoubleArray(), a.gradTensor().toDoubleArray(), 1e-12);
        Tensor w = Tensor.randn(9, DType.FLOAT64, 5, 4);
        Var ga = a.grad().mul(Var.constant(w)).sum();
        Var gb = b.grad().mul(Var.constant(w)).sum();
        a.zeroGrad();
        b.zeroGrad();
        ga.backward();
        gb.backward();
        assertArrayEquals(b.gradTensor().toDoubleArray(), a.gradTensor().toDoubleArray(), 1e-12, "Hessian-vector products agree");
        Var c = Var.param(data);
        c.softmaxCrossEntropy(labels).mean().backward();  // first order: the same primitive, not recorded
        Var d = Var.param(data);
        d.logSoftmax(1).gather(1, column).mean().neg().backward();
        assertArrayEquals(d.gradTensor().toDoubleArray(), c.gradTensor().toDoubleArray(), 1e-12);
    }

    @Test
    void leafGradientsSurviveTheStepScope() {
        Var w = Var.param(Tensor.of(new double[] {1, 2}).keepForever());
        try (Scope step = Scope.open()) {
            w.mul(w).sum().backward();
        }
        assertArrayEquals(new double[] {2, 4}, w.gradTensor().toDoubleArray(), 1e-12);
        w.zeroGrad();
        w.value().close();
    }

    @Test
    void hundredThousandStepsKeepNativeBuffersBounded() {
        Var w = Var.param(Tensor.randn(1, DType.FLOAT32, 4, 3).keepForever());
        Tensor x = Tensor.randn(2, DType.FLOAT32, 2, 4).keepForever();
        LeakCheck steps = LeakCheck.start();
        long peakGrowth = 0;
        for (int step = 0; step < 100_000; step++) {
            try (Scope s = Scope.open()) {
                Var loss = Var.constant(x).matmul(w).tanh().square().mean();
                loss.backward();
                try (Grad.Mode off = Grad.noGrad()) {
                    w.value().applyInPlace(BinaryOp.SUB, w.gradTensor().mul(0.01));
                }
                w.zeroGrad();
            }
            if (step % 10_000 == 0) {
                peakGrowth = Math.max(peakGrowth, steps.growth());
            }
        }
        steps.assertNoLeak("100,000 steps");
        assertEquals(0, peakGrowth, "between steps nothing but the parameters may be alive");
        w.value().close();
        x.close();
    }
}
