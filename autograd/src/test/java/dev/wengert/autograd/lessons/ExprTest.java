package dev.wengert.autograd.lessons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.numeric.NumericDiff;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ExprTest {

    private static final Expr X = Expr.variable("x");
    private static final Expr Y = Expr.variable("y");
    private static final Expr X1 = Expr.variable("x1");
    private static final Expr X2 = Expr.variable("x2");

    /**
     * Forward-mode evaluation of an Expr with Dual numbers: an independent route to the
     * derivative (it shares no code with Expr.diff), used as the reference.
     */
    static Dual evalDual(Expr e, Map<String, Dual> env) {
        if (e instanceof Expr.Const c) {
            return Dual.constant(c.value());
        }
        if (e instanceof Expr.Variable v) {
            return env.get(v.name());
        }
        if (e instanceof Expr.Unary u) {
            Dual a = evalDual(u.arg(), env);
            return switch (u.op()) {
                case NEG -> a.negate();
                case EXP -> a.exp();
                case LOG -> a.log();
                case SIN -> a.sin();
                case COS -> a.cos();
                case TANH -> a.tanh();
                case SQRT -> a.sqrt();
            };
        }
        Expr.Binary b = (Expr.Binary) e;
        Dual l = evalDual(b.left(), env);
        Dual r = evalDual(b.right(), env);
        return switch (b.op()) {
            case ADD -> l.plus(r);
            case SUB -> l.minus(r);
            case MUL -> l.times(r);
            case DIV -> l.div(r);
            case POW -> b.right() instanceof Expr.Const c ? l.pow(c.value()) : l.pow(r);
        };
    }

    /** Partial derivative by forward mode: seed `wrt` with tangent 1, the others with 0. */
    static double dualPartial(Expr e, Map<String, Double> point, String wrt) {
        Map<String, Dual> env = new HashMap<>();
        point.forEach((k, v) -> env.put(k, k.equals(wrt) ? Dual.variable(v) : Dual.constant(v)));
        return evalDual(e, env).tangent;
    }

    private static void assertClose(double expected, double actual, double relTol, String what) {
        assertEquals(expected, actual, relTol * Math.max(1.0, Math.abs(expected)), what);
    }

    // ------------------------------------------------------------------ first derivatives

    static Stream<Arguments> functions() {
        return Stream.of(
                Arguments.of("log(x) + x*y - sin(y)", X.log().plus(X.times(Y)).minus(Y.sin())),
                Arguments.of("x^3", X.pow(3)),
                Arguments.of("exp(sin x)/x", X.sin().exp().div(X)),
                Arguments.of("sqrt(1 + x^2)", Expr.constant(1).plus(X.pow(2)).sqrt()),
                Arguments.of("tanh(x)*x", X.tanh().times(X)),
                Arguments.of("x^y (general pow)", X.pow(Y)),
                Arguments.of("y^(x^2) (general pow)", Y.pow(X.pow(2))),
                Arguments.of("(x - y)/(x + y)", X.minus(Y).div(X.plus(Y))),
                Arguments.of("-cos(x*y) * log(x)", X.times(Y).cos().negate().times(X.log())),
                Arguments.of("x^(-1.5) + 3/y", X.pow(-1.5).plus(Expr.constant(3).div(Y))),
                Arguments.of("tanh(exp(-x^2) - y)", X.pow(2).negate().exp().minus(Y).tanh()),
                Arguments.of("sqrt(x)*sqrt(y)/(x*y)", X.sqrt().times(Y.sqrt()).div(X.times(Y))),
                Arguments.of("x^x^x", X.pow(X.pow(X))),
                Arguments.of("constant 7", Expr.constant(7)));
    }

    private static final List<Map<String, Double>> POINTS = List.of(
            Map.of("x", 0.5, "y", 1.5),
            Map.of("x", 2.0, "y", 5.0),
            Map.of("x", 1.3, "y", 0.2),
            Map.of("x", 3.7, "y", 2.9));

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void symbolicDerivativeMatchesDualNumbers(String name, Expr f) {
        for (String wrt : List.of("x", "y")) {
            Expr raw = f.diff(wrt);
            Expr simple = raw.simplify();
            for (Map<String, Double> p : POINTS) {
                double expected = dualPartial(f, p, wrt);
                assertClose(expected, raw.eval(p), 1e-12, name + " d/d" + wrt + " raw at " + p);
                assertClose(expected, simple.eval(p), 1e-12, name + " d/d" + wrt + " simplified at " + p);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("functions")
    void simplifyKeepsValuesExactlyAndIsIdempotent(String name, Expr f) {
        Expr raw = f.diff("x");
        Expr simple = raw.simplify();
        assertTrue(simple.size() <= raw.size(), "simplify never grows: " + name);
        assertEquals(simple, simple.simplify(), "fixed point: " + name);
        for (Map<String, Double> p : POINTS) {
            // all subexpressions are finite at these points, so the safe rules are exact
            assertEquals(raw.eval(p), simple.eval(p), 0.0, name + " at " + p);
            assertEquals(f.eval(p), f.simplify().eval(p), 0.0, name + " at " + p);
        }
    }

    @Test
    void hasClosedFormFirstDerivatives() {
        assertEquals("3 * x^2", X.pow(3).diff("x").simplify().toString());
        assertEquals("cos(x)", X.sin().diff("x").simplify().toString());
        assertEquals("-sin(x)", X.cos().diff("x").simplify().toString());
        assertEquals("exp(x)", X.exp().diff("x").simplify().toString());
        assertEquals("1 / x", X.log().diff("x").simplify().toString());
        assertEquals("1 / (2 * sqrt(x))", X.sqrt().diff("x").simplify().toString());
        assertEquals("1 - tanh(x)^2", X.tanh().diff("x").simplify().toString());
        assertEquals("y", X.times(Y).diff("x").simplify().toString());
        assertEquals("x * x^(x - 1) + x^x * log(x)", X.pow(X).diff("x").simplify().toString());
        assertEquals("0", X.pow(3).diff("y").simplify().toString());
        assertEquals("-1", X.negate().diff("x").simplify().toString());
    }

    @Test
    void quotientRuleProducesTextbookForm() {
        Expr d = X.div(Y).diff("y").simplify();
        // (0*y - x*1)/y^2 -> (0 - x)/y^2 -> -x / y^2
        assertEquals("-x / y^2", d.toString());
        assertEquals(-2.0 / 9.0, d.eval(Map.of("x", 2.0, "y", 3.0)), 1e-15);
    }

    // ------------------------------------------------------------------ second derivatives

    static Stream<Arguments> secondDerivatives() {
        return Stream.of(
                Arguments.of("x^3", X.pow(3), (DoubleUnaryOperator) x -> 6 * x),
                Arguments.of("sin x", X.sin(), (DoubleUnaryOperator) x -> -Math.sin(x)),
                Arguments.of("cos x", X.cos(), (DoubleUnaryOperator) x -> -Math.cos(x)),
                Arguments.of("exp(x^2)", X.pow(2).exp(),
                        (DoubleUnaryOperator) x -> (2 + 4 * x * x) * Math.exp(x * x)),
                Arguments.of("log x", X.log(), (DoubleUnaryOperator) x -> -1 / (x * x)),
                Arguments.of("x exp x", X.times(X.exp()), (DoubleUnaryOperator) x -> (x + 2) * Math.exp(x)),
                Arguments.of("sqrt(1+x^2)", Expr.constant(1).plus(X.pow(2)).sqrt(),
                        (DoubleUnaryOperator) x -> Math.pow(1 + x * x, -1.5)),
                Arguments.of("tanh x", X.tanh(), (DoubleUnaryOperator) x -> {
                    double t = Math.tanh(x);
                    return -2 * t * (1 - t * t);
                }),
                Arguments.of("1/x", Expr.constant(1).div(X), (DoubleUnaryOperator) x -> 2 / (x * x * x)),
                Arguments.of("x^x", X.pow(X), (DoubleUnaryOperator) x -> {
                    double l = Math.log(x) + 1;
                    return Math.pow(x, x) * (l * l + 1 / x);
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("secondDerivatives")
    void secondDerivativeMatchesClosedForm(String name, Expr f, DoubleUnaryOperator expected) {
        Expr d2 = f.diff("x").diff("x");
        Expr d2s = f.diff("x").simplify().diff("x").simplify();
        for (double x : new double[] {0.3, 0.9, 1.7, 2.4}) {
            assertClose(expected.applyAsDouble(x), d2.eval("x", x), 1e-12, name + " raw at " + x);
            assertClose(expected.applyAsDouble(x), d2s.eval("x", x), 1e-12, name + " simplified at " + x);
        }
    }

    @Test
    void surveyExampleSecondPartials() {
        Expr f = X1.log().plus(X1.times(X2)).minus(X2.sin());
        Map<String, Double> p = Map.of("x1", 2.0, "x2", 5.0);
        assertEquals(1.0, f.diff("x1").diff("x2").simplify().eval(p), 0.0);
        assertEquals(1.0, f.diff("x2").diff("x1").simplify().eval(p), 0.0);
        assertEquals(-0.25, f.diff("x1").diff("x1").eval(p), 1e-15);
        assertEquals(Math.sin(5.0), f.diff("x2").diff("x2").eval(p), 1e-15);
        assertEquals("-1 / x1^2", f.diff("x1").simplify().diff("x1").simplify().toString());
    }

    // ------------------------------------------------------------------ survey example

    @Test
    void surveyExampleValueAndGradient() {
        // Baydin et al. (2018): f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5)
        Expr f = X1.log().plus(X1.times(X2)).minus(X2.sin());
        Map<String, Double> p = Map.of("x1", 2.0, "x2", 5.0);
        assertEquals("log(x1) + x1 * x2 - sin(x2)", f.toString());
        assertEquals(11.652, f.eval(p), 5e-4);
        assertEquals(11.652071455223084, f.eval(p), 1e-12);
        Expr d1 = f.diff("x1").simplify();
        Expr d2 = f.diff("x2").simplify();
        assertEquals("1 / x1 + x2", d1.toString());
        assertEquals("x1 - cos(x2)", d2.toString());
        assertEquals(5.5, d1.eval(p), 0.0);
        assertEquals(1.716, d2.eval(p), 5e-4);
        assertEquals(1.7163378145367738, d2.eval(p), 1e-15);
        double[] numeric = NumericDiff.gradient(v -> f.eval(Map.of("x1", v[0], "x2", v[1])), new double[] {2, 5});
        assertEquals(5.5, numeric[0], 1e-8);
        assertEquals(1.7163378145367738, numeric[1], 1e-8);
        assertEquals("1 / x1 + (1 * x2 + x1 * 0) - cos(x2) * 0", f.diff("x1").toString());
    }

    // ------------------------------------------------------------------ simplify

    @Test
    void simplifyAppliesEachSafeRule() {
        Expr zero = Expr.constant(0);
        Expr one = Expr.constant(1);
        Expr minusOne = Expr.constant(-1);
        assertEquals(X, zero.plus(X).simplify());
        assertEquals(X, X.plus(zero).simplify());
        assertEquals(X, X.minus(zero).simplify());
        assertEquals(X.negate(), zero.minus(X).simplify());
        assertEquals(X, one.times(X).simplify());
        assertEquals(X, X.times(one).simplify());
        assertEquals(zero, zero.times(X.log()).simplify());
        assertEquals(zero, X.log().times(zero).simplify());
        assertEquals(X.negate(), minusOne.times(X).simplify());
        assertEquals(X.negate(), X.times(minusOne).simplify());
        assertEquals(X, X.div(one).simplify());
        assertEquals(X.negate(), X.div(minusOne).simplify());
        assertEquals(zero, zero.div(X).simplify());
        assertEquals(X, X.pow(1).simplify());
        assertEquals(one, X.pow(0).simplify());
        assertEquals(one, one.pow(X).simplify());
        assertEquals(X, X.negate().negate().simplify());
        assertEquals(X.minus(Y), X.plus(Y.negate()).simplify());
        assertEquals(Y.minus(X), X.negate().plus(Y).simplify());
        assertEquals(X.plus(Y), X.minus(Y.negate()).simplify());
        assertEquals(X.times(Y), X.negate().times(Y.negate()).simplify());
        assertEquals(X.div(Y), X.negate().div(Y.negate()).simplify());
        assertEquals(zero, X.sin().minus(X.sin()).simplify());
        assertEquals(one, X.sin().div(X.sin()).simplify());
        // constant folding, including through functions
        assertEquals(Expr.constant(7), Expr.constant(3).plus(Expr.constant(4)).simplify());
        assertEquals(Expr.constant(Math.exp(2) * 0.5),
                Expr.constant(2).exp().times(Expr.constant(0.5)).simplify());
        assertEquals(Expr.constant(-2), Expr.constant(2).negate().simplify());
        // rules compose bottom-up: ((x*1) + 0) * (y^1) -> x * y
        assertEquals(X.times(Y), X.times(one).plus(zero).times(Y.pow(1)).simplify());
    }

    @Test
    void simplifyLeavesUnsafeOrRoundingChangingRewritesAlone() {
        List<Expr> untouched = List.of(
                X.pow(2).sqrt(),                                   // sqrt(x^2) = |x|, not x
                X.exp().log(),                                     // overflows for large x
                X.log().exp(),                                     // undefined for x <= 0
                X.plus(X),                                         // no like-term collection
                Expr.constant(2).times(X).plus(Expr.constant(3).times(X)),
                X.times(Y).minus(Y.times(X)),                      // no commutation
                X.plus(Y).minus(Y),                                // no reassociation
                Expr.constant(2).times(Expr.constant(3).times(X)), // would reassociate
                Expr.constant(0).pow(X),                           // 0^x is 1 at x = 0
                X.times(Y.plus(Expr.constant(1))));                 // no distribution
        for (Expr e : untouched) {
            assertSame(e, e.simplify(), e.toString());
        }
    }

    @Test
    void simplifyOnlyEnlargesTheDomain() {
        Expr e = Expr.constant(0).times(X.log()).plus(X);
        assertTrue(Double.isNaN(e.eval("x", 0.0)), "0 * log(0) = 0 * -inf = NaN");
        assertEquals(0.0, e.simplify().eval("x", 0.0), 0.0);
        assertEquals(X, e.simplify());
    }

    @Test
    void simplifiedDerivativeIsSmaller() {
        Expr f = X.sin().exp().div(X);
        Expr raw = f.diff("x");
        Expr simple = raw.simplify();
        assertTrue(simple.size() < raw.size(), simple.size() + " < " + raw.size());
        assertEquals("(exp(sin(x)) * cos(x) * x - exp(sin(x))) / x^2", simple.toString());
    }

    // ------------------------------------------------------------------ size, eval, equality

    @Test
    void sizeCountsTheTreeNotTheSharedGraph() {
        Expr shared = X.plus(1);            // 3 nodes
        Expr square = shared.times(shared); // one object used twice
        assertEquals(3, shared.size());
        assertEquals(7, square.size());
        assertEquals(1, X.size());
        assertEquals(1, Expr.constant(2).size());
        assertEquals(2, X.sin().size());
        Expr big = X;
        for (int i = 0; i < 60; i++) {
            big = big.plus(big);
        }
        assertEquals((1L << 61) - 1, big.size());
        // memoised algorithms handle the 2^61-node tree because it has only 61 distinct nodes
        assertEquals(Math.pow(2, 60) * 3.0, big.eval("x", 3.0), 0.0);
        assertEquals(Math.pow(2, 60), big.diff("x").eval("x", 0.0), 0.0);
    }

    @Test
    void evalUsesTheEnvironmentAndRejectsUnboundVariables() {
        Expr f = X.times(Y).plus(X.div(Y));
        assertEquals(2 * 4 + 0.5, f.eval(Map.of("x", 2.0, "y", 4.0)), 0.0);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> f.eval(Map.of("x", 1.0)));
        assertTrue(ex.getMessage().contains("'y'"), ex.getMessage());
        assertEquals(Set.of("x", "y"), f.variables());
        assertEquals(List.of("x", "y"), List.copyOf(Y.plus(X).variables()));
    }

    @Test
    void variableNamesMustBeIdentifiers() {
        assertThrows(IllegalArgumentException.class, () -> Expr.variable(""));
        assertThrows(IllegalArgumentException.class, () -> Expr.variable("x y"));
        assertThrows(IllegalArgumentException.class, () -> Expr.variable("2x"));
        assertThrows(NullPointerException.class, () -> Expr.variable(null));
        assertEquals("x_1", Expr.variable("x_1").toString());
    }

    @Test
    void equalityIsStructural() {
        Expr a = X.sin().times(Y.plus(2));
        Expr b = Expr.variable("x").sin().times(Expr.variable("y").plus(Expr.constant(2)));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, Y.plus(2).times(X.sin()));
        assertNotEquals(a, X.cos().times(Y.plus(2)));
        assertNotEquals(X.plus(Y), X.minus(Y));
        assertNotEquals(X, Y);
        assertNotEquals(Expr.constant(0.0), Expr.constant(-0.0));
        assertEquals(Expr.constant(Double.NaN), Expr.constant(Double.NaN));
        assertNotEquals(X, "x");
    }

    @Test
    void diffAndSimplifyDoNotChangeTheirInput() {
        Expr f = X.pow(3).times(X.sin()).plus(Expr.constant(0).times(Y));
        String before = f.toString();
        long size = f.size();
        f.diff("x");
        f.simplify();
        assertEquals(before, f.toString());
        assertEquals(size, f.size());
    }

    // ------------------------------------------------------------------ printing

    @Test
    void toStringUsesMinimalParentheses() {
        assertEquals("x + y + x", X.plus(Y).plus(X).toString());
        assertEquals("x + (y + x)", X.plus(Y.plus(X)).toString());
        assertEquals("x - (y - x)", X.minus(Y.minus(X)).toString());
        assertEquals("x - y * x", X.minus(Y.times(X)).toString());
        assertEquals("(x - y) * x", X.minus(Y).times(X).toString());
        assertEquals("x / (y * x)", X.div(Y.times(X)).toString());
        assertEquals("x * y / x", X.times(Y).div(X).toString());
        assertEquals("-x^2", X.pow(2).negate().toString());
        assertEquals("(-x)^2", X.negate().pow(2).toString());
        assertEquals("-x * y", X.negate().times(Y).toString());
        assertEquals("-(x * y)", X.times(Y).negate().toString());
        assertEquals("-(-x)", X.negate().negate().toString());
        assertEquals("x^y^2", X.pow(Y.pow(2)).toString());
        assertEquals("(x^y)^2", X.pow(Y).pow(2).toString());
        assertEquals("x^(-1)", X.pow(-1).toString());
        assertEquals("x^(y + 1)", X.pow(Y.plus(1)).toString());
        assertEquals("(-2)^x", Expr.constant(-2).pow(X).toString());
        assertEquals("x - (-2)", X.minus(-2).toString());
        assertEquals("x * (-y)", X.times(Y.negate()).toString());
        assertEquals("-2 * x", Expr.constant(-2).times(X).toString());
        assertEquals("x * 0.5", X.times(0.5).toString());
        assertEquals("sin(x + y) * exp(-x)", X.plus(Y).sin().times(X.negate().exp()).toString());
        assertEquals("log(x)^2", X.log().pow(2).toString());
        assertEquals("sqrt(1 + x^2)", Expr.constant(1).plus(X.pow(2)).sqrt().toString());
        assertEquals("2.5", Expr.constant(2.5).toString());
        assertEquals("2", Expr.constant(2.0).toString());
        assertEquals("NaN", Expr.constant(Double.NaN).toString());
    }
}
