package dev.wengert.autograd;

import static dev.wengert.autograd.Torch.Group.CONVOLUTION;
import static dev.wengert.autograd.Torch.Group.ELEMENTWISE;
import static dev.wengert.autograd.Torch.Group.INDEXING;
import static dev.wengert.autograd.Torch.Group.LINEAR_ALGEBRA;
import static dev.wengert.autograd.Torch.Group.NORMALIZATION;
import static dev.wengert.autograd.Torch.Group.REDUCTION;
import static dev.wengert.autograd.Torch.Group.SHAPE;
import static dev.wengert.autograd.Torch.Group.SOFTMAX_AND_LOSSES;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A differentiable primitive, described once: its name, arity and attribute type (a record, or
 * {@code Void} for none), how it computes its value on tensors, its vector-Jacobian product (reverse
 * mode) and Jacobian-vector product (forward mode), how a Wengert list prints it, and, for an elementwise
 * op, the backend op ({@link UnaryOp} / {@link BinaryOp}) its value runs, whose CUDA kernel is the case of
 * the same name in elementwise.cuh. A tape {@link Node} records the descriptor; {@link Backward},
 * {@link Forward}, {@link dev.wengert.autograd.trace.WengertList} and
 * {@link dev.wengert.autograd.trace.GraphViz} ask it and switch on nothing, and every {@link Var}
 * operation is a call of {@link #apply}.
 *
 * <p>The built-in primitives are the constants below, one definition each, built with the helpers of
 * {@link Rules} by kind (elementwise from f'(x), binary from two partials, linear ops whose JVP is the op
 * itself on the tangents, bilinear ones); their rules are fixed. A user adds a primitive of their own: create
 * it with {@link #Prim(String)}, give it rules with {@link Rules#define}, and record each use with
 * {@link Var#custom} (its value computed by the caller); docs/design.md has an example.
 *
 * @param <A> the attribute type: a record of the op's parameters (axes, flags, index tensors), or {@code Void}
 */
public final class Prim<A> {

    /** How a primitive computes its value from its inputs' values. */
    @FunctionalInterface
    public interface Impl<A> {
        Tensor apply(Tensor[] in, A attrs);
    }

    /** The built-ins in definition order; declared before the constants, which add themselves. */
    private static final List<Prim<?>> BUILTINS = new ArrayList<>();

    private final String name;
    private final int arity;
    private final Class<A> attributeType;
    private final Impl<A> impl;
    private final Printer<A> printer;
    private final Enum<?> backendOp;
    private volatile Rules.Vjp<A> vjp;
    private volatile Rules.Jvp<A> jvp;
    private volatile Rules.UnitSeedVjp<A> unitSeedVjp;

    /**
     * A user-defined primitive: any arity and attributes, value computed by the caller ({@link Var#custom}),
     * rules from {@link Rules#define}, printed as {@code name(v_1, v_2, attrs)}.
     */
    public Prim(String name) {
        this(name, -1, null, null, Printer.call(name), null);
    }

    private Prim(String name, int arity, Class<A> attributeType, Impl<A> impl, Printer<A> printer, Enum<?> backendOp) {
        this.name = Objects.requireNonNull(name);
        this.arity = arity;
        this.attributeType = attributeType;
        this.impl = impl;
        this.printer = printer;
        this.backendOp = backendOp;
    }

    public String name() {
        return name;
    }

    /** Number of inputs, or -1 for any number (concat, user primitives). */
    public int arity() {
        return arity;
    }

    /** The attribute record type; {@code Void} when the op has none, null when any value is accepted (user primitives). */
    public Class<A> attributeType() {
        return attributeType;
    }

    /** How Wengert lists show the op. */
    public Printer<A> printer() {
        return printer;
    }

    /** The {@link UnaryOp} or {@link BinaryOp} the value runs on the backends, or null. */
    public Enum<?> backendOp() {
        return backendOp;
    }

    /** True for the built-in primitives ({@link Prim}'s constants), whose rules cannot be replaced. */
    public boolean isBuiltin() {
        return BUILTINS.contains(this);
    }

    /** True when the primitive has a reverse-mode rule. */
    public boolean hasVjp() {
        return vjp != null;
    }

    /** True when the primitive has a reverse-mode rule for the upstream gradient 1 that needs no seed tensor. */
    boolean hasUnitSeedVjp() {
        return unitSeedVjp != null;
    }

    /** The inputs' adjoints for the upstream gradient 1 (backward() of this primitive's scalar output). */
    Var[] unitSeedVjp(Var out, Var[] in, Object attrs) {
        return unitSeedVjp.apply(out, in, cast(attrs));
    }

    /** True when the primitive has a forward-mode rule. */
    public boolean hasJvp() {
        return jvp != null;
    }

    @Override
    public String toString() {
        return name;
    }

    // ------------------------------------------------------------------ applying

    /** The op's value on tensors (nothing recorded). */
    public Tensor forward(A attrs, Tensor... in) {
        if (impl == null) {
            throw new UnsupportedOperationException(name + ": a user-defined primitive has no forward implementation; "
                    + "compute its value and record it with Var.custom");
        }
        checkArity(in.length);
        return impl.apply(in, attrs);
    }

    /** Applies a unary primitive without attributes. */
    public Var apply(Var x) {
        return apply(null, new Var[] {x});
    }

    /** Applies a binary primitive without attributes. */
    public Var apply(Var a, Var b) {
        return apply(null, new Var[] {a, b});
    }

    /** Computes the op's value and records it ({@link Var#record}): the one way a built-in op runs on variables. */
    public Var apply(A attrs, Var... in) {
        Tensor[] values = new Tensor[in.length];
        for (int i = 0; i < in.length; i++) {
            values[i] = in[i].value();
        }
        return Var.record(this, attrs, forward(attrs, values), in);
    }

    void check(Object attrs, int inputs) {
        checkArity(inputs);
        if (attributeType == null) {
            return;
        }
        if (attributeType == Void.class ? attrs != null : !attributeType.isInstance(attrs)) {
            throw new IllegalArgumentException(name + ": attributes must be " + (attributeType == Void.class ? "null"
                    : "a " + attributeType.getSimpleName()) + ", got " + (attrs == null ? "null" : attrs.getClass().getSimpleName()));
        }
    }

    private void checkArity(int inputs) {
        if (arity >= 0 && inputs != arity) {
            throw new IllegalArgumentException(name + ": takes " + arity + " input(s), got " + inputs);
        }
    }

    // ------------------------------------------------------------------ rules (Rules.define, Rules.vjp/jvp)

    void setRules(Rules.Vjp<A> vjp, Rules.Jvp<A> jvp) {
        this.vjp = vjp;
        this.jvp = jvp;
    }

    @SuppressWarnings("unchecked") // attributes are checked against attributeType when recorded
    private A cast(Object attrs) {
        return (A) attrs;
    }

    /** The inputs' adjoints, or null when there is no VJP rule. */
    Var[] vjp(Var g, Var out, Var[] in, Object attrs) {
        Rules.Vjp<A> r = vjp;
        return r == null ? null : r.apply(g, out, in, cast(attrs));
    }

    /** The output's tangent, or null when there is no JVP rule. */
    Var jvp(Var[] t, Var out, Var[] in, Object attrs) {
        Rules.Jvp<A> r = jvp;
        return r == null ? null : r.apply(t, out, in, cast(attrs));
    }

    /** The right-hand side of the Wengert list's {@code v_i = ...}. */
    public String expression(String[] args, Object attrs, Var out) {
        return printer.expression().of(args, cast(attrs), out);
    }

    /** The local partials as text, or null. */
    public String[] partials(String[] args, String out) {
        return printer.partials() == null ? null : printer.partials().of(args, out);
    }

    /** The built-in primitives, in definition order. */
    static List<Prim<?>> builtinList() {
        return List.copyOf(BUILTINS);
    }

    // ------------------------------------------------------------------ definitions

    /** Starts the definition of a built-in. */
    static <A> Builder<A> define(String name, int arity, Class<A> attributeType) {
        return new Builder<>(name, arity, attributeType);
    }

    /** The parts of a built-in's descriptor; {@link #build()} registers it. */
    static final class Builder<A> {
        private final String name;
        private final int arity;
        private final Class<A> attributeType;
        private Impl<A> impl;
        private Enum<?> op;
        private Rules.Vjp<A> vjp;
        private Rules.Jvp<A> jvp;
        private Rules.UnitSeedVjp<A> unitSeedVjp;
        private int jvpKind; // 0 given, 1 linear, 2 bilinear
        private Printer<A> printer;

        private Builder(String name, int arity, Class<A> attributeType) {
            this.name = name;
            this.arity = arity;
            this.attributeType = attributeType;
            this.printer = Printer.call(name);
        }

        Builder<A> forward(Impl<A> f) {
            this.impl = f;
            return this;
        }

        /** The value is the backend's elementwise unary op. */
        Builder<A> forward(UnaryOp u) {
            this.op = u;
            this.impl = (in, a) -> in[0].apply(u);
            return this;
        }

        /** The value is the backend's elementwise unary op with scalar parameters taken from the attributes. */
        Builder<A> forward(UnaryOp u, Rules.Parameters<A> params) {
            this.op = u;
            this.impl = (in, a) -> {
                double[] p = params.of(a);
                return in[0].apply(u, p.length > 0 ? p[0] : 0, p.length > 1 ? p[1] : 0);
            };
            return this;
        }

        /** The backend op the value runs, where {@link #forward(Impl)} chooses among several (gelu's two forms). */
        Builder<A> backendOp(Enum<?> op) {
            this.op = op;
            return this;
        }

        /** The value is the backend's elementwise binary op (broadcasting). */
        Builder<A> forward(BinaryOp b) {
            this.op = b;
            this.impl = (in, a) -> in[0].apply(b, in[1]);
            return this;
        }

        Builder<A> vjp(Rules.Vjp<A> r) {
            this.vjp = r;
            return this;
        }

        Builder<A> jvp(Rules.Jvp<A> r) {
            this.jvp = r;
            return this;
        }

        /**
         * The VJP for the upstream gradient 1, used by backward() from this primitive's scalar output without creating
         * the seed tensor; must equal the VJP with a seed of ones (first order only: createGraph uses the VJP).
         */
        Builder<A> unitSeedVjp(Rules.UnitSeedVjp<A> r) {
            this.unitSeedVjp = r;
            return this;
        }

        /** Both rules. */
        Builder<A> rules(Rules.Vjp<A> v, Rules.Jvp<A> j) {
            return vjp(v).jvp(j);
        }

        /** A linear op: the JVP is the op itself applied to the tangents (zeros for inputs without one). */
        Builder<A> linear() {
            this.jvpKind = 1;
            return this;
        }

        /** A bilinear op f(x, y): the JVP is f(tx, y) + f(x, ty), from the op itself. */
        Builder<A> bilinear() {
            this.jvpKind = 2;
            return this;
        }

        Builder<A> print(Printer<A> p) {
            this.printer = p;
            return this;
        }

        Prim<A> build() {
            Prim<A> p = new Prim<>(name, arity, attributeType, impl, printer, op);
            p.setRules(vjp, switch (jvpKind) {
                case 1 -> Rules.linearJvp(p);
                case 2 -> Rules.bilinearJvp(p);
                default -> jvp;
            });
            p.unitSeedVjp = unitSeedVjp;
            BUILTINS.add(p);
            return p;
        }
    }

    /** The matmul primitive's value: 2-D and 3-D operands only (its VJP sums a shared operand over one batch dimension). */
    private static Tensor matmul(Tensor[] in, Var.Transposes a) {
        if (!Shape.isDirectMatmul(in[0].shape(), in[1].shape())) {
            throw new IllegalArgumentException("matmul primitive: operands must be 2-D or 3-D with equal batches or one 2-D, got "
                    + in[0].describe() + " and " + in[1].describe() + "; Var.matmul reshapes and broadcasts other shapes");
        }
        return in[0].matmul(a.left(), in[1], a.right());
    }

    /** The batch-norm primitive's value; its statistics go to the attributes' {@link Var.BatchStats}. */
    private static Tensor batchNorm(Tensor[] in, Var.BatchNormAttrs a) {
        FusedBatchNorm.Result r = FusedBatchNorm.forward(in[0], in[1], in[2], a.eps());
        a.stats().hold(r.y(), r.mean(), r.var());
        return r.y();
    }

    private static String reduction(Var.Reduction r, Var out) {
        return "axes=" + Arrays.toString(r.axes()) + (r.keepDims() ? ", keepDims" : "");
    }

    private static String indexing(Var.Indexing ix, Var out) {
        return "axis=" + ix.axis() + ", index=" + ix.index().describe().replace(" on cpu", "");
    }

    private static String labels(Var.Labels l, Var out) {
        return "labels=" + l.labels().describe().replace(" on cpu", "");
    }

    private static String outShape(Object attrs, Var out) {
        return Shape.str(out.shape());
    }

    // ---------------------------------------------------------------- elementwise binary (broadcasting)
    @Torch(value = "torch.add", group = ELEMENTWISE, grad = "linear; an operand that was broadcast gets the gradient summed over the broadcast dimensions (Rules.unbroadcast)")
    public static final Prim<Void> ADD = define("add", 2, Void.class).forward(BinaryOp.ADD).linear()
            .vjp((g, o, in, a) -> new Var[] {Rules.unbroadcast(g, in[0]), Rules.unbroadcast(g, in[1])})
            .print(Printer.infix("+", (x, y) -> new String[] {"1", "1"})).build();
    @Torch(value = "torch.sub", group = ELEMENTWISE, grad = "linear, as add")
    public static final Prim<Void> SUB = define("sub", 2, Void.class).forward(BinaryOp.SUB).linear()
            .vjp((g, o, in, a) -> new Var[] {Rules.unbroadcast(g, in[0]), Rules.need(in, 1) ? Rules.unbroadcast(g.neg(), in[1]) : null})
            .print(Printer.infix("-", (x, y) -> new String[] {"1", "-1"})).build();
    @Torch(value = "torch.mul", group = ELEMENTWISE, grad = "b and a")
    public static final Prim<Void> MUL = Rules.binary("mul", BinaryOp.MUL, (a, b, y) -> b, (a, b, y) -> a,
            Printer.infix("×", (x, y) -> new String[] {x[1], x[0]}));
    @Torch(value = "torch.div", group = ELEMENTWISE, grad = "1/b and -a/b²")
    public static final Prim<Void> DIV = Rules.binary("div", BinaryOp.DIV,
            (a, b, y) -> Var.scalarLike(1, b).div(b), (a, b, y) -> y.div(b).neg(),                    // 1/b, -a/b^2
            Printer.infix("/", (x, y) -> new String[] {"(1/" + x[1] + ")", "(-" + y + "/" + x[1] + ")"}));
    @Torch(value = "torch.pow", group = ELEMENTWISE, grad = "d/da = 0 where b == 0 and d/db = 0 where a == 0 and b >= 0, finite to every order (safe base of 1); d/db is NaN for a < 0; as PyTorch's pow_backward")
    public static final Prim<Void> POW = Rules.binary("pow", BinaryOp.POW, Rules::powBase, Rules::powExponent,
            Printer.infix("^", (x, y) -> new String[] {"(" + x[1] + " × " + x[0] + " ^ (" + x[1] + " - 1))", "(" + y + " × ln " + x[0] + ")"}));
    @Torch(value = "torch.maximum", group = ELEMENTWISE, grad = "ties share the gradient equally; with a NaN operand both get all of it (as PyTorch)")
    public static final Prim<Void> MAXIMUM = Rules.binary("maximum", BinaryOp.MAXIMUM,        // ties share equally, NaN: both
            (a, b, y) -> Rules.share(a, b), (a, b, y) -> Rules.share(b, a), Printer.call("maximum"));
    @Torch(value = "torch.minimum", group = ELEMENTWISE, grad = "as maximum")
    public static final Prim<Void> MINIMUM = Rules.binary("minimum", BinaryOp.MINIMUM,
            (a, b, y) -> Rules.share(b, a), (a, b, y) -> Rules.share(a, b), Printer.call("minimum"));
    @Torch(value = "torch.atan2", group = ELEMENTWISE, grad = "b/(a² + b²), -a/(a² + b²)")
    public static final Prim<Void> ATAN2 = Rules.binary("atan2", BinaryOp.ATAN2,                  // b/(a^2 + b^2), -a/(a^2 + b^2)
            (a, b, y) -> b.div(a.square().add(b.square())), (a, b, y) -> a.neg().div(a.square().add(b.square())), Printer.call("atan2"));
    /**
     * d/da = 1, d/db = -trunc(a/b) (PyTorch's fmod backward; the quotient's rounding is a constant). The partial 1 has
     * the output's shape, so that a tangent of a broadcast operand is broadcast too.
     */
    @Torch(value = "torch.fmod", group = ELEMENTWISE, grad = "1 and -trunc(a/b), as PyTorch")
    public static final Prim<Void> FMOD = Rules.binary("fmod", BinaryOp.FMOD, (a, b, y) -> Rules.onesLike(y),
            (a, b, y) -> Var.constant(a.value().div(b.value()).apply(UnaryOp.TRUNC).neg()), Printer.call("fmod"));
    /** d/da = 1, d/db = -floor(a/b) (PyTorch's remainder backward). */
    @Torch(value = "torch.remainder", group = ELEMENTWISE, grad = "1 and -floor(a/b), as PyTorch", differs = "the quotient's floor is taken from the float quotient (PyTorch corrects it very close to integers)")
    public static final Prim<Void> REMAINDER = Rules.binary("remainder", BinaryOp.REMAINDER, (a, b, y) -> Rules.onesLike(y),
            (a, b, y) -> Var.constant(a.value().div(b.value()).apply(UnaryOp.FLOOR).neg()), Printer.call("remainder"));
    @Torch(value = "torch.hypot", group = ELEMENTWISE, grad = "a/y, b/y")
    public static final Prim<Void> HYPOT = Rules.binary("hypot", BinaryOp.HYPOT, (a, b, y) -> a.div(y), (a, b, y) -> b.div(y),  // a/y, b/y
            Printer.call("hypot"));
    @Torch(value = "torch.where(cond, a, b)", group = ELEMENTWISE, grad = "linear in a and b; not differentiable in the condition", differs = "the condition is a tensor of any dtype, non-zero meaning true (PyTorch: bool)")
    public static final Prim<Var.Cond> WHERE = define("where", 2, Var.Cond.class)
            .forward((in, a) -> Tensor.where(a.cond(), in[0], in[1])).vjp(Rules::whereVjp).linear()
            .print(Printer.call("where", (a, o) -> "cond=" + a.cond().describe().replace(" on cpu", ""))).build();

    // ---------------------------------------------------------------- elementwise unary
    @Torch(value = "torch.neg", group = ELEMENTWISE)
    public static final Prim<Void> NEG = define("neg", 1, Void.class).forward(UnaryOp.NEG).linear()
            .vjp((g, o, in, a) -> new Var[] {g.neg()}).print(Printer.prefix("-", (x, y) -> new String[] {"-1"})).build();
    @Torch(value = "torch.exp", group = ELEMENTWISE)
    public static final Prim<Void> EXP = Rules.elementwise("exp", UnaryOp.EXP, (x, y) -> y,                       // d e^x = e^x
            Printer.prefix("exp ", (x, y) -> new String[] {y}));
    @Torch(value = "torch.log", group = ELEMENTWISE, grad = "1/x")
    public static final Prim<Void> LOG = Rules.elementwise("log", UnaryOp.LOG, (x, y) -> Var.scalarLike(1, x).div(x),  // 1/x
            Printer.prefix("ln ", (x, y) -> new String[] {"(1/" + x[0] + ")"}));
    @Torch(value = "torch.sqrt", group = ELEMENTWISE, grad = "1/(2 sqrt x): infinite at 0, as PyTorch")
    public static final Prim<Void> SQRT = Rules.elementwise("sqrt", UnaryOp.SQRT, (x, y) -> Var.scalarLike(0.5, y).div(y), // 1/(2 sqrt x)
            Printer.prefix("sqrt ", (x, y) -> new String[] {"(0.5/" + y + ")"}));
    @Torch(value = "torch.abs", group = ELEMENTWISE, grad = "sign(x): 0 at 0, as PyTorch")
    public static final Prim<Void> ABS = Rules.elementwise("abs", UnaryOp.ABS, (x, y) -> Var.constant(x.value().sign()), // abs'(0) = 0
            new Printer<>((x, a, o) -> "|" + x[0] + "|", null));
    @Torch(value = "torch.sin", group = ELEMENTWISE)
    public static final Prim<Void> SIN = Rules.elementwise("sin", UnaryOp.SIN, (x, y) -> x.cos(),
            Printer.prefix("sin ", (x, y) -> new String[] {"cos " + x[0]}));
    @Torch(value = "torch.cos", group = ELEMENTWISE)
    public static final Prim<Void> COS = Rules.elementwise("cos", UnaryOp.COS, (x, y) -> x.sin().neg(),
            Printer.prefix("cos ", (x, y) -> new String[] {"(-sin " + x[0] + ")"}));
    @Torch(value = "torch.tanh", group = ELEMENTWISE, grad = "1 - tanh²")
    public static final Prim<Void> TANH = Rules.elementwise("tanh", UnaryOp.TANH, (x, y) -> y.square().rsub(1),       // 1 - tanh^2
            Printer.prefix("tanh ", (x, y) -> new String[] {"(1 - " + y + "²)"}));
    @Torch(value = "torch.sigmoid", group = ELEMENTWISE, grad = "s (1 - s)")
    public static final Prim<Void> SIGMOID = Rules.elementwise("sigmoid", UnaryOp.SIGMOID, (x, y) -> y.mul(y.rsub(1)), // s (1 - s)
            Printer.prefix("sigmoid ", (x, y) -> new String[] {"(" + y + " × (1 - " + y + "))"}));
    @Torch(value = "torch.relu", group = ELEMENTWISE, grad = "relu'(0) = 0, as PyTorch", differs = "relu(NaN) is 0 (PyTorch: NaN)")
    public static final Prim<Void> RELU = Rules.elementwise("relu", UnaryOp.RELU,                                  // relu'(0) = 0
            (x, y) -> Var.constant(x.value().apply(BinaryOp.GT, 0.0)), Printer.prefix("relu ", null));
    @Torch(value = "torch.erf", group = ELEMENTWISE, grad = "2/√π exp(-x²)")
    public static final Prim<Void> ERF = Rules.elementwise("erf", UnaryOp.ERF,                                    // 2/sqrt(pi) e^(-x^2)
            (x, y) -> x.square().neg().exp().mul(2 / Math.sqrt(Math.PI)), Printer.prefix("erf ", (x, y) -> new String[] {"(2/√π × exp(-" + x[0] + "²))"}));
    @Torch(value = "torch.erfc", group = ELEMENTWISE, grad = "-2/√π e^(-x²)")
    public static final Prim<Void> ERFC = Rules.elementwise("erfc", UnaryOp.ERFC,                                 // -2/sqrt(pi) e^(-x^2)
            (x, y) -> x.square().neg().exp().mul(-2 / Math.sqrt(Math.PI)), Printer.prefix("erfc ", (x, y) -> new String[] {"(-2/√π × exp(-" + x[0] + "²))"}));
    @Torch(value = "torch.log1p", group = ELEMENTWISE, grad = "1/(1 + x)")
    public static final Prim<Void> LOG1P = Rules.elementwise("log1p", UnaryOp.LOG1P, (x, y) -> x.add(1).reciprocal(), // 1/(1 + x)
            Printer.prefix("log1p ", (x, y) -> new String[] {"(1/(1 + " + x[0] + "))"}));
    @Torch(value = "torch.expm1", group = ELEMENTWISE, grad = "e^x (computed as y + 1)")
    public static final Prim<Void> EXPM1 = Rules.elementwise("expm1", UnaryOp.EXPM1, (x, y) -> y.add(1),            // e^x = y + 1
            Printer.prefix("expm1 ", (x, y) -> new String[] {"(" + y + " + 1)"}));
    @Torch(value = "torch.tan", group = ELEMENTWISE, grad = "1 + tan²x")
    public static final Prim<Void> TAN = Rules.elementwise("tan", UnaryOp.TAN, (x, y) -> y.square().add(1),          // 1 + tan^2
            Printer.prefix("tan ", (x, y) -> new String[] {"(1 + " + y + "²)"}));
    @Torch(value = "torch.atan", group = ELEMENTWISE, grad = "1/(1 + x²)")
    public static final Prim<Void> ATAN = Rules.elementwise("atan", UnaryOp.ATAN, (x, y) -> x.square().add(1).reciprocal(), // 1/(1 + x^2)
            Printer.prefix("atan ", (x, y) -> new String[] {"(1/(1 + " + x[0] + "²))"}));
    @Torch(value = "torch.asin", group = ELEMENTWISE, grad = "1/√(1 - x²); ±inf at ±1, NaN outside [-1, 1]")
    public static final Prim<Void> ASIN = Rules.elementwise("asin", UnaryOp.ASIN,                                   // 1/sqrt(1 - x^2)
            (x, y) -> x.square().rsub(1).sqrt().reciprocal(), Printer.prefix("asin ", (x, y) -> new String[] {"(1/√(1 - " + x[0] + "²))"}));
    @Torch(value = "torch.acos", group = ELEMENTWISE, grad = "-1/√(1 - x²); -inf at ±1, NaN outside [-1, 1]")
    public static final Prim<Void> ACOS = Rules.elementwise("acos", UnaryOp.ACOS,                                   // -1/sqrt(1 - x^2)
            (x, y) -> x.square().rsub(1).sqrt().reciprocal().neg(), Printer.prefix("acos ", (x, y) -> new String[] {"(-1/√(1 - " + x[0] + "²))"}));
    @Torch(value = "torch.sinh", group = ELEMENTWISE, grad = "cosh x")
    public static final Prim<Void> SINH = Rules.elementwise("sinh", UnaryOp.SINH, (x, y) -> x.cosh(),
            Printer.prefix("sinh ", (x, y) -> new String[] {"cosh " + x[0]}));
    @Torch(value = "torch.cosh", group = ELEMENTWISE, grad = "sinh x")
    public static final Prim<Void> COSH = Rules.elementwise("cosh", UnaryOp.COSH, (x, y) -> x.sinh(),
            Printer.prefix("cosh ", (x, y) -> new String[] {"sinh " + x[0]}));
    @Torch(value = "torch.reciprocal", group = ELEMENTWISE, grad = "-1/x²")
    public static final Prim<Void> RECIPROCAL = Rules.elementwise("reciprocal", UnaryOp.RECIPROCAL, (x, y) -> y.square().neg(), // -1/x^2
            Printer.prefix("1/", (x, y) -> new String[] {"(-" + y + "²)"}));
    @Torch(value = "torch.floor", group = ELEMENTWISE, grad = "0 everywhere (true zeros, as PyTorch)")
    public static final Prim<Void> FLOOR = Rules.piecewiseConstant("floor", UnaryOp.FLOOR, Printer.prefix("floor ", (x, y) -> new String[] {"0"}));
    @Torch(value = "torch.ceil", group = ELEMENTWISE, grad = "0 everywhere (true zeros, as PyTorch)")
    public static final Prim<Void> CEIL = Rules.piecewiseConstant("ceil", UnaryOp.CEIL, Printer.prefix("ceil ", (x, y) -> new String[] {"0"}));
    @Torch(value = "torch.round", group = ELEMENTWISE, grad = "0 everywhere; halves round to even, as PyTorch")
    public static final Prim<Void> ROUND = Rules.piecewiseConstant("round", UnaryOp.ROUND, Printer.prefix("round ", (x, y) -> new String[] {"0"}));
    @Torch(value = "torch.trunc", group = ELEMENTWISE, grad = "0 everywhere")
    public static final Prim<Void> TRUNC = Rules.piecewiseConstant("trunc", UnaryOp.TRUNC, Printer.prefix("trunc ", (x, y) -> new String[] {"0"}));
    @Torch(value = "torch.sign", group = ELEMENTWISE, grad = "0 everywhere", differs = "sign(-0.0) = +0.0 and sign(NaN) = 0, as torch.sign")
    public static final Prim<Void> SIGN = Rules.piecewiseConstant("sign", UnaryOp.SIGN, Printer.prefix("sign ", (x, y) -> new String[] {"0"}));
    @Torch(value = "torch.nn.functional.silu", group = ELEMENTWISE, grad = "σ(x)(1 + x(1 - σ(x)))", differs = "silu(-inf) is NaN, as PyTorch's formula")
    public static final Prim<Void> SILU = Rules.elementwise("silu", UnaryOp.SILU,                                   // s (1 + x (1 - s))
            (x, y) -> {
                Var s = x.sigmoid();
                return s.mul(x.mul(s.rsub(1)).add(1));
            }, Printer.prefix("silu ", null));
    @Torch(value = "torch.nn.functional.gelu", group = ELEMENTWISE, grad = "exact erf form, or the tanh approximation with gelu(\"tanh\")", differs = "gelu(-inf) is NaN, as PyTorch's formula")
    public static final Prim<Var.Gelu> GELU = define("gelu", 1, Var.Gelu.class)
            .forward((in, a) -> in[0].apply(a.tanh() ? UnaryOp.GELU_TANH : UnaryOp.GELU)).backendOp(UnaryOp.GELU)
            .rules((g, o, in, a) -> new Var[] {g.mul(Rules.geluDerivative(in[0], o, a))}, (t, o, in, a) -> t[0].mul(Rules.geluDerivative(in[0], o, a)))
            .print(Printer.call("gelu", (a, o) -> a.tanh() ? "approximate=tanh" : "")).build();
    @Torch(value = "torch.nn.functional.softplus", group = ELEMENTWISE, grad = "σ(βx); x itself above the threshold (βx > threshold), as PyTorch", differs = "NaN or zero beta is refused")
    public static final Prim<Var.Softplus> SOFTPLUS = Rules.elementwise("softplus", UnaryOp.SOFTPLUS, Var.Softplus.class,
            a -> new double[] {a.beta(), a.threshold()}, Rules::softplusDerivative,
            Printer.call("softplus", (a, o) -> "beta=" + a.beta() + ", threshold=" + a.threshold()));
    @Torch(value = "torch.nn.functional.leaky_relu", group = ELEMENTWISE, grad = "1 for x > 0, else the slope (slope at 0, as PyTorch); a masked infinite upstream gradient gives NaN", differs = "a non-finite slope is refused")
    public static final Prim<Var.LeakyRelu> LEAKY_RELU = Rules.elementwise("leakyRelu", UnaryOp.LEAKY_RELU, Var.LeakyRelu.class,
            a -> new double[] {a.slope()}, (x, y, a) -> Rules.oneWhere(Rules.mask(x, BinaryOp.GT, 0), a.slope()),  // 1 or slope
            Printer.call("leakyRelu", (a, o) -> "slope=" + a.slope()));
    @Torch(value = "torch.nn.functional.elu", group = ELEMENTWISE, grad = "1 for x > 0, else α e^x (1 at NaN, as PyTorch)", differs = "computed with expm1 (PyTorch's CUDA kernel; its CPU kernel uses exp - 1); a non-finite alpha is refused")
    public static final Prim<Var.Elu> ELU = Rules.elementwise("elu", UnaryOp.ELU, Var.Elu.class,
            a -> new double[] {a.alpha()}, Rules::eluDerivative, Printer.call("elu", (a, o) -> "alpha=" + a.alpha()));
    /** Gradient 1 where min &lt;= x &lt;= max (inclusive, as PyTorch's clamp_backward), else 0; 0 at NaN. */
    @Torch(value = "torch.clamp", group = ELEMENTWISE, grad = "1 where min ≤ x ≤ max (inclusive, as PyTorch), else 0; 0 at NaN", differs = "float tensors only; NaN bounds are refused; clamp(-0.0, 0, ...) is +0.0; a masked infinite upstream gradient gives NaN (PyTorch: 0)")
    public static final Prim<Var.Clamp> CLAMP = Rules.elementwise("clamp", UnaryOp.CLAMP, Var.Clamp.class,
            a -> new double[] {a.min(), a.max()},
            (x, y, a) -> Var.constant(Rules.mask(x, BinaryOp.GE, a.min()).mul(Rules.mask(x, BinaryOp.LE, a.max()))),
            Printer.call("clamp", (a, o) -> "min=" + a.min() + ", max=" + a.max()));
    @Torch(value = "torch.Tensor.to(dtype)", group = ELEMENTWISE, grad = "the gradient is cast back to the source dtype", differs = "casting a variable that requires grad to int64 is an error (PyTorch cuts the gradient silently)")
    public static final Prim<Var.Cast> CAST = define("cast", 1, Var.Cast.class).forward((in, a) -> in[0].cast(a.to())).linear()
            .vjp((g, o, in, a) -> new Var[] {g.cast(a.from())}).print(Printer.call("cast", (a, o) -> "to " + a.to())).build();

    // ---------------------------------------------------------------- linear algebra and reductions
    @Torch(value = "torch.matmul", group = LINEAR_ALGEBRA, grad = "g Bᵀ and Aᵀ g (bilinear); an operand shared by a batch, broadcast, or a vector gets the sum over the batch through the reshapes and broadcasts Var.matmul records around the primitive", differs = "transpose flags for either operand (matmul(transposeThis, other, transposeOther), no copy); the primitive itself takes 2-D and 3-D operands (equal batches or one 2-D), Var.matmul reshapes and broadcasts other shapes to those")
    public static final Prim<Var.Transposes> MATMUL = define("matmul", 2, Var.Transposes.class)
            .forward(Prim::matmul).vjp(Rules::matmulVjp).bilinear()
            .print(new Printer<>((x, a, o) -> x[0] + (a.left() ? "ᵀ" : "") + " @ " + x[1] + (a.right() ? "ᵀ" : ""), null)).build();
    @Torch(value = "torch.nn.functional.linear, then relu / tanh / sigmoid", group = LINEAR_ALGEBRA, grad = "dz = g act'(y) (from the output y: relu y > 0 as a constant mask, tanh 1 - y², sigmoid y (1 - y)), dx = dz W, dW = dzᵀ x, db = column sums of dz; first order on CUDA: one kernel for dz and db (fixed summation order), one GEMM each for dW and dx", differs = "one primitive for linear + activation (x [rows, in], weight [out, in], bias [out]; Var.linear reshapes other ranks to 2-D); bias required")
    public static final Prim<Var.LinearActivation> LINEAR = define("linear", 3, Var.LinearActivation.class)
            .forward((in, a) -> FusedLinear.forward(in[0], in[1], in[2], a.activation())).rules(Rules::linearVjp, Rules::linearJvp)
            .print(Printer.call("linear", (a, o) -> "activation=" + a.activation())).build();
    @Torch(value = "torch.nn.functional.batch_norm(x, None, None, weight, bias, training=True, eps=eps)", group = NORMALIZATION,
            grad = "dx = w invStd (g - mean(g) - x̂ mean(g x̂)), dweight = sum(g x̂), dbias = sum(g) (means and sums over every "
            + "axis but 1); first order: the forward's mean and var reused, one kernel on a backend that has it; recorded "
            + "(create-graph) the same with variables, x̂ and invStd recomputed from x, so every order is exact",
            differs = "training mode only, no running statistics (models' BatchNorm updates its own from the statistics "
            + "the primitive hands out: batchNorm(weight, bias, eps, BatchStats)); weight and bias required; "
            + "x [N, C, ...] of rank 2 or more; one value per channel is allowed (PyTorch refuses it; the module does too)")
    public static final Prim<Var.BatchNormAttrs> BATCH_NORM = define("batchNorm", 3, Var.BatchNormAttrs.class)
            .forward(Prim::batchNorm).rules(Rules::batchNormVjp, Rules::batchNormJvp)
            .print(Printer.call("batchNorm", (a, o) -> "eps=" + a.eps())).build();
    @Torch(value = "torch.sum", group = REDUCTION, grad = "linear: the gradient broadcast back over the reduced axes", differs = "sum(keepDims, axes...): keepDims first, no axes meaning all")
    public static final Prim<Var.Reduction> SUM = define("sum", 1, Var.Reduction.class)
            .forward((in, a) -> in[0].sum(a.keepDims(), a.axes())).vjp(Rules::sumVjp).linear()
            .print(Printer.call("sum", Prim::reduction)).build();
    @Torch(value = "torch.amax, torch.max(x)", group = REDUCTION, grad = "ties share the gradient equally, as torch.amax and the full torch.max(x)", differs = "torch.max(x, dim) returns values and indices and gives the gradient to the returned index only; for that behaviour gather at the first maximum: x.gather(axis, x.argmax(axis, true))")
    public static final Prim<Var.Reduction> MAX = define("max", 1, Var.Reduction.class)
            .forward((in, a) -> in[0].max(a.keepDims(), a.axes())).rules(Rules::maxVjp, Rules::maxJvp)
            .print(Printer.call("max", Prim::reduction)).build();
    @Torch(value = "torch.prod", group = REDUCTION, grad = "the product of the other elements of the group, exact with zeros: out/x without a zero; "
            + "with one zero, the product of the others at the zero and 0 elsewhere; with two or more, 0 (PyTorch's formula). "
            + "Written so that second derivatives are exact too, at two zeros included", differs = "computed by pairwise products "
            + "(log2 n passes): rounding differs from a running product")
    public static final Prim<Var.Reduction> PROD = define("prod", 1, Var.Reduction.class)
            .forward((in, a) -> in[0].prod(a.keepDims(), a.axes())).rules(Rules::prodVjp, Rules::prodJvp)
            .print(Printer.call("prod", Prim::reduction)).build();
    @Torch(value = "torch.cumsum", group = REDUCTION, grad = "linear: the reversed cumulative sum of the gradient (flip, cumsum, flip)",
            differs = "computed by log2 n shifted additions: rounding differs from a running sum")
    public static final Prim<Var.Axis> CUMSUM = define("cumsum", 1, Var.Axis.class)
            .forward((in, a) -> in[0].cumsum(a.axis())).vjp(Rules::cumsumVjp).linear()
            .print(Printer.call("cumsum", (a, o) -> "axis=" + a.axis())).build();
    @Torch(value = "torch.log_softmax", group = SOFTMAX_AND_LOSSES, grad = "g - softmax · sum(g) along the axis")
    public static final Prim<Var.Axis> LOG_SOFTMAX = define("logSoftmax", 1, Var.Axis.class)
            .forward((in, a) -> in[0].logSoftmax(a.axis())).rules(Rules::logSoftmaxVjp, Rules::logSoftmaxJvp)
            .print(Printer.call("logSoftmax", (a, o) -> "axis=" + a.axis())).build();
    @Torch(value = "torch.nn.functional.cross_entropy(logits, labels, reduction='none')", group = SOFTMAX_AND_LOSSES, grad = "softmax - one-hot, computed by the primitive softmaxCrossEntropyGrad (the fused backward pass), whose own rules make the loss twice differentiable; not differentiable in the labels", differs = "logits [rows, classes] and int64 labels [rows] only; per-row losses (reduce with mean()); no class weights, ignore_index or label smoothing")
    public static final Prim<Var.Labels> SOFTMAX_CROSS_ENTROPY = define("softmaxCrossEntropy", 1, Var.Labels.class)
            .forward((in, a) -> SoftmaxCrossEntropy.loss(in[0], a.labels())).rules(Rules::crossEntropyVjp, Rules::crossEntropyJvp)
            .print(Printer.call("softmaxCrossEntropy", Prim::labels)).build();
    @Torch(value = "torch.nn.functional.cross_entropy(logits, labels)", group = SOFTMAX_AND_LOSSES, grad = "(softmax - one-hot) / rows, computed by the forward in the same pass and kept: backward() from the loss costs no kernel, another upstream gradient one scaling; recorded (create-graph) it is softmaxCrossEntropyGrad, so the loss is twice differentiable; not differentiable in the labels", differs = "logits [rows, classes] and int64 labels [rows] only, mean over rows (the mean of no rows is NaN); no class weights, ignore_index or label smoothing")
    public static final Prim<Var.LabelsMean> SOFTMAX_CROSS_ENTROPY_MEAN = define("softmaxCrossEntropyMean", 1, Var.LabelsMean.class)
            .forward((in, a) -> SoftmaxCrossEntropy.mean(in[0], a.labels(), a.stash()))
            .rules(Rules::crossEntropyMeanVjp, Rules::crossEntropyMeanJvp).unitSeedVjp(Rules::crossEntropyMeanUnitSeedVjp)
            .print(Printer.call("softmaxCrossEntropyMean", (a, o) -> labels(new Var.Labels(a.labels()), o))).build();
    /** The VJP of SOFTMAX_CROSS_ENTROPY: (logits, upstream [rows]) -> (softmax(logits) - oneHot(labels)) upstream[r]. */
    @Torch(value = "(the backward pass of cross_entropy)", group = SOFTMAX_AND_LOSSES, method = "-", grad = "differentiable (softmax's VJP times the upstream, and softmax minus one-hot), so cross-entropy has second derivatives")
    public static final Prim<Var.Labels> SOFTMAX_CROSS_ENTROPY_GRAD = define("softmaxCrossEntropyGrad", 2, Var.Labels.class)
            .forward((in, a) -> SoftmaxCrossEntropy.grad(in[0], a.labels(), in[1]))
            .rules(Rules::crossEntropyGradVjp, Rules::crossEntropyGradJvp)
            .print(Printer.call("softmaxCrossEntropyGrad", Prim::labels)).build();

    // ---------------------------------------------------------------- movement (all linear)
    @Torch(value = "torch.reshape", group = SHAPE, grad = "the gradient reshaped back", differs = "one dimension may be -1 (inferred)")
    public static final Prim<Var.Dims> RESHAPE = define("reshape", 1, Var.Dims.class)
            .forward((in, a) -> in[0].reshape(a.shape())).vjp((g, o, in, a) -> new Var[] {g.reshape(in[0].shape())}).linear()
            .print(Printer.call("reshape", Prim::outShape)).build();
    @Torch(value = "torch.permute", group = SHAPE, grad = "the inverse permutation", differs = "a copy (PyTorch: a strided view)")
    public static final Prim<Var.Permutation> PERMUTE = define("permute", 1, Var.Permutation.class)
            .forward((in, a) -> in[0].permute(a.perm())).vjp((g, o, in, a) -> new Var[] {g.permute(Rules.inverse(a.perm()))}).linear()
            .print(Printer.call("permute", (a, o) -> Arrays.toString(a.perm()))).build();
    @Torch(value = "x[..., start:end, ...], torch.narrow", group = SHAPE, grad = "the gradient padded with zeros", differs = "slice(axis, start, end): no step, no negative bounds (narrow takes a negative start)")
    public static final Prim<Var.Slice> SLICE = define("slice", 1, Var.Slice.class)
            .forward((in, a) -> in[0].slice(a.axis(), a.start(), a.end())).vjp(Rules::sliceVjp).linear()
            .print(Printer.call("slice", (a, o) -> "axis=" + a.axis() + ", " + a.start() + ":" + a.end())).build();
    @Torch(value = "torch.cat", group = SHAPE, grad = "slices of the gradient")
    public static final Prim<Var.Axis> CONCAT = define("concat", -1, Var.Axis.class)
            .forward((in, a) -> Tensor.concat(a.axis(), in)).vjp(Rules::concatVjp).linear()
            .print(Printer.call("concat", (a, o) -> "axis=" + a.axis())).build();
    @Torch(value = "torch.broadcast_to, torch.Tensor.expand", group = SHAPE, grad = "summed over the broadcast dimensions", differs = "materialised (PyTorch: a view)")
    public static final Prim<Var.Dims> BROADCAST_TO = define("broadcastTo", 1, Var.Dims.class)
            .forward((in, a) -> in[0].broadcastTo(a.shape())).vjp((g, o, in, a) -> new Var[] {Rules.unbroadcast(g, in[0])}).linear()
            .print(Printer.call("broadcastTo", Prim::outShape)).build();
    @Torch(value = "torch.flip", group = SHAPE, grad = "linear: the gradient flipped back", differs = "a gather with a reversed index per axis; "
            + "at least one axis")
    public static final Prim<Var.Axes> FLIP = define("flip", 1, Var.Axes.class)
            .forward((in, a) -> in[0].flip(a.axes())).vjp((g, o, in, a) -> new Var[] {g.flip(a.axes())}).linear()
            .print(Printer.call("flip", (a, o) -> "axes=" + Arrays.toString(a.axes()))).build();
    @Torch(value = "torch.gather", group = INDEXING, grad = "scatter-add of the gradient at the index (repeated indices accumulate); not differentiable in the index")
    public static final Prim<Var.Indexing> GATHER = define("gather", 1, Var.Indexing.class)
            .forward((in, a) -> in[0].gather(a.axis(), a.index())).linear()
            .vjp((g, o, in, a) -> new Var[] {Rules.zerosLike(in[0]).scatterAdd(a.axis(), a.index(), g)})
            .print(Printer.call("gather", Prim::indexing)).build();
    @Torch(value = "torch.scatter_add", group = INDEXING, grad = "linear in both; the source's gradient is the gradient gathered at the index")
    public static final Prim<Var.Indexing> SCATTER_ADD = define("scatterAdd", 2, Var.Indexing.class)
            .forward((in, a) -> in[0].scatterAdd(a.axis(), a.index(), in[1])).linear()
            .vjp((g, o, in, a) -> new Var[] {g, Rules.need(in, 1) ? g.gather(a.axis(), a.index()) : null})
            .print(Printer.call("scatterAdd", Prim::indexing)).build();

    // ---------------------------------------------------------------- convolution (three bilinear primitives, each the others' adjoint)
    @Torch(value = "torch.nn.functional.conv2d (without bias)", group = CONVOLUTION, grad = "bilinear: the input's gradient is conv2dInputGrad(g, w), the weight's conv2dWeightGrad(x, g), primitives whose own rules are again the three, so every order is exact",
            differs = "no bias (add it: Conv2d does); padding is a number per side, no 'same'/'valid' strings, no padding modes; im2col + GEMM on every backend")
    public static final Prim<Var.Conv> CONV2D = define("conv2d", 2, Var.Conv.class)
            .forward((in, a) -> in[0].conv2d(in[1], a.window(), a.groups())).vjp(Rules::conv2dVjp).bilinear()
            .print(Printer.call("conv2d", Prim::conv)).build();
    /** The adjoint of CONV2D in its input: (output gradient, weight) -> input gradient (a transposed convolution). */
    @Torch(value = "torch.nn.grad.conv2d_input", group = CONVOLUTION, method = "-", grad = "bilinear: conv2d(h, w) for the output gradient, conv2dWeightGrad(h, g) for the weight")
    public static final Prim<Var.ConvInput> CONV2D_INPUT_GRAD = define("conv2dInputGrad", 2, Var.ConvInput.class)
            .forward((in, a) -> in[0].conv2dInputGrad(in[1], a.conv().window(), a.conv().groups(), a.height(), a.width()))
            .vjp(Rules::conv2dInputGradVjp).bilinear()
            .print(Printer.call("conv2dInputGrad", (a, o) -> conv(a.conv(), o) + ", input=" + a.height() + "x" + a.width())).build();
    /** The adjoint of CONV2D in its weight: (input, output gradient) -> weight gradient. */
    @Torch(value = "torch.nn.grad.conv2d_weight", group = CONVOLUTION, method = "-", grad = "bilinear: conv2dInputGrad(g, k) for the input, conv2d(x, k) for the output gradient")
    public static final Prim<Var.Conv> CONV2D_WEIGHT_GRAD = define("conv2dWeightGrad", 2, Var.Conv.class)
            .forward((in, a) -> in[0].conv2dWeightGrad(in[1], a.window(), a.groups())).vjp(Rules::conv2dWeightGradVjp).bilinear()
            .print(Printer.call("conv2dWeightGrad", Prim::conv)).build();
    @Torch(value = "torch.nn.functional.unfold", group = CONVOLUTION, grad = "linear: fold (col2im) of the gradient", differs = "NCHW input only")
    public static final Prim<Var.Window> UNFOLD = define("unfold", 1, Var.Window.class)
            .forward((in, a) -> in[0].unfold(a.window(), 0)).linear()
            .vjp((g, o, in, a) -> new Var[] {g.fold(a.window(), in[0].shape()[2], in[0].shape()[3])})
            .print(Printer.call("unfold", (a, o) -> a.window().toString())).build();
    @Torch(value = "torch.nn.functional.fold", group = CONVOLUTION, grad = "linear: unfold (im2col) of the gradient", differs = "output size as (height, width) arguments")
    public static final Prim<Var.Fold> FOLD = define("fold", 1, Var.Fold.class)
            .forward((in, a) -> in[0].fold(a.window(), a.height(), a.width())).linear()
            .vjp((g, o, in, a) -> new Var[] {g.unfold(a.window())})
            .print(Printer.call("fold", (a, o) -> a.window() + ", output=" + a.height() + "x" + a.width())).build();

    private static String conv(Var.Conv c, Var out) {
        return c.window() + (c.groups() == 1 ? "" : ", groups=" + c.groups());
    }
}
