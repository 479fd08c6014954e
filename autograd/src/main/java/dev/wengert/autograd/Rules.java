package dev.wengert.autograd;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * THE table of derivative rules: for every primitive, its vector-Jacobian product (reverse mode) and its
 * Jacobian-vector product (forward mode), side by side. Rules are written with {@link Var} operations,
 * so the backward pass can itself be recorded and differentiated again (higher order). Masks used by
 * piecewise rules (relu, abs, max) are constants: their own derivative is zero almost everywhere.
 *
 * <p>Helpers by kind of op keep each entry to a line or two: {@link #elementwise} derives both rules of
 * a unary op from one derivative, {@link #binary} does the same from two partial derivatives, and
 * {@link #unbroadcast} (written once) sums a gradient back to an input's broadcast shape.
 */
public final class Rules {

    /** Reverse-mode rule: gradients for each input (null where an input needs none) given the output's adjoint. */
    @FunctionalInterface
    public interface Vjp {
        Var[] apply(Var g, Var out, Var[] in, Object attrs);
    }

    /** Forward-mode rule: the output's tangent given the inputs' tangents (null means zero). */
    @FunctionalInterface
    public interface Jvp {
        Var apply(Var[] t, Var out, Var[] in, Object attrs);
    }

    /** f'(x) of an elementwise op, from its input and output. */
    @FunctionalInterface
    interface Derivative {
        Var of(Var x, Var out);
    }

    /** A partial derivative of a binary elementwise op. */
    @FunctionalInterface
    interface Partial {
        Var of(Var a, Var b, Var out);
    }

    private record Entry(Vjp vjp, Jvp jvp) {
    }

    private static final Map<Prim, Entry> TABLE = new ConcurrentHashMap<>();

    /** The primitives this class registers itself, by name; see {@link #builtins()}. */
    private static final java.util.List<Prim> BUILTINS;

    private Rules() {
    }

    static {
        // ---------------------------------------------------------------- linear ops
        define(Prim.ADD, (g, o, in, a) -> new Var[] {unbroadcast(g, in[0]), unbroadcast(g, in[1])},
                (t, o, in, a) -> orZero(t[0], in[0]).add(orZero(t[1], in[1])));
        define(Prim.SUB, (g, o, in, a) -> new Var[] {unbroadcast(g, in[0]), need(in, 1) ? unbroadcast(g.neg(), in[1]) : null},
                (t, o, in, a) -> orZero(t[0], in[0]).sub(orZero(t[1], in[1])));
        define(Prim.NEG, (g, o, in, a) -> new Var[] {g.neg()}, (t, o, in, a) -> t[0].neg());
        define(Prim.CAST, (g, o, in, a) -> new Var[] {g.cast((DType) a)}, (t, o, in, a) -> t[0].cast(o.dtype()));
        define(Prim.SUM, Rules::sumVjp, (t, o, in, a) -> t[0].sum(((Var.Reduction) a).keepDims(), ((Var.Reduction) a).axes()));
        define(Prim.RESHAPE, (g, o, in, a) -> new Var[] {g.reshape(in[0].shape())}, (t, o, in, a) -> t[0].reshape(o.shape()));
        define(Prim.PERMUTE, (g, o, in, a) -> new Var[] {g.permute(inverse((int[]) a))}, (t, o, in, a) -> t[0].permute((int[]) a));
        define(Prim.SLICE, Rules::sliceVjp, (t, o, in, a) -> t[0].slice(((int[]) a)[0], ((int[]) a)[1], ((int[]) a)[2]));
        define(Prim.CONCAT, Rules::concatVjp, (t, o, in, a) -> Var.concat((Integer) a, orZeros(t, in)));
        define(Prim.BROADCAST_TO, (g, o, in, a) -> new Var[] {unbroadcast(g, in[0])}, (t, o, in, a) -> t[0].broadcastTo(o.shape()));
        define(Prim.GATHER, (g, o, in, a) -> new Var[] {zerosLike(in[0]).scatterAdd(idx(a).axis(), idx(a).index(), g)},
                (t, o, in, a) -> t[0].gather(idx(a).axis(), idx(a).index()));
        define(Prim.SCATTER_ADD, (g, o, in, a) -> new Var[] {g, need(in, 1) ? g.gather(idx(a).axis(), idx(a).index()) : null},
                (t, o, in, a) -> orZero(t[0], in[0]).scatterAdd(idx(a).axis(), idx(a).index(), orZero(t[1], in[1])));
        define(Prim.WHERE, Rules::whereVjp,
                (t, o, in, a) -> Var.where((Tensor) a, orZero(t[0], in[0]), orZero(t[1], in[1])));

        // ---------------------------------------------------------------- bilinear
        define(Prim.MATMUL, Rules::matmulVjp, (t, o, in, a) -> {
            boolean[] tr = (boolean[]) a;
            Var left = t[0] == null ? null : t[0].matmul(tr[0], in[1], tr[1]);
            Var right = t[1] == null ? null : in[0].matmul(tr[0], t[1], tr[1]);
            return left == null ? right : right == null ? left : left.add(right);
        });

        // ---------------------------------------------------------------- elementwise, from f'(x)
        elementwise(Prim.EXP, (x, y) -> y);                                   // d e^x = e^x
        elementwise(Prim.LOG, (x, y) -> Var.scalarLike(1, x).div(x));                   // d ln x = 1/x
        elementwise(Prim.SQRT, (x, y) -> Var.scalarLike(0.5, y).div(y));                // d sqrt x = 1/(2 sqrt x)
        elementwise(Prim.SIN, (x, y) -> x.cos());
        elementwise(Prim.COS, (x, y) -> x.sin().neg());
        elementwise(Prim.TANH, (x, y) -> y.square().rsub(1));                 // 1 - tanh^2
        elementwise(Prim.SIGMOID, (x, y) -> y.mul(y.rsub(1)));                // s (1 - s)
        elementwise(Prim.ABS, (x, y) -> Var.constant(x.value().sign()));      // abs'(0) = 0, as PyTorch
        elementwise(Prim.RELU, (x, y) -> mask(x.value().apply(dev.wengert.tensor.BinaryOp.GT, 0.0))); // relu'(0) = 0

        // ---------------------------------------------------------------- elementwise binary, from partials
        binary(Prim.MUL, (a, b, y) -> b, (a, b, y) -> a);
        binary(Prim.DIV, (a, b, y) -> Var.scalarLike(1, b).div(b), (a, b, y) -> y.div(b).neg());          // 1/b, -a/b^2
        binary(Prim.POW, Rules::powBase, Rules::powExponent);                          // see powBase, powExponent
        binary(Prim.MAXIMUM, (a, b, y) -> share(a, b), (a, b, y) -> share(b, a));      // ties share equally, NaN: both
        binary(Prim.MINIMUM, (a, b, y) -> share(b, a), (a, b, y) -> share(a, b));

        // ---------------------------------------------------------------- reductions with a choice
        define(Prim.MAX, Rules::maxVjp, (t, o, in, a) -> {
            Var.Reduction r = (Var.Reduction) a;
            return t[0].mul(maxWeights(in[0], o, r)).sum(r.keepDims(), r.axes());
        });
        define(Prim.SOFTMAX_CROSS_ENTROPY, Rules::crossEntropyVjp,                 // fused; see crossEntropyVjp
                (t, o, in, a) -> softmaxMinusOneHot(in[0], (Tensor) a).mul(t[0]).sum(false, 1));
        define(Prim.LOG_SOFTMAX, (g, o, in, a) -> {                          // g - softmax * sum(g)
            int ax = (Integer) a;
            return new Var[] {g.sub(o.exp().mul(g.sum(true, ax)))};
        }, (t, o, in, a) -> {
            int ax = (Integer) a;
            return t[0].sub(o.exp().mul(t[0]).sum(true, ax));
        });

        java.util.List<Prim> builtins = new java.util.ArrayList<>(TABLE.keySet());
        builtins.sort(java.util.Comparator.comparing(Prim::name));
        BUILTINS = java.util.List.copyOf(builtins);
    }

    /**
     * d loss[r] / d logits[r, c] = softmax(logits)[r, c] - [c == labels[r]]. A first-order backward runs it
     * as one fused pass; a recorded backward (create-graph, for higher order) builds the same formula from
     * differentiable primitives.
     */
    private static Var[] crossEntropyVjp(Var g, Var out, Var[] in, Object a) {
        Tensor labels = (Tensor) a;
        if (!Grad.isEnabled()) {
            return new Var[] {Var.constant(in[0].value().softmaxCrossEntropyGrad(labels, g.value()))};
        }
        return new Var[] {softmaxMinusOneHot(in[0], labels).mul(g.reshape(g.shape()[0], 1))};
    }

    private static Var softmaxMinusOneHot(Var logits, Tensor labels) {
        return logits.softmax(1).sub(Var.constant(labels.oneHot(logits.shape()[1], logits.dtype())));
    }

    /**
     * Registers (or replaces) the rules of a primitive. Either may be null: a missing rule fails loudly
     * with the primitive's name when it is needed.
     */
    public static void define(Prim prim, Vjp vjp, Jvp jvp) {
        TABLE.put(prim, new Entry(vjp, jvp));
    }

    /**
     * The built-in primitives: every primitive this table defines rules for before any user
     * {@link #define}, sorted by name (a stable order, so that a seeded generator drawing from it, such as
     * the random-program fuzzer, is reproducible). Primitives defined later by users are not included.
     */
    public static java.util.List<Prim> builtins() {
        return BUILTINS;
    }

    /** True when {@code prim} has a reverse-mode rule. */
    public static boolean hasVjp(Prim prim) {
        Entry e = TABLE.get(prim);
        return e != null && e.vjp != null;
    }

    static Var[] vjp(Node node, Var g) {
        Entry e = TABLE.get(node.prim());
        Var[] in = node.inputs();
        if (e == null || e.vjp == null) {
            int arg = 0;
            while (arg < in.length && !in[arg].requiresGrad()) {
                arg++;
            }
            throw new UnsupportedOperationException("backward: no VJP rule for primitive '" + node.prim() + "' (argument "
                    + arg + " requires grad); define one with Rules.define, or detach() that input");
        }
        return e.vjp.apply(g, node.output(), in, node.attrs());
    }

    static Var jvp(Prim prim, Object attrs, Var[] in, Var out) {
        Entry e = TABLE.get(prim);
        if (e == null || e.jvp == null) {
            throw new UnsupportedOperationException("jvp: no JVP rule for primitive '" + prim
                    + "'; define one with Rules.define");
        }
        Var[] t = new Var[in.length];
        for (int i = 0; i < in.length; i++) {
            t[i] = in[i].tangent();
        }
        try (Forward.Suspension s = Forward.suspend()) {
            return e.jvp.apply(t, out, in, attrs);
        }
    }

    // ------------------------------------------------------------------ helpers by kind

    /** Unary elementwise op: VJP g f'(x), JVP t f'(x), from the one derivative. */
    static void elementwise(Prim p, Derivative d) {
        define(p, (g, o, in, a) -> new Var[] {g.mul(d.of(in[0], o))}, (t, o, in, a) -> t[0].mul(d.of(in[0], o)));
    }

    /** Binary elementwise op with broadcasting, from its two partial derivatives. */
    static void binary(Prim p, Partial da, Partial db) {
        define(p, (g, o, in, a) -> new Var[] {
            need(in, 0) ? unbroadcast(g.mul(da.of(in[0], in[1], o)), in[0]) : null,
            need(in, 1) ? unbroadcast(g.mul(db.of(in[0], in[1], o)), in[1]) : null,
        }, (t, o, in, a) -> {
            Var left = t[0] == null ? null : t[0].mul(da.of(in[0], in[1], o));
            Var right = t[1] == null ? null : t[1].mul(db.of(in[0], in[1], o));
            return left == null ? right : right == null ? left : left.add(right);
        });
    }

    /**
     * Sums {@code g} back to the shape of {@code input}: over leading dimensions the input lacks and over
     * dimensions where the input has size 1. The one place that undoes broadcasting.
     */
    public static Var unbroadcast(Var g, Var input) {
        int[] target = input.shape();
        int[] gs = g.shape();
        if (Arrays.equals(gs, target)) {
            return g;
        }
        int lead = gs.length - target.length;
        int[] axes = new int[gs.length];
        int n = 0;
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (target[i - lead] == 1 && gs[i] != 1)) {
                axes[n++] = i;
            }
        }
        Var summed = n == 0 ? g : g.sum(true, Arrays.copyOf(axes, n));
        return summed.reshape(target);
    }

    private static boolean need(Var[] in, int i) {
        return in[i].requiresGrad();
    }

    private static Var.Indexing idx(Object a) {
        return (Var.Indexing) a;
    }

    static Var zerosLike(Var v) {
        return Var.constant(Tensor.on(v.value().device()).zeros(v.dtype(), v.shape()));
    }

    private static Var orZero(Var t, Var like) {
        return t != null ? t : zerosLike(like);
    }

    private static Var[] orZeros(Var[] t, Var[] like) {
        Var[] out = new Var[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = orZero(t[i], like[i]);
        }
        return out;
    }

    private static Var mask(Tensor m) {
        return Var.constant(m);
    }

    /**
     * The share of maximum(a, b)'s gradient that goes to a (a constant): 0 where a < b, 1/2 where a == b,
     * else 1, so where a or b is NaN (the result is NaN) both get the full gradient, as in PyTorch.
     */
    private static Var share(Var a, Var b) {
        Tensor lt = b.value().gt(a.value());
        Tensor eq = a.value().eq(b.value());
        return Var.constant(eq.mul(-0.5).apply(dev.wengert.tensor.BinaryOp.SUB, lt).add(1.0));
    }

    /**
     * d a^b / d a = b a^(b-1), and 0 where b == 0 (a^0 is the constant 1), as PyTorch's pow_backward, where
     * the formula gives 0 * 0^-1 = NaN at a == 0. The masked elements are computed from a safe base of 1, so
     * that no derivative of this rule (second order, forward over reverse) multiplies a 0 by an infinity:
     * d/da a^1 = a^0 then has second derivative 0 at a == 0, not 0 * 0^-1.
     */
    private static Var powBase(Var a, Var b, Var y) {
        Tensor zero = b.value().apply(dev.wengert.tensor.BinaryOp.EQ, 0.0);
        if (!any(zero)) {
            return b.mul(a.pow(b.sub(1)));
        }
        Var safe = Var.where(zero, Var.scalarLike(1, a), a);
        return Var.where(zero, Var.scalarLike(0, y), b.mul(safe.pow(b.sub(1))));
    }

    /**
     * d a^b / d b = a^b ln a, and 0 where a == 0 and b >= 0 (the one-sided limit; PyTorch masks the same
     * elements), computed from a safe base of 1 there like {@link #powBase}. For a < 0 it is NaN (ln a),
     * as in PyTorch and {@link dev.wengert.autograd.forward.Dual#pow(dev.wengert.autograd.forward.Dual)}:
     * a^b of a negative base is not real-differentiable in b.
     */
    private static Var powExponent(Var a, Var b, Var y) {
        Tensor zero = a.value().apply(dev.wengert.tensor.BinaryOp.EQ, 0.0)
                .mul(b.value().apply(dev.wengert.tensor.BinaryOp.GE, 0.0));
        if (!any(zero)) {
            return y.mul(a.log());
        }
        Var safe = Var.where(zero, Var.scalarLike(1, a), a);
        return Var.where(zero, Var.scalarLike(0, y), y.mul(safe.log()));
    }

    private static boolean any(Tensor mask) {
        return mask.numel() > 0 && mask.max().item() != 0;
    }

    private static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inv[perm[i]] = i;
        }
        return inv;
    }

    private static Var keepDimsShape(Var g, Var in, Var.Reduction r) {
        return r.keepDims() ? g : g.reshape(Shape.reducedKeepDims(in.shape(), r.axes()));
    }

    private static Var[] sumVjp(Var g, Var out, Var[] in, Object a) {
        Var.Reduction r = (Var.Reduction) a;
        return new Var[] {keepDimsShape(g, in[0], r).broadcastTo(in[0].shape())};
    }

    /** Weights that share the gradient among the maxima: 1/count where x equals the max, else 0. */
    private static Var maxWeights(Var x, Var out, Var.Reduction r) {
        Tensor maxKeep = keepDimsShape(out, x, r).value();
        Tensor hits = x.value().eq(maxKeep);
        return Var.constant(hits.div(hits.sum(true, r.axes())));
    }

    private static Var[] maxVjp(Var g, Var out, Var[] in, Object a) {
        Var.Reduction r = (Var.Reduction) a;
        return new Var[] {keepDimsShape(g, in[0], r).mul(maxWeights(in[0], out, r))};
    }

    private static Var[] sliceVjp(Var g, Var out, Var[] in, Object a) {
        int[] s = (int[]) a;
        int axis = s[0];
        int size = in[0].shape()[axis];
        java.util.List<Var> parts = new java.util.ArrayList<>();
        if (s[1] > 0) {
            parts.add(zerosAlong(in[0], axis, s[1]));
        }
        parts.add(g);
        if (s[2] < size) {
            parts.add(zerosAlong(in[0], axis, size - s[2]));
        }
        return new Var[] {parts.size() == 1 ? g : Var.concat(axis, parts.toArray(new Var[0]))};
    }

    private static Var zerosAlong(Var like, int axis, int length) {
        int[] shape = like.shape();
        shape[axis] = length;
        return Var.constant(Tensor.on(like.value().device()).zeros(like.dtype(), shape));
    }

    private static Var[] concatVjp(Var g, Var out, Var[] in, Object a) {
        int axis = (Integer) a;
        Var[] grads = new Var[in.length];
        int at = 0;
        for (int i = 0; i < in.length; i++) {
            int len = in[i].shape()[axis];
            grads[i] = need(in, i) ? g.slice(axis, at, at + len) : null;
            at += len;
        }
        return grads;
    }

    private static Var[] whereVjp(Var g, Var out, Var[] in, Object a) {
        Tensor cond = (Tensor) a;
        Var zero = zerosLike(g);
        return new Var[] {
            need(in, 0) ? unbroadcast(Var.where(cond, g, zero), in[0]) : null,
            need(in, 1) ? unbroadcast(Var.where(cond, zero, g), in[1]) : null,
        };
    }

    /**
     * C = op(A) op(B): dA = g op(B)^T (transposed back when A was), dB = op(A)^T g (likewise). A 2-D
     * operand shared by a batch gets the sum over the batch.
     */
    private static Var[] matmulVjp(Var g, Var out, Var[] in, Object a) {
        boolean ta = ((boolean[]) a)[0];
        boolean tb = ((boolean[]) a)[1];
        Var x = in[0];
        Var y = in[1];
        Var dx = null;
        Var dy = null;
        if (need(in, 0)) {
            dx = ta ? y.matmul(tb, g, true) : g.matmul(false, y, !tb);
            dx = sumBatch(dx, x);
        }
        if (need(in, 1)) {
            dy = tb ? g.matmul(true, x, ta) : x.matmul(!ta, g, false);
            dy = sumBatch(dy, y);
        }
        return new Var[] {dx, dy};
    }

    private static Var sumBatch(Var grad, Var input) {
        return grad.shape().length > input.shape().length ? grad.sum(false, 0) : grad;
    }
}
