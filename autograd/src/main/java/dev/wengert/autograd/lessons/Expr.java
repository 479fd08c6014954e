package dev.wengert.autograd.lessons;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * An immutable symbolic scalar expression with a textbook symbolic differentiator: the approach
 * that automatic differentiation is usually contrasted with.
 *
 * <p>{@link #diff(String)} applies the sum, product, quotient, power and chain rules
 * mechanically and returns a new expression. The rules copy their operands into the result
 * (the product rule turns {@code u·v} into {@code u'·v + u·v'}, so u and v now both appear
 * twice), and nested products therefore make the derivative <em>as a tree</em> grow
 * exponentially with the nesting depth: <em>expression swell</em>, see {@link ExpressionSwell}.
 * In memory the nodes are shared (a DAG), which is exactly what AD exploits by keeping
 * intermediate values instead of formulas; {@link #size()} deliberately counts the tree, i.e.
 * the formula one would have to write down.
 *
 * <p>Nodes: {@link Const}, {@link Variable}, {@link Unary} (negation and the functions exp, log
 * (natural), sin, cos, tanh, sqrt) and {@link Binary} (+, -, *, /, ^). Expressions are
 * immutable, compare structurally ({@link #equals}; constants by {@link Double#compare}, so
 * {@code 0.0} and {@code -0.0} differ) and cache their hash and tree size, so equality of
 * different expressions is usually decided in O(1). The algorithms ({@code diff},
 * {@code simplify}, {@code eval}, {@code size}) memoise per node identity, so they run in time
 * proportional to the number of distinct nodes even when the tree they represent is
 * exponentially larger. {@link #toString()} and {@link #equals} of two equal but separately
 * built expressions do walk the whole tree.
 *
 * <p>Example, the function from Baydin et al. (2018):
 * <pre>{@code
 * Expr x1 = Expr.variable("x1"), x2 = Expr.variable("x2");
 * Expr f = x1.log().plus(x1.times(x2)).minus(x2.sin());   // log(x1) + x1 * x2 - sin(x2)
 * Expr dfdx1 = f.diff("x1").simplify();                     // 1 / x1 + x2
 * }</pre>
 */
public abstract sealed class Expr permits Expr.Const, Expr.Variable, Expr.Unary, Expr.Binary {

    /** Unary operators: negation and the elementary functions. */
    public enum UnaryKind {
        /** Unary minus. */
        NEG("-", x -> -x),
        /** e^x. */
        EXP("exp", Math::exp),
        /** Natural logarithm. */
        LOG("log", Math::log),
        /** Sine. */
        SIN("sin", Math::sin),
        /** Cosine. */
        COS("cos", Math::cos),
        /** Hyperbolic tangent. */
        TANH("tanh", Math::tanh),
        /** Square root. */
        SQRT("sqrt", Math::sqrt);

        private final String symbol;
        private final DoubleUnaryOperator fn;

        UnaryKind(String symbol, DoubleUnaryOperator fn) {
            this.symbol = symbol;
            this.fn = fn;
        }

        /** The printed name ({@code "-"} for negation, else the function name). */
        public String symbol() {
            return symbol;
        }

        /** Applies the operator to a double, as {@link Expr#eval} does. */
        public double apply(double x) {
            return fn.applyAsDouble(x);
        }
    }

    /** Binary operators, with the precedence used for printing. */
    public enum BinaryKind {
        /** Addition. */
        ADD("+", 1, Double::sum),
        /** Subtraction. */
        SUB("-", 1, (a, b) -> a - b),
        /** Multiplication. */
        MUL("*", 2, (a, b) -> a * b),
        /** Division. */
        DIV("/", 2, (a, b) -> a / b),
        /** Power, {@link Math#pow}. */
        POW("^", 4, Math::pow);

        private final String symbol;
        private final int precedence;
        private final DoubleBinaryOperator fn;

        BinaryKind(String symbol, int precedence, DoubleBinaryOperator fn) {
            this.symbol = symbol;
            this.precedence = precedence;
            this.fn = fn;
        }

        /** The printed operator symbol. */
        public String symbol() {
            return symbol;
        }

        /** Applies the operator to doubles, as {@link Expr#eval} does. */
        public double apply(double a, double b) {
            return fn.applyAsDouble(a, b);
        }
    }

    // Printing precedences: binary ops use their own; unary minus binds tighter than * and /
    // but looser than ^ (so -x^2 means -(x^2), the mathematical convention); atoms and
    // function calls never need parentheses.
    private static final int PREC_NEG = 3;
    private static final int PREC_ATOM = 5;

    private final long size;
    private final int hash;

    private Expr(long size, int hash) {
        this.size = size;
        this.hash = hash;
    }

    // ================================================================== factories

    /** A numeric constant. */
    public static Expr constant(double value) {
        return new Const(value);
    }

    /**
     * A named variable. The name must be a Java-style identifier (letters, digits, '_', not
     * starting with a digit) so that {@link #toString()} stays unambiguous.
     */
    public static Expr variable(String name) {
        return new Variable(name);
    }

    /** The node {@code op(arg)}, without simplification. */
    public static Expr unary(UnaryKind op, Expr arg) {
        return new Unary(op, arg);
    }

    /** The node {@code left op right}, without simplification. */
    public static Expr binary(BinaryKind op, Expr left, Expr right) {
        return new Binary(op, left, right);
    }

    // ================================================================== builders

    /** {@code this + other}. Builders never simplify, so the tree is exactly what was written. */
    public Expr plus(Expr other) {
        return binary(BinaryKind.ADD, this, other);
    }

    /** {@code this + c}. */
    public Expr plus(double c) {
        return plus(constant(c));
    }

    /** {@code this - other}. */
    public Expr minus(Expr other) {
        return binary(BinaryKind.SUB, this, other);
    }

    /** {@code this - c}. */
    public Expr minus(double c) {
        return minus(constant(c));
    }

    /** {@code this * other}. */
    public Expr times(Expr other) {
        return binary(BinaryKind.MUL, this, other);
    }

    /** {@code this * c}. */
    public Expr times(double c) {
        return times(constant(c));
    }

    /** {@code this / other}. */
    public Expr div(Expr other) {
        return binary(BinaryKind.DIV, this, other);
    }

    /** {@code this / c}. */
    public Expr div(double c) {
        return div(constant(c));
    }

    /** {@code -this}. */
    public Expr negate() {
        return unary(UnaryKind.NEG, this);
    }

    /** {@code this ^ p} with a constant exponent (differentiated by the power rule). */
    public Expr pow(double p) {
        return pow(constant(p));
    }

    /**
     * {@code this ^ exponent}. If the exponent does not depend on the differentiation variable
     * {@link #diff} uses the power rule; otherwise the general rule
     * {@code d(u^v) = v·u^(v-1)·u' + u^v·log(u)·v'}, which needs u &gt; 0 where v varies.
     */
    public Expr pow(Expr exponent) {
        return binary(BinaryKind.POW, this, exponent);
    }

    /** {@code exp(this)}. */
    public Expr exp() {
        return unary(UnaryKind.EXP, this);
    }

    /** {@code log(this)}, the natural logarithm. */
    public Expr log() {
        return unary(UnaryKind.LOG, this);
    }

    /** {@code sin(this)}. */
    public Expr sin() {
        return unary(UnaryKind.SIN, this);
    }

    /** {@code cos(this)}. */
    public Expr cos() {
        return unary(UnaryKind.COS, this);
    }

    /** {@code tanh(this)}. */
    public Expr tanh() {
        return unary(UnaryKind.TANH, this);
    }

    /** {@code sqrt(this)}. */
    public Expr sqrt() {
        return unary(UnaryKind.SQRT, this);
    }

    // ================================================================== queries

    /**
     * The number of nodes of this expression <em>as a tree</em>: a subexpression that occurs
     * twice is counted twice even if it is one shared object. This is the size of the written
     * formula and the quantity that explodes under symbolic differentiation. Computed at
     * construction in O(1) per node.
     *
     * @throws ArithmeticException never in practice; sizes beyond {@code Long.MAX_VALUE} would
     *                             overflow at construction time instead of wrapping
     */
    public long size() {
        return size;
    }

    /** The names of the variables occurring in this expression, sorted. */
    public Set<String> variables() {
        Set<String> out = new TreeSet<>();
        collectVariables(this, out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return Collections.unmodifiableSet(out);
    }

    private static void collectVariables(Expr e, Set<String> out, Set<Expr> seen) {
        if (!seen.add(e)) {
            return;
        }
        if (e instanceof Variable v) {
            out.add(v.name);
        } else if (e instanceof Unary u) {
            collectVariables(u.arg, out, seen);
        } else if (e instanceof Binary b) {
            collectVariables(b.left, out, seen);
            collectVariables(b.right, out, seen);
        }
    }

    /**
     * Evaluates with IEEE double arithmetic (the same {@link Math} functions as
     * {@link Dual}); each distinct node is evaluated once.
     *
     * @param env values of the variables
     * @throws IllegalArgumentException if a variable has no (or a null) value in {@code env}
     */
    public double eval(Map<String, Double> env) {
        Objects.requireNonNull(env, "env");
        return evalNode(this, env, new IdentityHashMap<>());
    }

    /** Evaluates with a single variable bound; convenience for one-variable expressions. */
    public double eval(String variable, double value) {
        return eval(Map.of(variable, value));
    }

    private static double evalNode(Expr e, Map<String, Double> env, IdentityHashMap<Expr, Double> memo) {
        if (e instanceof Const c) {
            return c.value;
        }
        Double cached = memo.get(e);
        if (cached != null) {
            return cached;
        }
        double r;
        if (e instanceof Variable v) {
            Double d = env.get(v.name);
            if (d == null) {
                throw new IllegalArgumentException("no value for variable '" + v.name + "'");
            }
            r = d;
        } else if (e instanceof Unary u) {
            r = u.op.apply(evalNode(u.arg, env, memo));
        } else {
            Binary b = (Binary) e;
            r = b.op.apply(evalNode(b.left, env, memo), evalNode(b.right, env, memo));
        }
        memo.put(e, r);
        return r;
    }

    // ================================================================== differentiation

    /**
     * The partial derivative with respect to {@code var}, by the textbook rules and with no
     * simplification whatsoever (call {@link #simplify()} on the result), so that the raw
     * growth of the formula is visible:
     * <ul>
     *   <li>constants: 0; variables: 1 for {@code var}, 0 otherwise;</li>
     *   <li>sum/difference: {@code (u ± v)' = u' ± v'}; negation: {@code (-u)' = -u'};</li>
     *   <li>product: {@code (u·v)' = u'·v + u·v'};</li>
     *   <li>quotient: {@code (u/v)' = (u'·v - u·v') / v^2};</li>
     *   <li>power with exponent v free of {@code var}: {@code (u^v)' = v·u^(v-1)·u'}, the
     *       exponent {@code c-1} being computed directly when v is a constant c; otherwise the
     *       general power rule {@code (u^v)' = v·u^(v-1)·u' + u^v·log(u)·v'};</li>
     *   <li>chain rule {@code f(u)' = f'(u)·u'} with exp' = exp, log'(u) = 1/u (written
     *       {@code u'/u}), sin' = cos, cos' = -sin, tanh' = 1 - tanh², sqrt'(u) = 1/(2 sqrt u)
     *       (written {@code u'/(2*sqrt(u))}). Where f' is expressible by f itself (exp, tanh,
     *       sqrt, and u^v) the node itself is reused.</li>
     * </ul>
     */
    public Expr diff(String var) {
        Objects.requireNonNull(var, "var");
        return new Differentiator(var).diff(this);
    }

    private static final class Differentiator {
        private final String var;
        private final IdentityHashMap<Expr, Expr> memo = new IdentityHashMap<>();
        private final IdentityHashMap<Expr, Boolean> depends = new IdentityHashMap<>();

        Differentiator(String var) {
            this.var = var;
        }

        boolean dependsOnVar(Expr e) {
            if (e instanceof Const) {
                return false;
            }
            if (e instanceof Variable v) {
                return v.name.equals(var);
            }
            Boolean cached = depends.get(e);
            if (cached != null) {
                return cached;
            }
            boolean r = e instanceof Unary u
                    ? dependsOnVar(u.arg)
                    : dependsOnVar(((Binary) e).left) || dependsOnVar(((Binary) e).right);
            depends.put(e, r);
            return r;
        }

        Expr diff(Expr e) {
            Expr cached = memo.get(e);
            if (cached != null) {
                return cached;
            }
            Expr r = compute(e);
            memo.put(e, r);
            return r;
        }

        private Expr compute(Expr e) {
            if (e instanceof Const) {
                return constant(0);
            }
            if (e instanceof Variable v) {
                return constant(v.name.equals(var) ? 1 : 0);
            }
            if (e instanceof Unary u) {
                Expr a = u.arg;
                Expr da = diff(a);
                return switch (u.op) {
                    case NEG -> da.negate();
                    case EXP -> e.times(da);
                    case LOG -> da.div(a);
                    case SIN -> a.cos().times(da);
                    case COS -> a.sin().negate().times(da);
                    case TANH -> constant(1).minus(e.pow(2)).times(da);
                    case SQRT -> da.div(constant(2).times(e));
                };
            }
            Binary b = (Binary) e;
            Expr u = b.left;
            Expr v = b.right;
            return switch (b.op) {
                case ADD -> diff(u).plus(diff(v));
                case SUB -> diff(u).minus(diff(v));
                case MUL -> diff(u).times(v).plus(u.times(diff(v)));
                case DIV -> diff(u).times(v).minus(u.times(diff(v))).div(v.pow(2));
                case POW -> {
                    Expr exponentMinusOne = v instanceof Const c ? constant(c.value - 1) : v.minus(1);
                    Expr powerRule = v.times(u.pow(exponentMinusOne)).times(diff(u));
                    if (!dependsOnVar(v)) {
                        yield powerRule;
                    }
                    yield powerRule.plus(e.times(u.log()).times(diff(v)));
                }
            };
        }
    }

    // ================================================================== simplification

    /**
     * Bottom-up algebraic simplification using only <em>safe</em> rules, applied until none
     * matches (the result is a fixed point: {@code s.simplify().equals(s)}).
     *
     * <p><b>Safe</b> means: at any point where evaluating the original expression produces no
     * infinity or NaN in any subexpression, the simplified expression evaluates to exactly the
     * same double (bit for bit, except possibly the sign of a zero result). Where the original
     * does hit ∞ or NaN, the simplified one may be defined instead (e.g. {@code 0 * log(x)}
     * becomes 0 at x = 0): simplification can only enlarge the domain. The rules:
     * <ul>
     *   <li>constant folding of any operator whose operands are all constants (the same double
     *       operation {@link #eval} would perform);</li>
     *   <li>{@code 0 + u → u}, {@code u + 0 → u}, {@code u - 0 → u}, {@code 0 - u → -u};</li>
     *   <li>{@code 1 * u → u}, {@code u * 1 → u}, {@code 0 * u → 0}, {@code u * 0 → 0},
     *       {@code -1 * u → -u}, {@code u * -1 → -u};</li>
     *   <li>{@code u / 1 → u}, {@code u / -1 → -u}, {@code 0 / u → 0};</li>
     *   <li>{@code u ^ 1 → u}, {@code u ^ 0 → 1}, {@code 1 ^ u → 1};</li>
     *   <li>sign moves that are exact in IEEE arithmetic: {@code -(-u) → u},
     *       {@code u + (-v) → u - v}, {@code (-u) + v → v - u}, {@code u - (-v) → u + v},
     *       {@code (-u) * (-v) → u * v}, {@code (-u) / (-v) → u / v};</li>
     *   <li>for structurally equal operands: {@code u - u → 0} and {@code u / u → 1}.</li>
     * </ul>
     * Rules {@code 0 * u → 0}, {@code 0 / u → 0}, {@code u - u → 0} and {@code u / u → 1} are
     * the domain-enlarging ones (they are wrong only where u is ∞/NaN or, for division, 0).
     * Deliberately <em>not</em> applied: reassociation, commutation and collecting like terms
     * ({@code 2*x + 3*x → 5*x}), which change rounding; distributing products; and identities
     * valid only on part of the domain or only in exact arithmetic, such as
     * {@code sqrt(u^2) → u} (false for u &lt; 0), {@code log(exp(u)) → u} (overflow) or
     * {@code exp(log(u)) → u}. As a consequence simplified derivatives are smaller but can still
     * swell (see {@link ExpressionSwell}).
     */
    public Expr simplify() {
        return new Simplifier().simplify(this);
    }

    private static final class Simplifier {
        private final IdentityHashMap<Expr, Expr> memo = new IdentityHashMap<>();

        Expr simplify(Expr e) {
            if (e instanceof Const || e instanceof Variable) {
                return e;
            }
            Expr cached = memo.get(e);
            if (cached != null) {
                return cached;
            }
            Expr r;
            if (e instanceof Unary u) {
                Expr a = simplify(u.arg);
                r = rewrite(a == u.arg ? u : new Unary(u.op, a));
            } else {
                Binary b = (Binary) e;
                Expr l = simplify(b.left);
                Expr rt = simplify(b.right);
                r = rewrite(l == b.left && rt == b.right ? b : new Binary(b.op, l, rt));
            }
            memo.put(e, r);
            return r;
        }

        /** Applies root-level rules to a node whose children are already simplified. */
        private static Expr rewrite(Expr e) {
            Expr current = e;
            while (true) {
                Expr next = rewriteOnce(current);
                if (next == current) {
                    return current;
                }
                current = next;
            }
        }

        private static boolean isConst(Expr e, double v) {
            return e instanceof Const c && c.value == v;
        }

        private static boolean isNeg(Expr e) {
            return e instanceof Unary u && u.op == UnaryKind.NEG;
        }

        private static Expr negArg(Expr e) {
            return ((Unary) e).arg;
        }

        /** Returns {@code e} itself when no rule applies; every rule strictly shrinks the tree. */
        private static Expr rewriteOnce(Expr e) {
            if (e instanceof Unary u) {
                if (u.arg instanceof Const c) {
                    return constant(u.op.apply(c.value));
                }
                if (u.op == UnaryKind.NEG && isNeg(u.arg)) {
                    return negArg(u.arg);
                }
                return e;
            }
            if (!(e instanceof Binary b)) {
                return e;
            }
            Expr l = b.left;
            Expr r = b.right;
            if (l instanceof Const lc && r instanceof Const rc) {
                return constant(b.op.apply(lc.value, rc.value));
            }
            switch (b.op) {
                case ADD -> {
                    if (isConst(l, 0)) {
                        return r;
                    }
                    if (isConst(r, 0)) {
                        return l;
                    }
                    if (isNeg(r)) {
                        return new Binary(BinaryKind.SUB, l, negArg(r));
                    }
                    if (isNeg(l)) {
                        return new Binary(BinaryKind.SUB, r, negArg(l));
                    }
                }
                case SUB -> {
                    if (isConst(r, 0)) {
                        return l;
                    }
                    if (isConst(l, 0)) {
                        return rewrite(new Unary(UnaryKind.NEG, r));
                    }
                    if (isNeg(r)) {
                        return new Binary(BinaryKind.ADD, l, negArg(r));
                    }
                    if (l.equals(r)) {
                        return constant(0);
                    }
                }
                case MUL -> {
                    if (isConst(l, 0) || isConst(r, 0)) {
                        return constant(0);
                    }
                    if (isConst(l, 1)) {
                        return r;
                    }
                    if (isConst(r, 1)) {
                        return l;
                    }
                    if (isConst(l, -1)) {
                        return rewrite(new Unary(UnaryKind.NEG, r));
                    }
                    if (isConst(r, -1)) {
                        return rewrite(new Unary(UnaryKind.NEG, l));
                    }
                    if (isNeg(l) && isNeg(r)) {
                        return new Binary(BinaryKind.MUL, negArg(l), negArg(r));
                    }
                }
                case DIV -> {
                    if (isConst(r, 1)) {
                        return l;
                    }
                    if (isConst(r, -1)) {
                        return rewrite(new Unary(UnaryKind.NEG, l));
                    }
                    if (isConst(l, 0)) {
                        return constant(0);
                    }
                    if (isNeg(l) && isNeg(r)) {
                        return new Binary(BinaryKind.DIV, negArg(l), negArg(r));
                    }
                    if (l.equals(r)) {
                        return constant(1);
                    }
                }
                case POW -> {
                    if (isConst(r, 1)) {
                        return l;
                    }
                    if (isConst(r, 0) || isConst(l, 1)) {
                        return constant(1);
                    }
                }
            }
            return e;
        }
    }

    // ================================================================== Object

    /**
     * Structural equality: same node kinds, operators, variable names and constants (compared
     * with {@link Double#compare}), recursively. Cached hashes and sizes reject most unequal
     * pairs in O(1).
     */
    @Override
    public final boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Expr other) || other.hash != hash || other.size != size) {
            return false;
        }
        return sameStructure(other);
    }

    /** Called only for a different object with equal hash and size. */
    abstract boolean sameStructure(Expr other);

    @Override
    public final int hashCode() {
        return hash;
    }

    /**
     * Infix form with the minimum of parentheses needed to read the tree back unambiguously
     * under the usual conventions: {@code ^} binds tightest and associates to the right, then
     * unary minus, then {@code * /}, then {@code + -}, binary operators associating to the
     * left. So {@code x.plus(y).plus(z)} prints {@code x + y + z} but
     * {@code x.plus(y.plus(z))} prints {@code x + (y + z)}, and {@code -x^2} means
     * {@code -(x^2)}. As the one concession to readability, a negative right operand is
     * parenthesised ({@code x - (-2)} rather than {@code x - -2}). Integral constants print
     * without a decimal point ({@code 2}, not {@code 2.0}); the natural logarithm prints as
     * {@code log}.
     */
    @Override
    public final String toString() {
        StringBuilder sb = new StringBuilder();
        print(this, sb);
        return sb.toString();
    }

    private static int precedence(Expr e) {
        if (e instanceof Const c) {
            return isNegativeNumber(c.value) ? PREC_NEG : PREC_ATOM;
        }
        if (e instanceof Variable) {
            return PREC_ATOM;
        }
        if (e instanceof Unary u) {
            return u.op == UnaryKind.NEG ? PREC_NEG : PREC_ATOM;
        }
        return ((Binary) e).op.precedence;
    }

    private static boolean isNegativeNumber(double v) {
        return v < 0 || Double.compare(v, -0.0) == 0;
    }

    private static void printWrapped(Expr e, boolean parens, StringBuilder sb) {
        if (parens) {
            sb.append('(');
        }
        print(e, sb);
        if (parens) {
            sb.append(')');
        }
    }

    private static void print(Expr e, StringBuilder sb) {
        if (e instanceof Const c) {
            sb.append(formatNumber(c.value));
        } else if (e instanceof Variable v) {
            sb.append(v.name);
        } else if (e instanceof Unary u) {
            if (u.op == UnaryKind.NEG) {
                sb.append('-');
                printWrapped(u.arg, precedence(u.arg) <= PREC_NEG, sb);
            } else {
                sb.append(u.op.symbol).append('(');
                print(u.arg, sb);
                sb.append(')');
            }
        } else {
            Binary b = (Binary) e;
            int p = b.op.precedence;
            int lp = precedence(b.left);
            int rp = precedence(b.right);
            boolean leftParens;
            boolean rightParens;
            if (b.op == BinaryKind.POW) {
                leftParens = lp <= p;
                rightParens = rp < p;
            } else {
                leftParens = lp < p;
                rightParens = rp <= p || rp == PREC_NEG;
            }
            printWrapped(b.left, leftParens, sb);
            if (b.op == BinaryKind.POW) {
                sb.append('^');
            } else {
                sb.append(' ').append(b.op.symbol).append(' ');
            }
            printWrapped(b.right, rightParens, sb);
        }
    }

    private static String formatNumber(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            String s = Long.toString((long) v);
            return Double.compare(v, -0.0) == 0 ? "-0" : s;
        }
        return Double.toString(v);
    }

    // ================================================================== node classes

    /** A numeric constant. */
    public static final class Const extends Expr {
        private final double value;

        private Const(double value) {
            super(1, Double.hashCode(value) * 31 + 7);
            this.value = value;
        }

        /** The constant's value. */
        public double value() {
            return value;
        }

        @Override
        boolean sameStructure(Expr other) {
            return other instanceof Const c && Double.compare(value, c.value) == 0;
        }
    }

    /** A named variable. */
    public static final class Variable extends Expr {
        private final String name;

        private Variable(String name) {
            super(1, validName(name).hashCode() * 31 + 11);
            this.name = name;
        }

        private static String validName(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty() || !Character.isJavaIdentifierStart(name.charAt(0))
                    || !name.chars().allMatch(Character::isJavaIdentifierPart)) {
                throw new IllegalArgumentException("variable name must be an identifier: '" + name + "'");
            }
            return name;
        }

        /** The variable's name. */
        public String name() {
            return name;
        }

        @Override
        boolean sameStructure(Expr other) {
            return other instanceof Variable v && name.equals(v.name);
        }
    }

    /** {@code op(arg)}: negation or an elementary function. */
    public static final class Unary extends Expr {
        private final UnaryKind op;
        private final Expr arg;

        private Unary(UnaryKind op, Expr arg) {
            super(Math.addExact(1, Objects.requireNonNull(arg, "arg").size),
                    (Objects.requireNonNull(op, "op").ordinal() + 13) * 0x01000193 ^ arg.hash * 31);
            this.op = op;
            this.arg = arg;
        }

        /** The operator. */
        public UnaryKind op() {
            return op;
        }

        /** The operand. */
        public Expr arg() {
            return arg;
        }

        @Override
        boolean sameStructure(Expr other) {
            return other instanceof Unary u && op == u.op && arg.equals(u.arg);
        }
    }

    /** {@code left op right}. */
    public static final class Binary extends Expr {
        private final BinaryKind op;
        private final Expr left;
        private final Expr right;

        private Binary(BinaryKind op, Expr left, Expr right) {
            super(Math.addExact(1, Math.addExact(Objects.requireNonNull(left, "left").size,
                            Objects.requireNonNull(right, "right").size)),
                    ((Objects.requireNonNull(op, "op").ordinal() + 29) * 0x01000193 ^ left.hash) * 31 + right.hash);
            this.op = op;
            this.left = left;
            this.right = right;
        }

        /** The operator. */
        public BinaryKind op() {
            return op;
        }

        /** The left operand. */
        public Expr left() {
            return left;
        }

        /** The right operand (the exponent for {@link BinaryKind#POW}). */
        public Expr right() {
            return right;
        }

        @Override
        boolean sameStructure(Expr other) {
            return other instanceof Binary b && op == b.op && left.equals(b.left) && right.equals(b.right);
        }
    }
}
