package dev.wengert.autograd.lessons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.numeric.NumericDiff;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DualTest {

    /** One unary rule: the Dual op, the plain function, its hand-derived derivative, test points. */
    private record Rule(String name, DualFunction dual, DoubleUnaryOperator f, DoubleUnaryOperator df, double[] xs) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final double[] ALL = {-2.5, -0.7, -0.1, 0.3, 1.0, 3.2};
    private static final double[] POSITIVE = {0.05, 0.3, 1.0, 2.0, 7.5};
    private static final double[] NONZERO = {-3.0, -0.4, 0.25, 1.0, 5.0};

    static List<Rule> rules() {
        return List.of(
                new Rule("exp", Dual::exp, Math::exp, Math::exp, ALL),
                new Rule("log", Dual::log, Math::log, x -> 1 / x, POSITIVE),
                new Rule("sqrt", Dual::sqrt, Math::sqrt, x -> 1 / (2 * Math.sqrt(x)), POSITIVE),
                new Rule("abs", Dual::abs, Math::abs, x -> x > 0 ? 1 : -1, NONZERO),
                new Rule("sin", Dual::sin, Math::sin, Math::cos, ALL),
                new Rule("cos", Dual::cos, Math::cos, x -> -Math.sin(x), ALL),
                new Rule("tanh", Dual::tanh, Math::tanh, x -> 1 / (Math.cosh(x) * Math.cosh(x)), ALL),
                new Rule("sigmoid", Dual::sigmoid, x -> 1 / (1 + Math.exp(-x)),
                        x -> Math.exp(-x) / ((1 + Math.exp(-x)) * (1 + Math.exp(-x))), ALL),
                new Rule("relu", Dual::relu, x -> x > 0 ? x : 0, x -> x > 0 ? 1 : 0, NONZERO),
                new Rule("square", Dual::square, x -> x * x, x -> 2 * x, ALL),
                new Rule("reciprocal", Dual::reciprocal, x -> 1 / x, x -> -1 / (x * x), NONZERO),
                new Rule("negate", Dual::negate, x -> -x, x -> -1, ALL),
                new Rule("pow(3)", d -> d.pow(3), x -> x * x * x, x -> 3 * x * x, ALL),
                new Rule("pow(0.5)", d -> d.pow(0.5), Math::sqrt, x -> 0.5 / Math.sqrt(x), POSITIVE),
                new Rule("pow(-2)", d -> d.pow(-2), x -> 1 / (x * x), x -> -2 / (x * x * x), NONZERO),
                new Rule("pow(e, x)", d -> Dual.constant(Math.E).pow(d), Math::exp, Math::exp, ALL),
                new Rule("x^x", d -> d.pow(d), x -> Math.pow(x, x), x -> Math.pow(x, x) * (Math.log(x) + 1), POSITIVE),
                new Rule("plus(c)", d -> d.plus(2.5), x -> x + 2.5, x -> 1, ALL),
                new Rule("minus(c)", d -> d.minus(2.5), x -> x - 2.5, x -> 1, ALL),
                new Rule("times(c)", d -> d.times(-3.0), x -> -3 * x, x -> -3, ALL),
                new Rule("div(c)", d -> d.div(4.0), x -> x / 4, x -> 0.25, ALL),
                new Rule("x*x (times)", d -> d.times(d), x -> x * x, x -> 2 * x, ALL),
                new Rule("x/(1+x^2) (div)", d -> d.div(d.square().plus(1)), x -> x / (1 + x * x),
                        x -> (1 - x * x) / ((1 + x * x) * (1 + x * x)), ALL),
                new Rule("x - sin x (minus)", d -> d.minus(d.sin()), x -> x - Math.sin(x), x -> 1 - Math.cos(x), ALL),
                new Rule("x + exp x (plus)", d -> d.plus(d.exp()), x -> x + Math.exp(x), x -> 1 + Math.exp(x), ALL),
                new Rule("max(x, 1-x)", d -> d.max(Dual.constant(1).minus(d)), x -> Math.max(x, 1 - x),
                        x -> x > 0.5 ? 1 : -1, ALL),
                new Rule("min(x, x^2)", d -> Dual.min(d, d.square()), x -> Math.min(x, x * x),
                        x -> x < x * x ? 1 : 2 * x, new double[] {-2.0, -0.5, 0.4, 0.7, 2.0}),
                new Rule("sigmoid(tanh(x)^2*sqrt|x|)",
                        d -> d.tanh().square().times(d.abs().sqrt()).sigmoid(),
                        x -> {
                            double g = Math.tanh(x) * Math.tanh(x) * Math.sqrt(Math.abs(x));
                            return 1 / (1 + Math.exp(-g));
                        },
                        x -> {
                            double t = Math.tanh(x);
                            double r = Math.sqrt(Math.abs(x));
                            double g = t * t * r;
                            double s = 1 / (1 + Math.exp(-g));
                            double dg = 2 * t * (1 - t * t) * r + t * t * Math.signum(x) / (2 * r);
                            return s * (1 - s) * dg;
                        }, NONZERO));
    }

    static Stream<Arguments> rulePoints() {
        return rules().stream().flatMap(r -> java.util.Arrays.stream(r.xs).mapToObj(x -> Arguments.of(r, x)));
    }

    private static void assertClose(double expected, double actual, double relTol, String what) {
        double tol = relTol * Math.max(1.0, Math.abs(expected));
        assertEquals(expected, actual, tol, what);
    }

    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("rulePoints")
    void valueAndTangentMatchHandDerivedFormula(Rule rule, double x) {
        Dual y = rule.dual.apply(Dual.variable(x));
        assertClose(rule.f.applyAsDouble(x), y.value, 1e-15, rule.name + " value");
        assertClose(rule.df.applyAsDouble(x), y.tangent, 1e-13, rule.name + " tangent");
    }

    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("rulePoints")
    void tangentMatchesCentralDifference(Rule rule, double x) {
        double ad = Dual.derivative(rule.dual, x);
        double fd = NumericDiff.derivative(t -> rule.dual.apply(Dual.constant(t)).value, x);
        // Central differences are accurate to ~1e-10 relative here; AD is exact to rounding.
        assertClose(fd, ad, 1e-7, rule.name);
    }

    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("rulePoints")
    void tangentIsLinearInTheSeed(Rule rule, double x) {
        Dual unit = rule.dual.apply(Dual.variable(x));
        Dual scaled = rule.dual.apply(Dual.of(x, -2.5));
        assertClose(-2.5 * unit.tangent, scaled.tangent, 1e-14, rule.name);
        assertEquals(unit.value, scaled.value, 0.0);
        Dual constant = rule.dual.apply(Dual.constant(x));
        assertEquals(0.0, constant.tangent, 0.0, "a constant input has zero tangent");
    }

    @Test
    void binaryOperationsGivePartialDerivatives() {
        double a = 1.7;
        double b = -0.6;
        Dual da = Dual.variable(a);
        Dual db = Dual.variable(b);
        Dual ca = Dual.constant(a);
        Dual cb = Dual.constant(b);
        // d/da and d/db of a*b, a/b, a+b, a-b
        assertEquals(b, da.times(cb).tangent, 0.0);
        assertEquals(a, ca.times(db).tangent, 0.0);
        assertEquals(1 / b, da.div(cb).tangent, 1e-15);
        assertEquals(-a / (b * b), ca.div(db).tangent, 1e-14);
        assertEquals(1.0, da.plus(cb).tangent, 0.0);
        assertEquals(1.0, ca.plus(db).tangent, 0.0);
        assertEquals(1.0, da.minus(cb).tangent, 0.0);
        assertEquals(-1.0, ca.minus(db).tangent, 0.0);
        // both seeded: total derivative along (1, 1)
        assertEquals(a + b, da.times(db).tangent, 1e-15);
        assertEquals(a * b, da.times(db).value, 0.0);
    }

    @Test
    void generalPowerGivesBothPartials() {
        double a = 2.0;
        double b = 3.0;
        Dual base = Dual.variable(a).pow(Dual.constant(b));
        Dual exponent = Dual.constant(a).pow(Dual.variable(b));
        assertEquals(8.0, base.value, 0.0);
        assertEquals(b * Math.pow(a, b - 1), base.tangent, 1e-12);
        assertEquals(Math.pow(a, b) * Math.log(a), exponent.tangent, 1e-12);

        Dual neg = Dual.variable(0.5).pow(Dual.constant(-1.5));
        assertEquals(-1.5 * Math.pow(0.5, -2.5), neg.tangent, 1e-12);
    }

    @Test
    void powConventionsAtZeroBase() {
        // 0^2: base derivative 2*0 = 0, exponent derivative limit 0 (not 0 * log 0 = NaN)
        Dual both = Dual.of(0.0, 1.0).pow(Dual.of(2.0, 1.0));
        assertEquals(0.0, both.value, 0.0);
        assertEquals(0.0, both.tangent, 0.0);
        // x^0 is the constant 1 even at x = 0
        assertEquals(Dual.of(1.0, 0.0), Dual.variable(0.0).pow(0.0));
        assertEquals(Dual.of(1.0, 0.0), Dual.variable(0.0).pow(Dual.constant(0.0)));
        // x^1 at 0 has derivative 1
        assertEquals(1.0, Dual.variable(0.0).pow(1.0).tangent, 0.0);
        // sqrt via pow at 0: infinite slope, like sqrt
        assertEquals(Double.POSITIVE_INFINITY, Dual.variable(0.0).pow(0.5).tangent, 0.0);
    }

    @Test
    void absAndReluHaveZeroDerivativeAtTheKink() {
        assertEquals(Dual.of(0.0, 0.0), Dual.variable(0.0).abs());
        assertEquals(Dual.of(0.0, 0.0), Dual.variable(0.0).relu());
        assertEquals(0.0, Dual.variable(-0.0).abs().tangent, 0.0);
        assertEquals(0.0, Dual.variable(-0.0).relu().tangent, 0.0);
        assertEquals(-3.0, Dual.of(-2.0, 3.0).abs().tangent, 0.0);
        assertEquals(3.0, Dual.of(2.0, 3.0).relu().tangent, 0.0);
        assertEquals(0.0, Dual.of(-2.0, 3.0).relu().tangent, 0.0);
        assertEquals(0.0, Dual.of(-2.0, 3.0).relu().value, 0.0);
    }

    @Test
    void maxAndMinPassTheFirstArgumentsTangentOnTies() {
        Dual a = Dual.of(1.5, 10.0);
        Dual b = Dual.of(1.5, 20.0);
        assertEquals(Dual.of(1.5, 10.0), a.max(b));
        assertEquals(Dual.of(1.5, 20.0), b.max(a));
        assertEquals(Dual.of(1.5, 10.0), a.min(b));
        assertEquals(Dual.of(1.5, 20.0), b.min(a));
        assertEquals(Dual.of(1.5, 10.0), Dual.max(a, b));
        assertEquals(Dual.of(1.5, 20.0), Dual.min(b, a));

        Dual big = Dual.of(3.0, 7.0);
        assertEquals(big, a.max(big));
        assertEquals(big, big.max(a));
        assertEquals(a, a.min(big));
        assertEquals(a, big.min(a));
        assertTrue(Double.isNaN(Dual.of(Double.NaN, 1).max(a).value), "NaN propagates");
    }

    @Test
    void zeroTangentsStayExactlyZeroAtSingularities() {
        assertEquals(Dual.of(0.0, 0.0), Dual.constant(0.0).sqrt());
        assertEquals(Dual.of(Double.NEGATIVE_INFINITY, 0.0), Dual.constant(0.0).log());
        assertEquals(0.0, Dual.constant(0.0).reciprocal().tangent, 0.0);
        // ... but a varying input does see the infinite slope
        assertEquals(Double.POSITIVE_INFINITY, Dual.variable(0.0).sqrt().tangent, 0.0);
        assertEquals(Double.POSITIVE_INFINITY, Dual.variable(0.0).log().tangent, 0.0);
        // product with an infinite constant factor: x * inf, tangent inf; 0-tangent side contributes nothing
        Dual p = Dual.variable(2.0).times(Dual.constant(Double.POSITIVE_INFINITY));
        assertEquals(Double.POSITIVE_INFINITY, p.tangent, 0.0);
        Dual q = Dual.constant(Double.POSITIVE_INFINITY).times(Dual.variable(0.0).sin());
        assertEquals(Double.POSITIVE_INFINITY, q.tangent, 0.0);
    }

    @Test
    void sigmoidSaturatesWithoutNaN() {
        Dual lo = Dual.variable(-800).sigmoid();
        Dual hi = Dual.variable(800).sigmoid();
        assertEquals(Dual.of(0.0, 0.0), lo);
        assertEquals(Dual.of(1.0, 0.0), hi);
    }

    @Test
    void derivativeDriversEvaluateOnce() {
        DualFunction f = x -> x.times(x.sin()).plus(x.exp().div(x));
        double x = 1.3;
        double expected = Math.sin(x) + x * Math.cos(x) + Math.exp(x) * (x - 1) / (x * x);
        assertEquals(expected, Dual.derivative(f, x), 1e-13);
        Dual vd = Dual.valueAndDerivative(f, x);
        assertEquals(x * Math.sin(x) + Math.exp(x) / x, vd.value, 1e-15);
        assertEquals(expected, vd.tangent, 1e-13);
        assertEquals(vd.value, vd.value(), 0.0);
        assertEquals(vd.tangent, vd.tangent(), 0.0);
    }

    @Test
    void surveyExampleNeedsOneForwardPassPerInput() {
        // f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5), Baydin et al. (2018), Table 2
        Dual d1 = f(Dual.variable(2), Dual.constant(5));
        Dual d2 = f(Dual.constant(2), Dual.variable(5));
        assertEquals(11.652071455223084, d1.value, 1e-12);
        assertEquals(11.652, d1.value, 5e-4);
        assertEquals(5.5, d1.tangent, 1e-15);
        assertEquals(1.7163378145367738, d2.tangent, 1e-15);
        assertEquals(1.716, d2.tangent, 5e-4);
        assertEquals(d1.value, d2.value, 0.0);
    }

    private static Dual f(Dual x1, Dual x2) {
        return x1.log().plus(x1.times(x2)).minus(x2.sin());
    }

    @Test
    void factoriesSeedTheTangent() {
        assertEquals(Dual.of(3.0, 1.0), Dual.variable(3.0));
        assertEquals(Dual.of(3.0, 0.0), Dual.constant(3.0));
        assertEquals(4.0, Dual.of(4.0, 5.0).value, 0.0);
        assertEquals(5.0, Dual.of(4.0, 5.0).tangent, 0.0);
    }

    @Test
    void toStringShowsTheEpsilonTerm() {
        assertEquals("2.0 + 1.0ε", Dual.variable(2.0).toString());
        assertEquals("2.0 - 1.5ε", Dual.of(2.0, -1.5).toString());
        assertEquals("-0.5 + 0.0ε", Dual.constant(-0.5).toString());
    }

    @Test
    void equalityIsStructural() {
        assertEquals(Dual.of(1.0, 2.0), Dual.of(1.0, 2.0));
        assertEquals(Dual.of(1.0, 2.0).hashCode(), Dual.of(1.0, 2.0).hashCode());
        assertNotEquals(Dual.of(1.0, 2.0), Dual.of(1.0, 3.0));
        assertNotEquals(Dual.of(1.0, 2.0), Dual.of(0.0, 2.0));
        assertNotEquals(Dual.of(0.0, 0.0), Dual.of(-0.0, 0.0));
        assertEquals(Dual.of(Double.NaN, 0.0), Dual.of(Double.NaN, 0.0));
        assertNotEquals(Dual.of(1.0, 2.0), "1.0 + 2.0ε");
    }

    @Test
    void operationsDoNotMutateOperands() {
        Dual x = Dual.variable(0.7);
        x.times(x).sin().plus(3).exp();
        assertEquals(Dual.of(0.7, 1.0), x);
    }

    @Test
    void logisticMapDerivativeMatchesClosedFormRecursion() {
        // l' follows l'_{n+1} = 4 (1 - 2 l_n) l'_n: checks chaining over many steps
        double x = 0.3;
        Dual l = Dual.variable(x);
        double v = x;
        double dv = 1;
        for (int n = 1; n < 12; n++) {
            l = Dual.constant(4).times(l).times(Dual.constant(1).minus(l));
            dv = 4 * (1 - 2 * v) * dv;
            v = 4 * v * (1 - v);
        }
        assertEquals(v, l.value, 1e-12);
        assertEquals(dv, l.tangent, 1e-9 * Math.abs(dv));
    }
}
