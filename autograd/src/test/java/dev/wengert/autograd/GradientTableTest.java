package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Activation;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.PadMode;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import dev.wengert.tensor.Window2d;
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
     * its primitives covers, e.g. softmax), a name, how to build its inputs, and the input domain; or fixed input
     * values (a point with zeros or ties, {@code values} non-null), where {@code secondOrder} may say that the
     * point is a kink for the second derivative (SecondOrderTest skips the row; the first order is checked).
     */
    record Spec(Prim<?> prim, String name, Function<Var[], Var> f, int[][] shapes, double lo, double hi, double[][] values,
            boolean secondOrder) {
        /** A row on random inputs in [lo, hi). */
        Spec(Prim<?> prim, String name, Function<Var[], Var> f, int[][] shapes, double lo, double hi) {
            this(prim, name, f, shapes, lo, hi, null, true);
        }

        /** A row at fixed input values (one array per input, row-major). */
        static Spec at(Prim<?> prim, String name, Function<Var[], Var> f, int[][] shapes, boolean secondOrder, double[]... values) {
            return new Spec(prim, name, f, shapes, 0, 0, values, secondOrder);
        }

        /** The row's inputs on {@code device}: its fixed values, or uniform samples with seeds seed, seed + 1, ... */
        Tensor[] inputs(dev.wengert.tensor.Device device, long seed) {
            Tensor[] in = new Tensor[shapes.length];
            for (int i = 0; i < in.length; i++) {
                in[i] = values != null ? Tensor.on(device).of(values[i], shapes[i]).reshape(shapes[i])
                        : Tensor.on(device).uniform(lo, hi, seed + i, DType.FLOAT64, shapes[i]);
            }
            return in;
        }

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
        coreRows(t);
        issue16Rows(t);
        convolutionRows(t);
        normalisationRows(t);
        return t.stream();
    }

    private static void coreRows(List<Spec> t) {
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
        t.add(new Spec(Prim.SOFTMAX_CROSS_ENTROPY_MEAN, "softmaxCrossEntropyMean", v -> v[0].softmaxCrossEntropyMean(labels(n, m, v[0]).reshape(n)), new int[][] {{n, m}}, -3, 3));
        t.add(new Spec(Prim.SOFTMAX_CROSS_ENTROPY_MEAN, "softmaxCrossEntropyMean-scaled", v -> v[0].softmaxCrossEntropyMean(labels(n, m, v[0]).reshape(n)).mul(v[1]), new int[][] {{n, m}, {}}, -3, 3));
        for (Activation act : Activation.values()) {
            t.add(new Spec(Prim.LINEAR, "linear-" + act, v -> v[0].linear(v[1], v[2], act), new int[][] {{n, k}, {m, k}, {m}}, -1, 1));
        }
        t.add(new Spec(Prim.LINEAR, "linear-relu-3d", v -> v[0].linear(v[1], v[2], Activation.RELU), new int[][] {{2, n, k}, {m, k}, {m}}, -1, 1));
        t.add(new Spec(Prim.LINEAR, "linear-tanh-vector", v -> v[0].linear(v[1], v[2], Activation.TANH), new int[][] {{k}, {m, k}, {m}}, -1, 1));
        t.add(new Spec(Prim.LINEAR, "linear-relu-stacked", v -> v[0].linear(v[1], v[2], Activation.RELU).linear(v[3], v[4], Activation.NONE),
                new int[][] {{n, k}, {m, k}, {m}, {2, m}, {2}}, -1, 1));
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
    }

    /**
     * Reductions, scans, shape ops, indexing, sorting and torch.matmul's shapes (issue 16): the new primitives
     * (prod, cumsum, flip) and the compositions, at random points and at zeros and ties, size-1 dimensions included.
     */
    private static void issue16Rows(List<Spec> t) {
        int n = d();
        int m = d();
        int k = d();
        int b = d();
        double inf = Double.POSITIVE_INFINITY;
        // reductions and scans
        t.add(new Spec(null, "min-axis", v -> v[0].min(false, 1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(null, "min-all-keep", v -> v[0].min(true), new int[][] {{n, 1, m}}, -1, 1));
        t.add(Spec.at(null, "amax-two-way-ties", v -> v[0].amax(false, 1), new int[][] {{2, 4}}, false,
                new double[] {0.5, -1, 0.5, 0.2, 1.5, 1.5, -2, 0.3}));         // a central difference at a two-way tie is 1/2
        t.add(Spec.at(null, "amin-two-way-ties", v -> v[0].amin(true, 0), new int[][] {{2, 3}}, false,
                new double[] {0.5, -1, 0.7, 0.5, 0.2, -0.4}));
        t.add(new Spec(Prim.PROD, "prod-axis", v -> v[0].prod(false, 1), new int[][] {{n, m, k}}, -1.5, 1.5));
        t.add(new Spec(Prim.PROD, "prod-axes-keep", v -> v[0].prod(true, 0, 2), new int[][] {{n, 1, m}}, 0.5, 1.5));
        t.add(new Spec(Prim.PROD, "prod-all", v -> v[0].prod(), new int[][] {{n, m}}, -1.5, 1.5));
        t.add(Spec.at(Prim.PROD, "prod-rows-with-0-1-2-3-zeros", v -> v[0].prod(false, 1), new int[][] {{4, 4}}, true,
                new double[] {1.1, 0.9, -0.8, 1.3, 0.5, 0, 1.5, -2, 0, 1.2, 0, 0.7, 0, 0, 0.6, 0}));
        t.add(Spec.at(Prim.PROD, "prod-all-one-zero", v -> v[0].prod(), new int[][] {{2, 3}}, true,
                new double[] {0.5, 0, 1.2, -0.7, 1.1, 0.9}));
        t.add(new Spec(Prim.CUMSUM, "cumsum-axis", v -> v[0].cumsum(1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(Prim.CUMSUM, "cumsum-5", v -> v[0].cumsum(-1), new int[][] {{n, 5}}, -1, 1));
        t.add(new Spec(null, "var-axis", v -> v[0].var(false, 1), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(null, "var-population-axes-keep", v -> v[0].var(0, true, 0, 2), new int[][] {{n, 1, m}}, -1, 1));
        t.add(new Spec(null, "std-axis", v -> v[0].std(false, -1), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(null, "std-all", v -> v[0].std(), new int[][] {{n, m}}, -1, 1));
        t.add(Spec.at(null, "std-constant-row", v -> v[0].std(false, 1), new int[][] {{2, 3}}, false,
                new double[] {0.7, 0.7, 0.7, 0.1, -0.5, 0.9}));              // gradient 0 at the constant row, as PyTorch
        t.add(new Spec(null, "norm-1", v -> v[0].norm(1, false, 1), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(null, "norm-2", v -> v[0].norm(2, false, 1), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(null, "norm-2-all", v -> v[0].norm(), new int[][] {{n, 1, m}}, -1, 1));
        t.add(new Spec(null, "norm-inf-keep", v -> v[0].norm(inf, true, 0), new int[][] {{n, m}}, -1, 1));
        t.add(Spec.at(null, "norms-at-the-zero-vector", v -> Var.concat(0, v[0].norm(1, false, 1), v[0].norm(2, false, 1),
                v[0].norm(inf, false, 1)), new int[][] {{2, 3}}, false, new double[] {0, 0, 0, 0.3, -0.4, 0.5}));
        // shape
        t.add(new Spec(null, "squeeze", v -> v[0].squeeze(), new int[][] {{n, 1, m, 1}}, -1, 1));
        t.add(new Spec(null, "squeeze-unsqueeze", v -> v[0].squeeze(1).unsqueeze(-1), new int[][] {{n, 1, m}}, -1, 1));
        t.add(new Spec(null, "stack", v -> Var.stack(1, v[0], v[1]), new int[][] {{n, m}, {n, m}}, -1, 1));
        t.add(new Spec(null, "narrow", v -> v[0].narrow(-1, -2, 2), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(null, "split", v -> reversedConcat(1, v[0].split(1, 2)), new int[][] {{n, 5}}, -1, 1));
        t.add(new Spec(null, "split-sections", v -> reversedConcat(0, v[0].split(0, new int[] {1, 0, 2})), new int[][] {{3, m}}, -1, 1));
        t.add(new Spec(null, "chunk", v -> reversedConcat(1, v[0].chunk(1, 3)), new int[][] {{n, 5}}, -1, 1));
        t.add(new Spec(Prim.FLIP, "flip", v -> v[0].flip(0, 2), new int[][] {{n, m, k}}, -1, 1));
        t.add(new Spec(Prim.FLIP, "flip-size-1", v -> v[0].flip(1), new int[][] {{n, 1}}, -1, 1));
        t.add(new Spec(null, "tile", v -> v[0].tile(2, 3), new int[][] {{n, 1}}, -1, 1));
        t.add(new Spec(null, "tile-more-reps", v -> v[0].tile(2, 1, 2), new int[][] {{m, k}}, -1, 1));
        t.add(new Spec(null, "repeat", v -> v[0].repeat(2, 2), new int[][] {{m}}, -1, 1));
        t.add(new Spec(null, "pad-constant", v -> v[0].pad(new int[] {1, 2, 0, 1}, PadMode.CONSTANT, 0.5), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(null, "pad-reflect", v -> v[0].pad(new int[] {2, 1, 1, 2}, PadMode.REFLECT, 0), new int[][] {{n, 3, 4}}, -1, 1));
        t.add(new Spec(null, "pad-replicate", v -> v[0].pad(new int[] {1, 1, 2, 0}, PadMode.REPLICATE, 0), new int[][] {{n, 1, m}}, -1, 1));
        t.add(new Spec(null, "pad-circular", v -> v[0].pad(new int[] {1, 2}, PadMode.CIRCULAR, 0), new int[][] {{n, m}}, -1, 1));
        // indexing
        t.add(new Spec(null, "indexSelect", v -> v[0].indexSelect(1, index(v[0], m - 1, 0, m - 1)), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(null, "maskedFill", v -> v[0].maskedFill(mask(1, m, v[0]).reshape(m), 2.5), new int[][] {{n, m}}, -1, 1));
        // torch.matmul's shapes
        t.add(new Spec(Prim.MATMUL, "matmul-dot", v -> v[0].matmul(v[1]), new int[][] {{k}, {k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-vector-matrix", v -> v[0].matmul(v[1]), new int[][] {{k}, {k, m}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-matrix-vector", v -> v[0].matmul(v[1]), new int[][] {{n, k}, {k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-batched-vector", v -> v[0].matmul(v[1]), new int[][] {{b, n, k}, {k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-broadcast-batches", v -> v[0].matmul(v[1]), new int[][] {{2, 1, n, k}, {b, k, m}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-4d-shared-tB", v -> v[0].matmul(false, v[1], true), new int[][] {{2, b, n, k}, {m, k}}, -1, 1));
        t.add(new Spec(Prim.MATMUL, "matmul-batch-of-one-tA", v -> v[0].matmul(true, v[1], false), new int[][] {{1, k, n}, {b, k, m}}, -1, 1));
        // sorting
        t.add(new Spec(null, "sort-descending", v -> v[0].sort(1, true).values(), new int[][] {{n, m}}, -1, 1));
        t.add(new Spec(null, "topk", v -> v[0].topk(0, 2, true).values(), new int[][] {{n, 1, m}}, -1, 1));
        t.add(new Spec(null, "topk-smallest", v -> v[0].topk(-1, 1, false).values(), new int[][] {{n, m}}, -1, 1));
    }

    /** Issue 17: the convolution's three primitives (each option: stride, padding, dilation, groups), unfold/fold, pooling. */
    private static void convolutionRows(List<Spec> t) {
        Window2d same = Window2d.of(3, 1, 1);
        Window2d odd = new Window2d(3, 2, 2, 1, 1, 0, 2, 1);   // non-square, strided, dilated, padded on one axis
        Var.Conv plain = new Var.Conv(same, 1);
        Var.Conv grouped = new Var.Conv(odd, 2);
        t.add(new Spec(Prim.CONV2D, "conv2d", v -> v[0].conv2d(v[1], same, 1), new int[][] {{2, 3, 5, 4}, {2, 3, 3, 3}}, -1, 1));
        t.add(new Spec(Prim.CONV2D, "conv2d-strided-dilated-groups", v -> v[0].conv2d(v[1], odd, 2),
                new int[][] {{1, 4, 7, 6}, {4, 2, 3, 2}}, -1, 1));
        t.add(new Spec(Prim.CONV2D, "conv2d-stride2-no-padding", v -> v[0].conv2d(v[1], 2, 0), new int[][] {{2, 2, 6, 5}, {3, 2, 2, 2}}, -1, 1));
        // the adjoints as functions of their own: (output gradient, weight) and (input, output gradient)
        t.add(new Spec(Prim.CONV2D_INPUT_GRAD, "conv2dInputGrad", v -> Prim.CONV2D_INPUT_GRAD.apply(new Var.ConvInput(plain, 5, 4), v[0], v[1]),
                new int[][] {{2, 2, 5, 4}, {2, 3, 3, 3}}, -1, 1));
        t.add(new Spec(Prim.CONV2D_INPUT_GRAD, "conv2dInputGrad-strided-groups",
                v -> Prim.CONV2D_INPUT_GRAD.apply(new Var.ConvInput(grouped, 7, 6), v[0], v[1]), new int[][] {{1, 4, 3, 5}, {4, 2, 3, 2}}, -1, 1));
        t.add(new Spec(Prim.CONV2D_WEIGHT_GRAD, "conv2dWeightGrad", v -> Prim.CONV2D_WEIGHT_GRAD.apply(plain, v[0], v[1]),
                new int[][] {{2, 3, 5, 4}, {2, 2, 5, 4}}, -1, 1));
        t.add(new Spec(Prim.CONV2D_WEIGHT_GRAD, "conv2dWeightGrad-strided-groups", v -> Prim.CONV2D_WEIGHT_GRAD.apply(grouped, v[0], v[1]),
                new int[][] {{1, 4, 7, 6}, {1, 4, 3, 5}}, -1, 1));
        t.add(new Spec(Prim.UNFOLD, "unfold", v -> v[0].unfold(odd), new int[][] {{2, 2, 7, 6}}, -1, 1));
        t.add(new Spec(Prim.FOLD, "fold", v -> v[0].fold(odd, 7, 6), new int[][] {{2, 12, 15}}, -1, 1));
        // pooling (random inputs: no ties) and a conv net's layer composed end to end
        t.add(new Spec(null, "maxPool2d", v -> v[0].maxPool2d(2, 2, 0), new int[][] {{2, 3, 4, 6}}, -1, 1));
        t.add(new Spec(null, "maxPool2d-overlapping-padded", v -> v[0].maxPool2d(3, 2, 1), new int[][] {{1, 2, 5, 5}}, -1, 1));
        t.add(new Spec(null, "maxPool2d-dilated", v -> v[0].maxPool2d(new Window2d(2, 2, 1, 1, 0, 0, 2, 2)), new int[][] {{1, 2, 5, 5}}, -1, 1));
        t.add(new Spec(null, "avgPool2d", v -> v[0].avgPool2d(Window2d.of(3, 2, 1)), new int[][] {{2, 2, 5, 4}}, -1, 1));
        t.add(new Spec(null, "globalAvgPool2d", v -> v[0].globalAvgPool2d(), new int[][] {{2, 3, 3, 2}}, -1, 1));
        t.add(new Spec(null, "conv-relu-pool", v -> v[0].conv2d(v[1], 1, 1).tanh().maxPool2d(2, 2, 0),
                new int[][] {{2, 2, 4, 4}, {3, 2, 3, 3}}, -1, 1));
    }

    /**
     * The batch-norm primitive: [N, C], [N, C, L] and [N, C, H, W], size-1 axes but at least two values per channel,
     * both eps used in practice, and batch norm inside a composition (its output squared, so the second derivative
     * involves every term).
     */
    private static void normalisationRows(List<Spec> t) {
        int[][][] shapes = {{{4, 3}, {3}, {3}}, {{2, 1}, {1}, {1}}, {{2, 3, 4}, {3}, {3}}, {{1, 2, 3}, {2}, {2}},
            {{3, 2, 1}, {2}, {2}}, {{2, 3, 2, 2}, {3}, {3}}, {{1, 2, 1, 3}, {2}, {2}}, {{2, 1, 1, 1}, {1}, {1}}};
        for (int[][] s : shapes) {
            t.add(new Spec(Prim.BATCH_NORM, "batchNorm", v -> v[0].batchNorm(v[1], v[2], 1e-5), s, -1, 1));
        }
        t.add(new Spec(Prim.BATCH_NORM, "batchNorm-eps-0.1-squared", v -> v[0].batchNorm(v[1], v[2], 0.1).square(),
                new int[][] {{3, 2, 2}, {2}, {2}}, -1, 1));
    }

    private static Var reversedConcat(int axis, Var[] parts) {
        Var[] r = new Var[parts.length];
        for (int i = 0; i < parts.length; i++) {
            r[i] = parts[parts.length - 1 - i];
        }
        return Var.concat(axis, r);
    }

    /** An int64 vector on the device of {@code like}. */
    private static Tensor index(Var like, long... values) {
        return Tensor.on(like.value().device()).of(values);
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
        Tensor[] inputs = spec.inputs(device(), 17);
        GradCheck.Result r = GradCheck.check(spec.f(), STEP, inputs);
        assertTrue(r.passes(TOLERANCE), spec + ": " + r);
    }

    /**
     * The compositions of issue 16 compute the values of the tensor operations of the same name (which the backend
     * contract suite checks against plain Java): the two are written separately, one with Var operations for the
     * gradients, one with tensor operations.
     */
    @Test
    void compositionsComputeTheTensorOpsValues() {
        TensorFactory on = Tensor.on(device());
        Tensor x = on.uniform(-1, 1, 5, DType.FLOAT64, 3, 4, 5);
        Tensor y = on.uniform(-1, 1, 6, DType.FLOAT64, 3, 4, 5);
        Tensor v = on.uniform(-1, 1, 7, DType.FLOAT64, 5);
        Tensor one = on.uniform(-1, 1, 8, DType.FLOAT64, 3, 1, 4);
        Var vx = Var.constant(x);
        Var vy = Var.constant(y);
        Tensor idx = on.of(new long[] {4, 0, 4, 2});
        Tensor mask = on.of(new double[] {1, 0, 0, 1, 0});
        int[] pads = {2, 1, 1, 3};
        Object[][] pairs = {
            {"min", vx.min(true, 0, 2), x.min(true, 0, 2)},
            {"amax", vx.amax(false, 1), x.max(false, 1)},
            {"argmin", Var.constant(vx.argmin(1, false)), x.argmin(1, false)},
            {"prod", vx.prod(false, 1), x.prod(false, 1)},
            {"cumsum", vx.cumsum(2), x.cumsum(2)},
            {"var", vx.var(0, true, 1, 2), x.var(0, true, 1, 2)},
            {"std", vx.std(false, 2), x.std(false, 2)},
            {"norm 1", vx.norm(1, false, 1), x.norm(1, false, 1)},
            {"norm 2", vx.norm(), x.norm(2, false)},
            {"norm inf", vx.norm(Double.POSITIVE_INFINITY, true, 0), x.norm(Double.POSITIVE_INFINITY, true, 0)},
            {"squeeze", Var.constant(one).squeeze(), one.squeeze()},
            {"unsqueeze", vx.unsqueeze(-2), x.unsqueeze(-2)},
            {"stack", Var.stack(1, vx, vy), Tensor.stack(1, x, y)},
            {"narrow", vx.narrow(2, -3, 2), x.narrow(2, -3, 2)},
            {"split", vx.split(2, 2)[2], x.split(2, 2)[2]},
            {"chunk", vx.chunk(1, 3)[1], x.chunk(1, 3)[1]},
            {"flip", vx.flip(0, 2), x.flip(0, 2)},
            {"tile", vx.tile(2, 1, 1, 2), x.tile(2, 1, 1, 2)},
            {"repeat", Var.constant(v).repeat(3, 2), v.repeat(3, 2)},
            {"pad constant", vx.pad(pads, PadMode.CONSTANT, 0.25), x.pad(pads, PadMode.CONSTANT, 0.25)},
            {"pad reflect", vx.pad(pads, PadMode.REFLECT, 0), x.pad(pads, PadMode.REFLECT, 0)},
            {"pad replicate", vx.pad(pads, PadMode.REPLICATE, 0), x.pad(pads, PadMode.REPLICATE, 0)},
            {"pad circular", vx.pad(pads, PadMode.CIRCULAR, 0), x.pad(pads, PadMode.CIRCULAR, 0)},
            {"indexSelect", vx.indexSelect(2, idx), x.indexSelect(2, idx)},
            {"maskedFill", vx.maskedFill(mask, -3), x.maskedFill(mask, -3)},
            {"sort", vx.sort(1, true).values(), x.sort(1, true)},
            {"topk", vx.topk(2, 3, false).values(), x.gather(2, x.topkIndices(2, 3, false))},
            {"matmul vector", Var.constant(v).matmul(vx.transpose()), v.matmul(x.transpose())},
            {"matmul broadcast", vx.reshape(3, 1, 4, 5).matmul(true, vy.slice(0, 0, 2), false),
                x.reshape(3, 1, 4, 5).matmul(true, y.slice(0, 0, 2), false)},
        };
        for (Object[] p : pairs) {
            Tensor got = ((Var) p[1]).value();
            Tensor want = (Tensor) p[2];
            assertArrayEquals(want.shape(), got.shape(), p[0] + ": shape");
            assertClose(want, got, 1e-14, (String) p[0]);
        }
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

    /**
     * The backend's linear kernels (CUDA's bias_act and bias_act_bwd) against the composed versions next to the
     * primitive ({@link FusedLinear}), every activation, both float dtypes, rows not a multiple of 32, more than one
     * 32-column tile, size-1 and empty axes, a NaN upstream gradient (its column's bias gradient is NaN, the others
     * not), dz written in place into dy; and the bias gradient has the same bits on a second run (fixed order, no
     * atomics). On a backend without them the composed versions run, which the gradient rows check.
     */
    @Test
    void linearKernelsMatchTheComposedFallback() {
        var fwd = Backends.of(device()).fused(FusedKernel.BIAS_ACT);
        var bwd = Backends.of(device()).fused(FusedKernel.BIAS_ACT_BACKWARD);
        org.junit.jupiter.api.Assumptions.assumeTrue(fwd.isPresent() && bwd.isPresent(),
                device() + " has no linear kernels: it runs the composed versions, which the linear gradient rows check");
        TensorFactory on = Tensor.on(device());
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 1e-5 : 1e-12;
            for (int[] shape : new int[][] {{37, 70}, {1, 1}, {64, 10}, {0, 5}, {5, 0}, {300, 3}}) {
                int rows = shape[0];
                int cols = shape[1];
                for (Activation act : Activation.values()) {
                    String what = dtype + " " + act + " " + rows + "x" + cols;
                    Tensor z = on.uniform(-2, 2, 11, DType.FLOAT64, rows, cols).cast(dtype);
                    Tensor b = on.uniform(-1, 1, 12, DType.FLOAT64, cols).cast(dtype);
                    Tensor y = on.empty(dtype, rows, cols);
                    fwd.get().run(z, b, act, y);
                    Tensor sum = z.add(b);
                    assertClose(act == Activation.NONE ? sum : sum.apply(act.op()), y, tol, what + " forward");
                    Tensor dy = on.uniform(-1, 1, 13, DType.FLOAT64, rows, cols).cast(dtype);
                    Tensor dz = act == Activation.NONE ? null : on.empty(dtype, rows, cols);
                    Tensor db = on.empty(dtype, cols);
                    bwd.get().run(dy, y, act, dz, db);
                    Tensor dzRef = on.empty(dtype, rows, cols);
                    Tensor dbRef = on.empty(dtype, cols);
                    FusedLinear.composedBackward(dy, y, act, dzRef, dbRef);
                    if (dz != null) {
                        assertClose(dzRef, dz, tol, what + " dz");
                    }
                    assertClose(dbRef, db, tol * Math.max(1, rows), what + " db");
                    Tensor again = on.empty(dtype, cols);
                    bwd.get().run(dy, y, act, dz == null ? null : on.empty(dtype, rows, cols), again);
                    assertArrayEquals(db.toDoubleArray(), again.toDoubleArray(), what + ": the same bits on every run");
                    Tensor inPlace = dy.copy();
                    bwd.get().run(inPlace, y, act, act == Activation.NONE ? null : inPlace, again);
                    assertArrayEquals(db.toDoubleArray(), again.toDoubleArray(), what + ": dz written into dy");
                    if (dz != null) {
                        assertArrayEquals(dz.toDoubleArray(), inPlace.toDoubleArray(), what + ": dz written into dy");
                    }
                }
            }
            double[] g = {1, Double.NaN, 2, 3, 4, 5};
            Tensor dy = on.of(g, 3, 2).cast(dtype);
            Tensor db = on.empty(dtype, 2);
            bwd.get().run(dy, on.ones(dtype, 3, 2), Activation.RELU, on.empty(dtype, 3, 2), db);
            double[] got = db.toDoubleArray();
            assertEquals(1 + 2 + 4, got[0], 0, dtype + ": the column without NaN");
            assertTrue(Double.isNaN(got[1]), dtype + ": the NaN column");
        }
    }

    /**
     * The backend's mean cross-entropy kernel (CUDA's softmax_xent_mean: one block up to 4096 rows, partial sums
     * beyond) against its composed version, both dtypes, rows of 1, 37 and 4100 (two blocks), one class and 33, logits
     * of +-1000; the same bits on a second run; the mean of no rows is NaN.
     */
    @Test
    void crossEntropyMeanKernelMatchesTheComposedFallback() {
        var mean = Backends.of(device()).fused(FusedKernel.SOFTMAX_XENT_MEAN);
        org.junit.jupiter.api.Assumptions.assumeTrue(mean.isPresent(),
                device() + " has no mean cross-entropy kernel: it runs the composed version, which the gradient rows check");
        TensorFactory on = Tensor.on(device());
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 1e-5 : 1e-12;
            for (int[] shape : new int[][] {{1, 1}, {37, 33}, {64, 10}, {4100, 3}, {2, 1000}}) {
                int rows = shape[0];
                int classes = shape[1];
                String what = dtype + " " + rows + "x" + classes;
                Tensor logits = on.uniform(-5, 5, 21, DType.FLOAT64, rows, classes).cast(dtype);
                if (rows == 2) {
                    logits = logits.mul(200);
                }
                long[] l = new long[rows];
                for (int i = 0; i < rows; i++) {
                    l[i] = (i * 7L) % classes;
                }
                Tensor labels = on.of(l);
                Tensor loss = on.empty(dtype);
                Tensor grad = on.empty(dtype, rows, classes);
                mean.get().run(logits, labels, loss, grad);
                Tensor lossRef = on.empty(dtype);
                Tensor gradRef = on.empty(dtype, rows, classes);
                SoftmaxCrossEntropy.composedMean(logits, labels, lossRef, gradRef);
                assertClose(lossRef, loss, tol * 10, what + " loss");
                assertClose(gradRef, grad, tol, what + " gradient");
                Tensor again = on.empty(dtype);
                mean.get().run(logits, labels, again, on.empty(dtype, rows, classes));
                assertEquals(loss.item(), again.item(), 0, what + ": the same bits on every run");
            }
            Tensor loss = on.empty(dtype);
            mean.get().run(on.empty(dtype, 0, 4), on.of(new long[0]), loss, on.empty(dtype, 0, 4));
            assertTrue(Double.isNaN(loss.item()), dtype + ": the mean of no rows");
        }
    }

    /** BatchNorm's composition before the primitive (models' BatchNorm.apply in training mode, without running statistics). */
    static Var composedBatchNorm(Var x, Var weight, Var bias, double eps) {
        int[] axes = FusedBatchNorm.reducedAxes(x.shape().length);
        int[] perChannel = FusedBatchNorm.perChannel(x.shape());
        Var mean = x.mean(true, axes);
        Var centred = x.sub(mean);
        Var var = centred.square().mean(true, axes);
        Var inv = var.add(eps).sqrt().reciprocal();
        Var scale = inv.mul(weight.reshape(perChannel));
        return centred.mul(scale).add(bias.reshape(perChannel));
    }

    /**
     * The primitive's value, statistics and first-order gradients (the unrecorded path, which runs the backend's
     * kernels or FusedBatchNorm's composed tensors, and the recorded one, written with variables) against the
     * composition BatchNorm ran before the primitive, in float64 to 1e-12, for [N, C], [N, C, L] and [N, C, H, W].
     */
    @Test
    void batchNormMatchesTheComposition() {
        TensorFactory on = Tensor.on(device());
        int[][] shapes = {{8, 3}, {2, 1}, {5, 4, 7}, {1, 3, 2}, {4, 3, 5, 6}, {3, 2, 1, 1}, {2, 5, 3, 33}};
        for (int k = 0; k < shapes.length; k++) {
            int[] shape = shapes[k];
            int c = shape[1];
            String what = java.util.Arrays.toString(shape);
            Tensor x = on.uniform(-2, 3, 40 + k, DType.FLOAT64, shape);
            Tensor w = on.uniform(-1.5, 1.5, 50 + k, DType.FLOAT64, c);
            Tensor b = on.uniform(-1, 1, 60 + k, DType.FLOAT64, c);
            Tensor r = on.uniform(-1, 1, 70 + k, DType.FLOAT64, shape);
            Var[] ref = {Var.param(x), Var.param(w), Var.param(b)};
            Var yRef = composedBatchNorm(ref[0], ref[1], ref[2], 1e-5);
            Var[] gRef = Backward.adjoints(yRef.mul(Var.constant(r)).sum(), null, false, ref);
            for (boolean createGraph : new boolean[] {false, true}) {
                String path = what + (createGraph ? " recorded" : " first order");
                Var[] in = {Var.param(x), Var.param(w), Var.param(b)};
                Var.BatchStats stats = new Var.BatchStats();
                Var y = in[0].batchNorm(in[1], in[2], 1e-5, stats);
                assertArrayEquals(shape, y.shape(), path + ": shape");
                assertClose(yRef.value(), y.value(), 1e-12, path + " value");
                Tensor axesMean = x.mean(false, FusedBatchNorm.reducedAxes(shape.length));
                assertClose(axesMean, stats.mean(), 1e-12, path + " mean");
                Tensor centred = x.sub(stats.mean().reshape(FusedBatchNorm.perChannel(shape)));
                assertClose(centred.mul(centred).mean(false, FusedBatchNorm.reducedAxes(shape.length)), stats.var(), 1e-12,
                        path + " biased variance");
                Var[] g = Backward.adjoints(y.mul(Var.constant(r)).sum(), null, createGraph, in);
                String[] names = {"dx", "dweight", "dbias"};
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(ref[i].shape(), g[i].shape(), path + " " + names[i] + " shape");
                    assertClose(gRef[i].value(), g[i].value(), 1e-12, path + " " + names[i]);
                }
            }
        }
    }

    /**
     * The first-order backward without the forward's statistics (a second forward with the same attributes replaced
     * them) computes them again and gives the same gradients; an input that needs no gradient gets none; an empty batch
     * gives an empty output, NaN statistics and zero weight and bias gradients.
     */
    @Test
    void batchNormBackwardWithoutItsStatisticsAndAnEmptyBatch() {
        TensorFactory on = Tensor.on(device());
        Tensor x = on.uniform(-1, 1, 81, DType.FLOAT64, 4, 3, 5);
        Tensor w = on.uniform(0.5, 1.5, 82, DType.FLOAT64, 3);
        Tensor b = on.uniform(-1, 1, 83, DType.FLOAT64, 3);
        Tensor r = on.uniform(-1, 1, 84, DType.FLOAT64, 4, 3, 5);
        Var[] in = {Var.param(x), Var.param(w), Var.param(b)};
        Var.BatchNormAttrs attrs = new Var.BatchNormAttrs(1e-5, new Var.BatchStats());
        Var y = Prim.BATCH_NORM.apply(attrs, in);
        Var[] kept = Backward.adjoints(y.mul(Var.constant(r)).sum(), null, false, in);
        Prim.BATCH_NORM.apply(attrs, Var.param(on.uniform(-3, 3, 85, DType.FLOAT64, 2, 3)), in[1], in[2]);
        assertTrue(!attrs.stats().heldFor(y.value()), "another forward replaced the statistics");
        Var[] again = Backward.adjoints(y.mul(Var.constant(r)).sum(), null, false, in);
        for (int i = 0; i < 3; i++) {
            assertClose(kept[i].value(), again[i].value(), 1e-12, "input " + i + " with recomputed statistics");
        }
        Var onlyX = Var.param(x);
        Var[] g = Backward.adjoints(onlyX.batchNorm(Var.constant(w), Var.constant(b), 1e-5).mul(Var.constant(r)).sum(), null,
                false, onlyX);
        assertClose(kept[0].value(), g[0].value(), 1e-12, "dx alone");

        Var.BatchStats stats = new Var.BatchStats();
        Var[] empty = {Var.param(on.zeros(DType.FLOAT64, 0, 3, 2)), Var.param(w), Var.param(b)};
        Var ye = empty[0].batchNorm(empty[1], empty[2], 1e-5, stats);
        assertArrayEquals(new int[] {0, 3, 2}, ye.shape());
        assertTrue(java.util.Arrays.stream(stats.mean().toDoubleArray()).allMatch(Double::isNaN), "the mean of no values");
        Var[] ge = Backward.adjoints(ye.sum(), null, false, empty);
        assertArrayEquals(new int[] {0, 3, 2}, ge[0].shape());
        assertArrayEquals(new double[3], ge[1].value().toDoubleArray(), "dweight of an empty batch");
        assertArrayEquals(new double[3], ge[2].value().toDoubleArray(), "dbias of an empty batch");
    }

    /**
     * The primitive's kernel path, before any backend registers the kernels: stand-ins in the kernels' signatures
     * (the composed versions, checking the arguments) see x, y, dy and dx viewed [N, C, L], mean and var [C], null for
     * the adjoints not asked for; the results are those of the composed path, y and dx in x's shape; an empty batch
     * does not call the kernels (their contract wants N * L &gt;= 1).
     */
    @Test
    void batchNormKernelPathPassesTheKernelsLayout() {
        TensorFactory on = Tensor.on(device());
        int[] calls = new int[2];
        FusedKernel.BatchNormForward fwd = (x, w, b, eps, y, mean, var) -> {
            assertEquals(3, x.rank(), "x viewed [N, C, L]");
            assertArrayEquals(x.shape(), y.shape(), "y viewed like x");
            assertArrayEquals(new int[] {x.dim(1)}, mean.shape());
            assertArrayEquals(new int[] {x.dim(1)}, var.shape());
            calls[0]++;
            FusedBatchNorm.composedForward(x, w, b, eps, y, mean, var);
        };
        FusedKernel.BatchNormBackward bwd = (dy, x, mean, var, w, eps, dx, dw, db) -> {
            assertEquals(3, dy.rank(), "dy viewed [N, C, L]");
            assertEquals(3, x.rank(), "x viewed [N, C, L]");
            if (dx != null) {
                assertArrayEquals(x.shape(), dx.shape(), "dx viewed like x");
            }
            calls[1]++;
            FusedBatchNorm.composedBackward(dy, x, mean, var, w, eps, dx, dw, db);
        };
        for (int[] shape : new int[][] {{6, 3}, {4, 3, 5}, {2, 3, 4, 5}, {0, 3, 2}}) {
            String what = java.util.Arrays.toString(shape);
            Tensor x = on.uniform(-2, 3, 101, DType.FLOAT64, shape);
            Tensor w = on.uniform(-1.5, 1.5, 102, DType.FLOAT64, 3);
            Tensor b = on.uniform(-1, 1, 103, DType.FLOAT64, 3);
            Tensor dy = on.uniform(-1, 1, 104, DType.FLOAT64, shape);
            int before = calls[0];
            FusedBatchNorm.Result k = FusedBatchNorm.forward(x, w, b, 1e-5, java.util.Optional.of(fwd));
            FusedBatchNorm.Result r = FusedBatchNorm.composed(x, w, b, 1e-5);
            assertEquals(shape[0] == 0 ? before : before + 1, calls[0], what + ": the kernel runs unless the batch is empty");
            assertArrayEquals(shape, k.y().shape(), what + ": y in x's shape");
            assertClose(r.y(), k.y(), 1e-12, what + " y");
            if (shape[0] == 0) {
                assertArrayEquals(r.mean().toDoubleArray(), k.mean().toDoubleArray(), what + ": NaN, the mean of no values");
                assertArrayEquals(r.var().toDoubleArray(), k.var().toDoubleArray(), what + ": NaN, the variance of no values");
            } else {
                assertClose(r.mean(), k.mean(), 1e-12, what + " mean");
                assertClose(r.var(), k.var(), 1e-12, what + " var");
            }
            for (boolean[] need : new boolean[][] {{true, true, true}, {true, false, false}, {false, true, false}, {false, false, true}}) {
                Tensor[] got = FusedBatchNorm.backward(dy, x, r.mean(), r.var(), w, 1e-5, need[0], need[1], need[2],
                        java.util.Optional.of(bwd));
                Tensor[] want = FusedBatchNorm.composedAdjoints(dy, x, r.mean(), r.var(), w, 1e-5, need[0], need[1], need[2]);
                for (int i = 0; i < 3; i++) {
                    assertEquals(need[i], got[i] != null, what + ": adjoint " + i + " only when asked for");
                    if (need[i]) {
                        assertArrayEquals(want[i].shape(), got[i].shape(), what + ": adjoint " + i + " shape");
                        assertClose(want[i], got[i], 1e-12, what + ": adjoint " + i);
                    }
                }
            }
        }
        assertEquals(3 * 4, calls[1], "the backward kernel runs for every non-empty batch");
    }

    /**
     * The backend's batch-norm kernels against the composed versions next to the primitive ({@link FusedBatchNorm}),
     * both float dtypes, [N, C, L] layouts with one value per channel, rows not a multiple of 32 and long channels;
     * each output omitted in turn from the backward; the same bits on a second run (fixed summation order); and the
     * primitive runs the kernels. A backend without them runs the composed versions, which the gradient rows and
     * batchNormMatchesTheComposition check.
     */
    @Test
    void batchNormKernelsMatchTheComposedFallback() {
        var fwd = Backends.of(device()).fused(FusedKernel.BATCH_NORM);
        var bwd = Backends.of(device()).fused(FusedKernel.BATCH_NORM_BACKWARD);
        org.junit.jupiter.api.Assumptions.assumeTrue(fwd.isPresent() && bwd.isPresent(),
                device() + " has no batch-norm kernels: it runs the composed versions, which the batch-norm gradient rows check");
        TensorFactory on = Tensor.on(device());
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double tol = dtype == DType.FLOAT32 ? 1e-4 : 1e-11;
            for (int[] shape : new int[][] {{1, 1, 1}, {2, 3, 1}, {37, 5, 1}, {4, 3, 33}, {2, 8, 1025}, {65, 2, 7}, {1, 70, 3}}) {
                int c = shape[1];
                String what = dtype + " " + java.util.Arrays.toString(shape);
                Tensor x = on.uniform(-2, 3, 91, DType.FLOAT64, shape).cast(dtype);
                Tensor w = on.uniform(-1.5, 1.5, 92, DType.FLOAT64, c).cast(dtype);
                Tensor b = on.uniform(-1, 1, 93, DType.FLOAT64, c).cast(dtype);
                Tensor dy = on.uniform(-1, 1, 94, DType.FLOAT64, shape).cast(dtype);
                Tensor y = on.empty(dtype, shape);
                Tensor mean = on.empty(dtype, c);
                Tensor var = on.empty(dtype, c);
                fwd.get().run(x, w, b, 1e-5, y, mean, var);
                Tensor yRef = on.empty(dtype, shape);
                Tensor meanRef = on.empty(dtype, c);
                Tensor varRef = on.empty(dtype, c);
                FusedBatchNorm.composedForward(x, w, b, 1e-5, yRef, meanRef, varRef);
                assertClose(meanRef, mean, tol, what + " mean");
                assertClose(varRef, var, tol, what + " var");
                assertClose(yRef, y, tol * 10, what + " y");
                Tensor y2 = on.empty(dtype, shape);
                fwd.get().run(x, w, b, 1e-5, y2, on.empty(dtype, c), on.empty(dtype, c));
                assertArrayEquals(y.toDoubleArray(), y2.toDoubleArray(), what + ": the same bits on every run");
                Var.BatchStats stats = new Var.BatchStats();
                Tensor yPrim = Var.constant(x).batchNorm(Var.constant(w), Var.constant(b), 1e-5, stats).value();
                assertArrayEquals(y.toDoubleArray(), yPrim.toDoubleArray(), what + ": the primitive runs the kernel");
                Tensor dx = on.empty(dtype, shape);
                Tensor dw = on.empty(dtype, c);
                Tensor db = on.empty(dtype, c);
                bwd.get().run(dy, x, mean, var, w, 1e-5, dx, dw, db);
                Tensor dxRef = on.empty(dtype, shape);
                Tensor dwRef = on.empty(dtype, c);
                Tensor dbRef = on.empty(dtype, c);
                FusedBatchNorm.composedBackward(dy, x, mean, var, w, 1e-5, dxRef, dwRef, dbRef);
                assertClose(dxRef, dx, tol * 10, what + " dx");
                assertClose(dwRef, dw, tol * Math.max(1, shape[0] * shape[2] / 8.0), what + " dweight");
                assertClose(dbRef, db, tol * Math.max(1, shape[0] * shape[2] / 8.0), what + " dbias");
                Tensor dx2 = on.empty(dtype, shape);
                Tensor dw2 = on.empty(dtype, c);
                bwd.get().run(dy, x, mean, var, w, 1e-5, dx2, dw2, null);
                assertArrayEquals(dx.toDoubleArray(), dx2.toDoubleArray(), what + ": dx, the same bits without dbias");
                assertArrayEquals(dw.toDoubleArray(), dw2.toDoubleArray(), what + ": dweight, the same bits without dbias");
                Tensor db2 = on.empty(dtype, c);
                bwd.get().run(dy, x, mean, var, w, 1e-5, null, null, db2);
                assertArrayEquals(db.toDoubleArray(), db2.toDoubleArray(), what + ": dbias alone");
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
