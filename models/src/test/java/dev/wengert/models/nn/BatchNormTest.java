package dev.wengert.models.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.GradCheck;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BatchNorm1d/BatchNorm2d against PyTorch's documented formulas computed here by hand in plain Java
 * ({@link Ref}), their state (parameters, buffers, names), modes and errors, and float64 gradient checks of
 * the function (first and second order, training and evaluation). PyTorch's own numbers: BatchNormTorchTest.
 */
@ExtendWith(ScopePerTest.class)
class BatchNormTest {

    static Tensor randn(long seed, int... shape) {
        return Tensor.on(Device.CPU).randn(seed, DType.FLOAT64, shape);
    }

    /**
     * The formulas of torch.nn.BatchNorm2d's documentation, on flat [N, C, S] arrays (S = the product of the
     * axes after the channel): per channel, mean and biased variance over N and S; y = (x - mean) /
     * sqrt(var + eps) * w + b; running = (1 - m) running + m batch with the unbiased variance.
     */
    static final class Ref {
        final int n;
        final int c;
        final int s;

        Ref(int[] shape) {
            n = shape[0];
            c = shape[1];
            int p = 1;
            for (int i = 2; i < shape.length; i++) {
                p *= shape[i];
            }
            s = p;
        }

        double[] mean(double[] x) {
            double[] m = new double[c];
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < s; k++) {
                        sum += x[(i * c + ch) * s + k];
                    }
                }
                m[ch] = sum / (n * s);
            }
            return m;
        }

        double[] biasedVar(double[] x) {
            double[] m = mean(x);
            double[] v = new double[c];
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < s; k++) {
                        double d = x[(i * c + ch) * s + k] - m[ch];
                        sum += d * d;
                    }
                }
                v[ch] = sum / (n * s);
            }
            return v;
        }

        double[] normalise(double[] x, double[] mean, double[] var, double[] w, double[] b, double eps) {
            double[] y = new double[x.length];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int k = 0; k < s; k++) {
                        int at = (i * c + ch) * s + k;
                        y[at] = (x[at] - mean[ch]) / Math.sqrt(var[ch] + eps) * (w == null ? 1 : w[ch]) + (b == null ? 0 : b[ch]);
                    }
                }
            }
            return y;
        }

        double[] runningMean(double[] running, double[] x, double m) {
            double[] bm = mean(x);
            double[] r = new double[c];
            for (int ch = 0; ch < c; ch++) {
                r[ch] = (1 - m) * running[ch] + m * bm[ch];
            }
            return r;
        }

        double[] runningVar(double[] running, double[] x, double m) {
            double[] bv = biasedVar(x);
            int count = n * s;
            double[] r = new double[c];
            for (int ch = 0; ch < c; ch++) {
                r[ch] = (1 - m) * running[ch] + m * bv[ch] * count / (count - 1);
            }
            return r;
        }
    }

    static void assertClose(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    @Test
    void smallCaseByHand() {
        // x [4, 2]: channel 0 = 1, 2, 3, 6 (mean 3, biased var 3.5, unbiased 14/3), channel 1 = -1, -1, 1, 1 (mean 0, var 1)
        try (BatchNorm1d bn = new BatchNorm1d(2, DType.FLOAT64, Device.CPU)) {
            Tensor x = Tensor.of(new double[] {1, -1, 2, -1, 3, 1, 6, 1}, 4, 2);
            double[] y = bn.forward(Var.constant(x)).value().toDoubleArray();
            double s0 = Math.sqrt(3.5 + 1e-5);
            double s1 = Math.sqrt(1 + 1e-5);
            assertClose(new double[] {-2 / s0, -1 / s1, -1 / s0, -1 / s1, 0, 1 / s1, 3 / s0, 1 / s1}, y, 1e-15, "y");
            assertClose(new double[] {0.3, 0}, bn.runningMean().toDoubleArray(), 1e-15, "running_mean");
            assertClose(new double[] {0.9 + 0.1 * 14 / 3.0, 0.9 + 0.1 * 4 / 3.0}, bn.runningVar().toDoubleArray(), 1e-15, "running_var");
            assertEquals(1, bn.numBatchesTracked().toLongArray()[0]);
            assertEquals(0, bn.numBatchesTracked().rank(), "num_batches_tracked is a scalar, as PyTorch's");
        }
    }

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("1d [N, C]", new int[] {7, 3}),
                Arguments.of("1d [N, C, L]", new int[] {4, 3, 5}),
                Arguments.of("2d [N, C, H, W]", new int[] {3, 4, 5, 7}),
                Arguments.of("2d size-1 spatial", new int[] {5, 2, 1, 1}),
                Arguments.of("2d batch of 1", new int[] {1, 3, 2, 3}),
                Arguments.of("2d 33 channels", new int[] {2, 33, 3, 2}));
    }

    private static BatchNorm module(int[] shape, double momentum) {
        try (Scope s = Scope.open()) {
            return shape.length == 4
                    ? new BatchNorm2d(shape[1], 1e-5, momentum, true, true, DType.FLOAT64, Device.CPU)
                    : new BatchNorm1d(shape[1], 1e-5, momentum, true, true, DType.FLOAT64, Device.CPU);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void trainingStepsThenEvaluationFollowTheFormulas(String name, int[] shape) {
        Ref ref = new Ref(shape);
        try (BatchNorm bn = module(shape, 0.25)) {
            double[] w = randn(11, shape[1]).toDoubleArray();
            double[] b = randn(12, shape[1]).toDoubleArray();
            bn.weight().value().assign(Tensor.of(w));
            bn.bias().value().assign(Tensor.of(b));
            double[] rm = new double[shape[1]];
            double[] rv = new double[shape[1]];
            java.util.Arrays.fill(rv, 1);
            for (int step = 0; step < 3; step++) {
                double[] x = randn(20 + step, shape).mul(1 + step).add(step - 1).toDoubleArray();
                double[] y = bn.forward(Var.constant(Tensor.of(x, shape))).value().toDoubleArray();
                assertClose(ref.normalise(x, ref.mean(x), ref.biasedVar(x), w, b, 1e-5), y, 1e-12, name + " y, step " + step);
                rm = ref.runningMean(rm, x, 0.25);
                rv = ref.runningVar(rv, x, 0.25);
                assertClose(rm, bn.runningMean().toDoubleArray(), 1e-13, name + " running_mean, step " + step);
                assertClose(rv, bn.runningVar().toDoubleArray(), 1e-13, name + " running_var, step " + step);
                assertEquals(step + 1, bn.numBatchesTracked().toLongArray()[0]);
            }
            bn.eval();
            double[] before = bn.runningMean().toDoubleArray();
            double[] x = randn(30, shape).toDoubleArray();
            double[] y = bn.forward(Var.constant(Tensor.of(x, shape))).value().toDoubleArray();
            assertClose(ref.normalise(x, rm, rv, w, b, 1e-5), y, 1e-12, name + " y in evaluation mode");
            assertArrayEquals(before, bn.runningMean().toDoubleArray(), name + ": evaluation leaves running_mean");
            assertEquals(3, bn.numBatchesTracked().toLongArray()[0], "evaluation does not count batches");
        }
    }

    @Test
    void cumulativeAverageWhenMomentumIsNull() {
        try (BatchNorm2d bn = new BatchNorm2d(2, 1e-5, null, true, true, DType.FLOAT64, Device.CPU)) {
            int[] shape = {3, 2, 2, 2};
            Ref ref = new Ref(shape);
            double[] sumMean = new double[2];
            double[] sumVar = new double[2];
            for (int step = 1; step <= 3; step++) {
                double[] x = randn(40 + step, shape).mul(step).toDoubleArray();
                bn.forward(Var.constant(Tensor.of(x, shape)));
                double[] m = ref.mean(x);
                double[] v = ref.runningVar(new double[2], x, 1);
                for (int ch = 0; ch < 2; ch++) {
                    sumMean[ch] += m[ch];
                    sumVar[ch] += v[ch];
                }
                int k = step;
                // PyTorch's momentum=None: factor 1/k at batch k (1 at the first, which replaces the initial 0 and 1),
                // so after k batches the running values are the plain averages of the k batches' statistics
                assertClose(java.util.Arrays.stream(sumMean).map(t -> t / k).toArray(), bn.runningMean().toDoubleArray(), 1e-13,
                        "running_mean after " + step);
                assertClose(java.util.Arrays.stream(sumVar).map(t -> t / k).toArray(), bn.runningVar().toDoubleArray(), 1e-13,
                        "running_var after " + step);
            }
        }
    }

    @Test
    void notAffineAndNotTracking() {
        int[] shape = {4, 3, 2, 2};
        Ref ref = new Ref(shape);
        try (BatchNorm2d plain = new BatchNorm2d(3, 1e-3, 0.1, false, false, DType.FLOAT64, Device.CPU)) {
            assertTrue(plain.namedParameters().isEmpty());
            assertTrue(plain.namedBuffers().isEmpty());
            assertNull(plain.weight());
            assertNull(plain.runningMean());
            for (boolean training : new boolean[] {true, false}) {
                plain.train(training);
                double[] x = randn(50, shape).toDoubleArray();
                double[] y = plain.forward(Var.constant(Tensor.of(x, shape))).value().toDoubleArray();
                assertClose(ref.normalise(x, ref.mean(x), ref.biasedVar(x), null, null, 1e-3), y, 1e-12,
                        "without running statistics both modes use the batch's (training " + training + ")");
            }
        }
    }

    @Test
    void stateIsNamedLikePyTorchStateDict() {
        Sequential m;
        try (Scope s = Scope.open()) {
            m = new Sequential(new Linear(4, 3, Init.KAIMING_UNIFORM, 1, DType.FLOAT32, Device.CPU),
                    new BatchNorm1d(3, DType.FLOAT32, Device.CPU), new ReLU());
        }
        try (m) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), List.copyOf(m.namedParameters().keySet()));
            assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"), List.copyOf(m.namedBuffers().keySet()));
            BatchNorm1d bn = (BatchNorm1d) m.layer(1);
            assertArrayEquals(new float[] {1, 1, 1}, bn.weight().value().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0}, bn.bias().value().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0}, bn.runningMean().toFloatArray());
            assertArrayEquals(new float[] {1, 1, 1}, bn.runningVar().toFloatArray());
            assertEquals(DType.INT64, bn.numBatchesTracked().dtype());
            assertSame(bn.runningMean(), m.namedBuffers().get("1.running_mean"), "the buffer itself, not a copy");
            assertEquals(4 * 3 + 3 + 3 + 3, m.parameterCount(), "buffers are not parameters");
            assertFalse(bn.runningMean().isClosed(), "buffers must not belong to the scope that built the model");
            Tensor rm = bn.runningMean();
            Tensor count = bn.numBatchesTracked();
            m.close();
            assertTrue(rm.isClosed() && count.isClosed(), "closing the model closes its buffers");
        }
    }

    @Test
    void afterAConvolution() {
        Sequential m;
        try (Scope s = Scope.open()) {
            m = new Sequential(new Conv2d(2, 3, 3, 1, 1, Init.PYTORCH_DEFAULT, 5, DType.FLOAT64, Device.CPU),
                    new BatchNorm2d(3, DType.FLOAT64, Device.CPU), new Tanh());
        }
        try (m) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), List.copyOf(m.namedParameters().keySet()));
            assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"), List.copyOf(m.namedBuffers().keySet()));
            GradCheck.Result r = GradCheck.check(in -> m.forward(in[0]), 1e-6, randn(70, 2, 2, 5, 4));
            assertTrue(r.passes(1e-6), "Conv2d-BatchNorm2d-Tanh in training mode: " + r);
            m.eval();
            GradCheck.Result e = GradCheck.check(in -> m.forward(in[0]), 1e-6, randn(71, 2, 2, 5, 4));
            assertTrue(e.passes(1e-6), "Conv2d-BatchNorm2d-Tanh in evaluation mode: " + e);
        }
    }

    @Test
    void bufferNamesCannotCollide() {
        class Twice extends Module {
            Twice() {
                registerBuffer("state", Tensor.on(Device.CPU).zeros(DType.FLOAT32, 1));
                register("state", Var.param(Tensor.on(Device.CPU).zeros(DType.FLOAT32, 1)));
            }

            @Override
            public Var forward(Var x) {
                return x;
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Twice::new);
        assertEquals("register: the name 'state' is already used", e.getMessage());
    }

    @Test
    void float32MatchesFloat64() {
        int[] shape = {8, 5, 3, 3};
        Tensor x = randn(60, shape);
        try (BatchNorm2d f64 = new BatchNorm2d(5, DType.FLOAT64, Device.CPU);
                BatchNorm2d f32 = new BatchNorm2d(5, DType.FLOAT32, Device.CPU)) {
            double[] want = f64.forward(Var.constant(x)).value().toDoubleArray();
            double[] got = f32.forward(Var.constant(x.cast(DType.FLOAT32))).value().toDoubleArray();
            assertClose(want, got, 2e-5, "float32 y");
            assertClose(f64.runningVar().toDoubleArray(), f32.runningVar().toDoubleArray(), 2e-6, "float32 running_var");
        }
    }

    @Test
    void emptyBatchGivesAnEmptyOutputAndLeavesTheStatistics() {
        try (BatchNorm2d bn = new BatchNorm2d(3, DType.FLOAT64, Device.CPU)) {
            Var y = bn.forward(Var.constant(Tensor.on(Device.CPU).zeros(DType.FLOAT64, 0, 3, 2, 2)));
            assertArrayEquals(new int[] {0, 3, 2, 2}, y.shape());
            assertArrayEquals(new double[] {0, 0, 0}, bn.runningMean().toDoubleArray());
            assertArrayEquals(new double[] {1, 1, 1}, bn.runningVar().toDoubleArray());
        }
    }

    @Test
    void nanInOneChannelStaysInThatChannel() {
        try (BatchNorm1d bn = new BatchNorm1d(2, DType.FLOAT64, Device.CPU)) {
            double[] y = bn.forward(Var.constant(Tensor.of(new double[] {Double.NaN, 1, 2, 3}, 2, 2))).value().toDoubleArray();
            assertTrue(Double.isNaN(y[0]) && Double.isNaN(y[2]));
            assertFalse(Double.isNaN(y[1]) || Double.isNaN(y[3]));
            assertTrue(Double.isNaN(bn.runningMean().toDoubleArray()[0]));
            assertEquals(0.2, bn.runningMean().toDoubleArray()[1], 1e-15);
        }
    }

    @Test
    void errorsNameTheLayerTheInputAndTheFix() {
        try (BatchNorm2d bn = new BatchNorm2d(3, DType.FLOAT32, Device.CPU);
                BatchNorm1d bn1 = new BatchNorm1d(3, DType.FLOAT32, Device.CPU)) {
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                    () -> bn.forward(Var.constant(Tensor.on(Device.CPU).zeros(DType.FLOAT32, 2, 4, 3, 3))));
            assertTrue(channels.getMessage().contains("must be [N, C, H, W] with C = 3"), channels.getMessage());
            assertTrue(channels.getMessage().startsWith("BatchNorm2d(3, eps=1.0E-5, momentum=0.1"), channels.getMessage());
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> bn1.forward(Var.constant(Tensor.on(Device.CPU).zeros(DType.FLOAT32, 2, 3, 3, 3))));
            assertTrue(rank.getMessage().contains("must be [N, C] or [N, C, L] with C = 3"), rank.getMessage());
            IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                    () -> bn1.forward(Var.constant(Tensor.on(Device.CPU).zeros(DType.FLOAT32, 1, 3))));
            assertTrue(single.getMessage().contains("expected more than 1 value per channel when training"), single.getMessage());
            assertEquals(0, bn1.numBatchesTracked().toLongArray()[0], "a refused batch modifies nothing (PyTorch counts it)");
            bn1.eval();
            assertEquals(3, bn1.forward(Var.constant(Tensor.on(Device.CPU).zeros(DType.FLOAT32, 1, 3))).value().numel(),
                    "evaluation mode takes a batch of one");
        }
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(0, DType.FLOAT32, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(2, 1e-5, 0.0, true, true, DType.FLOAT32, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(2, 0, 0.1, true, true, DType.FLOAT32, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(2, DType.INT64, Device.CPU));
        IllegalArgumentException weight = assertThrows(IllegalArgumentException.class,
                () -> BatchNorm.apply(Var.constant(randn(1, 4, 3)), Var.constant(randn(2, 2)), null, null, null, 0.1, 1e-5));
        assertTrue(weight.getMessage().contains("weight") && weight.getMessage().contains("must be [3]"), weight.getMessage());
    }

    // ------------------------------------------------------------------ gradients

    /** The inputs are made in the test's scope ({@code inputs} is called there). */
    record Case(String name, Function<Var[], Var> f, Supplier<Tensor[]> inputs) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A module for the gradient checks (its parameters must outlive each call's graph); closed after the class. */
    private static final BatchNorm2d SHARED = new BatchNorm2d(3, DType.FLOAT64, Device.CPU);

    @AfterAll
    static void closeShared() {
        SHARED.close();
    }

    static Stream<Case> functions() {
        Supplier<Tensor> mean = () -> Tensor.of(new double[] {0.3, -0.2, 0.1});
        Supplier<Tensor> var = () -> Tensor.of(new double[] {0.5, 2, 1.5});
        return Stream.of(
                new Case("train [N, C]", in -> BatchNorm.apply(in[0], in[1], in[2], null, null, 0.1, 1e-5),
                        () -> new Tensor[] {randn(1, 5, 3), randn(2, 3), randn(3, 3)}),
                new Case("train [N, C, L]", in -> BatchNorm.apply(in[0], in[1], in[2], null, null, 0.1, 1e-5),
                        () -> new Tensor[] {randn(4, 2, 3, 4), randn(5, 3), randn(6, 3)}),
                new Case("train [N, C, H, W]", in -> BatchNorm.apply(in[0], in[1], in[2], null, null, 0.1, 1e-5),
                        () -> new Tensor[] {randn(7, 2, 3, 2, 3), randn(8, 3), randn(9, 3)}),
                new Case("train, not affine", in -> BatchNorm.apply(in[0], null, null, null, null, 0.1, 1e-3),
                        () -> new Tensor[] {randn(10, 3, 3, 2, 2)}),
                new Case("train, batch of 2", in -> BatchNorm.apply(in[0], in[1], in[2], null, null, 0.1, 1e-5),
                        () -> new Tensor[] {randn(11, 2, 3), randn(12, 3), randn(13, 3)}),
                new Case("eval [N, C, H, W]", in -> BatchNorm.applyEval(in[0], in[1], in[2], mean.get(), var.get(), 1e-5),
                        () -> new Tensor[] {randn(14, 2, 3, 2, 2), randn(15, 3), randn(16, 3)}),
                new Case("eval, not affine", in -> BatchNorm.applyEval(in[0], null, null, mean.get(), var.get(), 1e-5),
                        () -> new Tensor[] {randn(17, 4, 3)}),
                new Case("module in training mode, composed with tanh", in -> SHARED.forward(in[0]).tanh(),
                        () -> new Tensor[] {randn(18, 2, 3, 2, 2)}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void gradientsMatchFiniteDifferences(Case c) {
        GradCheck.Result r = GradCheck.check(c.f(), 1e-6, c.inputs().get());
        assertTrue(r.passes(1e-6), c.name() + ": " + r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void secondOrderGradientsMatchFiniteDifferences(Case c) {
        GradCheck.Result r = GradCheck.checkSecondOrder(c.f(), 1e-5, c.inputs().get());
        assertTrue(r.passes(1e-5), c.name() + ": " + r);
    }
}
