package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
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

    /** One row of the table: an op, how to build its inputs, and the input domain. */
    record Spec(String name, Function<Var[], Var> f, int[][] shapes, double lo, double hi) {
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

    static void binary(List<Spec> out, String name, Function<Var[], Var> f, double lo, double hi) {
        for (int[][] p : broadcastPatterns()) {
            out.add(new Spec(name, f, p, lo, hi));
        }
    }

    static void unary(List<Spec> out, String name, Function<Var, Var> f, double lo, double hi) {
        out.add(new Spec(name, v -> f.apply(v[0]), new int[][] {{d(), d()}}, lo, hi));
        out.add(new Spec(name, v -> f.apply(v[0]), new int[][] {{}}, lo, hi));
    }

    static Stream<Spec> table() {
        List<Spec> t = new ArrayList<>();
        binary(t, "add", v -> v[0].add(v[1]), -2, 2);
        binary(t, "sub", v -> v[0].sub(v[1]), -2, 2);
        binary(t, "mul", v -> v[0].mul(v[1]), -2, 2);
        binary(t, "div", v -> v[0].div(v[1]), 0.5, 2);
        binary(t, "pow", v -> v[0].pow(v[1]), 0.5, 2);
        binary(t, "maximum", v -> v[0].maximum(v[1]), -2, 2);
        binary(t, "minimum", v -> v[0].minimum(v[1]), -2, 2);
        unary(t, "neg", Var::neg, -2, 2);
        unary(t, "exp", Var::exp, -2, 2);
        unary(t, "log", Var::log, 0.2, 3);
        unary(t, "sqrt", Var::sqrt, 0.2, 3);
        unary(t, "abs", Var::abs, 0.1, 2);
        unary(t, "abs-negative", Var::abs, -2, -0.1);
        unary(t, "sin", Var::sin, -3, 3);
        unary(t, "cos", Var::cos, -3, 3);
        unary(t, "tanh", Var::tanh, -2, 2);
        unary(t, "sigmoid", Var::sigmoid, -4, 4);
        unary(t, "relu", Var::relu, 0.1, 2);
        unary(t, "relu-negative", Var::relu, -2, -0.1);
        int n = d();
        int m = d();
        int k = d();
        int b = d();
        t.add(new Spec("matmul", v -> v[0].matmul(v[1]), new int[][] {{n, k}, {k, m}}, -1, 1));
        t.add(new Spec("matmul-tA", v -> v[0].matmul(true, v[1], false), new int[][] {{k, n}, {k, m}}, -1, 1));
        t.add(new Spec("matmul-tB", v -> v[0].matmul(false, v[1], true), new int[][] {{n, k}, {m, k}}, -1, 1));
        t.add(new Spec("matmul-tAtB", v -> v[0].matmul(true, v[1], true), new int[][] {{k, n}, {m, k}}, -1, 1));
        t.add(new Spec("matmul-batched", v -> v[0].matmul(v[1]), new int[][] {{b, n, k}, {b, k, m}}, -1, 1));
        t.add(new Spec("matmul-shared-right", v -> v[0].matmul(false, v[1], true), new int[][] {{b, n, k}, {m, k}}, -1, 1));
        t.add(new Spec("matmul-shared-left", v -> v[0].matmul(true, v[1], false), new int[][] {{k, n}, {b, k, m}}, -1, 1));
        t.add(new Spec("sum-all", v -> v[0].sum(), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec("sum-axis", v -> v[0].sum(false, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec("sum-axes-keep", v -> v[0].sum(true, 0, 2), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec("mean-axis", v -> v[0].mean(false, -1), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec("max-axis", v -> v[0].max(false, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec("max-all-keep", v -> v[0].max(true), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec("logSoftmax-0", v -> v[0].logSoftmax(0), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec("logSoftmax-1", v -> v[0].logSoftmax(1), new int[][] {{n, m, k}}, -3, 3));
        t.add(new Spec("softmax", v -> v[0].softmax(-1), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec("softmaxCrossEntropy", v -> v[0].softmaxCrossEntropy(labels(n, m, v[0]).reshape(n)), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec("logSumExp", v -> v[0].logSumExp(false, 1), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec("reshape", v -> v[0].reshape(-1).mul(v[0].reshape(-1)), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec("permute", v -> v[0].permute(2, 0, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec("transpose", v -> v[0].transpose(), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec("slice", v -> v[0].slice(1, 1, m), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec("slice-middle", v -> v[0].slice(0, 1, 2), new int[][] {{3, m}}, -1, 1));
        t.add(new Spec("concat", v -> Var.concat(1, v[0], v[1]), new int[][] {{n, m}, {n, k}}, -1, 1));
        t.add(new Spec("broadcastTo", v -> v[0].broadcastTo(k, n, m), new int[][] {{n, 1}}, -1, 1));
        t.add(new Spec("gather", v -> v[0].gather(1, labels(n, m, v[0])), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec("scatterAdd", v -> v[0].scatterAdd(1, labels(n, m, v[0]), v[1]), new int[][] {{n, m}, {n, 1}}, -1, 1));
        t.add(new Spec("where", v -> Var.where(mask(n, m, v[0]), v[0], v[1]), new int[][] {{n, m}, {m}}, -1, 1));
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
}
