package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.lessons.Expr;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Higher order: grad of grad on rank-0 float64 variables against the symbolic second derivative
 * ({@link Expr#diff} twice), and {@link GradCheck#checkSecondOrder} (reverse over reverse and forward
 * over reverse against finite differences of the gradient) on every row of {@link GradientTableTest}.
 */
@ExtendWith(ScopePerTest.class)
class SecondOrderTest {
    /** The same scalar function written twice: symbolically and with Var. */
    record Fn(String name, Function<Expr, Expr> symbolic, Function<Var, Var> var) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Fn> functions() {
        return List.of(
                new Fn("x^3", x -> x.times(x).times(x), x -> x.mul(x).mul(x)),
                new Fn("sin(x) * exp(x)", x -> x.sin().times(x.exp()), x -> x.sin().mul(x.exp())),
                new Fn("ln(x) / x", x -> x.log().div(x), x -> x.log().div(x)),
                new Fn("tanh(x^2)", x -> x.times(x).tanh(), x -> x.square().tanh()),
                new Fn("sqrt(1 + x^2)", x -> Expr.constant(1).plus(x.times(x)).sqrt(), x -> x.square().add(1).sqrt()),
                new Fn("cos(sin(x))", x -> x.sin().cos(), x -> x.sin().cos()),
                new Fn("x^2.5", x -> x.pow(2.5), x -> x.pow(2.5)),
                new Fn("exp(-x) - 1/x", x -> x.negate().exp().minus(Expr.constant(1).div(x)), x -> x.neg().exp().sub(x.pow(-1))),
                new Fn("logistic step 4x(1-x) twice", x -> step(step(x)), x -> step(step(x))));
    }

    static Expr step(Expr l) {
        return Expr.constant(4).times(l).times(Expr.constant(1).minus(l));
    }

    static Var step(Var l) {
        return l.mul(4).mul(l.rsub(1));
    }

    static Stream<Arguments> gradOfGradCases() {
        List<Arguments> out = new ArrayList<>();
        for (Fn f : functions()) {
            for (double x : new double[] {0.3, 0.9, 1.7}) {
                out.add(Arguments.of(f, x));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("gradOfGradCases")
    void gradOfGradMatchesTheSymbolicSecondDerivative(Fn f, double at) {
        Expr e = f.symbolic().apply(Expr.variable("x"));
        Expr d1 = e.diff("x");
        Expr d2 = d1.diff("x");

        Var x = Var.param(Tensor.scalar(at, DType.FLOAT64));
        Var y = f.var().apply(x);
        Var dy = Backward.adjoints(y, null, true, x)[0];
        assertTrue(dy.requiresGrad(), f + ": the recorded gradient must depend on x");
        Var d2y = Backward.adjoints(dy, null, false, x)[0];

        assertEquals(e.eval("x", at), y.item(), 1e-12 * Math.max(1, Math.abs(y.item())), f + ": value");
        assertEquals(d1.eval("x", at), dy.item(), 1e-12 * Math.max(1, Math.abs(dy.item())), f + ": first derivative");
        assertEquals(d2.eval("x", at), d2y.item(), 1e-10 * Math.max(1, Math.abs(d2y.item())), f + ": second derivative");
        // the same through the stateful API: backward(createGraph) then backward of the leaf's grad
        Var x2 = Var.param(Tensor.scalar(at, DType.FLOAT64));
        f.var().apply(x2).backward(null, true, true);
        Var g = x2.grad();
        x2.zeroGrad();
        g.backward();
        assertEquals(d2.eval("x", at), x2.gradTensor().item(), 1e-10 * Math.max(1, Math.abs(d2y.item())), f + ": via backward()");
    }

    @Test
    void thirdDerivativeByRepeatedGrad() {
        Var x = Var.param(Tensor.scalar(0.7, DType.FLOAT64));
        Var y = x.sin().mul(x.square());                       // x^2 sin x
        Var d1 = Backward.adjoints(y, null, true, x)[0];
        Var d2 = Backward.adjoints(d1, null, true, x)[0];
        Var d3 = Backward.adjoints(d2, null, false, x)[0];
        Expr e = Expr.variable("x").times(Expr.variable("x")).times(Expr.variable("x").sin());
        assertEquals(e.diff("x").diff("x").diff("x").eval("x", 0.7), d3.item(), 1e-10);
    }

    /** The table's rows but those at a point where the gradient itself has a kink (a tie, a zero vector). */
    static Stream<Arguments> tableCases() {
        return GradientTableTest.table().filter(GradientTableTest.Spec::secondOrder).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tableCases")
    void everyPrimitiveIsTwiceDifferentiable(GradientTableTest.Spec spec) {
        Tensor[] inputs = spec.inputs(Device.CPU, 41);
        GradCheck.Result r = GradCheck.checkSecondOrder(spec.f(), 1e-6, inputs);
        assertTrue(r.passes(1e-6), spec + ": " + r);
    }

    /** A primitive whose VJP is computed on raw tensors: right to first order, not differentiable again. */
    private static final Prim CUBE = new Prim("cubeOnRawTensors");

    static {
        Rules.define(CUBE,
                (g, o, in, a) -> new Var[] {g.mul(Var.constant(in[0].value().mul(in[0].value()).mul(3.0)))},
                (t, o, in, a) -> t[0].mul(Var.constant(in[0].value().mul(in[0].value()).mul(3.0))));
    }

    static Var cube(Var x) {
        return Var.custom(CUBE, null, x.value().mul(x.value()).mul(x.value()), x);
    }

    @Test
    void secondOrderCheckCatchesARuleThatIsNotDifferentiable() {
        Tensor x = Tensor.on(Device.CPU).uniform(0.5, 1.5, 3, DType.FLOAT64, 3);
        Function<Var[], Var> f = v -> cube(v[0]);
        GradCheck.Result first = GradCheck.check(f, 1e-6, x);
        assertTrue(first.passes(1e-6), "first order is right: " + first);
        GradCheck.Result second = GradCheck.checkSecondOrder(f, 1e-6, x);
        assertFalse(second.passes(1e-3), "second order must fail: " + second);
        assertTrue(second.where().contains("input 0 element"), second.toString());
        // and the composed version passes
        assertTrue(GradCheck.checkSecondOrder(v -> v[0].mul(v[0]).mul(v[0]), 1e-6, x).passes(1e-6));
    }

    @Test
    void checkReportsTheWorstElementAndMode() {
        // a deliberately wrong reverse rule: 2x instead of 3x^2 (its JVP rule is right)
        Prim wrong = new Prim("cubeWithWrongVjp");
        Rules.define(wrong, (g, o, in, a) -> new Var[] {g.mul(in[0]).mul(2)},
                (t, o, in, a) -> t[0].mul(in[0].square().mul(3)));
        Tensor x = Tensor.of(new double[] {0.5, 2.0, 1.0}, 3);
        GradCheck.Result r = GradCheck.check(v -> Var.custom(wrong, null, v[0].value().pow(3.0), v[0]), 1e-6, x);
        assertFalse(r.passes(1e-3), r.toString());
        assertEquals("input 0 element 1 (reverse mode)", r.where(), r.toString());
    }

    @Test
    void checkPerturbsARankZeroInputAsRankZero() {
        // found by the random-program fuzzer (program 0 of the build's sequence, seed 638213654821330954,
        // failed 9 of 300 programs without the fix, with the generator of commit 4f6e1f0: adding a
        // primitive changes every seeded program): GradCheck rebuilt a perturbed rank-0 input as a
        // vector [1], so broadcastTo(x, []) threw and f(x) was another function
        Tensor x = Tensor.scalar(0.7, DType.FLOAT64);
        Function<Var[], Var> f = v -> {
            assertEquals(0, v[0].shape().length, "GradCheck must pass f inputs of the shape it was given");
            return v[0].broadcastTo().sin();
        };
        GradCheck.Result r = GradCheck.check(f, 1e-6, x);
        assertTrue(r.passes(1e-8), r.toString());
        assertTrue(GradCheck.checkSecondOrder(f, 1e-6, x).passes(1e-6));
    }

    @Test
    void float32Warns() {
        List<String> warnings = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(GradCheck.class.getName());
        log.addHandler(h);
        try {
            Tensor x = Tensor.of(new float[] {0.5f, 1.5f}, 2);
            GradCheck.checkSecondOrder(v -> v[0].sin(), 1e-3, x);
            GradCheck.check(v -> v[0].sin(), 1e-3, Tensor.of(new double[] {0.5, 1.5}, 2));
        } finally {
            log.removeHandler(h);
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("float32") && warnings.get(0).contains("second order"), warnings.get(0));
    }
}
