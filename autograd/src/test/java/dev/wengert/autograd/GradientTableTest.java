package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every differentiable primitive, table-driven: random shapes (every broadcasting pattern for binary
 * ops), float64, reverse and forward mode against central finite differences (h = 1e-6).
 * Bound: relative error at most 1e-6 (central differences in float64 are good to about 1e-9 here;
 * the bound leaves room for ill-conditioned points).
 */
@ExtendWith(ScopePerTest.class)
class GradientTableTest {
    /** The device the table runs on; the CUDA subclass overrides it. */
    protected dev.wengert.tensor.Device device() {
        return dev.wengert.tensor.Device.CPU;
    }

    static final double TOLERANCE = 1e-6;
    static final double STEP = 1e-6;

    /**
     * One row of the table: the primitive it differentiates (null for a composition that none of the rows of
     * its primitives covers, e.g. softmax), a name, how to build its inputs, and the input domain.
     */
    record Spec(Prim<?> prim, String name, Function<Var[], Var> f, int[][] shapes, double lo, double hi) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(name);
            for (int[] s : shapes) {
                sb.append(java.util.Arrays.toString(s));
            }
            return sb.toString();
        }
    }

    private static final Random RND = new Random(2026);

    private static int d() {
        return 2 + RND.nextInt(3);
    }

    /** The broadcasting patterns every binary op is tested with, with random dimension sizes. */
    static List<int[][]> broadcastPatterns() {
        int n = d();
        int m = d();
        int k = d();
        return List.of(
                new int[][] {{n, m}, {n, m}},        // same shape
                new int[][] {{n, m}, {m}},           // row vector
                new int[][] {{n, m}, {n, 1}},        // column
                new int[][] {{n, 1}, {1, m}},        // both sides broadcast
                new int[][] {{}, {n, m}},            // scalar
                new int[][] {{k, n, m}, {n, 1}},     // rank difference
                new int[][] {{m}, {k, n, m}});
    }

    static void binary(List<Spec> out, Prim<?> prim, Function<Var[], Var> f, double lo, double hi) {
        for (int[][] p : broadcastPatterns()) {
            out.add(new Spec(prim, prim.name(), f, p, lo, hi));
        }
    }

    static void unary(List<Spec> out, Prim<?> prim, Function<Var, Var> f, double lo, double hi) {
        unary(out, prim, prim.name(), f, lo, hi);
    }

    static void unary(List<Spec> out, Prim<?> prim, String name, Function<Var, Var> f, double lo, double hi) {
        out.add(new Spec(prim, name, v -> f.apply(v[0]), new int[][] {{d(), d()}}, lo, hi));
        out.add(new Spec(prim, name, v -> f.apply(v[0]), new int[][] {{}}, lo, hi));
    }

    static Stream<Spec> table() {
        List<Spec> t = new ArrayList<>();
        binary(t, Prim.ADD, v -> v[0].add(v[1]), -2, 2);
        binary(t, Prim.SUB, v -> v[0].sub(v[1]), -2, 2);
        binary(t, Prim.MUL, v -> v[0].mul(v[1]), -2, 2);
        binary(t, Prim.DIV, v -> v[0].div(v[1]), 0.5, 2);
        binary(t, Prim.POW, v -> v[0].pow(v[1]), 0.5, 2);
        binary(t, Prim.MAXIMUM, v -> v[0].maximum(v[1]), -2, 2);
        binary(t, Prim.MINIMUM, v -> v[0].minimum(v[1]), -2, 2);
        unary(t, Prim.NEG, Var::neg, -2, 2);
        unary(t, Prim.EXP, Var::exp, -2, 2);
        unary(t, Prim.LOG, Var::log, 0.2, 3);
        unary(t, Prim.SQRT, Var::sqrt, 0.2, 3);
        unary(t, Prim.ABS, Var::abs, 0.1, 2);
        unary(t, Prim.ABS, "abs-negative", Var::abs, -2, -0.1);
        unary(t, Prim.SIN, Var::sin, -3, 3);
        unary(t, Prim.COS, Var::cos, -3, 3);
        unary(t, Prim.TANH, Var::tanh, -2, 2);
        unary(t, Prim.SIGMOID, Var::sigmoid, -4, 4);
        unary(t, Prim.RELU, Var::relu, 0.1, 2);
        unary(t, Prim.RELU, "relu-negative", Var::relu, -2, -0.1);
        unary(t, Prim.ERF, Var::erf, -2, 2);
        unary(t, Prim.CAST, v -> v.cast(DType.FLOAT64).square(), -2, 2);  // float64 -> float64: float32 is too coarse for the checks
        int n = d();
        int m = d();
        int k = d();
        int b = d();
        t.add(new Spec(Prim.MATMUL, "matmul", v -> v[0].matmul(v[1]), new int[][] {{n, k}, {k, m}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-tA", v -> v[0].matmul(true, v[1], false), new int[][] {{k, n}, {k, m}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-tB", v -> v[0].matmul(false, v[1], true), new int[][] {{n, k}, {m, k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-tAtB", v -> v[0].matmul(true, v[1], true), new int[][] {{k, n}, {m, k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-batched", v -> v[0].matmul(v[1]), new int[][] {{b, n, k}, {b, k, m}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-shared-right", v -> v[0].matmul(false, v[1], true), new int[][] {{b, n, k}, {m, k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-shared-left", v -> v[0].matmul(true, v[1], false), new int[][] {{k, n}, {b, k, m}}, -1, 1));
        t.add(new Spec(Prim.SUM, "sum-all", v -> v[0].sum(), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(Prim.SUM, "sum-axis", v -> v[0].sum(false, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(Prim.SUM, "sum-axes-keep", v -> v[0].sum(true, 0, 2), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(null, "mean-axis", v -> v[0].mean(false, -1), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(Prim.MAX, "max-axis", v -> v[0].max(false, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(Prim.MAX, "max-all-keep", v -> v[0].max(true), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(Prim.LOG_SOFTMAX, "logSoftmax-0", v -> v[0].logSoftmax(0), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec(Prim.LOG_SOFTMAX, "logSoftmax-1", v -> v[0].logSoftmax(1), new int[][] {{n, m, k}}, -3, 3));
        t.add(new Spec(null, "softmax", v -> v[0].softmax(-1), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec(Prim.SOFTMAX_CROSS_ENTROPY, "softmaxCrossEntropy", v -> v[0].softmaxCrossEntropy(labels(n, m, v[0]).reshape(n)), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec(Prim.SOFTMAX_CROSS_ENTROPY_GRAD, "softmaxCrossEntropyGrad", v -> Prim.SOFTMAX_CROSS_ENTROPY_GRAD.apply(
                new Var.Labels(labels(n, m, v[0]).reshape(n)), v[0], v[1]), new int[][] {{n, m}, {n}}, -3, 3));
        t.add(new Spec(null, "logSumExp", v -> v[0].logSumExp(false, 1), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec(Prim.RESHAPE, "reshape", v -> v[0].reshape(-1).mul(v[0].reshape(-1)), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(Prim.PERMUTE, "permute", v -> v[0].permute(2, 0, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(null, "transpose", v -> v[0].transpose(), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(Prim.SLICE, "slice", v -> v[0].slice(1, 1, m), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(Prim.SLICE, "slice-middle", v -> v[0].slice(0, 1, 2), new int[][] {{3, m}}, -1, 1));
        t.add(new Spec(Prim.CONCAT, "concat", v -> Var.concat(1, v[0], v[1]), new int[][] {{n, m}, {n, k}}, -1, 1));
        t.add(new Spec(Prim.BROADCAST_TO, "broadcastTo", v -> v[0].broadcastTo(k, n, m), new int[][] {{n, 1}}, -1, 1));
        t.add(new Spec(Prim.GATHER, "gather", v -> v[0].gather(1, labels(n, m, v[0])), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(Prim.SCATTER_ADD, "scatterAdd", v -> v[0].scatterAdd(1, labels(n, m, v[0]), v[1]), new int[][] {{n, m}, {n, 1}}, -1, 1));
        t.add(new Spec(Prim.WHERE, "where", v -> Var.where(mask(n, m, v[0]), v[0], v[1]), new int[][] {{n, m}, {m}}, -1, 1));
        // issue 16's elementwise primitives (appended, so that the rows above keep their random shapes)
        unary(t, Prim.ERFC, Var::erfc, -2, 2);
        unary(t, Prim.LOG1P, Var::log1p, -0.5, 2);
        unary(t, Prim.EXPM1, Var::expm1, -2, 2);
        unary(t, Prim.TAN, Var::tan, -1.2, 1.2);
        unary(t, Prim.ATAN, Var::atan, -3, 3);
        unary(t, Prim.ASIN, Var::asin, -0.9, 0.9);
        unary(t, Prim.ACOS, Var::acos, -0.9, 0.9);
        unary(t, Prim.SINH, Var::sinh, -2, 2);
        unary(t, Prim.COSH, Var::cosh, -2, 2);
        unary(t, Prim.RECIPROCAL, Var::reciprocal, 0.3, 2);
        unary(t, Prim.RECIPROCAL, "reciprocal-negative", Var::reciprocal, -2, -0.3);
        unary(t, Prim.FLOOR, Var::floor, 0.1, 0.9);                 // piecewise constant: away from the steps
        unary(t, Prim.CEIL, Var::ceil, -1.9, -1.1);
        unary(t, Prim.ROUND, Var::round, 1.6, 2.4);
        unary(t, Prim.TRUNC, Var::trunc, -0.9, -0.1);
        unary(t, Prim.SIGN, Var::sign, 0.1, 2);
        unary(t, Prim.SIGN, "sign-negative", Var::sign, -2, -0.1);
        unary(t, Prim.SILU, Var::silu, -4, 4);
        unary(t, Prim.GELU, Var::gelu, -3, 3);
        unary(t, Prim.GELU, "gelu-tanh", v -> v.gelu("tanh"), -3, 3);
        unary(t, Prim.SOFTPLUS, Var::softplus, -3, 3);
        unary(t, Prim.SOFTPLUS, "softplus-beta2", v -> v.softplus(2, 3), -1, 1.4);       // x beta <= threshold: the log1p part
        unary(t, Prim.SOFTPLUS, "softplus-linear", v -> v.softplus(2, 3), 1.6, 3);       // x beta > threshold: x itself
        unary(t, Prim.LEAKY_RELU, Var::leakyRelu, 0.1, 2);
        unary(t, Prim.LEAKY_RELU, "leakyRelu-negative", v -> v.leakyRelu(0.2), -2, -0.1);
        unary(t, Prim.ELU, Var::elu, 0.1, 2);
        unary(t, Prim.ELU, "elu-negative", v -> v.elu(1.5), -2, -0.1);
        unary(t, Prim.CLAMP, "clamp-inside", v -> v.clamp(-0.5, 0.7), -0.4, 0.6);
        unary(t, Prim.CLAMP, "clamp-below", v -> v.clamp(-0.5, 0.7), -2, -0.6);
        unary(t, Prim.CLAMP, "clamp-above", v -> v.clampMax(0.7), 0.8, 2);
        binary(t, Prim.ATAN2, v -> v[0].atan2(v[1]), 0.5, 2);
        binary(t, Prim.FMOD, v -> v[0].fmod(v[1]), 0.5, 2);
        binary(t, Prim.REMAINDER, v -> v[0].remainder(v[1]), 0.5, 2);
        binary(t, Prim.HYPOT, v -> v[0].hypot(v[1]), -2, 2);
        int p = d();
        int q = d();
        t.add(new Spec(Prim.ATAN2, "atan2-negative-x", v -> v[0].atan2(v[1].neg()), new int[][] {{p, q}, {q}}, 0.5, 2));
        t.add(new Spec(Prim.FMOD, "fmod-negative-dividend", v -> v[0].neg().fmod(v[1]), new int[][] {{p, q}, {p, 1}}, 0.5, 2));
        t.add(new Spec(Prim.REMAINDER, "remainder-negative-dividend", v -> v[0].neg().remainder(v[1]), new int[][] {{p, q}, {q}}, 0.5, 2));
        t.add(new Spec(Prim.REMAINDER, "remainder-negative-divisor", v -> v[0].remainder(v[1].neg()), new int[][] {{p, q}, {}}, 0.5, 2));
        return t.stream();
    }

    /** Class labels on the device of {@code like}. */
    private static Tensor labels(int rows, int classes, Var like) {
        long[] l = new long[rows];
        for (int i = 0; i < rows; i++) {
            l[i] = (i * 7L) % classes;
        }
        return Tensor.on(like.value().device()).of(l, rows, 1);
    }

    private static Tensor mask(int n, int m, Var like) {
        double[] v = new double[n * m];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 3 == 0 ? 1 : 0;
        }
        return Tensor.on(like.value().device()).of(v, n, m);
    }

    static Stream<Arguments> cases() {
        return table().map(Arguments::of);
    }

    /** Every built-in primitive has a row (a primitive added without one fails here). */
    @Test
    void everyBuiltinPrimitiveHasARow() {
        java.util.Set<Prim<?>> covered = new java.util.HashSet<>();
        table().forEach(spec -> covered.add(spec.prim()));
        List<String> missing = new ArrayList<>();
        for (Prim<?> p : Rules.builtins()) {
            if (!covered.contains(p)) {
                missing.add(p.name());
            }
        }
        assertTrue(missing.isEmpty(), "built-in primitives without a row in GradientTableTest.table(): " + missing);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientsMatchFiniteDifferences(Spec spec) {
        Tensor[] inputs = new Tensor[spec.shapes().length];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = Tensor.on(device()).uniform(spec.lo(), spec.hi(), 17 + i, DType.FLOAT64, spec.shapes()[i]);
        }
        GradCheck.Result r = GradCheck.check(spec.f(), STEP, inputs);
        assertTrue(r.passes(TOLERANCE), spec + ": " + r);
    }

    /**
     * The backend's cross-entropy kernels (the CPU's Java pass, CUDA's fused.cuh) against the composed fallback
     * next to the primitive ({@link SoftmaxCrossEntropy}), in both float dtypes, with a row of logits of +-1000
     * and both upstream forms; and the primitive runs the kernel.
     */
    @Test
    void crossEntropyKernelsMatchTheComposedFallback() {
        var fwd = Backends.of(device()).fused(FusedKernel.SOFTMAX_XENT_FWD);
        var bwd = Backends.of(device()).fused(FusedKernel.SOFTMAX_XENT_BWD);
        org.junit.jupiter.api.Assumptions.assumeTrue(fwd.isPresent() && bwd.isPresent(), device() + " has no cross-entropy kernels");
        TensorFactory on = Tensor.on(device());
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 1e-4 : 1e-12;
            Tensor logits = Tensor.concat(0, on.uniform(-5, 5, 3, DType.FLOAT64, 7, 10),
                    on.of(new double[] {1000, -1000, 0, 0, 0, 0, 0, 0, 0, 999}, 1, 10)).cast(dtype);
            Tensor labels = on.of(new long[] {0, 3, 9, 2, 2, 5, 1, 9});
            Tensor a = on.zeros(dtype, 8);
            Tensor b = on.zeros(dtype, 8);
            fwd.get().run(logits, labels, a);
            SoftmaxCrossEntropy.composedLoss(logits, labels, b);
            assertClose(b, a, tol, dtype + " loss");
            assertEquals(1 + Math.log1p(Math.exp(-1)), a.toDoubleArray()[7], tol, "stable for logits of 1000: lse - 999");
            assertArrayEquals(a.toDoubleArray(), SoftmaxCrossEntropy.loss(logits, labels).toDoubleArray(), "the primitive runs the kernel");
            for (Tensor upstream : new Tensor[] {on.uniform(0.5, 2, 4, dtype, 8), on.full(0.25, dtype)}) {
                Tensor ga = on.zeros(dtype, 8, 10);
                Tensor gb = on.zeros(dtype, 8, 10);
                bwd.get().run(logits, labels, upstream, 0.5, ga);
                SoftmaxCrossEntropy.composedGrad(logits, labels, upstream, 0.5, gb);
                assertClose(gb, ga, tol, dtype + " gradient, upstream " + upstream.describe());
            }
        }
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i])), what + " element " + i + ": " + e[i] + " vs " + a[i]);
        }
    }
}
