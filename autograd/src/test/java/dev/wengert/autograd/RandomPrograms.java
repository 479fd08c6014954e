package dev.wengert.autograd;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.PadMode;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import dev.wengert.tensor.Window2d;
import dev.wengert.tensor.spi.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Seeded random programs for {@link RandomProgramFuzzTest}: a DAG of 3-12 primitive applications over
 * 1-3 float64 inputs of small random shapes (dimensions 1-4, size-1 dimensions and rank 0 included),
 * whose sinks are reduced to one scalar by a random weighting. A program is a pure function of its seed.
 *
 * <p>Ops are drawn from {@link Rules#builtins()}, the primitive table itself, and from {@link #COMPOSITES}, the
 * {@code Var} operations composed of primitives (var, norm, pad, sort, torch.matmul's shapes, ...); how to apply
 * each primitive (arity, attributes, shapes, input domain) is its entry in {@link #RECIPES}, the one table to extend
 * when a primitive is added (a test fails for a built-in primitive without one). The table is not derived
 * from {@link GradientTableTest}'s Spec rows in general: their ranges are sampling boxes for all inputs
 * jointly (division in [0.5, 2] for numerator and denominator alike, maximum without any notion of its
 * kink), while a recipe needs a predicate on the operand it is offered, which in a program is usually an
 * intermediate value. For a smooth elementwise unary op the two agree, so such an op without an entry
 * takes its domain from its rows ({@link #derivedUnaryRecipes}).
 *
 * <p>The program is built on concrete values: each drawn op is evaluated at the program's point and
 * redrawn (another primitive, other operands) when an operand is outside the op's domain, within
 * {@link #MARGIN} of a kink (relu and abs at 0, maximum/minimum ties, ties of a max reduction), or when
 * the result is large ({@link #BOUND}) or has more than {@link #MAX_NUMEL} elements. The margin is three
 * orders of magnitude above the finite-difference step, so no central difference straddles a kink.
 */
final class RandomPrograms {
    /** Largest number of elements of any value (keeps 300 programs well under a minute). */
    static final int MAX_NUMEL = 48;
    /** Largest magnitude of any intermediate value. */
    static final double BOUND = 30;
    /** Smallest distance from a kink or tie, at the program's point. */
    static final double MARGIN = 1e-3;

    private RandomPrograms() {
    }

    // ------------------------------------------------------------------ programs

    /**
     * One op: {@code f} applied to the values numbered {@code args}; {@code text} prints it; {@code op} names it (the
     * primitive's name, or a composite's key in {@link #COMPOSITES}, whose {@code prim} is null).
     */
    record Step(String op, Prim<?> prim, String text, int[] args, Function<Var[], Var> f) {
        /** A step applying the primitive {@code prim}. */
        Step(Prim<?> prim, String text, int[] args, Function<Var[], Var> f) {
            this(prim.name(), prim, text, args, f);
        }

        /** A step applying the composite operation {@code op}. */
        static Step composite(String op, String text, int[] args, Function<Var[], Var> f) {
            return new Step(op, null, text, args, f);
        }
    }

    /** A generated program. Values 0..inputs-1 are the inputs, value inputs + j is step j's result. */
    static final class Program {
        final long seed;
        final Tensor[] inputs;
        final String[] ranges;
        final List<Step> steps;
        final int[] sinks;
        final Tensor[] weights;
        final int[][] shapes;

        Program(long seed, Tensor[] inputs, String[] ranges, List<Step> steps, int[] sinks, Tensor[] weights, int[][] shapes) {
            this.seed = seed;
            this.inputs = inputs;
            this.ranges = ranges;
            this.steps = steps;
            this.sinks = sinks;
            this.weights = weights;
            this.shapes = shapes;
        }

        /** Every value of the program, from the given input variables. */
        Var[] run(Var[] in) {
            Var[] v = Arrays.copyOf(in, in.length + steps.size());
            for (int j = 0; j < steps.size(); j++) {
                Step s = steps.get(j);
                Var[] args = new Var[s.args().length];
                for (int a = 0; a < args.length; a++) {
                    args[a] = v[s.args()[a]];
                }
                v[in.length + j] = s.f().apply(args);
            }
            return v;
        }

        /** The sinks (values no later op uses): the program's vector-valued output. */
        Var[] outputs(Var[] in) {
            Var[] v = run(in);
            Var[] out = new Var[sinks.length];
            for (int k = 0; k < sinks.length; k++) {
                out[k] = v[sinks[k]];
            }
            return out;
        }

        /** The scalar the gradient checks differentiate: sum over sinks k of sum(w_k * sink_k). */
        Var loss(Var[] in) {
            return dot(outputs(in), weights);
        }

        /** The operations the program applies, primitives and composites by name (not counting the final weighting). */
        List<String> ops() {
            List<String> p = new ArrayList<>();
            for (Step s : steps) {
                p.add(s.op());
            }
            return p;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append("program seed ").append(seed).append(": ").append(inputs.length).append(" input(s), ")
                    .append(steps.size()).append(" op(s)\n");
            for (int i = 0; i < inputs.length; i++) {
                sb.append("  v").append(i).append(" = input float64").append(Shape.str(shapes[i])).append(" in ")
                        .append(ranges[i]).append('\n');
            }
            for (int j = 0; j < steps.size(); j++) {
                int id = inputs.length + j;
                sb.append("  v").append(id).append(" = ").append(steps.get(j).text()).append("   -> ")
                        .append(Shape.str(shapes[id])).append('\n');
            }
            sb.append("  loss = ");
            for (int k = 0; k < sinks.length; k++) {
                sb.append(k == 0 ? "" : " + ").append("sum(w").append(k).append(" * v").append(sinks[k]).append(')');
            }
            return sb.append('\n').toString();
        }
    }

    /** sum over k of sum(a_k * b_k), as a recorded scalar. */
    static Var dot(Var[] a, Tensor[] b) {
        Var total = null;
        for (int k = 0; k < a.length; k++) {
            Var term = a[k].mul(Var.constant(b[k])).sum();
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    // ------------------------------------------------------------------ generation

    /** What a recipe sees: the values computed so far (at the program's point) and the random source. */
    static final class Gen {
        final Random rnd;
        final List<Tensor> values = new ArrayList<>();

        Gen(Random rnd) {
            this.rnd = rnd;
        }

        Tensor value(int i) {
            return values.get(i);
        }

        int[] shape(int i) {
            return values.get(i).shape();
        }

        /** A value satisfying {@code ok}, biased to the latest (deep chains), or -1 when there is none. */
        int pick(Predicate<Tensor> ok) {
            List<Integer> c = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                if (ok.test(values.get(i))) {
                    c.add(i);
                }
            }
            if (c.isEmpty()) {
                return -1;
            }
            return rnd.nextBoolean() ? c.get(c.size() - 1) : c.get(rnd.nextInt(c.size()));
        }

        int pick() {
            return pick(t -> true);
        }

        /**
         * A value of rank 1 or more for an op along an axis (slice, gather, log-softmax, ...): nine times in
         * ten one with a dimension of size 2 or more, along which the op is not trivial. -1 when none.
         */
        int pickAlongAxis() {
            int a = rnd.nextInt(10) == 0 ? -1 : pick(t -> Arrays.stream(t.shape()).anyMatch(d -> d > 1));
            return a >= 0 ? a : pick(t -> t.rank() >= 1);
        }

        /** An axis of {@code shape}, one of size 2 or more when there is one (nine times in ten). */
        int axis(int[] shape) {
            List<Integer> wide = new ArrayList<>();
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] > 1) {
                    wide.add(d);
                }
            }
            if (wide.isEmpty() || rnd.nextInt(10) == 0) {
                return rnd.nextInt(shape.length);
            }
            return wide.get(rnd.nextInt(wide.size()));
        }

        int between(int lo, int hi) {
            return lo + rnd.nextInt(hi - lo + 1);
        }

        /** An int64 tensor of the given shape with entries in [0, bound). */
        Tensor indices(int bound, int... shape) {
            long[] l = new long[Shape.numel(shape)];
            for (int i = 0; i < l.length; i++) {
                l[i] = rnd.nextInt(bound);
            }
            return Tensor.on(Device.CPU).of(l, shape).reshape(shape);
        }
    }

    /** How to apply one primitive: a step over the values so far, or null when none fits now. */
    @FunctionalInterface
    interface Recipe {
        Step draw(Gen g);
    }

    /** THE recipe table, one entry per built-in primitive. */
    static final Map<Prim<?>, Recipe> RECIPES = new HashMap<>();

    /** Recipes of the {@code Var} operations composed of primitives, drawn as often as a primitive each, in this order. */
    static final Map<String, Recipe> COMPOSITES = new java.util.LinkedHashMap<>();

    static {
        // elementwise unary, with the operand's domain
        unary(Prim.NEG, Var::neg, t -> true);
        unary(Prim.EXP, Var::exp, t -> max(t) <= 2.5);
        unary(Prim.LOG, Var::log, t -> min(t) >= 0.2);
        unary(Prim.SQRT, Var::sqrt, t -> min(t) >= 0.1);
        unary(Prim.ABS, Var::abs, t -> minAbs(t) >= MARGIN);            // kink at 0
        unary(Prim.RELU, Var::relu, t -> minAbs(t) >= MARGIN);          // kink at 0
        unary(Prim.SIN, Var::sin, t -> true);
        unary(Prim.COS, Var::cos, t -> true);
        unary(Prim.TANH, Var::tanh, t -> true);
        unary(Prim.SIGMOID, Var::sigmoid, t -> true);
        unary(Prim.FLOOR, Var::floor, t -> awayFromSteps(t, 0));         // steps at the integers
        unary(Prim.CEIL, Var::ceil, t -> awayFromSteps(t, 0));
        unary(Prim.TRUNC, Var::trunc, t -> awayFromSteps(t, 0));
        unary(Prim.ROUND, Var::round, t -> awayFromSteps(t, 0.5));       // steps at the half-integers
        unary(Prim.SIGN, Var::sign, t -> minAbs(t) >= MARGIN);           // step at 0
        RECIPES.put(Prim.GELU, g -> {
            int a = g.pick();
            boolean tanh = g.rnd.nextBoolean();
            return new Step(Prim.GELU, "gelu(v" + a + (tanh ? ", approximate=tanh)" : ")"), new int[] {a},
                    v -> tanh ? v[0].gelu("tanh") : v[0].gelu());
        });
        RECIPES.put(Prim.SOFTPLUS, g -> {   // a jump where x beta = threshold (x beyond it is x itself)
            double beta = new double[] {1, 2, 0.5}[g.rnd.nextInt(3)];
            double threshold = g.rnd.nextBoolean() ? 20 : 1.5;
            int a = g.pick(t -> minAbs(t.mul(beta).sub(threshold)) >= MARGIN);
            return a < 0 ? null : new Step(Prim.SOFTPLUS, "softplus(v" + a + ", beta=" + beta + ", threshold=" + threshold + ")",
                    new int[] {a}, v -> v[0].softplus(beta, threshold));
        });
        RECIPES.put(Prim.LEAKY_RELU, g -> {
            double slope = g.rnd.nextBoolean() ? 0.01 : 0.2;
            int a = g.pick(t -> minAbs(t) >= MARGIN);                        // kink at 0
            return a < 0 ? null : new Step(Prim.LEAKY_RELU, "leakyRelu(v" + a + ", slope=" + slope + ")", new int[] {a},
                    v -> v[0].leakyRelu(slope));
        });
        RECIPES.put(Prim.ELU, g -> {
            double alpha = g.rnd.nextBoolean() ? 1 : 0.5;
            int a = g.pick(t -> minAbs(t) >= MARGIN);                        // kink at 0 (of the second derivative for alpha 1)
            return a < 0 ? null : new Step(Prim.ELU, "elu(v" + a + ", alpha=" + alpha + ")", new int[] {a}, v -> v[0].elu(alpha));
        });
        RECIPES.put(Prim.CLAMP, g -> {      // kinks at the bounds; either bound may be absent
            int kind = g.rnd.nextInt(4);
            double lo = kind == 1 ? Double.NEGATIVE_INFINITY : Math.round((-1.5 + 1.5 * g.rnd.nextDouble()) * 100) / 100.0;
            double hi = kind == 2 ? Double.POSITIVE_INFINITY : (kind == 1 ? 0 : lo) + Math.round((0.5 + 1.5 * g.rnd.nextDouble()) * 100) / 100.0;
            int a = g.pick(t -> minAbs(t.sub(lo)) >= MARGIN && minAbs(t.sub(hi)) >= MARGIN);
            return a < 0 ? null : new Step(Prim.CLAMP, "clamp(v" + a + ", " + lo + ", " + hi + ")", new int[] {a},
                    v -> v[0].clamp(lo, hi));
        });
        RECIPES.put(Prim.CAST, g -> {        // float64 -> float64: float32 would break the float64 checks
            int a = g.pick();
            return new Step(Prim.CAST, "cast(v" + a + ", float64)", new int[] {a}, v -> v[0].cast(DType.FLOAT64));
        });

        // elementwise binary, broadcasting, with a condition on the pair
        binary(Prim.ADD, Var::add, (a, b) -> true);
        binary(Prim.SUB, Var::sub, (a, b) -> true);
        binary(Prim.MUL, Var::mul, (a, b) -> true);
        binary(Prim.DIV, Var::div, (a, b) -> minAbs(b) >= 0.3);
        binary(Prim.POW, Var::pow, (a, b) -> min(a) >= 0.3 && max(a) <= 5 && maxAbs(b) <= 3);
        binary(Prim.MAXIMUM, Var::maximum, (a, b) -> minAbs(a.sub(b)) >= MARGIN);   // ties are kinks
        binary(Prim.MINIMUM, Var::minimum, (a, b) -> minAbs(a.sub(b)) >= MARGIN);
        binary(Prim.ATAN2, Var::atan2, (a, b) -> min(a.apply(BinaryOp.HYPOT, b)) >= 0.3                  // away from (0, 0)
                && max(a.abs().apply(BinaryOp.LT, MARGIN).mul(b.apply(BinaryOp.LT, 0.0))) == 0);     // and the cut a = 0, b < 0
        binary(Prim.HYPOT, Var::hypot, (a, b) -> min(a.apply(BinaryOp.HYPOT, b)) >= 0.3);
        binary(Prim.FMOD, Var::fmod, (a, b) -> {       // jumps where a/b is an integer: the value is near 0 or +-|b|
            Tensor r = a.apply(BinaryOp.FMOD, b);
            return minAbs(b) >= 0.3 && minAbs(r) >= MARGIN && minAbs(r.abs().sub(b.abs())) >= MARGIN;
        });
        binary(Prim.REMAINDER, Var::remainder, (a, b) -> {   // jumps where a/b is an integer: the value is near 0 or b
            Tensor r = a.apply(BinaryOp.REMAINDER, b);
            return minAbs(b) >= 0.3 && minAbs(r) >= MARGIN && minAbs(r.sub(b)) >= MARGIN;
        });
        RECIPES.put(Prim.WHERE, g -> {
            int a = g.pick();
            int b = g.pick(t -> broadcast(t.shape(), g.shape(a)) != null);
            int[] out = broadcast(g.shape(a), g.shape(b));
            int[] cs = g.rnd.nextInt(4) == 0 ? ones(out.length) : out;       // a broadcast condition too
            double[] c = new double[Shape.numel(cs)];
            for (int i = 0; i < c.length; i++) {
                c[i] = g.rnd.nextInt(2);
            }
            Tensor cond = Tensor.on(Device.CPU).of(c, cs).reshape(cs);
            return new Step(Prim.WHERE, "where(cond" + Shape.str(cs) + ", v" + a + ", v" + b + ")", new int[] {a, b},
                    v -> Var.where(cond, v[0], v[1]));
        });

        // linear algebra: 2-D or batched 3-D, a shared 2-D operand on either side, transpose flags
        RECIPES.put(Prim.MATMUL, g -> {
            int a = g.pick(t -> t.rank() == 2 || t.rank() == 3);
            if (a < 0) {
                return null;
            }
            boolean ta = g.rnd.nextBoolean();
            List<int[]> pairs = new ArrayList<>();          // (b, tb)
            for (int b = 0; b < g.values.size(); b++) {
                for (int tb = 0; tb < 2; tb++) {
                    int[] s = matmulShape(g.shape(a), ta, g.shape(b), tb == 1);
                    if (s != null && Shape.numel(s) <= MAX_NUMEL) {
                        pairs.add(new int[] {b, tb});
                    }
                }
            }
            if (pairs.isEmpty()) {
                return null;
            }
            int[] p = pairs.get(g.rnd.nextInt(pairs.size()));
            boolean tb = p[1] == 1;
            return new Step(Prim.MATMUL, "matmul(v" + a + (ta ? "^T" : "") + ", v" + p[0] + (tb ? "^T" : "") + ")",
                    new int[] {a, p[0]}, v -> v[0].matmul(ta, v[1], tb));
        });

        // reductions, with and without keepDims, over a random subset of axes (empty: all)
        RECIPES.put(Prim.SUM, g -> {
            int a = g.pick();
            int[] axes = someAxes(g, g.value(a).rank());
            boolean keep = g.rnd.nextBoolean();
            return new Step(Prim.SUM, "sum(v" + a + ", axes=" + Arrays.toString(axes) + ", keepDims=" + keep + ")",
                    new int[] {a}, v -> v[0].sum(keep, axes));
        });
        RECIPES.put(Prim.MAX, g -> {
            int a = g.pick();
            int[] axes = someAxes(g, g.value(a).rank());
            boolean keep = g.rnd.nextBoolean();
            if (!maxIsUnique(g.value(a), axes)) {       // a tie (or near tie) of the maximum is a kink
                return null;
            }
            return new Step(Prim.MAX, "max(v" + a + ", axes=" + Arrays.toString(axes) + ", keepDims=" + keep + ")",
                    new int[] {a}, v -> v[0].max(keep, axes));
        });
        RECIPES.put(Prim.LOG_SOFTMAX, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int axis = g.axis(g.shape(a));                // along a size-1 axis the result is 0
            return new Step(Prim.LOG_SOFTMAX, "logSoftmax(v" + a + ", axis=" + axis + ")", new int[] {a},
                    v -> v[0].logSoftmax(axis));
        });
        RECIPES.put(Prim.SOFTMAX_CROSS_ENTROPY, g -> {   // logits [rows, classes]; other ranks reshaped first
            int a = g.pick();
            int n = g.value(a).numel();
            int[] s = g.shape(a);
            int r = s.length == 2 ? s[0] : divisor(g, n);
            if (s.length != 2 && r == n && n > 1) {       // one class: the loss is 0; mostly avoid it
                r = divisor(g, n);
            }
            int rows = r;
            int classes = n / rows;
            String pre = s.length == 2 ? "v" + a : "reshape(v" + a + ", [" + rows + ", " + classes + "])";
            Tensor labels = g.indices(classes, rows);
            boolean reshape = s.length != 2;
            return new Step(Prim.SOFTMAX_CROSS_ENTROPY, "softmaxCrossEntropy(" + pre + ", labels "
                    + Arrays.toString(labels.toLongArray()) + ")", new int[] {a},
                    v -> (reshape ? v[0].reshape(rows, classes) : v[0]).softmaxCrossEntropy(labels));
        });
        RECIPES.put(Prim.SOFTMAX_CROSS_ENTROPY_MEAN, g -> {   // logits reshaped to [rows, classes]
            int a = g.pick();
            int n = g.value(a).numel();
            int rows = n == 0 ? 0 : divisor(g, n);
            if (rows == 0) {
                return null;                                    // the mean of no rows is NaN
            }
            int classes = n / rows;
            Tensor labels = g.indices(classes, rows);
            return new Step(Prim.SOFTMAX_CROSS_ENTROPY_MEAN, "softmaxCrossEntropyMean(reshape(v" + a + ", [" + rows + ", "
                    + classes + "]), labels " + Arrays.toString(labels.toLongArray()) + ")", new int[] {a},
                    v -> v[0].reshape(rows, classes).softmaxCrossEntropyMean(labels));
        });
        // linear: x [rows, k] (reshaped), weight [m, k] (reshaped), bias [m] (a value of m elements, or the weight's row
        // sums); relu only where x W^T + b keeps its margin from the kink at 0
        RECIPES.put(Prim.LINEAR, g -> {
            int a = g.pick(t -> t.numel() > 0);
            if (a < 0) {
                return null;
            }
            int n = g.value(a).numel();
            int k = divisor(g, n);
            int rows = n / k;
            int w = g.pick(t -> t.numel() > 0 && t.numel() % k == 0 && t.numel() / k <= 8);
            if (w < 0) {
                return null;
            }
            int m = g.value(w).numel() / k;
            int b = g.pick(t -> t.numel() == m);
            Tensor x = g.value(a).reshape(rows, k);
            Tensor weight = g.value(w).reshape(m, k);
            Tensor bias = b >= 0 ? g.value(b).reshape(m) : weight.sum(false, 1);
            Tensor z = x.matmul(false, weight, true).add(bias);
            dev.wengert.tensor.Activation[] acts = dev.wengert.tensor.Activation.values();
            dev.wengert.tensor.Activation act = acts[g.rnd.nextInt(acts.length)];
            if (act == dev.wengert.tensor.Activation.RELU && minAbs(z) < MARGIN) {
                act = dev.wengert.tensor.Activation.TANH;
            }
            dev.wengert.tensor.Activation activation = act;
            String bs = b >= 0 ? "reshape(v" + b + ", [" + m + "])" : "sum(reshape(v" + w + ", [" + m + ", " + k + "]), axes=[1])";
            return new Step(Prim.LINEAR, "linear(reshape(v" + a + ", [" + rows + ", " + k + "]), reshape(v" + w + ", [" + m + ", "
                    + k + "]), " + bs + ", " + activation + ")", b >= 0 ? new int[] {a, w, b} : new int[] {a, w},
                    v -> v[0].reshape(rows, k).linear(v[1].reshape(m, k), v.length > 2 ? v[2].reshape(m)
                            : v[1].reshape(m, k).sum(false, 1), activation));
        });
        RECIPES.put(Prim.SOFTMAX_CROSS_ENTROPY_GRAD, g -> {   // logits [rows, classes] (reshaped), upstream [rows]
            int a = g.pick(t -> t.numel() > 1);
            if (a < 0) {
                return null;
            }
            int n = g.value(a).numel();
            int u = g.pick(t -> t.numel() < n && n % t.numel() == 0);   // two classes or more
            if (u < 0) {
                return null;
            }
            int rows = g.value(u).numel();
            int classes = n / rows;
            Tensor labels = g.indices(classes, rows);
            return new Step(Prim.SOFTMAX_CROSS_ENTROPY_GRAD, "softmaxCrossEntropyGrad(reshape(v" + a + ", [" + rows + ", "
                    + classes + "]), reshape(v" + u + ", [" + rows + "]), labels " + Arrays.toString(labels.toLongArray()) + ")",
                    new int[] {a, u}, v -> Prim.SOFTMAX_CROSS_ENTROPY_GRAD.apply(new Var.Labels(labels),
                            v[0].reshape(rows, classes), v[1].reshape(rows)));
        });

        // batch norm: a value viewed [N, C] or [N, C, L] with M = N * L >= 2 values per channel and every channel's
        // variance at least 0.05 (so 1 / sqrt(var + eps) and the finite differences stay well conditioned); weight and
        // bias values of C elements where there are some, else random constants
        RECIPES.put(Prim.BATCH_NORM, g -> {
            int a = g.pick(t -> t.numel() >= 2);
            if (a < 0) {
                return null;
            }
            int n = g.value(a).numel();
            List<Integer> channels = new ArrayList<>();
            for (int c = 1; c <= n / 2; c++) {
                if (n % c == 0) {
                    channels.add(c);
                }
            }
            int c = channels.get(g.rnd.nextInt(channels.size()));
            int m = n / c;
            int batch = divisor(g, m);
            int l = m / batch;
            int[] shape = l == 1 ? new int[] {batch, c} : new int[] {batch, c, l};
            int[] axes = l == 1 ? new int[] {0} : new int[] {0, 2};
            Tensor x = g.value(a).reshape(shape);
            Tensor centred = x.sub(x.mean(true, axes));
            if (min(centred.mul(centred).mean(false, axes)) < 0.05) {
                return null;
            }
            double eps = g.rnd.nextBoolean() ? 1e-5 : 0.1;
            int w = g.pick(t -> t.numel() == c);
            int b = g.pick(t -> t.numel() == c);
            Tensor constW = randomLike(g.rnd, new int[] {c}, 0.5, 1.5, true);
            Tensor constB = randomLike(g.rnd, new int[] {c}, 0, 1, true);
            int[] args = w >= 0 && b >= 0 ? new int[] {a, w, b} : w >= 0 ? new int[] {a, w} : b >= 0 ? new int[] {a, b} : new int[] {a};
            String ws = w >= 0 ? "reshape(v" + w + ", [" + c + "])" : "const " + Arrays.toString(constW.toDoubleArray());
            String bs = b >= 0 ? "reshape(v" + b + ", [" + c + "])" : "const " + Arrays.toString(constB.toDoubleArray());
            return new Step(Prim.BATCH_NORM, "batchNorm(reshape(v" + a + ", " + Arrays.toString(shape) + "), " + ws + ", " + bs
                    + ", eps=" + eps + ")", args, v -> {
                        Var weight = w >= 0 ? v[1].reshape(c) : Var.constant(constW);
                        Var bias = b >= 0 ? v[w >= 0 ? 2 : 1].reshape(c) : Var.constant(constB);
                        return v[0].reshape(shape).batchNorm(weight, bias, eps);
                    });
        });

        // movement
        RECIPES.put(Prim.RESHAPE, g -> {
            int a = g.pick();
            int[] to = factor(g, g.value(a).numel());
            return new Step(Prim.RESHAPE, "reshape(v" + a + ", " + Shape.str(to) + ")", new int[] {a}, v -> v[0].reshape(to));
        });
        RECIPES.put(Prim.PERMUTE, g -> {
            int a = g.pick(t -> t.rank() >= 2);
            if (a < 0) {
                return null;
            }
            int[] p = shuffled(g, g.value(a).rank());
            return new Step(Prim.PERMUTE, "permute(v" + a + ", " + Arrays.toString(p) + ")", new int[] {a}, v -> v[0].permute(p));
        });
        RECIPES.put(Prim.SLICE, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            int start = g.rnd.nextInt(s[axis]);
            int end = g.between(start + 1, s[axis]);
            if (start == 0 && end == s[axis] && s[axis] > 1 && g.rnd.nextInt(4) != 0) {   // mostly a proper part
                end = g.between(start + 1, s[axis] - 1);
            }
            int stop = end;
            return new Step(Prim.SLICE, "slice(v" + a + ", axis=" + axis + ", " + start + ":" + end + ")", new int[] {a},
                    v -> v[0].slice(axis, start, stop));
        });
        RECIPES.put(Prim.CONCAT, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            int parts = g.between(2, 3);
            int[] args = new int[parts];
            args[0] = a;
            int total = s[axis];
            for (int k = 1; k < parts; k++) {
                args[k] = g.pick(t -> sameExcept(t.shape(), s, axis));      // a itself qualifies
                total += g.shape(args[k])[axis];
            }
            if (Shape.numel(s) / s[axis] * total > MAX_NUMEL) {
                return null;
            }
            StringBuilder text = new StringBuilder("concat(axis=" + axis);
            for (int x : args) {
                text.append(", v").append(x);
            }
            return new Step(Prim.CONCAT, text + ")", args, v -> Var.concat(axis, v));
        });
        RECIPES.put(Prim.BROADCAST_TO, g -> {
            int a = g.pick();
            int[] s = g.shape(a);
            int lead = s.length < 3 && g.rnd.nextBoolean() ? 1 : 0;
            int[] to = new int[s.length + lead];
            if (lead == 1) {
                to[0] = g.between(1, 3);
            }
            for (int d = 0; d < s.length; d++) {
                to[d + lead] = s[d] == 1 && g.rnd.nextBoolean() ? g.between(2, 4) : s[d];
            }
            return new Step(Prim.BROADCAST_TO, "broadcastTo(v" + a + ", " + Shape.str(to) + ")", new int[] {a},
                    v -> v[0].broadcastTo(to));
        });
        RECIPES.put(Prim.GATHER, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            int[] is = new int[s.length];
            for (int d = 0; d < s.length; d++) {
                is[d] = d == axis ? g.between(1, 4) : g.between(1, s[d]);
            }
            Tensor index = g.indices(s[axis], is);
            return new Step(Prim.GATHER, "gather(v" + a + ", axis=" + axis + ", index " + Shape.str(is)
                    + Arrays.toString(index.toLongArray()) + ")", new int[] {a}, v -> v[0].gather(axis, index));
        });
        RECIPES.put(Prim.SCATTER_ADD, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            int src = g.pick(t -> fitsIndex(t.shape(), s, axis));               // a itself qualifies
            int[] is = g.shape(src);
            Tensor index = g.indices(s[axis], is);                              // repeated indices accumulate
            return new Step(Prim.SCATTER_ADD, "scatterAdd(v" + a + ", axis=" + axis + ", index " + Shape.str(is)
                    + Arrays.toString(index.toLongArray()) + ", v" + src + ")", new int[] {a, src},
                    v -> v[0].scatterAdd(axis, index, v[1]));
        });
        RECIPES.put(Prim.PROD, g -> {
            int a = g.pick();
            int[] axes = someAxes(g, g.value(a).rank());
            boolean keep = g.rnd.nextBoolean();
            return new Step(Prim.PROD, "prod(v" + a + ", axes=" + Arrays.toString(axes) + ", keepDims=" + keep + ")",
                    new int[] {a}, v -> v[0].prod(keep, axes));
        });
        RECIPES.put(Prim.CUMSUM, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int axis = g.axis(g.shape(a));
            return new Step(Prim.CUMSUM, "cumsum(v" + a + ", axis=" + axis + ")", new int[] {a}, v -> v[0].cumsum(axis));
        });
        RECIPES.put(Prim.FLIP, g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] axes = someAxes(g, g.value(a).rank());
            int[] flipped = axes.length == 0 ? new int[] {g.axis(g.shape(a))} : axes;
            return new Step(Prim.FLIP, "flip(v" + a + ", axes=" + Arrays.toString(flipped) + ")", new int[] {a}, v -> v[0].flip(flipped));
        });
        convolutionRecipes();
        derivedUnaryRecipes();
        compositeRecipes();
    }

    /** A 2x2 window, stride 1, no padding: the convolution recipes' window (their shapes stay small). */
    private static final Window2d KERNEL2 = Window2d.of(2, 1, 0);

    /**
     * The convolution primitives on single-channel images: a value of n elements becomes [1, 1, h, n / h] (h a
     * divisor with both sides >= 2 where a kernel must fit), the 2x2 weight or output gradient another value of
     * the size that fits.
     */
    private static void convolutionRecipes() {
        RECIPES.put(Prim.CONV2D, g -> {
            int[] hw = image(g, 2);
            if (hw == null) {
                return null;
            }
            int w = g.pick(t -> t.numel() > 0 && t.numel() % 4 == 0 && t.numel() / 4 * (hw[1] - 1) * (hw[2] - 1) <= MAX_NUMEL);
            if (w < 0) {
                return null;
            }
            int out = g.value(w).numel() / 4;
            return new Step(Prim.CONV2D, "conv2d(reshape(v" + hw[0] + ", [1, 1, " + hw[1] + ", " + hw[2] + "]), reshape(v" + w + ", ["
                    + out + ", 1, 2, 2]))", new int[] {hw[0], w},
                    v -> v[0].reshape(1, 1, hw[1], hw[2]).conv2d(v[1].reshape(out, 1, 2, 2), KERNEL2, 1));
        });
        RECIPES.put(Prim.CONV2D_INPUT_GRAD, g -> {         // (output gradient [1, 1, oh, ow], weight [1, 1, 2, 2]) -> [1, 1, oh + 1, ow + 1]
            int[] hw = image(g, 1);
            int w = g.pick(t -> t.numel() == 4);
            if (hw == null || w < 0 || (hw[1] + 1) * (hw[2] + 1) > MAX_NUMEL) {
                return null;
            }
            Var.ConvInput attrs = new Var.ConvInput(new Var.Conv(KERNEL2, 1), hw[1] + 1, hw[2] + 1);
            return new Step(Prim.CONV2D_INPUT_GRAD, "conv2dInputGrad(reshape(v" + hw[0] + ", [1, 1, " + hw[1] + ", " + hw[2]
                    + "]), reshape(v" + w + ", [1, 1, 2, 2]))", new int[] {hw[0], w},
                    v -> Prim.CONV2D_INPUT_GRAD.apply(attrs, v[0].reshape(1, 1, hw[1], hw[2]), v[1].reshape(1, 1, 2, 2)));
        });
        RECIPES.put(Prim.CONV2D_WEIGHT_GRAD, g -> {        // (input [1, 1, h, w], output gradient [1, c, h - 1, w - 1]) -> [c, 1, 2, 2]
            List<int[]> fits = new ArrayList<>();           // {input, gradient, c, oh, ow}
            for (int b = 0; b < g.values.size(); b++) {
                int m = g.value(b).numel();
                for (int c = 1; c <= m; c++) {
                    for (int oh = 1; c * oh <= m; oh++) {
                        if (m % (c * oh) == 0) {
                            int ow = m / (c * oh);
                            for (int a = 0; a < g.values.size(); a++) {
                                if (g.value(a).numel() == (oh + 1) * (ow + 1)) {
                                    fits.add(new int[] {a, b, c, oh, ow});
                                }
                            }
                        }
                    }
                }
            }
            if (fits.isEmpty()) {
                return null;
            }
            int[] f = fits.get(g.rnd.nextInt(fits.size()));
            int h = f[3] + 1;
            int w = f[4] + 1;
            return new Step(Prim.CONV2D_WEIGHT_GRAD, "conv2dWeightGrad(reshape(v" + f[0] + ", [1, 1, " + h + ", " + w + "]), reshape(v"
                    + f[1] + ", [1, " + f[2] + ", " + f[3] + ", " + f[4] + "]))", new int[] {f[0], f[1]},
                    v -> Prim.CONV2D_WEIGHT_GRAD.apply(new Var.Conv(KERNEL2, 1), v[0].reshape(1, 1, h, w),
                            v[1].reshape(1, f[2], f[3], f[4])));
        });
        RECIPES.put(Prim.UNFOLD, g -> {
            int[] hw = image(g, 2);
            if (hw == null || 4 * (hw[1] - 1) * (hw[2] - 1) > MAX_NUMEL) {
                return null;
            }
            return new Step(Prim.UNFOLD, "unfold(reshape(v" + hw[0] + ", [1, 1, " + hw[1] + ", " + hw[2] + "]), 2x2)", new int[] {hw[0]},
                    v -> v[0].reshape(1, 1, hw[1], hw[2]).unfold(KERNEL2));
        });
        RECIPES.put(Prim.FOLD, g -> {                       // columns [1, 4, L] with L = (h - 1)(w - 1) -> [1, 1, h, w]
            int a = g.pick(t -> t.numel() > 0 && t.numel() % 4 == 0);
            if (a < 0) {
                return null;
            }
            int cells = g.value(a).numel() / 4;
            int oh = divisor(g, cells);
            int h = oh + 1;
            int w = cells / oh + 1;
            if (h * w > MAX_NUMEL) {
                return null;
            }
            return new Step(Prim.FOLD, "fold(reshape(v" + a + ", [1, 4, " + cells + "]), 2x2, " + h + "x" + w + ")", new int[] {a},
                    v -> v[0].reshape(1, 4, cells).fold(KERNEL2, h, w));
        });
    }

    /** A value to read as a [1, 1, h, w] image with both sides >= {@code least}: {index, h, w}, or null when none fits. */
    private static int[] image(Gen g, int least) {
        int a = g.pick(t -> t.numel() >= least * least);
        if (a < 0) {
            return null;
        }
        int n = g.value(a).numel();
        int h = divisor(g, n);
        if (h < least || n / h < least) {
            return null;
        }
        return new int[] {a, h, n / h};
    }

    /** The recipes of {@link #COMPOSITES}: each with the domain that keeps its operands away from kinks and ties. */
    private static void compositeRecipes() {
        COMPOSITES.put("min", g -> {
            int a = g.pick();
            int[] axes = someAxes(g, g.value(a).rank());
            boolean keep = g.rnd.nextBoolean();
            if (!maxIsUnique(g.value(a).neg(), axes)) {
                return null;
            }
            return Step.composite("min", "min(v" + a + ", axes=" + Arrays.toString(axes) + ", keepDims=" + keep + ")", new int[] {a},
                    v -> v[0].min(keep, axes));
        });
        for (String op : new String[] {"var", "std"}) {
            COMPOSITES.put(op, g -> {
                int a = g.pick(t -> t.numel() > 1);
                if (a < 0) {
                    return null;
                }
                int[] axes = someAxes(g, g.value(a).rank());
                int correction = g.rnd.nextInt(2);
                boolean keep = g.rnd.nextBoolean();
                Tensor var = g.value(a).var(correction, true, axes);
                if (!(min(var) >= (op.equals("std") ? 0.01 : 0)) || Double.isInfinite(max(var))) {   // std: away from its kink at 0
                    return null;
                }
                return Step.composite(op, op + "(v" + a + ", correction=" + correction + ", axes=" + Arrays.toString(axes) + ", keepDims="
                        + keep + ")", new int[] {a}, v -> op.equals("var") ? v[0].var(correction, keep, axes) : v[0].std(correction, keep, axes));
            });
        }
        COMPOSITES.put("norm", g -> {
            int a = g.pick();
            int[] axes = someAxes(g, g.value(a).rank());
            boolean keep = g.rnd.nextBoolean();
            double p = new double[] {1, 2, Double.POSITIVE_INFINITY}[g.rnd.nextInt(3)];
            Tensor x = g.value(a);
            int[] ax = axes.length == 0 ? allAxes(x.rank()) : axes;
            boolean ok = p == 1 ? minAbs(x) >= MARGIN
                    : p == 2 ? min(x.mul(x).sum(true, ax)) >= 0.01
                    : maxIsUnique(x.abs(), axes) && min(x.abs().max(true, ax)) >= MARGIN;
            if (!ok) {
                return null;
            }
            return Step.composite("norm", "norm(v" + a + ", p=" + p + ", axes=" + Arrays.toString(axes) + ", keepDims=" + keep + ")",
                    new int[] {a}, v -> v[0].norm(p, keep, axes));
        });
        COMPOSITES.put("squeeze", g -> {
            int a = g.pick(t -> Arrays.stream(t.shape()).anyMatch(d -> d == 1));
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int one = 0;
            while (s[one] != 1) {
                one++;
            }
            int[] axes = g.rnd.nextBoolean() ? new int[0] : new int[] {one};
            return Step.composite("squeeze", "squeeze(v" + a + ", axes=" + Arrays.toString(axes) + ")", new int[] {a}, v -> v[0].squeeze(axes));
        });
        COMPOSITES.put("unsqueeze", g -> {
            int a = g.pick(t -> t.rank() < 4);
            if (a < 0) {
                return null;
            }
            int r = g.value(a).rank();
            int axis = g.between(-r - 1, r);
            return Step.composite("unsqueeze", "unsqueeze(v" + a + ", axis=" + axis + ")", new int[] {a}, v -> v[0].unsqueeze(axis));
        });
        COMPOSITES.put("stack", g -> {
            int a = g.pick(t -> t.rank() < 4);
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int b = g.pick(t -> Arrays.equals(t.shape(), s));              // a itself qualifies
            int axis = g.between(-s.length - 1, s.length);
            return Step.composite("stack", "stack(axis=" + axis + ", v" + a + ", v" + b + ")", new int[] {a, b}, v -> Var.stack(axis, v));
        });
        COMPOSITES.put("narrow", g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            int start = g.rnd.nextInt(s[axis]);
            int length = g.between(1, s[axis] - start);
            int from = g.rnd.nextBoolean() ? start - s[axis] : start;     // a negative start counts from the end
            return Step.composite("narrow", "narrow(v" + a + ", axis=" + axis + ", start=" + from + ", length=" + length + ")", new int[] {a},
                    v -> v[0].narrow(axis, from, length));
        });
        COMPOSITES.put("split", g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            boolean chunk = g.rnd.nextBoolean();
            int size = g.between(1, s[axis]);
            int pieces = chunk ? Shape.chunkSizes("chunk", s[axis], size).length : Shape.splitSizes("split", s[axis], size).length;
            int piece = g.rnd.nextInt(pieces);
            return Step.composite("split", (chunk ? "chunk" : "split") + "(v" + a + ", axis=" + axis + ", " + size + ")[" + piece + "]",
                    new int[] {a}, v -> (chunk ? v[0].chunk(axis, size) : v[0].split(axis, size))[piece]);
        });
        COMPOSITES.put("tile", g -> {
            int a = g.pick(t -> t.numel() <= MAX_NUMEL / 2);
            if (a < 0) {
                return null;
            }
            int r = g.value(a).rank() + (g.rnd.nextInt(3) == 0 ? 1 : 0);
            int[] reps = new int[Math.max(1, r)];
            for (int i = 0; i < reps.length; i++) {
                reps[i] = g.rnd.nextInt(3) == 0 ? 2 : 1;
            }
            boolean repeat = reps.length >= g.value(a).rank() && g.rnd.nextBoolean();
            return Step.composite("tile", (repeat ? "repeat" : "tile") + "(v" + a + ", " + Arrays.toString(reps) + ")", new int[] {a},
                    v -> repeat ? v[0].repeat(reps) : v[0].tile(reps));
        });
        COMPOSITES.put("pad", g -> {
            int a = g.pick(t -> t.rank() >= 1);
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            PadMode mode = PadMode.values()[g.rnd.nextInt(PadMode.values().length)];
            int[] pads = new int[2 * Math.min(s.length, 1 + g.rnd.nextInt(2))];
            for (int i = 0; i < pads.length; i++) {
                pads[i] = g.rnd.nextInt(3);
            }
            int[][] pairs = Shape.padPairs("pad", s, pads);
            for (int d = 0; d < s.length; d++) {
                try {
                    Shape.checkPad("pad", s[d], d, pairs[d][0], pairs[d][1], mode);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
            double fill = Math.round((g.rnd.nextDouble() * 2 - 1) * 100) / 100.0;
            return Step.composite("pad", "pad(v" + a + ", " + Arrays.toString(pads) + ", " + mode + ", " + fill + ")", new int[] {a},
                    v -> v[0].pad(pads, mode, fill));
        });
        COMPOSITES.put("indexSelect", g -> {
            int a = g.pickAlongAxis();
            if (a < 0) {
                return null;
            }
            int[] s = g.shape(a);
            int axis = g.axis(s);
            Tensor index = g.indices(s[axis], g.between(1, 4));                     // repeated indices accumulate
            return Step.composite("indexSelect", "indexSelect(v" + a + ", axis=" + axis + ", " + Arrays.toString(index.toLongArray()) + ")",
                    new int[] {a}, v -> v[0].indexSelect(axis, index));
        });
        COMPOSITES.put("maskedFill", g -> {
            int a = g.pick();
            int[] s = g.shape(a);
            int[] ms = s.clone();
            for (int d = 0; d < ms.length; d++) {
                ms[d] = g.rnd.nextInt(3) == 0 ? 1 : ms[d];                        // a mask that broadcasts
            }
            double[] m = new double[Shape.numel(ms)];
            for (int i = 0; i < m.length; i++) {
                m[i] = g.rnd.nextInt(2);
            }
            Tensor mask = Tensor.on(Device.CPU).of(m, ms).reshape(ms);
            double fill = Math.round((g.rnd.nextDouble() * 2 - 1) * 100) / 100.0;
            return Step.composite("maskedFill", "maskedFill(v" + a + ", mask" + Shape.str(ms) + Arrays.toString(m) + ", " + fill + ")",
                    new int[] {a}, v -> v[0].maskedFill(mask, fill));
        });
        COMPOSITES.put("matmulShapes", g -> {     // torch.matmul's vectors and broadcast batches: the shapes the primitive does not take
            int a = g.pick(t -> t.rank() >= 1);
            if (a < 0) {
                return null;
            }
            List<Integer> fits = new ArrayList<>();
            for (int b = 0; b < g.values.size(); b++) {
                int[] sb = g.shape(b);
                if (sb.length >= 1 && !Shape.isDirectMatmul(g.shape(a), sb)) {
                    try {
                        if (Shape.numel(Shape.matmul("fuzz", g.shape(a), false, sb, false)) <= MAX_NUMEL) {
                            fits.add(b);
                        }
                    } catch (IllegalArgumentException e) {
                        // does not fit
                    }
                }
            }
            if (fits.isEmpty()) {
                return null;
            }
            int b = fits.get(g.rnd.nextInt(fits.size()));
            return Step.composite("matmulShapes", "matmul(v" + a + ", v" + b + ")", new int[] {a, b}, v -> v[0].matmul(v[1]));
        });
        for (String op : new String[] {"sort", "topk"}) {
            COMPOSITES.put(op, g -> {
                int a = g.pickAlongAxis();
                if (a < 0) {
                    return null;
                }
                int[] s = g.shape(a);
                int axis = g.axis(s);
                if (!noNearTies(g.value(a), axis)) {                              // a tie is a kink of the sorted values
                    return null;
                }
                boolean descending = g.rnd.nextBoolean();
                int k = g.between(1, s[axis]);
                return op.equals("sort")
                        ? Step.composite(op, "sort(v" + a + ", axis=" + axis + ", descending=" + descending + ").values", new int[] {a},
                                v -> v[0].sort(axis, descending).values())
                        : Step.composite(op, "topk(v" + a + ", axis=" + axis + ", k=" + k + ", largest=" + descending + ").values", new int[] {a},
                                v -> v[0].topk(axis, k, descending).values());
            });
        }
    }

    /** True when no two elements along {@code axis} are within MARGIN of each other. */
    private static boolean noNearTies(Tensor x, int axis) {
        int n = x.dim(axis);
        if (n < 2) {
            return true;
        }
        Tensor sorted = x.sort(axis, false);
        return min(sorted.slice(axis, 1, n).sub(sorted.slice(axis, 0, n - 1))) >= MARGIN;
    }

    /**
     * An elementwise unary primitive (its backend op is a {@link UnaryOp}) without a recipe above gets one from
     * its {@link GradientTableTest} rows: for one operand a row's sampling range is a domain on that operand,
     * so the primitive applies to a value lying within one of its rows' ranges. Adding such a primitive
     * therefore needs its gradient-table row only; a primitive with a kink or a joint domain needs an entry above.
     */
    private static void derivedUnaryRecipes() {
        Map<Prim<?>, List<double[]>> ranges = new HashMap<>();
        GradientTableTest.table().forEach(s -> {
            if (s.prim() != null && s.prim().backendOp() instanceof UnaryOp && s.shapes().length == 1 && !RECIPES.containsKey(s.prim())) {
                ranges.computeIfAbsent(s.prim(), k -> new ArrayList<>()).add(new double[] {s.lo(), s.hi()});
            }
        });
        ranges.forEach((p, r) -> unary(p, p::apply, t -> r.stream().anyMatch(lh -> min(t) >= lh[0] && max(t) <= lh[1])));
    }

    private static void unary(Prim<?> p, Function<Var, Var> f, Predicate<Tensor> domain) {
        RECIPES.put(p, g -> {
            int a = g.pick(domain);
            return a < 0 ? null : new Step(p, p.name() + "(v" + a + ")", new int[] {a}, v -> f.apply(v[0]));
        });
    }

    @FunctionalInterface
    private interface PairCondition {
        boolean ok(Tensor a, Tensor b);
    }

    @FunctionalInterface
    private interface BinaryVarOp {
        Var apply(Var a, Var b);
    }

    private static void binary(Prim<?> p, BinaryVarOp f, PairCondition cond) {
        RECIPES.put(p, g -> {
            int a = g.pick();
            int b = g.pick(t -> {
                int[] s = broadcast(g.shape(a), t.shape());
                return s != null && Shape.numel(s) <= MAX_NUMEL && cond.ok(g.value(a), t);
            });
            return b < 0 ? null : new Step(p, p.name() + "(v" + a + ", v" + b + ")", new int[] {a, b},
                    v -> f.apply(v[0], v[1]));
        });
    }

    /** Generates the program of {@code seed}. */
    static Program generate(long seed) {
        Random rnd = new Random(seed);
        Gen g = new Gen(rnd);
        int nIn = 1 + rnd.nextInt(3);
        int[] base = baseShape(rnd);
        Tensor[] inputs = new Tensor[nIn];
        String[] ranges = new String[nIn];
        for (int i = 0; i < nIn; i++) {
            int[] s = inputShape(rnd, base);
            double lo;
            double hi;
            int kind = rnd.nextInt(20);
            if (kind < 10) {
                lo = -2;
                hi = 2;
            } else if (kind < 17) {
                lo = 0.3;
                hi = 2;
            } else {
                lo = -2;
                hi = -0.3;
            }
            double[] d = new double[Shape.numel(s)];
            for (int e = 0; e < d.length; e++) {
                d[e] = lo + (hi - lo) * rnd.nextDouble();
            }
            inputs[i] = Tensor.on(Device.CPU).of(d, s).reshape(s);
            ranges[i] = "[" + lo + ", " + hi + "]";
            g.values.add(inputs[i]);
        }
        List<Prim<?>> prims = Rules.builtins();
        List<Recipe> composites = new ArrayList<>(COMPOSITES.values());
        List<Step> steps = new ArrayList<>();
        int nSteps = 3 + rnd.nextInt(10);
        for (int j = 0; j < nSteps; j++) {
            for (int attempt = 0; attempt < 200; attempt++) {
                int pick = rnd.nextInt(prims.size() + composites.size());
                Recipe r = pick < prims.size() ? recipe(prims.get(pick)) : composites.get(pick - prims.size());
                Step s = r.draw(g);
                if (s == null) {
                    continue;
                }
                Tensor out = evaluate(g, s);
                if (out == null) {
                    continue;
                }
                steps.add(s);
                g.values.add(out);
                break;
            }
        }
        boolean[] used = new boolean[g.values.size()];
        for (Step s : steps) {
            for (int a : s.args()) {
                used[a] = true;
            }
        }
        List<Integer> sinks = new ArrayList<>();
        for (int i = nIn; i < used.length; i++) {
            if (!used[i]) {
                sinks.add(i);
            }
        }
        if (sinks.isEmpty()) {             // no op could be drawn: the loss is the inputs' weighted sum
            for (int i = 0; i < nIn; i++) {
                sinks.add(i);
            }
        }
        Tensor[] weights = new Tensor[sinks.size()];
        for (int k = 0; k < weights.length; k++) {
            weights[k] = randomLike(rnd, g.shape(sinks.get(k)), 0.5, 1.5, true);
        }
        int[][] shapes = new int[g.values.size()][];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = g.shape(i);
        }
        return new Program(seed, inputs, ranges, steps, sinks.stream().mapToInt(Integer::intValue).toArray(), weights, shapes);
    }

    /** The recipe of {@code p}; fails naming the primitive when the table has none. */
    static Recipe recipe(Prim<?> p) {
        Recipe r = RECIPES.get(p);
        if (r == null) {
            throw new IllegalStateException("random-program fuzzer: primitive '" + p + "' has no recipe; add one to "
                    + "RandomPrograms.RECIPES (how to build its operands and attributes, and its input domain)");
        }
        return r;
    }

    /** The step's value at the program's point, or null when it is too big, too large or not finite. */
    private static Tensor evaluate(Gen g, Step s) {
        Var[] args = new Var[s.args().length];
        for (int a = 0; a < args.length; a++) {
            args[a] = Var.constant(g.value(s.args()[a]));
        }
        Tensor out;
        try (Grad.Mode off = Grad.noGrad()) {
            out = s.f().apply(args).value();
        }
        if (out.numel() > MAX_NUMEL || out.numel() == 0) {
            return null;
        }
        for (double x : out.toDoubleArray()) {
            if (!(Math.abs(x) <= BOUND)) {
                return null;
            }
        }
        return out;
    }

    /** A float64 tensor of {@code shape} with magnitudes in [lo, hi), of random sign when {@code signed}. */
    static Tensor randomLike(Random rnd, int[] shape, double lo, double hi, boolean signed) {
        double[] d = new double[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = (lo + (hi - lo) * rnd.nextDouble()) * (signed && rnd.nextBoolean() ? -1 : 1);
        }
        return Tensor.on(Device.CPU).of(d, shape).reshape(shape);
    }

    // ------------------------------------------------------------------ shapes

    private static int[] baseShape(Random rnd) {
        while (true) {
            int rank = new int[] {0, 1, 2, 2, 3, 3}[rnd.nextInt(6)];
            int[] s = new int[rank];
            for (int d = 0; d < rank; d++) {
                s[d] = rnd.nextInt(8) == 0 ? 1 : 2 + rnd.nextInt(3);
            }
            if (Shape.numel(s) <= MAX_NUMEL) {
                return s;
            }
        }
    }

    /** A shape that broadcasts to {@code base}: a suffix of it, some dimensions set to 1. */
    private static int[] inputShape(Random rnd, int[] base) {
        int drop = rnd.nextInt(3) == 0 ? rnd.nextInt(base.length + 1) : 0;
        int[] s = Arrays.copyOfRange(base, drop, base.length);
        for (int d = 0; d < s.length; d++) {
            if (rnd.nextInt(5) == 0) {
                s[d] = 1;
            }
        }
        return s;
    }

    /** NumPy broadcast of two shapes, or null when they do not broadcast. */
    static int[] broadcast(int[] a, int[] b) {
        try {
            return Shape.broadcast("fuzz", a, b);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int[] matmulShape(int[] a, boolean ta, int[] b, boolean tb) {
        if (b.length < 2 || b.length > 3) {
            return null;
        }
        try {
            return Tensors.matmulShape(a, ta, b, tb);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int[] ones(int n) {
        int[] s = new int[n];
        Arrays.fill(s, 1);
        return s;
    }

    private static boolean sameExcept(int[] t, int[] s, int axis) {
        if (t.length != s.length) {
            return false;
        }
        for (int d = 0; d < s.length; d++) {
            if (d != axis && t[d] != s[d]) {
                return false;
            }
        }
        return true;
    }

    /** Whether a tensor of shape {@code t} can be scattered into shape {@code s} along {@code axis}. */
    private static boolean fitsIndex(int[] t, int[] s, int axis) {
        if (t.length != s.length) {
            return false;
        }
        for (int d = 0; d < s.length; d++) {
            if (d != axis && t[d] > s[d]) {
                return false;
            }
        }
        return true;
    }

    /** A random subset of the axes of a rank-{@code rank} tensor, sometimes empty (all axes). */
    private static int[] someAxes(Gen g, int rank) {
        List<Integer> ax = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            if (g.rnd.nextBoolean()) {
                ax.add(d);
            }
        }
        return ax.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int divisor(Gen g, int n) {
        List<Integer> ds = new ArrayList<>();
        for (int d = 1; d <= n; d++) {
            if (n % d == 0) {
                ds.add(d);
            }
        }
        return ds.get(g.rnd.nextInt(ds.size()));
    }

    /** A random shape of rank 0-4 with {@code n} elements. */
    private static int[] factor(Gen g, int n) {
        int rank = g.rnd.nextInt(5);
        if (n > 1 && rank == 0) {
            rank = 1;
        }
        int[] s = new int[rank];
        int left = n;
        for (int d = 0; d < rank - 1; d++) {
            s[d] = divisor(g, left);
            left /= s[d];
        }
        if (rank > 0) {
            s[rank - 1] = left;
        }
        return s;
    }

    private static int[] shuffled(Gen g, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = g.rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    // ------------------------------------------------------------------ domains

    static double min(Tensor t) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : t.toDoubleArray()) {
            m = Math.min(m, x);
        }
        return m;
    }

    static double max(Tensor t) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : t.toDoubleArray()) {
            m = Math.max(m, x);
        }
        return m;
    }

    static double minAbs(Tensor t) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : t.toDoubleArray()) {
            m = Math.min(m, Math.abs(x));
        }
        return m;
    }

    /** True when every element is at least MARGIN from the steps at k + offset, k an integer (floor: 0, round: 0.5). */
    static boolean awayFromSteps(Tensor t, double offset) {
        for (double x : t.toDoubleArray()) {
            double f = (x - offset) - Math.floor(x - offset);
            if (Math.min(f, 1 - f) < MARGIN) {
                return false;
            }
        }
        return true;
    }

    static double maxAbs(Tensor t) {
        return Math.max(max(t), -min(t));
    }

    /** True when every group of the reduction has exactly one element within MARGIN of its maximum. */
    private static boolean maxIsUnique(Tensor x, int[] axes) {
        int[] ax = axes.length == 0 ? allAxes(x.rank()) : axes;
        if (ax.length == 0) {
            return true;                  // rank 0: one element
        }
        Tensor m = x.max(true, ax);
        Tensor near = m.sub(x).apply(BinaryOp.LT, MARGIN);
        return max(near.sum(true, ax)) == 1;
    }

    private static int[] allAxes(int rank) {
        int[] a = new int[rank];
        for (int i = 0; i < rank; i++) {
            a[i] = i;
        }
        return a;
    }
}
