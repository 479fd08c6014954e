package dev.wengert.autograd;

import dev.wengert.tensor.Activation;
import dev.wengert.tensor.BinaryOp;
import static dev.wengert.autograd.Torch.Group.ELEMENTWISE;
import static dev.wengert.autograd.Torch.Group.INDEXING;
import static dev.wengert.autograd.Torch.Group.REDUCTION;
import static dev.wengert.autograd.Torch.Group.SHAPE;
import static dev.wengert.autograd.Torch.Group.SOFTMAX_AND_LOSSES;
import static dev.wengert.autograd.Torch.Group.SORTING;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.PadMode;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.Window2d;
import dev.wengert.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A tensor value that takes part in differentiation. Operations on variables compute their value at
 * once (define-by-run) and, while {@link Grad#isEnabled() recording} and an input requires grad, append
 * a {@link Node} to the graph: the Wengert list. {@link #backward()} walks that list in reverse and
 * accumulates adjoints into the {@link #grad()} of leaves that require grad. During
 * {@link Forward#jvp forward mode} a variable also carries a {@link #tangent()}.
 *
 * <p>A variable does not own memory beyond its value tensor, which belongs to the enclosing
 * {@link dev.wengert.tensor.Scope} like any tensor.
 *
 * <p><b>Threads.</b> Recording is per thread ({@link Grad} is a thread-local switch) and each thread
 * builds its own graph in its own scopes. Several threads may read the same variables at once, so one
 * model's parameters can be shared: forward passes on every thread, under {@link Grad#noGrad()} for
 * evaluation. What must not be shared is a gradient while it is being filled and used: a backward pass
 * claims each leaf it adds into for its thread until the scope open on that thread closes (a training
 * step's scope: backward, then the optimizer reading the gradients), or until the pass ends when no scope
 * is open. Another thread's backward or {@link #zeroGrad()} that reaches a claimed leaf throws
 * {@link IllegalStateException} naming both threads (one compare-and-set per leaf and pass, no lock), so
 * two threads training one model fail at their first overlapping step instead of mixing their gradients.
 * To compute gradients of shared parameters on several threads, give each thread its own leaves over the
 * shared tensors ({@code Var.param(shared.value())}: their gradients are the thread's own) or its own copy
 * of the model, and combine the gradients afterwards. Steps on different threads one after the other (with
 * a happens-before edge between them, e.g. tasks of an executor) may use the same leaves.
 */
public final class Var {
    private static final java.lang.invoke.VarHandle ACCUMULATING;

    static {
        try {
            ACCUMULATING = java.lang.invoke.MethodHandles.lookup().findVarHandle(Var.class, "accumulating", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Tensor value;
    private final boolean requiresGrad;
    private Node node;
    private Var grad;
    private Var tangent;
    private boolean retainGrad;
    private String name;
    /**
     * For a constant computed from variables that require grad through a mask op (a comparison, a logical op,
     * isnan, ...): that op's name, kept through later unrecorded ops, so that backward can say which op cut
     * the gradient. Null otherwise.
     */
    private String cutBy;
    /** The thread whose backward pass claimed {@link #grad} (until its scope closes), or null. */
    private volatile Thread accumulating;

    Var(Tensor value, boolean requiresGrad) {
        this.value = value;
        this.requiresGrad = requiresGrad;
    }

    // ------------------------------------------------------------------ creation

    /** A leaf that requires grad: a parameter or an input to differentiate with respect to. */
    public static Var param(Tensor value) {
        if (!value.dtype().isFloating()) {
            throw new IllegalArgumentException("param: gradients of integer tensors are not defined (" + value.describe()
                    + "); use a float tensor, or Var.constant for labels and indices");
        }
        return new Var(value, true);
    }

    /** A leaf that does not require grad. */
    public static Var constant(Tensor value) {
        return new Var(value, false);
    }

    /** A scalar constant with the dtype and device of {@code like}. */
    static Var scalarLike(double v, Var like) {
        return constant(Tensor.on(like.value.device()).full(v, like.value.dtype()));
    }

    /** Gives this variable a name for Wengert lists and graphs. Returns this. */
    public Var named(String name) {
        this.name = name;
        return this;
    }

    public String name() {
        return name;
    }

    // ------------------------------------------------------------------ properties

    public Tensor value() {
        return value;
    }

    public int[] shape() {
        return value.shape();
    }

    public DType dtype() {
        return value.dtype();
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** True when this variable was not produced by a recorded operation. */
    public boolean isLeaf() {
        return node == null;
    }

    /** The node that produced this variable, or null for a leaf. */
    public Node node() {
        return node;
    }

    /** The accumulated gradient (a leaf's, or a non-leaf's after {@link #retainGrad()}), or null. */
    public Var grad() {
        return grad;
    }

    /** The accumulated gradient's tensor, or null. */
    public Tensor gradTensor() {
        return grad == null ? null : grad.value;
    }

    /** The forward-mode tangent (J v) while inside {@link Forward#jvp}, else null. */
    public Var tangent() {
        return tangent;
    }

    void setTangent(Var t) {
        this.tangent = t;
    }

    /** Asks backward to store this non-leaf's gradient too. Returns this. */
    public Var retainGrad() {
        retainGrad = true;
        return this;
    }

    boolean retainsGrad() {
        return retainGrad;
    }

    /** The value of a one-element variable. */
    public double item() {
        return value.item();
    }

    /** A constant with the same value: gradients do not flow through it. */
    public Var detach() {
        return constant(value);
    }

    // ------------------------------------------------------------------ gradients

    /** Reverse mode from a scalar output: adds d this / d leaf into every leaf's grad. Frees the graph. */
    public void backward() {
        Backward.run(this, null, false, false, null);
    }

    /** Reverse mode from a non-scalar output with an explicit cotangent of the same shape. Frees the graph. */
    public void backward(Tensor cotangent) {
        Backward.run(this, cotangent, false, false, null);
    }

    /**
     * Reverse mode with options. {@code retainGraph} keeps the graph for another backward;
     * {@code createGraph} records the backward pass itself so gradients can be differentiated again
     * (implies retainGraph).
     */
    public void backward(Tensor cotangent, boolean retainGraph, boolean createGraph) {
        Backward.run(this, cotangent, retainGraph || createGraph, createGraph, null);
    }

    /**
     * {@link #backward(Tensor, boolean, boolean)} that also reports every adjoint and every term of the
     * multi-parent sums to {@code listener} (used by {@link dev.wengert.autograd.trace.WengertList} to
     * print the adjoint trace). {@code cotangent} may be null for a one-element output.
     */
    public void backward(Tensor cotangent, boolean retainGraph, boolean createGraph, Backward.Listener listener) {
        Backward.run(this, cotangent, retainGraph || createGraph, createGraph, listener);
    }

    /**
     * Forgets the accumulated gradient (frees its memory).
     *
     * @throws IllegalStateException while another thread holds it (from its backward pass until its scope closes)
     */
    public void zeroGrad() {
        Thread holder = accumulating;
        if (holder != null && holder != Thread.currentThread()) {
            throw crossThread("zeroGrad", holder);
        }
        if (grad != null && grad.node == null && !grad.value.isClosed()) {
            grad.value.close();
        }
        grad = null;
    }

    /**
     * Marks this variable's gradient as held by the calling thread's backward pass. Returns true when this
     * call claimed it (the pass must have it {@link #releaseGrad() released}), false when the calling thread
     * already held it.
     *
     * @throws IllegalStateException when another thread's backward pass holds it
     */
    boolean claimGrad() {
        Thread current = Thread.currentThread();
        Thread holder = (Thread) ACCUMULATING.compareAndExchange(this, (Thread) null, current);
        if (holder == null) {
            return true;
        }
        if (holder == current) {
            return false;
        }
        throw crossThread("backward", holder);
    }

    /** Ends the calling thread's claim from {@link #claimGrad()}. */
    void releaseGrad() {
        accumulating = null;
    }

    private IllegalStateException crossThread(String op, Thread holder) {
        String what = (name == null ? "" : "'" + name + "' ") + (value.isClosed() ? "(closed)" : value.describe());
        return new IllegalStateException(op + ": thread '" + Thread.currentThread().getName() + "' cannot change the gradient of the "
                + "leaf variable " + what + ": thread '" + holder.getName() + "' holds it, from its backward pass until the scope open "
                + "there closes (its training step). A leaf (a parameter) must not take part in training steps on several threads "
                + "at once: give each thread its own leaves over the shared tensors (Var.param(shared.value())) or its own copy of "
                + "the model and combine the gradients afterwards; to only evaluate a shared model, run its forward under "
                + "Grad.noGrad()");
    }

    /**
     * Adds an adjoint contribution to the stored gradient.
     *
     * <p><b>Adopted, not copied.</b> The first contribution of a pass without createGraph becomes the gradient: a
     * copy of it, or, when {@code owned}, the contribution's tensor itself, moved into the parameter's scope with no
     * device copy. The reverse sweep says {@code owned} only for a contribution that nothing else can see: computed
     * by a built-in primitive's rule in this pass (its memory allocated while the rule ran, shared with no view, and
     * given to no other input of the node: {@code add}'s rule passes one tensor to both inputs, so neither adopts it),
     * with no {@link Backward.Listener} watching (a listener may keep the contributions it is shown). Everything else
     * (the seed, an adjoint passed through unchanged, a value a forward pass stashed, a user primitive's result) is
     * copied, as before. Later contributions and later passes add in place into the adopted tensor, so
     * {@link #grad()}, {@link #zeroGrad()} (which frees it), accumulation across backward calls, createGraph,
     * {@link #retainGrad()} (a non-leaf's gradient is always copied) and the threads rule are unchanged. What it
     * implies: a gradient's memory is whatever its first contribution was allocated in, so after
     * {@code zeroGrad()} the next pass's gradient may live at another address; a captured CUDA graph that replays a
     * step needs the gradients kept (not zeroed) across steps, or its own persistent buffers.
     */
    void accumulate(Var g, boolean createGraph, boolean owned) {
        if (createGraph) {
            grad = grad == null ? g : grad.add(g);
        } else if (grad == null || grad.node != null || grad.value.isClosed()) {
            Tensor adopted = owned ? g.value : g.value.copy();
            grad = constant(adopted.keepWith(value)); // freed with the parameter, or by zeroGrad()
        } else {
            grad.value.applyInPlace(dev.wengert.tensor.BinaryOp.ADD, g.value);
        }
    }

    // ------------------------------------------------------------------ recording

    /**
     * Records the result of a primitive: {@code value} computed from {@code inputs}. This is the single
     * funnel every differentiable operation goes through; it knows no op.
     */
    static Var record(Prim<?> prim, Object attrs, Tensor value, Var... inputs) {
        prim.check(attrs, inputs.length);
        boolean needs = false;
        boolean tangents = false;
        for (Var in : inputs) {
            needs |= in.requiresGrad;
            tangents |= in.tangent != null;
        }
        needs &= Grad.isEnabled();
        Var out = new Var(value, needs);
        if (needs) {
            out.node = new Node(prim, attrs, inputs, out);
        } else if (Grad.isEnabled()) {
            for (Var in : inputs) {
                if (in.cutBy != null) {
                    out.cutBy = in.cutBy;
                    break;
                }
            }
        }
        if (tangents && Forward.propagating()) {
            out.tangent = Rules.jvp(prim, attrs, inputs, out);
        }
        return out;
    }

    /**
     * Records a user-defined primitive whose value was computed by the caller: the registration API for new
     * primitives. Create the primitive once ({@code new Prim<>("cube")}), give it rules with
     * {@link Rules#define} (written with {@code Var} operations, they can be differentiated again), then record
     * each use:
     * <pre>{@code
     * static final Prim<Void> CUBE = new Prim<>("cube");
     * static {
     *     Rules.define(CUBE, (g, out, in, a) -> new Var[] {g.mul(in[0].square().mul(3))},   // reverse mode
     *             (t, out, in, a) -> t[0].mul(in[0].square().mul(3)));                       // forward mode
     * }
     * static Var cube(Var x) {
     *     return Var.custom(CUBE, null, x.value().pow(3), x);
     * }
     * }</pre>
     * Backward fails with the primitive's name when it has no rule. The built-in primitives' rules cannot be
     * replaced ({@link Rules#define} refuses them).
     */
    public static <A> Var custom(Prim<A> prim, A attrs, Tensor value, Var... inputs) {
        return record(prim, attrs, value, inputs);
    }

    // ------------------------------------------------------------------ elementwise

    public Var add(Var o) {
        return Prim.ADD.apply(this, o);
    }

    public Var add(double c) {
        return add(scalarLike(c, this));
    }

    public Var sub(Var o) {
        return Prim.SUB.apply(this, o);
    }

    public Var sub(double c) {
        return sub(scalarLike(c, this));
    }

    /** c - this. */
    @Torch(value = "torch.rsub", group = ELEMENTWISE, grad = "-1")
    public Var rsub(double c) {
        return scalarLike(c, this).sub(this);
    }

    public Var mul(Var o) {
        return Prim.MUL.apply(this, o);
    }

    public Var mul(double c) {
        return mul(scalarLike(c, this));
    }

    public Var div(Var o) {
        return Prim.DIV.apply(this, o);
    }

    public Var div(double c) {
        return div(scalarLike(c, this));
    }

    public Var pow(Var o) {
        return Prim.POW.apply(this, o);
    }

    public Var pow(double c) {
        return pow(scalarLike(c, this));
    }

    public Var maximum(Var o) {
        return Prim.MAXIMUM.apply(this, o);
    }

    public Var minimum(Var o) {
        return Prim.MINIMUM.apply(this, o);
    }

    /** this * this. */
    @Torch(value = "torch.square", group = ELEMENTWISE, grad = "composed as x · x: 2x")
    public Var square() {
        return mul(this);
    }

    /** cond != 0 ? a : b; differentiable in a and b, not in the condition. */
    public static Var where(Tensor cond, Var a, Var b) {
        return Prim.WHERE.apply(new Cond(cond), a, b);
    }

    /** {@link #where(Tensor, Var, Var)} with a mask variable (a comparison's result): its value is the condition. */
    public static Var where(Var cond, Var a, Var b) {
        return where(cond.value, a, b);
    }

    /** atan2(this, o): the angle of the point (o, this), as torch.atan2(input=this, other=o). */
    public Var atan2(Var o) {
        return Prim.ATAN2.apply(this, o);
    }

    /** this - trunc(this / o) o, the sign of this (torch.fmod, C's fmod). */
    public Var fmod(Var o) {
        return Prim.FMOD.apply(this, o);
    }

    public Var fmod(double c) {
        return fmod(scalarLike(c, this));
    }

    /** this - floor(this / o) o, the sign of o (torch.remainder, Python's %). */
    public Var remainder(Var o) {
        return Prim.REMAINDER.apply(this, o);
    }

    public Var remainder(double c) {
        return remainder(scalarLike(c, this));
    }

    /** sqrt(this^2 + o^2) without intermediate overflow (torch.hypot); its gradient at (0, 0) is NaN, as PyTorch's. */
    public Var hypot(Var o) {
        return Prim.HYPOT.apply(this, o);
    }

    public Var neg() {
        return Prim.NEG.apply(this);
    }

    public Var exp() {
        return Prim.EXP.apply(this);
    }

    public Var log() {
        return Prim.LOG.apply(this);
    }

    public Var sqrt() {
        return Prim.SQRT.apply(this);
    }

    public Var abs() {
        return Prim.ABS.apply(this);
    }

    public Var sin() {
        return Prim.SIN.apply(this);
    }

    public Var cos() {
        return Prim.COS.apply(this);
    }

    public Var tanh() {
        return Prim.TANH.apply(this);
    }

    public Var sigmoid() {
        return Prim.SIGMOID.apply(this);
    }

    public Var relu() {
        return Prim.RELU.apply(this);
    }

    /** The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x (torch.erf). */
    public Var erf() {
        return Prim.ERF.apply(this);
    }

    /** The complementary error function 1 - erf(x), accurate where erf is close to 1 (torch.erfc). */
    public Var erfc() {
        return Prim.ERFC.apply(this);
    }

    /** log(1 + x), accurate near 0 (torch.log1p). */
    public Var log1p() {
        return Prim.LOG1P.apply(this);
    }

    /** e^x - 1, accurate near 0 (torch.expm1). */
    public Var expm1() {
        return Prim.EXPM1.apply(this);
    }

    public Var tan() {
        return Prim.TAN.apply(this);
    }

    public Var atan() {
        return Prim.ATAN.apply(this);
    }

    /** arcsin; NaN outside [-1, 1], and an infinite gradient at +-1. */
    public Var asin() {
        return Prim.ASIN.apply(this);
    }

    /** arccos; NaN outside [-1, 1], and an infinite gradient at +-1. */
    public Var acos() {
        return Prim.ACOS.apply(this);
    }

    public Var sinh() {
        return Prim.SINH.apply(this);
    }

    public Var cosh() {
        return Prim.COSH.apply(this);
    }

    /** 1/x (torch.reciprocal). */
    public Var reciprocal() {
        return Prim.RECIPROCAL.apply(this);
    }

    /** Rounds down; the gradient is zero (torch.floor). */
    public Var floor() {
        return Prim.FLOOR.apply(this);
    }

    /** Rounds up; the gradient is zero. */
    public Var ceil() {
        return Prim.CEIL.apply(this);
    }

    /** Rounds half to even, as torch.round: round(2.5) = 2, round(-0.5) = -0; the gradient is zero. */
    public Var round() {
        return Prim.ROUND.apply(this);
    }

    /** Rounds toward zero; the gradient is zero. */
    public Var trunc() {
        return Prim.TRUNC.apply(this);
    }

    /** -1, 0 or 1, as torch.sign (sign(-0) = +0, sign(NaN) = 0); the gradient is zero. */
    public Var sign() {
        return Prim.SIGN.apply(this);
    }

    /** log(1 + e^x), with torch's beta = 1 and threshold = 20. */
    public Var softplus() {
        return softplus(1, 20);
    }

    /**
     * log(1 + e^(beta x)) / beta, and x itself where x beta > threshold (torch.nn.functional.softplus, whose
     * gradient there is 1).
     */
    public Var softplus(double beta, double threshold) {
        return Prim.SOFTPLUS.apply(new Softplus(beta, threshold), this);
    }

    /** x Phi(x) with the exact normal CDF, Phi(x) = (1 + erf(x/sqrt 2)) / 2 (torch's gelu, approximate='none'). */
    public Var gelu() {
        return Prim.GELU.apply(new Gelu(false), this);
    }

    /**
     * gelu with torch's {@code approximate} argument: "none" (the exact form) or "tanh",
     * x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
     */
    public Var gelu(String approximate) {
        return Prim.GELU.apply(Gelu.of(approximate), this);
    }

    /** x sigmoid(x) (torch's silu, also called swish). */
    public Var silu() {
        return Prim.SILU.apply(this);
    }

    /** x for x > 0, 0.01 x otherwise (torch's leaky_relu default slope). */
    public Var leakyRelu() {
        return leakyRelu(0.01);
    }

    /** x for x > 0, slope x otherwise; the gradient at 0 is slope, as PyTorch's. */
    public Var leakyRelu(double slope) {
        return Prim.LEAKY_RELU.apply(new LeakyRelu(slope), this);
    }

    /** x for x > 0, e^x - 1 otherwise (alpha = 1). */
    public Var elu() {
        return elu(1);
    }

    /** x for x > 0, alpha (e^x - 1) otherwise; the gradient at 0 is alpha, as PyTorch's. */
    public Var elu(double alpha) {
        return Prim.ELU.apply(new Elu(alpha), this);
    }

    /**
     * min(max(x, min), max), NaN staying NaN (torch.clamp); use -inf / +inf for a missing bound ({@link #clampMin},
     * {@link #clampMax}). The gradient passes where min &lt;= x &lt;= max, bounds included, as PyTorch's; where min > max
     * every element is max.
     *
     * @throws IllegalArgumentException when a bound is NaN
     */
    public Var clamp(double min, double max) {
        return Prim.CLAMP.apply(new Clamp(min, max), this);
    }

    /** max(x, min) with the gradient where x >= min (torch.clamp(x, min=min)). */
    @Torch(value = "torch.clamp(min=)", group = ELEMENTWISE, grad = "as clamp")
    public Var clampMin(double min) {
        return clamp(min, Double.POSITIVE_INFINITY);
    }

    /** min(x, max) with the gradient where x &lt;= max (torch.clamp(x, max=max)). */
    @Torch(value = "torch.clamp(max=)", group = ELEMENTWISE, grad = "as clamp")
    public Var clampMax(double max) {
        return clamp(Double.NEGATIVE_INFINITY, max);
    }

    // ------------------------------------------------------------------ masks: constants, no gradient

    /*
     * Comparisons, logical ops and the isnan/isinf/isfinite tests give a 0/1 mask in the operands' dtype. As in
     * PyTorch, where they return bool tensors that cannot require grad, the result is a constant: nothing is
     * recorded, and a backward from a value that depends on the variables only through a mask fails naming the
     * mask's op. Use a mask to select (Var.where) or to weight (mul) values that are differentiated.
     */

    /** 1 where this == o, else 0 (a constant). */
    @Torch(value = "torch.eq", group = ELEMENTWISE, grad = "none: a constant 0/1 mask; a gradient asked for only through it fails naming the op", differs = "0/1 in the operands' dtype, not bool")
    public Var eq(Var o) {
        return mask(BinaryOp.EQ, o);
    }

    public Var eq(double c) {
        return eq(scalarLike(c, this));
    }

    /** 1 where this != o (NaN included), else 0 (a constant). */
    @Torch(value = "torch.ne", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var ne(Var o) {
        return mask(BinaryOp.NE, o);
    }

    public Var ne(double c) {
        return ne(scalarLike(c, this));
    }

    /** 1 where this &lt; o, else 0 (a constant). */
    @Torch(value = "torch.lt", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var lt(Var o) {
        return mask(BinaryOp.LT, o);
    }

    public Var lt(double c) {
        return lt(scalarLike(c, this));
    }

    /** 1 where this &lt;= o, else 0 (a constant). */
    @Torch(value = "torch.le", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var le(Var o) {
        return mask(BinaryOp.LE, o);
    }

    public Var le(double c) {
        return le(scalarLike(c, this));
    }

    /** 1 where this > o, else 0 (a constant). */
    @Torch(value = "torch.gt", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var gt(Var o) {
        return mask(BinaryOp.GT, o);
    }

    public Var gt(double c) {
        return gt(scalarLike(c, this));
    }

    /** 1 where this >= o, else 0 (a constant). */
    @Torch(value = "torch.ge", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var ge(Var o) {
        return mask(BinaryOp.GE, o);
    }

    public Var ge(double c) {
        return ge(scalarLike(c, this));
    }

    /** 1 where both are nonzero (NaN counts as true), else 0 (a constant). */
    @Torch(value = "torch.logical_and", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var logicalAnd(Var o) {
        return mask(BinaryOp.LOGICAL_AND, o);
    }

    /** 1 where either is nonzero (NaN counts as true), else 0 (a constant). */
    @Torch(value = "torch.logical_or", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operands' dtype, not bool")
    public Var logicalOr(Var o) {
        return mask(BinaryOp.LOGICAL_OR, o);
    }

    /** 1 where this is 0, else 0 (a constant). */
    @Torch(value = "torch.logical_not", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operand's dtype, not bool")
    public Var logicalNot() {
        return mask(UnaryOp.LOGICAL_NOT);
    }

    /** 1 where this is NaN, else 0 (a constant). */
    @Torch(value = "torch.isnan", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operand's dtype, not bool")
    public Var isnan() {
        return mask(UnaryOp.ISNAN);
    }

    /** 1 where this is +-inf, else 0 (a constant). */
    @Torch(value = "torch.isinf", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operand's dtype, not bool")
    public Var isinf() {
        return mask(UnaryOp.ISINF);
    }

    /** 1 where this is finite, else 0 (a constant). */
    @Torch(value = "torch.isfinite", group = ELEMENTWISE, grad = "none (a constant mask)", differs = "0/1 in the operand's dtype, not bool")
    public Var isfinite() {
        return mask(UnaryOp.ISFINITE);
    }

    private Var mask(BinaryOp op, Var o) {
        return maskOf(op.opName(), value.apply(op, o.value), this, o);
    }

    private Var mask(UnaryOp op) {
        return maskOf(op.opName(), value.apply(op), this);
    }

    /** A mask's constant result, remembering the op when an input requires grad (for backward's message). */
    private static Var maskOf(String op, Tensor value, Var... in) {
        Var out = constant(value);
        if (Grad.isEnabled()) {
            for (Var v : in) {
                if (v.requiresGrad || v.cutBy != null) {
                    out.cutBy = v.requiresGrad ? op : v.cutBy;
                    break;
                }
            }
        }
        return out;
    }

    /**
     * The mask op through which this constant depends on variables that require grad (see the mask methods), or
     * null. Backward names it when asked for a gradient through it.
     */
    String cutBy() {
        return cutBy;
    }

    /** Converts between float types; the gradient is converted back. */
    public Var cast(DType target) {
        if (!target.isFloating() && requiresGrad) {
            throw new IllegalArgumentException("cast: casting a variable that requires grad to " + target
                    + " would cut the gradient; detach() it first");
        }
        return Prim.CAST.apply(new Cast(value.dtype(), target), this);
    }

    // ------------------------------------------------------------------ linear algebra and reductions

    public Var matmul(Var o) {
        return matmul(false, o, false);
    }

    /**
     * op(this) @ op(o) as torch.matmul, transposing the last two dimensions of a flagged operand without a copy:
     * vectors are rows (left) or columns (right) whose dimension the result drops, and batch dimensions broadcast.
     * Shapes the primitive does not take (it runs 2-D and 3-D with equal batches or one 2-D operand) are reshaped
     * (and broadcast) to ones it does, so their gradients come back through reshape and broadcastTo.
     */
    public Var matmul(boolean transposeThis, Var o, boolean transposeOther) {
        Transposes t = new Transposes(transposeThis, transposeOther);
        int[] a = shape();
        int[] b = o.shape();
        if (Shape.isDirectMatmul(a, b)) {
            return Prim.MATMUL.apply(t, this, o);
        }
        int[] result = Shape.matmul("matmul", a, transposeThis, b, transposeOther);
        return reshapeIfNeeded(Prim.MATMUL.apply(t, matmulOperand(this, true, a, b), matmulOperand(o, false, b, a)), result);
    }

    private static Var matmulOperand(Var v, boolean left, int[] s, int[] other) {
        int[][] plan = Shape.matmulOperand(s, left, other);
        return reshapeIfNeeded(plan[1] == null ? v : v.broadcastTo(plan[1]), plan[0]);
    }

    private static Var reshapeIfNeeded(Var v, int[] shape) {
        return Arrays.equals(v.shape(), shape) ? v : v.reshape(shape);
    }

    // ------------------------------------------------------------------ convolution and pooling

    /**
     * 2-D convolution of this [N, C, H, W] with weight [Cout, C/groups, kh, kw] (torch.nn.functional.conv2d
     * without bias); the window's kernel must be the weight's. See {@link Prim#CONV2D}.
     */
    public Var conv2d(Var weight, Window2d window, int groups) {
        return Prim.CONV2D.apply(new Conv(window, groups), this, weight);
    }

    /** conv2d with a square kernel taken from the weight, the given stride and padding, dilation 1 and one group. */
    public Var conv2d(Var weight, int stride, int padding) {
        int[] ws = weight.shape();
        if (ws.length != 4) {
            throw new IllegalArgumentException("conv2d: weight must be 4-D [Cout, C, kh, kw], got " + weight.value().describe());
        }
        return conv2d(weight, new Window2d(ws[2], ws[3], stride, stride, padding, padding, 1, 1), 1);
    }

    /** torch.nn.functional.unfold (im2col, zero padding): [N, C*kh*kw, OH*OW]. */
    public Var unfold(Window2d window) {
        return Prim.UNFOLD.apply(new Window(window), this);
    }

    /** torch.nn.functional.fold (col2im): columns [N, C*kh*kw, OH*OW] summed into [N, C, height, width]. */
    public Var fold(Window2d window, int height, int width) {
        return Prim.FOLD.apply(new Fold(window, height, width), this);
    }

    /**
     * Max pooling (torch.nn.functional.max_pool2d): the maximum is found on the tensors
     * ({@link Tensor#maxPool2dWithIndices}) and gathered, so the gradient goes to the first maximum of each window
     * (a scatter-add at its index: overlapping windows accumulate), as PyTorch.
     */
    @Torch(value = "torch.nn.functional.max_pool2d", group = Torch.Group.CONVOLUTION, grad = "to the first maximum of each window (PyTorch's index); overlapping windows add up; NaN propagates",
            differs = "no ceil_mode; padding at most half the kernel, as PyTorch")
    public Var maxPool2d(Window2d window) {
        int[] s = shape();
        Tensor[] pooled = value.maxPool2dWithIndices(window);
        pooled[0].close();
        int[] os = pooled[1].shape();
        Tensor index = pooled[1].reshape(s[0], s[1], os[2] * os[3]);
        pooled[1].close();
        return reshape(s[0], s[1], s[2] * s[3]).gather(2, index).reshape(os);
    }

    /** Max pooling with a square kernel, stride and padding. */
    public Var maxPool2d(int kernel, int stride, int padding) {
        return maxPool2d(Window2d.of(kernel, stride, padding));
    }

    /** Average pooling (torch.nn.functional.avg_pool2d with count_include_pad=True): the mean of the unfolded windows. */
    @Torch(value = "torch.nn.functional.avg_pool2d", group = Torch.Group.CONVOLUTION, grad = "composed (unfold, mean): each window's gradient shared equally, padding counted",
            differs = "count_include_pad=True only (PyTorch's default), no ceil_mode or divisor_override")
    public Var avgPool2d(Window2d window) {
        int[] s = shape();
        int oh = window.outH(s[2]);
        int ow = window.outW(s[3]);
        if (2 * window.padH() > window.kernelH() || 2 * window.padW() > window.kernelW()) {
            throw new IllegalArgumentException("avgPool2d: padding must be at most half the kernel size (as PyTorch), got " + window);
        }
        return unfold(window).reshape(s[0], s[1], window.kernelSize(), oh * ow).mean(false, 2).reshape(s[0], s[1], oh, ow);
    }

    /** Global average pooling (torch.nn.AdaptiveAvgPool2d(1)): the mean over height and width, [N, C, 1, 1]. */
    @Torch(value = "torch.nn.functional.adaptive_avg_pool2d(x, 1)", group = Torch.Group.CONVOLUTION, grad = "composed (mean)")
    public Var globalAvgPool2d() {
        if (value.rank() != 4) {
            throw new IllegalArgumentException("globalAvgPool2d: input must be 4-D [N, C, H, W], got " + value.describe());
        }
        return mean(true, 2, 3);
    }

    /** Sum of all elements. */
    public Var sum() {
        return sum(false);
    }

    /** Sum along {@code axes} (all when empty). */
    public Var sum(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("sum", axes, value.rank());
        return Prim.SUM.apply(new Reduction(ax, keepDims), this);
    }

    public Var mean() {
        return mean(false);
    }

    /** Mean along {@code axes}: composed as sum * (1/count). */
    @Torch(value = "torch.mean", group = REDUCTION, grad = "composed as sum × 1/count")
    public Var mean(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("mean", axes, value.rank());
        int count = 1;
        for (int a : ax) {
            count *= value.dim(a);
        }
        return sum(keepDims, ax).mul(1.0 / count);
    }

    /** Maximum along {@code axes}; ties share the gradient equally. */
    public Var max(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("max", axes, value.rank());
        return Prim.MAX.apply(new Reduction(ax, keepDims), this);
    }

    public Var max() {
        return max(false);
    }

    /** Numerically stable log-softmax (a fused primitive; tested against its composition). */
    public Var logSoftmax(int axis) {
        int a = Shape.axis("logSoftmax", axis, value.rank());
        return Prim.LOG_SOFTMAX.apply(new Axis(a), this);
    }

    /**
     * Softmax cross-entropy per row against int64 class labels [rows]: loss[r] = logsumexp(this[r, :]) -
     * this[r, labels[r]], for logits [rows, classes]. A fused primitive (one pass forward, one backward);
     * tested against logSoftmax + gather. Not differentiable in the labels.
     */
    public Var softmaxCrossEntropy(Tensor labels) {
        return Prim.SOFTMAX_CROSS_ENTROPY.apply(new Labels(labels), this);
    }

    /**
     * The mean over rows of {@link #softmaxCrossEntropy}: a scalar, torch's cross_entropy with its default mean
     * reduction. One primitive whose forward also computes its gradient (softmax - oneHot) / rows in the same pass
     * (one launch on CUDA for up to a few thousand rows) and keeps it for the backward, which then costs nothing
     * when the upstream gradient is backward()'s seed 1 and one scaling otherwise. Not differentiable in the labels.
     */
    public Var softmaxCrossEntropyMean(Tensor labels) {
        // only a recorded loss has a backward to keep the gradient for (evaluation under noGrad computes the loss alone)
        Stash stash = Grad.isEnabled() && requiresGrad ? new Stash() : Stash.unused();
        return Prim.SOFTMAX_CROSS_ENTROPY_MEAN.apply(new LabelsMean(labels, stash), this);
    }

    /**
     * A fused linear layer, act(this W^T + b), for this [rows, in], {@code weight} [out, in] (PyTorch's layout)
     * and {@code bias} [out]: one primitive (a GEMM and one bias-and-activation kernel on CUDA; its first-order
     * backward is one kernel for the activation's and the bias's gradients, then one GEMM per weight and input
     * gradient). An input of another rank is reshaped to [-1, in] around the primitive (a vector gives [out]).
     */
    public Var linear(Var weight, Var bias, Activation activation) {
        java.util.Objects.requireNonNull(activation, "activation");
        int[] s = shape();
        if (s.length == 2) {
            return Prim.LINEAR.apply(new LinearActivation(activation), this, weight, bias);
        }
        if (s.length == 0 || weight.shape().length != 2) {
            throw new IllegalArgumentException("linear: input " + value.describe() + " must have at least one dimension "
                    + "(features last) and the weight " + weight.value().describe() + " two ([out, in])");
        }
        int in = s[s.length - 1];
        int[] outShape = s.clone();
        outShape[s.length - 1] = weight.shape()[0];
        Var y = Prim.LINEAR.apply(new LinearActivation(activation), reshape(-1, in), weight, bias);
        return y.reshape(outShape);
    }

    /**
     * Batch normalisation in training mode over the channel axis 1 of this [N, C, ...] (rank 2 or more): per channel,
     * with the batch's mean and biased variance over every axis but 1, y = (x - mean) / sqrt(var + eps) weight + bias,
     * for {@code weight} and {@code bias} [C], all in this variable's dtype. One primitive: on a backend with the
     * kernels its forward is one kernel and its first-order backward another; recorded (create-graph) its adjoints are
     * written with variables, so every order is exact. No running statistics: {@link #batchNorm(Var, Var, double,
     * BatchStats)} hands out the batch's statistics for a module to update its own.
     */
    public Var batchNorm(Var weight, Var bias, double eps) {
        return batchNorm(weight, bias, eps, new BatchStats());
    }

    /**
     * {@link #batchNorm(Var, Var, double)}, leaving the batch's mean and biased variance [C] in {@code stats} (modified;
     * one per application): what models' BatchNorm reads to update its running statistics.
     */
    public Var batchNorm(Var weight, Var bias, double eps, BatchStats stats) {
        return Prim.BATCH_NORM.apply(new BatchNormAttrs(eps, stats), this, weight, bias);
    }

    /** Softmax, composed as exp(logSoftmax). */
    @Torch(value = "torch.softmax", group = SOFTMAX_AND_LOSSES, grad = "composed as exp(logSoftmax)")
    public Var softmax(int axis) {
        return logSoftmax(axis).exp();
    }

    /**
     * log(sum(exp(x))) along {@code axes}, composed stably: m + log(sum(exp(x - m))) with m = max (detached),
     * and m = 0 where the max is infinite (as PyTorch), so a row of -inf gives -inf, not -inf - -inf = NaN,
     * and a row holding +inf gives +inf. The gradient is softmax(x) elsewhere; in a row of -inf it is NaN,
     * as PyTorch's exp(x - result).
     */
    @Torch(value = "torch.logsumexp", group = REDUCTION, grad = "softmax; NaN in a row of -inf, as PyTorch's exp(x - result)",
            differs = "composed stably: the shift is the max (detached), 0 where it is infinite")
    public Var logSumExp(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("logSumExp", axes, value.rank());
        Tensor max = value.max(true, ax);
        Tensor infinite = max.abs().apply(dev.wengert.tensor.BinaryOp.EQ, Double.POSITIVE_INFINITY);
        Var m = constant(Tensor.where(infinite, Tensor.on(value.device()).zeros(value.dtype()), max));
        Var lse = sub(m).exp().sum(true, ax).log().add(m);
        return keepDims ? lse : lse.reshape(Shape.reducedDropDims(value.shape(), ax));
    }

    // ------------------------------------------------------------------ movement

    public Var reshape(int... shape) {
        return Prim.RESHAPE.apply(new Dims(shape.clone()), this);
    }

    public Var permute(int... perm) {
        int[] p = new int[perm.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Shape.axis("permute", perm[i], value.rank());
        }
        return Prim.PERMUTE.apply(new Permutation(p), this);
    }

    /** Swaps the last two dimensions. */
    @Torch(value = "torch.Tensor.mT, torch.transpose(x, -2, -1)", group = SHAPE, grad = "composed as permute",
            differs = "swaps the last two dimensions only (permute for others)")
    public Var transpose() {
        int r = value.rank();
        if (r < 2) {
            throw new IllegalArgumentException("transpose: needs rank 2 or more, got " + value.describe());
        }
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = i;
        }
        p[r - 1] = r - 2;
        p[r - 2] = r - 1;
        return permute(p);
    }

    public Var slice(int axis, int start, int end) {
        int a = Shape.axis("slice", axis, value.rank());
        return Prim.SLICE.apply(new Slice(a, start, end), this);
    }

    public static Var concat(int axis, Var... parts) {
        int a = parts.length == 0 ? axis : Shape.axis("concat", axis, parts[0].value.rank());
        return Prim.CONCAT.apply(new Axis(a), parts);
    }

    public Var broadcastTo(int... shape) {
        return Prim.BROADCAST_TO.apply(new Dims(shape.clone()), this);
    }

    /** torch.gather along {@code axis} with an int64 index (not differentiable in the index). */
    public Var gather(int axis, Tensor index) {
        int a = Shape.axis("gather", axis, value.rank());
        return Prim.GATHER.apply(new Indexing(a, index), this);
    }

    /** A copy of this with {@code src} added at {@code index} along {@code axis}; linear in both. */
    public Var scatterAdd(int axis, Tensor index, Var src) {
        int a = Shape.axis("scatterAdd", axis, value.rank());
        return Prim.SCATTER_ADD.apply(new Indexing(a, index), this, src);
    }

    // ------------------------------------------------------------------ reductions and scans composed of primitives

    /** Minimum of all elements; see {@link #min(boolean, int...)}. */
    public Var min() {
        return min(false);
    }

    /** Minimum along {@code axes} (all when empty), composed as -max(-x): ties share the gradient equally, as max. */
    @Torch(value = "torch.amin, torch.min(x)", group = REDUCTION, grad = "composed as -max(-x): ties share the gradient equally, as max",
            differs = "torch.min(x, dim) returns values and indices and gives the gradient to the returned index only: gather at argmin for that")
    public Var min(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("min", axes, value.rank());
        return neg().max(keepDims, ax).neg();
    }

    /** torch.amax: the same as {@link #max(boolean, int...)}, whose ties already share the gradient equally. */
    @Torch(value = "torch.amax", group = REDUCTION, grad = "ties share the gradient equally", differs = "an alias of max")
    public Var amax(boolean keepDims, int... axes) {
        return max(keepDims, axes);
    }

    /** torch.amin: the same as {@link #min(boolean, int...)}. */
    @Torch(value = "torch.amin", group = REDUCTION, grad = "ties share the gradient equally", differs = "an alias of min")
    public Var amin(boolean keepDims, int... axes) {
        return min(keepDims, axes);
    }

    /** Index (int64) of the first maximum along {@code axis}: a tensor, not differentiable. */
    @Torch(value = "torch.argmax", group = REDUCTION, grad = "none", differs = "returns an int64 Tensor; ties: the first")
    public Tensor argmax(int axis, boolean keepDims) {
        return value.argmax(axis, keepDims);
    }

    /** Index (int64) of the first minimum along {@code axis}: a tensor, not differentiable. */
    @Torch(value = "torch.argmin", group = REDUCTION, grad = "none", differs = "returns an int64 Tensor; ties: the first")
    public Tensor argmin(int axis, boolean keepDims) {
        return value.argmin(axis, keepDims);
    }

    /** Product of all elements. */
    public Var prod() {
        return prod(false);
    }

    /** Product along {@code axes} (all when empty); the gradient is exact where elements are 0 (see {@link Prim#PROD}). */
    public Var prod(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("prod", axes, value.rank());
        return Prim.PROD.apply(new Reduction(ax, keepDims), this);
    }

    /** Cumulative sum along {@code axis} (torch.cumsum). */
    public Var cumsum(int axis) {
        int a = Shape.axis("cumsum", axis, value.rank());
        return Prim.CUMSUM.apply(new Axis(a), this);
    }

    /** Sample variance of all elements (correction 1). */
    public Var var() {
        return var(1, false);
    }

    /** Variance along {@code axes} with Bessel's correction (divisor n - 1). */
    public Var var(boolean keepDims, int... axes) {
        return var(1, keepDims, axes);
    }

    /**
     * Variance along {@code axes} (all when empty): the sum of squared deviations from the mean over
     * max(0, n - correction), as torch.var(correction=...); 1 is the sample variance, 0 the population's.
     * Composed of mean, sub, mul and sum, so its gradient 2 (x - mean) / (n - correction) is exact.
     */
    @Torch(value = "torch.var", group = REDUCTION, grad = "composed: 2 (x - mean) / (n - correction)",
            differs = "var(correction, keepDims, axes...); correction 1 by default, as PyTorch; n - correction <= 0 divides by 0 (inf or NaN), as PyTorch")
    public Var var(int correction, boolean keepDims, int... axes) {
        int[] ax = Shape.axes("var", axes, value.rank());
        int n = 1;
        for (int a : ax) {
            n *= value.dim(a);
        }
        Var d = sub(mean(true, ax));
        return d.square().sum(keepDims, ax).div(Math.max(0, n - correction));
    }

    /** Sample standard deviation of all elements (correction 1). */
    public Var std() {
        return std(1, false);
    }

    /** Standard deviation along {@code axes} with Bessel's correction. */
    public Var std(boolean keepDims, int... axes) {
        return std(1, keepDims, axes);
    }

    /** The square root of {@link #var(int, boolean, int...)}; its gradient is 0 where the variance is 0 (a constant group), as PyTorch. */
    @Torch(value = "torch.std", group = REDUCTION, grad = "(x - mean) / ((n - correction) std); 0 for a constant group (PyTorch masks it too), finite to every order there",
            differs = "std(correction, keepDims, axes...), as var")
    public Var std(int correction, boolean keepDims, int... axes) {
        return Rules.sqrtWithZeroGradientAtZero(var(correction, keepDims, axes));
    }

    /** The 2-norm of all elements. */
    public Var norm() {
        return norm(2, false);
    }

    /**
     * The vector p-norm along {@code axes} (all when empty), as torch.linalg.vector_norm, for p = 1 (sum |x|), 2
     * and infinity (max |x|). Gradients follow PyTorch's subgradients: sign(x) for p = 1 (0 at 0), x / norm for
     * p = 2 (0 at the zero vector), and for p = infinity sign(x) shared equally among the elements of largest
     * magnitude.
     */
    @Torch(value = "torch.linalg.vector_norm", group = REDUCTION, grad = "p = 1: sign(x), 0 at 0; p = 2: x / norm, 0 at the zero vector "
            + "(finite to every order there); p = inf: sign(x) shared equally among the largest |x|; all as PyTorch",
            differs = "norm(p, keepDims, axes...) with p = 1, 2 or Double.POSITIVE_INFINITY only")
    public Var norm(double p, boolean keepDims, int... axes) {
        Shape.checkNormOrder("norm", p);
        int[] ax = Shape.axes("norm", axes, value.rank());
        if (p == 1) {
            return abs().sum(keepDims, ax);
        }
        if (p == 2) {
            return Rules.sqrtWithZeroGradientAtZero(square().sum(keepDims, ax));
        }
        return abs().max(keepDims, ax);
    }

    // ------------------------------------------------------------------ shape ops composed of primitives

    /** This without its size-1 dimensions among {@code axes} (all size-1 dimensions when none): a reshape. */
    @Torch(value = "torch.squeeze", group = SHAPE, grad = "composed as reshape", differs = "a listed dimension of another size stays, as PyTorch")
    public Var squeeze(int... axes) {
        return reshapeIfNeeded(this, Shape.squeeze("squeeze", shape(), axes));
    }

    /** This with a dimension of size 1 inserted at {@code axis} (-1 appends one): a reshape. */
    @Torch(value = "torch.unsqueeze", group = SHAPE, grad = "composed as reshape")
    public Var unsqueeze(int axis) {
        return reshape(Shape.unsqueeze("unsqueeze", shape(), axis));
    }

    /** Joins variables of equal shape along a new dimension {@code axis}: unsqueeze and concat. */
    @Torch(value = "torch.stack", group = SHAPE, grad = "composed as unsqueeze + concat: slices of the gradient",
            differs = "stack(axis, parts...): the axis first")
    public static Var stack(int axis, Var... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("stack: needs at least one variable");
        }
        for (int i = 1; i < parts.length; i++) {
            if (!Arrays.equals(parts[0].shape(), parts[i].shape())) {
                throw new IllegalArgumentException("stack: input " + i + " " + parts[i].value.describe() + " differs in shape from input 0 "
                        + parts[0].value.describe());
            }
        }
        int a = Shape.newAxis("stack", axis, parts[0].value.rank());
        Var[] lifted = new Var[parts.length];
        for (int i = 0; i < parts.length; i++) {
            lifted[i] = parts[i].unsqueeze(a);
        }
        return concat(a, lifted);
    }

    /** {@code length} elements from {@code start} along {@code axis}; a negative start counts from the end: a slice. */
    @Torch(value = "torch.narrow", group = SHAPE, grad = "composed as slice: the gradient padded with zeros")
    public Var narrow(int axis, int start, int length) {
        int a = Shape.axis("narrow", axis, value.rank());
        int s = start < 0 ? start + value.dim(a) : start;
        if (length < 0) {
            throw new IllegalArgumentException("narrow: negative length " + length);
        }
        return slice(a, s, s + length);
    }

    /** Pieces of {@code size} along {@code axis}, the last one smaller when it does not divide: slices. */
    @Torch(value = "torch.split", group = SHAPE, grad = "composed as slices", differs = "split(axis, size) and split(axis, int[] sizes): the axis first")
    public Var[] split(int axis, int size) {
        int a = Shape.axis("split", axis, value.rank());
        return sections(a, Shape.splitSizes("split", value.dim(a), size));
    }

    /** Pieces of the given sizes along {@code axis}, summing to its length. */
    public Var[] split(int axis, int[] sizes) {
        int a = Shape.axis("split", axis, value.rank());
        Shape.checkSections("split", value.dim(a), sizes);
        return sections(a, sizes);
    }

    /** {@code chunks} pieces along {@code axis} (fewer when the length does not allow that many), as torch.chunk: slices. */
    @Torch(value = "torch.chunk", group = SHAPE, grad = "composed as slices", differs = "chunk(axis, chunks): the axis first")
    public Var[] chunk(int axis, int chunks) {
        int a = Shape.axis("chunk", axis, value.rank());
        return sections(a, Shape.chunkSizes("chunk", value.dim(a), chunks));
    }

    private Var[] sections(int axis, int[] sizes) {
        Var[] out = new Var[sizes.length];
        int at = 0;
        for (int i = 0; i < sizes.length; i++) {
            out[i] = slice(axis, at, at + sizes[i]);
            at += sizes[i];
        }
        return out;
    }

    /** The order of elements reversed along each of {@code axes} (at least one). */
    public Var flip(int... axes) {
        return Prim.FLIP.apply(new Axes(Shape.flipAxes("flip", axes, value.rank())), this);
    }

    /**
     * This repeated {@code reps[i]} times along dimension i, as torch.tile (fewer repetitions than dimensions repeat
     * the leading ones once; more add leading dimensions): composed as reshape, broadcastTo and reshape, so the
     * gradient is the sum over the copies.
     */
    @Torch(value = "torch.tile", group = SHAPE, grad = "composed as reshape + broadcastTo + reshape: the sum over the copies")
    public Var tile(int... reps) {
        int[][] plan = Shape.tile("tile", shape(), reps);
        return reshape(plan[0]).broadcastTo(plan[1]).reshape(plan[2]);
    }

    /** torch.Tensor.repeat: {@link #tile} with at least one repetition count per dimension. */
    @Torch(value = "torch.Tensor.repeat", group = SHAPE, grad = "as tile")
    public Var repeat(int... reps) {
        Shape.checkRepeat("repeat", shape(), reps);
        return tile(reps);
    }

    /** Constant padding with zeros; see {@link #pad(int[], PadMode, double)}. */
    public Var pad(int... pads) {
        return pad(pads, PadMode.CONSTANT, 0);
    }

    /**
     * torch.nn.functional.pad: {@code pads} holds (before, after) pairs from the last dimension backwards; a
     * {@link PadMode#CONSTANT} padding is {@code value}, the other modes copy elements (see {@link PadMode}).
     * Composed of slices, flips, broadcasts and a concatenation per padded dimension.
     */
    @Torch(value = "torch.nn.functional.pad", group = SHAPE, grad = "composed of slice, flip, broadcastTo and concat: constant padding gets no gradient, "
            + "copied elements (reflect, replicate, circular) add theirs to their source",
            differs = "modes constant, reflect, replicate and circular on any dimensions (PyTorch: reflect, replicate and circular on the last 1-3 "
            + "dimensions of batched inputs); no negative padding (use narrow)")
    public Var pad(int[] pads, PadMode mode, double value) {
        int[][] pairs = Shape.padPairs("pad", shape(), pads);
        Var y = this;
        for (int d = pairs.length - 1; d >= 0; d--) {
            int before = pairs[d][0];
            int after = pairs[d][1];
            if (before == 0 && after == 0) {
                continue;
            }
            Shape.checkPad("pad", y.value.dim(d), d, before, after, mode);
            List<Var> parts = new ArrayList<>(3);
            if (before > 0) {
                parts.add(y.padPart(d, before, true, mode, value));
            }
            parts.add(y);
            if (after > 0) {
                parts.add(y.padPart(d, after, false, mode, value));
            }
            y = concat(d, parts.toArray(new Var[0]));
        }
        return y;
    }

    private Var padPart(int axis, int count, boolean before, PadMode mode, double fill) {
        int n = value.dim(axis);
        int[] s = shape();
        s[axis] = count;
        return switch (mode) {
            case CONSTANT -> constant(Tensor.on(value.device()).full(fill, value.dtype(), s));
            case REFLECT -> (before ? slice(axis, 1, count + 1) : slice(axis, n - 1 - count, n - 1)).flip(axis);
            case REPLICATE -> (before ? slice(axis, 0, 1) : slice(axis, n - 1, n)).broadcastTo(s);
            case CIRCULAR -> before ? slice(axis, n - count, n) : slice(axis, 0, count);
        };
    }

    // ------------------------------------------------------------------ indexing and sorting composed of primitives

    /** The slices at the int64 {@code index} (rank 0 or 1) along {@code axis}: a gather with the index broadcast. */
    @Torch(value = "torch.index_select", group = INDEXING, grad = "composed as gather: scatter-add of the gradient (repeated indices accumulate)")
    public Var indexSelect(int axis, Tensor index) {
        int a = Shape.axis("indexSelect", axis, value.rank());
        int[][] plan = Shape.indexSelect("indexSelect", shape(), a, index.dtype(), index.shape());
        return gather(a, index.reshape(plan[0]).broadcastTo(plan[1]));
    }

    /** {@code fill} where {@code mask} (any dtype, broadcasting to this shape) is non-zero, else this: a where. */
    @Torch(value = "torch.Tensor.masked_fill", group = ELEMENTWISE, grad = "composed as where: 0 at the filled elements",
            differs = "the mask is a tensor of any dtype, non-zero meaning true (PyTorch: bool); the value a double")
    public Var maskedFill(Tensor mask, double fill) {
        Shape.checkMask("maskedFill", mask.shape(), shape());
        return where(mask, scalarLike(fill, this), this);
    }

    /** Values sorted along {@code axis} (with their int64 indices): see {@link #sort(int, boolean)}. */
    public Sorted sort(int axis) {
        return sort(axis, false);
    }

    /**
     * The values sorted along {@code axis} and the int64 indices they came from, stably (equal values keep their
     * input order, also descending), NaN sorted as the largest value, as torch.sort(stable=True). The values are a
     * gather at the indices, so the gradient goes back to the elements they came from.
     */
    @Torch(value = "torch.sort(stable=True)", group = SORTING, grad = "composed as gather at the sorting indices; not differentiable in the order",
            differs = "sort(axis, descending) returns Sorted(values, indices); always stable; sorted on the host by default (Backend.argsort: a "
            + "device round trip on CUDA)")
    public Sorted sort(int axis, boolean descending) {
        int a = Shape.axis("sort", axis, value.rank());
        Tensor index = value.argsort(a, descending);
        return new Sorted(gather(a, index), index);
    }

    /** The int64 indices that sort this along {@code axis}, stably: a tensor, not differentiable. */
    @Torch(value = "torch.argsort(stable=True)", group = SORTING, grad = "none", differs = "returns an int64 Tensor; always stable")
    public Tensor argsort(int axis, boolean descending) {
        return value.argsort(axis, descending);
    }

    /**
     * The {@code k} largest (or smallest) values along {@code axis} in sorted order with their int64 indices, ties in
     * input order, as torch.topk(sorted=True): the first k of a stable sort, gathered.
     */
    @Torch(value = "torch.topk", group = SORTING, grad = "composed as gather at the indices: the gradient goes to the selected elements",
            differs = "topk(axis, k, largest) returns Sorted(values, indices); ties keep their input order (PyTorch does not promise an order)")
    public Sorted topk(int axis, int k, boolean largest) {
        int a = Shape.axis("topk", axis, value.rank());
        Tensor index = value.topkIndices(a, k, largest);
        return new Sorted(gather(a, index), index);
    }

    @Override
    public String toString() {
        return "Var(" + (name != null ? name + " = " : "") + value + (requiresGrad ? ", requiresGrad" : "") + ")";
    }

    // ------------------------------------------------------------------ attributes of the primitives (Prim)

    /** Attributes of SUM, MAX and PROD. */
    public record Reduction(int[] axes, boolean keepDims) {
    }

    /** Attributes of FLIP: the (non-negative, sorted) axes. */
    public record Axes(int[] axes) {
    }

    /** The result of {@link #sort} and {@link #topk}: the values (differentiable) and the int64 indices they came from. */
    public record Sorted(Var values, Tensor indices) {
    }

    /** Attributes of GATHER and SCATTER_ADD. */
    public record Indexing(int axis, Tensor index) {
    }

    /** Attributes of LOG_SOFTMAX, CONCAT and CUMSUM: the (non-negative) axis. */
    public record Axis(int axis) {
    }

    /** Attributes of SLICE: elements start..end-1 along axis. */
    public record Slice(int axis, int start, int end) {
    }

    /** Attributes of PERMUTE. */
    public record Permutation(int[] perm) {
    }

    /** Attributes of RESHAPE and BROADCAST_TO: the requested shape. */
    public record Dims(int[] shape) {
    }

    /** Attributes of MATMUL: whether the last two dimensions of the left / right operand are transposed. */
    public record Transposes(boolean left, boolean right) {
    }

    /** Attributes of WHERE: the condition (not differentiable). */
    public record Cond(Tensor cond) {
    }

    /** Attributes of SOFTMAX_CROSS_ENTROPY and SOFTMAX_CROSS_ENTROPY_GRAD: the int64 class labels (not differentiable). */
    public record Labels(Tensor labels) {
    }

    /**
     * Attributes of SOFTMAX_CROSS_ENTROPY_MEAN: the int64 class labels (not differentiable) and the {@link Stash}
     * where the forward leaves the gradient it computed with the loss.
     */
    public record LabelsMean(Tensor labels, Stash stash) {
        public LabelsMean {
            java.util.Objects.requireNonNull(labels, "labels");
            java.util.Objects.requireNonNull(stash, "stash");
        }
    }

    /**
     * Where a primitive's forward leaves a by-product for its backward (the mean cross-entropy's gradient): it
     * belongs to the one output it was computed with, and is used only for that output, while it is open (its
     * scope has not closed); a backward that finds none computes the gradient again. Create one per application.
     */
    public static final class Stash {
        private final boolean wanted;
        private Tensor output;
        private Tensor value;

        /** A stash the forward fills. */
        public Stash() {
            this(true);
        }

        private Stash(boolean wanted) {
            this.wanted = wanted;
        }

        /** A stash that asks for nothing: the forward may skip the by-product (a loss that is not recorded). */
        public static Stash unused() {
            return new Stash(false);
        }

        /** Whether the forward should compute the by-product. */
        boolean wanted() {
            return wanted;
        }

        void hold(Tensor output, Tensor value) {
            if (wanted) {
                this.output = output;
                this.value = value;
            }
        }

        /** The by-product computed with {@code output} (never written by its users), or null. */
        Tensor valueFor(Tensor output) {
            return output == this.output && value != null && !value.isClosed() ? value : null;
        }
    }

    /**
     * Attributes of BATCH_NORM: eps, and the {@link BatchStats} where the forward leaves the batch's statistics (for its
     * backward and for the caller's running statistics).
     */
    public record BatchNormAttrs(double eps, BatchStats stats) {
        public BatchNormAttrs {
            java.util.Objects.requireNonNull(stats, "stats");
            if (!(eps >= 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException("batchNorm: eps must be finite and >= 0, got " + eps);
            }
        }
    }

    /**
     * The batch statistics a batch-normalisation forward computed: its mean and biased variance [C], kept (like a
     * {@link Stash}) with the output they belong to. The backward uses them only for that output and while they are
     * open; a backward that finds none (another forward overwrote them, their scope closed) computes them again.
     * Create one per application.
     */
    public static final class BatchStats {
        private Tensor output;
        private Tensor mean;
        private Tensor var;

        void hold(Tensor output, Tensor mean, Tensor var) {
            this.output = output;
            this.mean = mean;
            this.var = var;
        }

        /** The latest forward's batch mean [C] (never written by its users), or null before a forward. */
        public Tensor mean() {
            return mean;
        }

        /** The latest forward's biased batch variance [C] (never written by its users), or null before a forward. */
        public Tensor var() {
            return var;
        }

        /** True when the statistics were computed with {@code output} and are still open. */
        boolean heldFor(Tensor output) {
            return output == this.output && mean != null && !mean.isClosed() && !var.isClosed();
        }
    }

    /** Attributes of LINEAR: the activation applied after the bias. */
    public record LinearActivation(Activation activation) {
        public LinearActivation {
            java.util.Objects.requireNonNull(activation, "activation");
        }
    }

    /** Attributes of CAST: the source and target dtypes (the gradient goes back to the source's). */
    public record Cast(DType from, DType to) {
    }

    /** Attributes of SOFTPLUS (torch's defaults: beta 1, threshold 20). */
    public record Softplus(double beta, double threshold) {
        public Softplus {
            if (!(beta != 0 && Double.isFinite(beta)) || Double.isNaN(threshold)) {
                throw new IllegalArgumentException("softplus: beta must be finite and nonzero and threshold not NaN, got beta="
                        + beta + ", threshold=" + threshold);
            }
        }
    }

    /** Attributes of LEAKY_RELU: the slope for x &lt;= 0 (torch's default 0.01). */
    public record LeakyRelu(double slope) {
        public LeakyRelu {
            if (!Double.isFinite(slope)) {
                throw new IllegalArgumentException("leakyRelu: the slope must be finite, got " + slope);
            }
        }
    }

    /** Attributes of ELU: alpha, the limit of -elu(x) as x -> -inf (torch's default 1). */
    public record Elu(double alpha) {
        public Elu {
            if (!Double.isFinite(alpha)) {
                throw new IllegalArgumentException("elu: alpha must be finite, got " + alpha);
            }
        }
    }

    /** Attributes of CLAMP: the bounds, -inf / +inf for none. */
    public record Clamp(double min, double max) {
        public Clamp {
            if (Double.isNaN(min) || Double.isNaN(max)) {
                throw new IllegalArgumentException("clamp: a bound is NaN (min=" + min + ", max=" + max
                        + "); use -inf / +inf (clampMin, clampMax) for no bound");
            }
        }
    }

    /** Attributes of GELU: the tanh approximation (torch's approximate='tanh') or the exact erf form. */
    public record Gelu(boolean tanh) {
        /** From torch's {@code approximate} argument, "none" or "tanh". */
        public static Gelu of(String approximate) {
            return switch (approximate) {
                case "none" -> new Gelu(false);
                case "tanh" -> new Gelu(true);
                default -> throw new IllegalArgumentException("gelu: approximate must be \"none\" or \"tanh\", got \"" + approximate + "\"");
            };
        }
    }

    /** Attributes of CONV2D and CONV2D_WEIGHT_GRAD: the window (kernel, stride, padding, dilation) and the group count. */
    public record Conv(Window2d window, int groups) {
        public Conv {
            java.util.Objects.requireNonNull(window, "conv2d: window");
            if (groups < 1) {
                throw new IllegalArgumentException("conv2d: groups must be at least 1, got " + groups);
            }
        }
    }

    /** Attributes of CONV2D_INPUT_GRAD: the convolution and the input's height and width (a strided output does not fix them). */
    public record ConvInput(Conv conv, int height, int width) {
    }

    /** Attributes of UNFOLD: the window. */
    public record Window(Window2d window) {
    }

    /** Attributes of FOLD: the window and the output's height and width. */
    public record Fold(Window2d window, int height, int width) {
    }
}
