package dev.wengert.autograd;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import java.util.Arrays;

/**
 * The derivative rules and the helpers that build {@link Prim} descriptors by kind: every primitive's
 * vector-Jacobian product (reverse mode) and Jacobian-vector product (forward mode) are given where the
 * primitive is defined ({@link Prim}'s constants), with the longer rules here. Rules are written with
 * {@link Var} operations, so the backward pass can itself be recorded and differentiated again (higher
 * order). Masks used by piecewise rules (relu, abs, max) are constants: their own derivative is zero almost
 * everywhere.
 *
 * <p>Helpers by kind of op keep each definition to a line or two: {@link #elementwise} derives both rules
 * of a unary op from one derivative, {@link #binary} does the same from two partial derivatives, a linear
 * op's JVP is the op itself applied to the tangents ({@link #linearJvp}; JAX's linear primitives) and a
 * bilinear op's is f(tx, y) + f(x, ty) ({@link #bilinearJvp}), and {@link #unbroadcast} (written once)
 * sums a gradient back to an input's broadcast shape.
 */
public final class Rules {

    /** Reverse-mode rule: gradients for each input (null where an input needs none) given the output's adjoint. */
    @FunctionalInterface
    public interface Vjp<A> {
        Var[] apply(Var g, Var out, Var[] in, A attrs);
    }

    /** Forward-mode rule: the output's tangent given the inputs' tangents (null means zero). */
    @FunctionalInterface
    public interface Jvp<A> {
        Var apply(Var[] t, Var out, Var[] in, A attrs);
    }

    /** Reverse-mode rule for the upstream gradient 1 of a scalar output, computed without a seed tensor. */
    @FunctionalInterface
    interface UnitSeedVjp<A> {
        Var[] apply(Var out, Var[] in, A attrs);
    }

    /** f'(x) of an elementwise op, from its input and output. */
    @FunctionalInterface
    interface Derivative {
        Var of(Var x, Var out);
    }

    /** f'(x) of an elementwise op with attributes (its scalar parameters). */
    @FunctionalInterface
    interface AttributedDerivative<A> {
        Var of(Var x, Var out, A attrs);
    }

    /** The scalar parameters an attributed elementwise op passes to its {@link UnaryOp}. */
    @FunctionalInterface
    interface Parameters<A> {
        double[] of(A attrs);
    }

    /** A partial derivative of a binary elementwise op. */
    @FunctionalInterface
    interface Partial {
        Var of(Var a, Var b, Var out);
    }

    private Rules() {
    }

    /**
     * d loss[r] / d logits[r, c] = (softmax(logits)[r, c] - [c == labels[r]]) g[r]: the backward primitive
     * {@link Prim#SOFTMAX_CROSS_ENTROPY_GRAD} (the backend's fused pass), recorded like any other when the
     * backward is (create-graph) and then differentiated by its own rules below.
     */
    static Var[] crossEntropyVjp(Var g, Var out, Var[] in, Var.Labels a) {
        return new Var[] {Prim.SOFTMAX_CROSS_ENTROPY_GRAD.apply(a, in[0], g)};
    }

    /**
     * The mean cross-entropy's adjoint g (softmax - oneHot) / rows: in a first-order pass, the gradient its forward
     * kept, scaled by g (one kernel; none for the seed, {@link #crossEntropyMeanUnitSeedVjp}); recorded (create-graph)
     * or without a kept gradient, the primitive {@link Prim#SOFTMAX_CROSS_ENTROPY_GRAD} with the upstream g / rows per
     * row, differentiable again.
     */
    static Var[] crossEntropyMeanVjp(Var g, Var out, Var[] in, Var.LabelsMean a) {
        Tensor kept = a.stash().valueFor(out.value());
        if (kept != null && !Grad.isEnabled()) {
            return new Var[] {Var.constant(kept.mul(g.value()))};
        }
        int rows = in[0].shape()[0];
        Var upstream = g.mul(1.0 / rows).broadcastTo(rows);
        return new Var[] {Prim.SOFTMAX_CROSS_ENTROPY_GRAD.apply(new Var.Labels(a.labels()), in[0], upstream)};
    }

    /** {@link #crossEntropyMeanVjp} for the seed 1: the kept gradient itself, no kernel. */
    static Var[] crossEntropyMeanUnitSeedVjp(Var out, Var[] in, Var.LabelsMean a) {
        Tensor kept = a.stash().valueFor(out.value());
        if (kept != null) {
            return new Var[] {Var.constant(kept)};
        }
        return crossEntropyMeanVjp(Var.scalarLike(1, out), out, in, a);
    }

    static Var crossEntropyMeanJvp(Var[] t, Var out, Var[] in, Var.LabelsMean a) {
        return softmaxMinusOneHot(in[0], a.labels()).mul(t[0]).sum().mul(1.0 / in[0].shape()[0]);
    }

    /**
     * y = act(x W^T + b): dz = g act'(y), dx = dz W, dW = dz^T x, db = column sums of dz. In a first-order pass
     * (nothing recorded) the tensors of {@link FusedLinear#backward} (one fused kernel for dz and db where the
     * backend has it, one GEMM each for dW and dx); recorded (create-graph), the same written with variables, so it
     * is differentiable again.
     */
    static Var[] linearVjp(Var g, Var out, Var[] in, Var.LinearActivation a) {
        if (!Grad.isEnabled()) {
            Tensor[] t = FusedLinear.backward(g.value(), out.value(), in[0].value(), in[1].value(), a.activation(),
                    need(in, 0), need(in, 1), need(in, 2));
            return new Var[] {t[0] == null ? null : Var.constant(t[0]), t[1] == null ? null : Var.constant(t[1]),
                    t[2] == null ? null : Var.constant(t[2])};
        }
        Var dz = a.activation() == dev.wengert.tensor.Activation.NONE ? g : g.mul(activationDerivative(out, a.activation()));
        return new Var[] {need(in, 0) ? dz.matmul(false, in[1], false) : null, need(in, 1) ? dz.matmul(true, in[0], false) : null,
                need(in, 2) ? dz.sum(false, 0) : null};
    }

    static Var linearJvp(Var[] t, Var out, Var[] in, Var.LinearActivation a) {
        Var dz = null;
        if (t[0] != null) {
            dz = t[0].matmul(false, in[1], true);
        }
        if (t[1] != null) {
            Var term = in[0].matmul(false, t[1], true);
            dz = dz == null ? term : dz.add(term);
        }
        if (t[2] != null) {
            dz = dz == null ? t[2].broadcastTo(out.shape()) : dz.add(t[2]);
        }
        return a.activation() == dev.wengert.tensor.Activation.NONE ? dz : dz.mul(activationDerivative(out, a.activation()));
    }

    /**
     * Batch normalisation's adjoints, xhat = (x - mean) invStd with invStd = 1 / sqrt(var + eps), means and sums over
     * every axis but 1: dx = w invStd (g - mean(g) - xhat mean(g xhat)), dweight = sum(g xhat), dbias = sum(g). In a
     * first-order pass (nothing recorded) the tensors of {@link FusedBatchNorm#backward} from the forward's statistics
     * (one kernel where the backend has it); recorded (create-graph), the same written with variables, with xhat and
     * invStd recomputed from x, so that the gradient of dx with respect to x flows through them and higher orders are
     * exact.
     */
    static Var[] batchNormVjp(Var g, Var out, Var[] in, Var.BatchNormAttrs a) {
        if (!Grad.isEnabled()) {
            Tensor x = in[0].value();
            Tensor mean;
            Tensor var;
            FusedBatchNorm.Result again = null;
            if (a.stats().heldFor(out.value())) {
                mean = a.stats().mean();
                var = a.stats().var();
            } else {
                again = FusedBatchNorm.forward(x, in[1].value(), in[2].value(), a.eps());
                again.y().close();
                mean = again.mean();
                var = again.var();
            }
            Tensor[] t = FusedBatchNorm.backward(g.value(), x, mean, var, in[1].value(), a.eps(), need(in, 0), need(in, 1),
                    need(in, 2));
            if (again != null) {
                again.mean().close();
                again.var().close();
            }
            return new Var[] {t[0] == null ? null : Var.constant(t[0]), t[1] == null ? null : Var.constant(t[1]),
                    t[2] == null ? null : Var.constant(t[2])};
        }
        int[] axes = FusedBatchNorm.reducedAxes(in[0].shape().length);
        int[] perChannel = FusedBatchNorm.perChannel(in[0].shape());
        Var[] stats = batchNormXhat(in[0], a.eps(), axes);
        Var invStd = stats[0];
        Var xhat = stats[1];
        Var gXhat = g.mul(xhat);
        Var dx = null;
        if (need(in, 0)) {
            Var inner = g.sub(g.mean(true, axes)).sub(xhat.mul(gXhat.mean(true, axes)));
            dx = inner.mul(invStd.mul(in[1].reshape(perChannel)));
        }
        return new Var[] {dx, need(in, 1) ? gXhat.sum(false, axes) : null, need(in, 2) ? g.sum(false, axes) : null};
    }

    /**
     * Batch normalisation linearised: with dxhat = invStd (tx - mean(tx) - xhat mean(tx xhat)), the tangent
     * w dxhat + tw xhat + tb (per channel, broadcast).
     */
    static Var batchNormJvp(Var[] t, Var out, Var[] in, Var.BatchNormAttrs a) {
        int[] axes = FusedBatchNorm.reducedAxes(in[0].shape().length);
        int[] perChannel = FusedBatchNorm.perChannel(in[0].shape());
        Var tangent = null;
        if (t[0] != null || t[1] != null) {
            Var[] stats = batchNormXhat(in[0], a.eps(), axes);
            Var invStd = stats[0];
            Var xhat = stats[1];
            if (t[0] != null) {
                Var tx = t[0];
                Var inner = tx.sub(tx.mean(true, axes)).sub(xhat.mul(tx.mul(xhat).mean(true, axes)));
                tangent = inner.mul(invStd.mul(in[1].reshape(perChannel)));
            }
            if (t[1] != null) {
                Var term = xhat.mul(t[1].reshape(perChannel));
                tangent = tangent == null ? term : tangent.add(term);
            }
        }
        if (t[2] != null) {
            Var shift = t[2].reshape(perChannel);
            tangent = tangent == null ? shift.broadcastTo(out.shape()) : tangent.add(shift);
        }
        return tangent;
    }

    /** {invStd, xhat} of batch normalisation recomputed from x with variables (invStd [1, C, 1, ...], xhat like x). */
    private static Var[] batchNormXhat(Var x, double eps, int[] axes) {
        Var centred = x.sub(x.mean(true, axes));
        Var invStd = centred.square().mean(true, axes).add(eps).sqrt().reciprocal();
        return new Var[] {invStd, centred.mul(invStd)};
    }

    /** act'(z) from y = act(z): relu a constant mask y &gt; 0 (relu'(0) = 0), tanh 1 - y², sigmoid y (1 - y). */
    private static Var activationDerivative(Var y, dev.wengert.tensor.Activation act) {
        return switch (act) {
            case NONE -> onesLike(y);
            case RELU -> Var.constant(y.value().apply(BinaryOp.GT, 0.0));
            case TANH -> y.square().rsub(1);
            case SIGMOID -> y.mul(y.rsub(1));
        };
    }

    static Var[] unitSeedVjp(Node node) {
        return node.prim().unitSeedVjp(node.output(), node.inputs(), node.attrs());
    }

    static Var crossEntropyJvp(Var[] t, Var out, Var[] in, Var.Labels a) {
        return softmaxMinusOneHot(in[0], a.labels()).mul(t[0]).sum(false, 1);
    }

    /**
     * The cross-entropy gradient y = (p - oneHot) u[r] with p = softmax(x), for the adjoint h of y:
     * d/dx = p (s - sum(s p)) row by row with s = h u[r] (softmax's VJP), d/du[r] = sum over c of h (p - oneHot).
     */
    static Var[] crossEntropyGradVjp(Var h, Var out, Var[] in, Var.Labels a) {
        Var x = in[0];
        Var u = in[1];
        Var p = x.softmax(1);
        Var dx = null;
        if (need(in, 0)) {
            Var s = h.mul(u.reshape(u.shape()[0], 1));
            dx = p.mul(s.sub(s.mul(p).sum(true, 1)));
        }
        Var du = need(in, 1) ? p.sub(oneHot(x, a.labels())).mul(h).sum(false, 1) : null;
        return new Var[] {dx, du};
    }

    static Var crossEntropyGradJvp(Var[] t, Var out, Var[] in, Var.Labels a) {
        Var x = in[0];
        Var u = in[1].reshape(in[1].shape()[0], 1);
        Var p = x.softmax(1);
        Var tangent = null;
        if (t[0] != null) {
            tangent = p.mul(t[0].sub(t[0].mul(p).sum(true, 1))).mul(u);
        }
        if (t[1] != null) {
            Var fromU = p.sub(oneHot(x, a.labels())).mul(t[1].reshape(t[1].shape()[0], 1));
            tangent = tangent == null ? fromU : tangent.add(fromU);
        }
        return tangent;
    }

    private static Var softmaxMinusOneHot(Var logits, Tensor labels) {
        return logits.softmax(1).sub(oneHot(logits, labels));
    }

    private static Var oneHot(Var logits, Tensor labels) {
        return Var.constant(labels.oneHot(logits.shape()[1], logits.dtype()));
    }

    /** log-softmax: g - softmax * sum(g) along the axis. */
    static Var[] logSoftmaxVjp(Var g, Var out, Var[] in, Var.Axis a) {
        return new Var[] {g.sub(out.exp().mul(g.sum(true, a.axis())))};
    }

    static Var logSoftmaxJvp(Var[] t, Var out, Var[] in, Var.Axis a) {
        return t[0].sub(out.exp().mul(t[0]).sum(true, a.axis()));
    }

    static Var maxJvp(Var[] t, Var out, Var[] in, Var.Reduction r) {
        return t[0].mul(maxWeights(in[0], out, r)).sum(r.keepDims(), r.axes());
    }

    /**
     * Gives (or replaces) the rules of a user-defined primitive: one created with {@link Prim#Prim(String)}
     * and recorded with {@link Var#custom}. Either rule may be null: a missing rule fails loudly with the
     * primitive's name when it is needed. The rules of the built-in primitives are part of the library and
     * cannot be replaced (that would change every user of the primitive in the process): to differentiate an
     * operation another way, define a primitive of your own.
     *
     * @throws IllegalArgumentException when {@code prim} is a built-in primitive
     */
    public static <A> void define(Prim<A> prim, Vjp<A> vjp, Jvp<A> jvp) {
        if (prim.isBuiltin()) {
            throw new IllegalArgumentException("Rules.define: '" + prim + "' is a built-in primitive; its rules cannot be "
                    + "replaced. To give an operation rules of your own, define a new primitive: new Prim<>(\"myOp\"), "
                    + "Rules.define(myOp, vjp, jvp), and record each use with Var.custom(myOp, attrs, value, inputs) "
                    + "(see Var.custom and docs/design.md, 'User-defined primitives')");
        }
        prim.setRules(vjp, jvp);
    }

    /**
     * The built-in primitives: {@link Prim}'s constants, sorted by name (a stable order, so that a seeded
     * generator drawing from it, such as the random-program fuzzer, is reproducible). Primitives created by
     * users are not included.
     */
    public static java.util.List<Prim<?>> builtins() {
        java.util.List<Prim<?>> builtins = new java.util.ArrayList<>(Prim.builtinList());
        builtins.sort(java.util.Comparator.comparing(Prim::name));
        return java.util.List.copyOf(builtins);
    }

    /** True when {@code prim} has a reverse-mode rule. */
    public static boolean hasVjp(Prim<?> prim) {
        return prim.hasVjp();
    }

    static Var[] vjp(Node node, Var g) {
        Var[] in = node.inputs();
        Var[] grads = node.prim().vjp(g, node.output(), in, node.attrs());
        if (grads == null) {
            int arg = 0;
            while (arg < in.length && !in[arg].requiresGrad()) {
                arg++;
            }
            throw new UnsupportedOperationException("backward: no VJP rule for primitive '" + node.prim() + "' (argument "
                    + arg + " requires grad); define one with Rules.define, or detach() that input");
        }
        return grads;
    }

    static Var jvp(Prim<?> prim, Object attrs, Var[] in, Var out) {
        if (!prim.hasJvp()) {
            throw new UnsupportedOperationException("jvp: no JVP rule for primitive '" + prim
                    + "'; define one with Rules.define");
        }
        Var[] t = new Var[in.length];
        for (int i = 0; i < in.length; i++) {
            t[i] = in[i].tangent();
        }
        try (Forward.Suspension s = Forward.suspend()) {
            return prim.jvp(t, out, in, attrs);
        }
    }

    // ------------------------------------------------------------------ helpers by kind

    /** Unary elementwise op running {@code op}: VJP g f'(x), JVP t f'(x), from the one derivative. */
    static Prim<Void> elementwise(String name, UnaryOp op, Derivative d, Printer<Void> printer) {
        return Prim.define(name, 1, Void.class).forward(op).print(printer)
                .rules((g, o, in, a) -> new Var[] {g.mul(d.of(in[0], o))}, (t, o, in, a) -> t[0].mul(d.of(in[0], o)))
                .build();
    }

    /**
     * Unary elementwise op running {@code op} with the scalar parameters {@code params} takes from its attributes
     * (softplus's beta and threshold, ...): VJP g f'(x), JVP t f'(x), from the one derivative.
     */
    static <A> Prim<A> elementwise(String name, UnaryOp op, Class<A> type, Parameters<A> params, AttributedDerivative<A> d,
            Printer<A> printer) {
        return Prim.define(name, 1, type).forward(op, params).print(printer)
                .rules((g, o, in, a) -> new Var[] {g.mul(d.of(in[0], o, a))}, (t, o, in, a) -> t[0].mul(d.of(in[0], o, a)))
                .build();
    }

    /**
     * Unary elementwise op that is piecewise constant (floor, ceil, round, trunc, sign): its gradient is zero
     * (PyTorch's zeros_like(grad): a zero, not g × 0, so an infinite or NaN adjoint does not become NaN), and so
     * is its tangent; both are constants, so every higher derivative is zero too.
     */
    static Prim<Void> piecewiseConstant(String name, UnaryOp op, Printer<Void> printer) {
        return Prim.define(name, 1, Void.class).forward(op).print(printer)
                .rules((g, o, in, a) -> new Var[] {zerosLike(in[0])}, (t, o, in, a) -> zerosLike(o))
                .build();
    }

    /** Binary elementwise op running {@code op} with broadcasting, from its two partial derivatives. */
    static Prim<Void> binary(String name, BinaryOp op, Partial da, Partial db, Printer<Void> printer) {
        return Prim.define(name, 2, Void.class).forward(op).print(printer).rules((g, o, in, a) -> new Var[] {
            need(in, 0) ? unbroadcast(g.mul(da.of(in[0], in[1], o)), in[0]) : null,
            need(in, 1) ? unbroadcast(g.mul(db.of(in[0], in[1], o)), in[1]) : null,
        }, (t, o, in, a) -> {
            Var left = t[0] == null ? null : t[0].mul(da.of(in[0], in[1], o));
            Var right = t[1] == null ? null : t[1].mul(db.of(in[0], in[1], o));
            return left == null ? right : right == null ? left : left.add(right);
        }).build();
    }

    /** The JVP of a linear op: the op applied to the tangents, zeros standing for inputs without one. */
    static <A> Jvp<A> linearJvp(Prim<A> p) {
        return (t, o, in, a) -> p.apply(a, orZeros(t, in));
    }

    /** The JVP of a bilinear op f(x, y): f(tx, y) + f(x, ty), the terms without a tangent left out. */
    static <A> Jvp<A> bilinearJvp(Prim<A> p) {
        return (t, o, in, a) -> {
            Var left = t[0] == null ? null : p.apply(a, t[0], in[1]);
            Var right = t[1] == null ? null : p.apply(a, in[0], t[1]);
            return left == null ? right : right == null ? left : left.add(right);
        };
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

    static boolean need(Var[] in, int i) {
        return in[i].requiresGrad();
    }

    static Var zerosLike(Var v) {
        return Var.constant(Tensor.on(v.value().device()).zeros(v.dtype(), v.shape()));
    }

    static Var onesLike(Var v) {
        return Var.constant(Tensor.on(v.value().device()).ones(v.dtype(), v.shape()));
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

    /**
     * The share of maximum(a, b)'s gradient that goes to a (a constant): 0 where a < b, 1/2 where a == b,
     * else 1, so where a or b is NaN (the result is NaN) both get the full gradient, as in PyTorch.
     */
    static Var share(Var a, Var b) {
        Tensor lt = b.value().gt(a.value());
        Tensor eq = a.value().eq(b.value());
        return Var.constant(eq.mul(-0.5).apply(BinaryOp.SUB, lt).add(1.0));
    }

    /**
     * d a^b / d a = b a^(b-1), and 0 where b == 0 (a^0 is the constant 1), as PyTorch's pow_backward, where
     * the formula gives 0 * 0^-1 = NaN at a == 0. The masked elements are computed from a safe base of 1, so
     * that no derivative of this rule (second order, forward over reverse) multiplies a 0 by an infinity:
     * d/da a^1 = a^0 then has second derivative 0 at a == 0, not 0 * 0^-1.
     */
    static Var powBase(Var a, Var b, Var y) {
        Tensor zero = b.value().apply(BinaryOp.EQ, 0.0);
        if (!any(zero)) {
            return b.mul(a.pow(b.sub(1)));
        }
        Var safe = Var.where(zero, Var.scalarLike(1, a), a);
        return Var.where(zero, Var.scalarLike(0, y), b.mul(safe.pow(b.sub(1))));
    }

    /**
     * d a^b / d b = a^b ln a, and 0 where a == 0 and b >= 0 (the one-sided limit; PyTorch masks the same
     * elements), computed from a safe base of 1 there like {@link #powBase}. For a < 0 it is NaN (ln a),
     * as in PyTorch and the lessons' dual numbers (Dual.pow):
     * a^b of a negative base is not real-differentiable in b.
     */
    static Var powExponent(Var a, Var b, Var y) {
        Tensor zero = a.value().apply(BinaryOp.EQ, 0.0)
                .mul(b.value().apply(BinaryOp.GE, 0.0));
        if (!any(zero)) {
            return y.mul(a.log());
        }
        Var safe = Var.where(zero, Var.scalarLike(1, a), a);
        return Var.where(zero, Var.scalarLike(0, y), y.mul(safe.log()));
    }

    /** A constant 0/1 mask of x's dtype and shape where {@code op(x, c)} holds, e.g. x > 0. */
    static Tensor mask(Var x, BinaryOp op, double c) {
        return x.value().apply(op, c);
    }

    /** cond ? 1 : other, elementwise, as a constant of cond's dtype and device (exactly 1 where cond holds). */
    static Var oneWhere(Tensor cond, double other) {
        var on = Tensor.on(cond.device());
        return Var.constant(Tensor.where(cond, on.full(1, cond.dtype()), on.full(other, cond.dtype())));
    }

    /** softplus'(x) = sigmoid(beta x), and 1 where x beta > threshold (the linear part), as PyTorch's softplus_backward. */
    static Var softplusDerivative(Var x, Var out, Var.Softplus a) {
        Tensor linear = x.value().mul(a.beta()).apply(BinaryOp.GT, a.threshold());
        return Var.where(linear, Var.scalarLike(1, x), x.mul(a.beta()).sigmoid());
    }

    /**
     * elu'(x) = alpha e^x for x <= 0, else 1 (NaN included), as PyTorch's elu_backward, so elu'(0) = alpha; e^x is
     * taken of x only where x <= 0 (0 elsewhere, through a where), so a large positive x gives no infinity for a
     * second derivative to multiply by 0.
     */
    static Var eluDerivative(Var x, Var out, Var.Elu a) {
        Tensor negative = mask(x, BinaryOp.LE, 0);
        Var negativePart = Var.where(negative, x, Var.scalarLike(0, x));
        return Var.where(negative, negativePart.exp().mul(a.alpha()), Var.scalarLike(1, x));
    }

    /** gelu'(x) = Phi(x) + x phi(x) (PyTorch's GeluBackward, approximate='none'), or the tanh form's derivative. */
    static Var geluDerivative(Var x, Var out, Var.Gelu a) {
        if (!a.tanh()) {
            Var cdf = x.mul(Math.sqrt(0.5)).erf().add(1).mul(0.5);
            Var pdf = x.square().mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI));
            return cdf.add(x.mul(pdf));
        }
        double k = Math.sqrt(2 / Math.PI);
        double c = 0.044715;
        Var t = x.add(x.square().mul(x).mul(c)).mul(k).tanh();
        Var left = t.add(1).mul(0.5);
        Var right = x.mul(0.5).mul(t.square().rsub(1)).mul(x.square().mul(3 * c).add(1)).mul(k);
        return left.add(right);
    }

    private static boolean any(Tensor mask) {
        return mask.numel() > 0 && mask.max().item() != 0;
    }

    static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inv[perm[i]] = i;
        }
        return inv;
    }

    private static Var keepDimsShape(Var g, Var in, Var.Reduction r) {
        return r.keepDims() ? g : g.reshape(Shape.reducedKeepDims(in.shape(), r.axes()));
    }

    static Var[] sumVjp(Var g, Var out, Var[] in, Var.Reduction r) {
        return new Var[] {keepDimsShape(g, in[0], r).broadcastTo(in[0].shape())};
    }

    /** Weights that share the gradient among the maxima: 1/count where x equals the max, else 0. */
    private static Var maxWeights(Var x, Var out, Var.Reduction r) {
        Tensor maxKeep = keepDimsShape(out, x, r).value();
        Tensor hits = x.value().eq(maxKeep);
        return Var.constant(hits.div(hits.sum(true, r.axes())));
    }

    static Var[] maxVjp(Var g, Var out, Var[] in, Var.Reduction r) {
        return new Var[] {keepDimsShape(g, in[0], r).mul(maxWeights(in[0], out, r))};
    }

    static Var[] prodVjp(Var g, Var out, Var[] in, Var.Reduction r) {
        return new Var[] {keepDimsShape(g, in[0], r).mul(prodOfOthers(in[0], out, r))};
    }

    static Var prodJvp(Var[] t, Var out, Var[] in, Var.Reduction r) {
        return t[0].mul(prodOfOthers(in[0], out, r)).sum(r.keepDims(), r.axes());
    }

    /**
     * d prod / d x_i: the product of the other elements of x_i's group, exact where the group holds zeros, and
     * written with Var operations so that its own derivatives (prod's second derivatives) are exact too:
     * <ul>
     * <li>at a non-zero x_i: out / x_i, from the recorded output, so that where the group holds a zero (out = 0)
     *     its derivative with respect to that zero is still the product of the rest over x_i;</li>
     * <li>at the only zero of its group: the product of the group's non-zero elements (PyTorch's
     *     prod_safe_zeros_backward);</li>
     * <li>at one of exactly two zeros: (the other zero) times the non-zero elements: 0, with the right derivative
     *     with respect to the other zero;</li>
     * <li>at one of three or more zeros: 0, as are all its derivatives.</li>
     * </ul>
     * Without a zero this is out / x alone (PyTorch's formula for that case).
     */
    private static Var prodOfOthers(Var x, Var out, Var.Reduction r) {
        Var p = keepDimsShape(out, x, r);
        Tensor zero = x.value().apply(BinaryOp.EQ, 0.0);
        if (!any(zero)) {
            return p.div(x);
        }
        Var safe = Var.where(zero, Var.scalarLike(1, x), x);
        Tensor count = zero.sum(true, r.axes());                                     // zeros per group
        Var nonZero = safe.prod(true, r.axes());                                     // the product of the non-zero elements
        Var zeros = Var.where(zero, x, Var.scalarLike(0, x)).sum(true, r.axes());   // the sum of the zeros: 0, as a variable
        Var atTwo = zeros.sub(x).mul(nonZero);                                       // the other zero, times the non-zeros
        Var atZero = Var.where(count.apply(BinaryOp.EQ, 1.0), nonZero,
                Var.where(count.apply(BinaryOp.EQ, 2.0), atTwo, Var.scalarLike(0, x)));
        return Var.where(zero, atZero, p.div(safe));
    }

    /** cumsum's adjoint: the reversed cumulative sum. */
    static Var[] cumsumVjp(Var g, Var out, Var[] in, Var.Axis a) {
        return new Var[] {g.flip(a.axis()).cumsum(a.axis()).flip(a.axis())};
    }

    /**
     * sqrt(v) whose derivative is 0 where v == 0 instead of infinite: PyTorch's convention for std and the 2-norm
     * at a constant group or the zero vector (their gradient there is 0, the subgradient). The masked elements take
     * the square root of a safe 1, so every order of derivative is finite (0) there, as {@link #powBase}.
     */
    static Var sqrtWithZeroGradientAtZero(Var v) {
        Tensor zero = v.value().apply(BinaryOp.EQ, 0.0);
        if (!any(zero)) {
            return v.sqrt();
        }
        Var safe = Var.where(zero, Var.scalarLike(1, v), v);
        return Var.where(zero, Var.scalarLike(0, v), safe.sqrt());
    }

    static Var[] sliceVjp(Var g, Var out, Var[] in, Var.Slice s) {
        int axis = s.axis();
        int size = in[0].shape()[axis];
        java.util.List<Var> parts = new java.util.ArrayList<>();
        if (s.start() > 0) {
            parts.add(zerosAlong(in[0], axis, s.start()));
        }
        parts.add(g);
        if (s.end() < size) {
            parts.add(zerosAlong(in[0], axis, size - s.end()));
        }
        return new Var[] {parts.size() == 1 ? g : Var.concat(axis, parts.toArray(new Var[0]))};
    }

    private static Var zerosAlong(Var like, int axis, int length) {
        int[] shape = like.shape();
        shape[axis] = length;
        return Var.constant(Tensor.on(like.value().device()).zeros(like.dtype(), shape));
    }

    static Var[] concatVjp(Var g, Var out, Var[] in, Var.Axis a) {
        int axis = a.axis();
        Var[] grads = new Var[in.length];
        int at = 0;
        for (int i = 0; i < in.length; i++) {
            int len = in[i].shape()[axis];
            grads[i] = need(in, i) ? g.slice(axis, at, at + len) : null;
            at += len;
        }
        return grads;
    }

    static Var[] whereVjp(Var g, Var out, Var[] in, Var.Cond a) {
        Tensor cond = a.cond();
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
    static Var[] matmulVjp(Var g, Var out, Var[] in, Var.Transposes a) {
        boolean ta = a.left();
        boolean tb = a.right();
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

    // ------------------------------------------------------------------ convolution: y = conv(x, w)

    /** dx = conv2dInputGrad(g, w) (the input's size from x: a strided output does not determine it), dw = conv2dWeightGrad(x, g). */
    static Var[] conv2dVjp(Var g, Var out, Var[] in, Var.Conv a) {
        int[] xs = in[0].shape();
        Var dx = need(in, 0) ? Prim.CONV2D_INPUT_GRAD.apply(new Var.ConvInput(a, xs[2], xs[3]), g, in[1]) : null;
        Var dw = need(in, 1) ? Prim.CONV2D_WEIGHT_GRAD.apply(a, in[0], g) : null;
        return new Var[] {dx, dw};
    }

    /**
     * z = conv2dInputGrad(g, w) with adjoint h (input-shaped): since {@code <z, h> = <g, conv(h, w)> = <w, conv2dWeightGrad(h, g)>},
     * dg = conv2d(h, w) and dw = conv2dWeightGrad(h, g).
     */
    static Var[] conv2dInputGradVjp(Var h, Var out, Var[] in, Var.ConvInput a) {
        Var dg = need(in, 0) ? Prim.CONV2D.apply(a.conv(), h, in[1]) : null;
        Var dw = need(in, 1) ? Prim.CONV2D_WEIGHT_GRAD.apply(a.conv(), h, in[0]) : null;
        return new Var[] {dg, dw};
    }

    /**
     * z = conv2dWeightGrad(x, g) with adjoint k (weight-shaped): since {@code <z, k> = <conv(x, k), g> = <x, conv2dInputGrad(g, k)>},
     * dx = conv2dInputGrad(g, k) and dg = conv2d(x, k).
     */
    static Var[] conv2dWeightGradVjp(Var k, Var out, Var[] in, Var.Conv a) {
        int[] xs = in[0].shape();
        Var dx = need(in, 0) ? Prim.CONV2D_INPUT_GRAD.apply(new Var.ConvInput(a, xs[2], xs[3]), in[1], k) : null;
        Var dg = need(in, 1) ? Prim.CONV2D.apply(a, in[0], k) : null;
        return new Var[] {dx, dg};
    }
}
