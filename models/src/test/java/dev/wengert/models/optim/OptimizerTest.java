package dev.wengert.models.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Each optimizer against a scalar re-implementation of PyTorch's update, on loss = sum(c * w^2 + w). */
class OptimizerTest {
    private static final double[] START = {1.0, -2.0, 0.5, 3.0};
    private static final double[] C = {0.5, 1.0, 2.0, 0.1};
    private static final int STEPS = 5;

    private static double grad(int i, double w) {
        return 2 * C[i] * w + 1;
    }

    /** Runs the optimizer for STEPS steps; returns the final parameters. */
    private static double[] run(Function<List<Var>, Optimizer> make) {
        Var w = Var.param(Tensor.of(START.clone()).keepForever());
        Tensor c = Tensor.of(C.clone()).keepForever();
        try (Optimizer opt = make.apply(List.of(w))) {
            for (int s = 0; s < STEPS; s++) {
                try (Scope step = Scope.open()) {
                    opt.zeroGrad();
                    w.mul(w).mul(Var.constant(c)).add(w).sum().backward();
                    Tensor before = w.gradTensor().copy();
                    opt.step();
                    assertArrayEquals(before.toDoubleArray(), w.gradTensor().toDoubleArray(), "step() must not modify the gradient");
                }
            }
            return w.value().toDoubleArray();
        } finally {
            w.zeroGrad();
            w.value().close();
            c.close();
        }
    }

    private static double[] sgdReference(double lr, double mu, boolean nesterov, double wd) {
        double[] w = START.clone();
        double[] buf = new double[w.length];
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < w.length; i++) {
                double d = grad(i, w[i]) + wd * w[i];
                if (mu != 0) {
                    buf[i] = s == 0 ? d : mu * buf[i] + d;
                    d = nesterov ? d + mu * buf[i] : buf[i];
                }
                w[i] -= lr * d;
            }
        }
        return w;
    }

    private static double[] adamReference(double lr, double b1, double b2, double eps, double wd, boolean decoupled) {
        double[] w = START.clone();
        double[] m = new double[w.length];
        double[] v = new double[w.length];
        for (int t = 1; t <= STEPS; t++) {
            for (int i = 0; i < w.length; i++) {
                double g = grad(i, w[i]);
                if (decoupled) {
                    w[i] *= 1 - lr * wd;
                } else {
                    g += wd * w[i];
                }
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mh = m[i] / (1 - Math.pow(b1, t));
                double vh = v[i] / (1 - Math.pow(b2, t));
                w[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
        }
        return w;
    }

    @Test
    void plainSgd() {
        assertArrayEquals(sgdReference(0.1, 0, false, 0), run(p -> new Sgd(p, 0.1)), 1e-12);
    }

    @Test
    void sgdWithMomentum() {
        assertArrayEquals(sgdReference(0.1, 0.9, false, 0), run(p -> new Sgd(p, 0.1, 0.9, false, 0)), 1e-12);
    }

    @Test
    void sgdWithNesterovAndWeightDecay() {
        assertArrayEquals(sgdReference(0.05, 0.8, true, 0.01), run(p -> new Sgd(p, 0.05, 0.8, true, 0.01)), 1e-12);
    }

    @Test
    void sgdWithWeightDecayOnly() {
        assertArrayEquals(sgdReference(0.1, 0, false, 0.1), run(p -> new Sgd(p, 0.1, 0, false, 0.1)), 1e-12);
    }

    @Test
    void adam() {
        assertArrayEquals(adamReference(0.1, 0.9, 0.999, 1e-8, 0, false), run(p -> new Adam(p, 0.1)), 1e-12);
    }

    @Test
    void adamWithL2AndAdamW() {
        assertArrayEquals(adamReference(0.1, 0.8, 0.99, 1e-3, 0.1, false), run(p -> new Adam(p, 0.1, 0.8, 0.99, 1e-3, 0.1, false)), 1e-12);
        assertArrayEquals(adamReference(0.1, 0.9, 0.999, 1e-8, 0.05, true), run(p -> Adam.adamW(p, 0.1, 0.05)), 1e-12);
    }

    @Test
    void stepsAllocateNothingPersistent() {
        Var w = Var.param(Tensor.zeros(DType.FLOAT32, 64, 32).keepForever());
        try (Optimizer opt = new Adam(List.of(w), 0.01)) {
            LeakCheck[] afterStep2 = new LeakCheck[1];
            for (int s = 0; s < 6; s++) {
                try (Scope step = Scope.open()) {
                    opt.zeroGrad();
                    w.tanh().sum().backward();
                    opt.step();
                }
                if (s == 1) {
                    afterStep2[0] = LeakCheck.start();
                }
            }
            afterStep2[0].assertNoLeak("steps 3 to 6");
        } finally {
            w.zeroGrad();
            w.value().close();
        }
    }

    @Test
    void parametersWithoutGradientsAreSkippedAndStateIsOnTheParameterDevice() {
        Var w = Var.param(Tensor.of(new float[] {1, 2}).keepForever());
        try (Sgd opt = new Sgd(List.of(w), 0.1, 0.9, false, 0)) {
            opt.step();
            assertArrayEquals(new float[] {1, 2}, w.value().toFloatArray());
            assertEquals(1, opt.steps());
        } finally {
            w.value().close();
        }
    }

    @Test
    void badHyperparametersAreRejected() {
        List<Var> none = List.of();
        assertThrows(IllegalArgumentException.class, () -> new Sgd(none, -1));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(none, 0.1, 0, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new Adam(none, 0.1, 1.0, 0.999, 1e-8, 0, false));
        try (Tensor one = Tensor.of(new float[] {1})) {
            assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(Var.constant(one)), 0.1));
        }
    }

    @Test
    void schedules() {
        LrSchedule step = LrSchedule.step(1.0, 2, 0.1);
        assertEquals(1.0, step.lr(0));
        assertEquals(1.0, step.lr(1));
        assertEquals(0.1, step.lr(2), 1e-15);
        assertEquals(0.01, step.lr(5), 1e-15);
        LrSchedule cos = LrSchedule.cosine(1.0, 10, 0.0);
        assertEquals(1.0, cos.lr(0), 1e-15);
        assertEquals(0.5, cos.lr(5), 1e-15);
        assertEquals(0.0, cos.lr(10), 1e-15);
        assertEquals(0.0, cos.lr(12), 1e-15);
        assertEquals(0.3, LrSchedule.constant(0.3).lr(99));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1, 0, 0));
    }

    /** Takes {@code steps} steps of {@code opt} on loss = sum(c * w^2 + w). */
    private static void train(Optimizer opt, Var w, Tensor c, int steps) {
        for (int s = 0; s < steps; s++) {
            try (Scope step = Scope.open()) {
                opt.zeroGrad();
                w.mul(w).mul(Var.constant(c)).add(w).sum().backward();
                opt.step();
            }
        }
        opt.zeroGrad();
    }

    /**
     * Five steps in one optimizer equal, bit for bit, two steps, then state() copied to the host and loaded
     * into a fresh optimizer (over a fresh parameter with the same values), then three more steps: the
     * momentum buffers, Adam's moments and its step count all travel.
     */
    @Test
    void stateRoundTripContinuesBitForBit() {
        List<Function<List<Var>, Optimizer>> kinds = List.of(p -> new Sgd(p, 0.1, 0.9, true, 0.01), p -> new Adam(p, 0.1),
                p -> Adam.adamW(p, 0.05, 0.01), p -> new Sgd(p, 0.1));
        for (Function<List<Var>, Optimizer> make : kinds) {
            Tensor c = Tensor.of(C.clone()).keepForever();
            Var whole = Var.param(Tensor.of(START.clone()).keepForever());
            Var first = Var.param(Tensor.of(START.clone()).keepForever());
            Var resumed = Var.param(Tensor.of(START.clone()).keepForever());
            try (c; Optimizer a = make.apply(List.of(whole)); Optimizer b = make.apply(List.of(first));
                    Optimizer r = make.apply(List.of(resumed))) {
                train(a, whole, c, 5);
                train(b, first, c, 2);
                Map<String, double[]> saved = new LinkedHashMap<>();
                b.state().forEach((name, t) -> saved.put(name, t.toDoubleArray()));
                resumed.value().assign(first.value());
                try (Scope s = Scope.open()) {
                    Map<String, Tensor> back = new LinkedHashMap<>();
                    saved.forEach((name, v) -> back.put(name, Tensor.of(v, v.length)));
                    r.loadState(back, b.steps());
                }
                assertEquals(2, r.steps());
                train(r, resumed, c, 3);
                assertArrayEquals(whole.value().toDoubleArray(), resumed.value().toDoubleArray(), a.getClass().getSimpleName() + " " + a.state().keySet());
                assertEquals(a.steps(), r.steps());
            } finally {
                for (Var v : List.of(whole, first, resumed)) {
                    v.value().close();
                }
            }
        }
    }

    @Test
    void stateNamesAndMismatchErrors() {
        Var w = Var.param(Tensor.of(START.clone()).keepForever());
        Var wide = Var.param(Tensor.zeros(DType.FLOAT64, 5).keepForever());
        try (Optimizer momentum = new Sgd(List.of(w), 0.1, 0.9, false, 0); Optimizer plain = new Sgd(List.of(w), 0.1);
                Optimizer adam = new Adam(List.of(w), 0.1); Optimizer wideMomentum = new Sgd(List.of(wide), 0.1, 0.9, false, 0)) {
            assertEquals(List.of("0.momentum_buffer"), List.copyOf(momentum.state().keySet()));
            assertEquals(List.of("0.exp_avg", "0.exp_avg_sq"), List.copyOf(adam.state().keySet()));
            assertEquals(0, plain.state().size());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.loadState(momentum.state(), 3));
            assertTrue(e.getMessage().contains("Adam.loadState: the saved state does not fit this optimizer: it lacks [0.exp_avg, 0.exp_avg_sq]"
                    + ": it has unknown [0.momentum_buffer]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plain.loadState(momentum.state(), 3));
            assertTrue(e.getMessage().contains("momentum on or off"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> momentum.loadState(wideMomentum.state(), 3));
            assertTrue(e.getMessage().contains("state '0.momentum_buffer' is float64[5], this optimizer's is float64[4]"), e.getMessage());
            assertEquals(0, momentum.steps(), "a refused load modifies nothing");
            e = assertThrows(IllegalArgumentException.class, () -> momentum.loadState(momentum.state(), -1));
            assertTrue(e.getMessage().contains("step count must be >= 0"), e.getMessage());
        } finally {
            w.value().close();
            wide.value().close();
        }
    }
}
