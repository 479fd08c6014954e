package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.numeric.NumericDiff;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Jacobians of every primitive of {@link GradientTableTest}'s table, with respect to each input in turn:
 * forward (one JVP per input element) and reverse (one sweep per output element) must agree to 1e-12
 * (both are exact up to rounding) and both must agree with central differences to 1e-6. Then Hessians
 * of functions with known Hessians, exact to 1e-10.
 */
@ExtendWith(ScopePerTest.class)
class JacobiansTest {
    static Stream<Arguments> cases() {
        return GradientTableTest.table().flatMap(spec -> {
            Stream.Builder<Arguments> b = Stream.builder();
            for (int i = 0; i < spec.shapes().length; i++) {
                b.add(Arguments.of(spec, i));
            }
            return b.build();
        });
    }

    static Tensor[] inputs(GradientTableTest.Spec spec) {
        return spec.inputs(Device.CPU, 31);
    }

    /** The spec's function of input {@code which} alone, the others fixed. */
    static Function<Var, Var> partial(GradientTableTest.Spec spec, Tensor[] in, int which) {
        return x -> {
            Var[] vars = new Var[in.length];
            for (int i = 0; i < in.length; i++) {
                vars[i] = i == which ? x : Var.constant(in[i]);
            }
            return spec.f().apply(vars);
        };
    }

    @ParameterizedTest(name = "{0} wrt input {1}")
    @MethodSource("cases")
    void forwardAndReverseJacobiansAgreeWithEachOtherAndFiniteDifferences(GradientTableTest.Spec spec, int which) {
        Tensor[] in = inputs(spec);
        Function<Var, Var> f = partial(spec, in, which);
        Tensor forward = Jacobians.jacobian(f, in[which], Jacobians.Mode.FORWARD);
        Tensor reverse = Jacobians.jacobian(f, in[which], Jacobians.Mode.REVERSE);
        Tensor numeric = NumericDiff.jacobian(x -> f.apply(Var.constant(x)).value(), in[which]);
        assertArrayEquals(numeric.shape(), forward.shape(), spec + ": forward Jacobian shape");
        assertArrayEquals(numeric.shape(), reverse.shape(), spec + ": reverse Jacobian shape");
        assertClose(forward, reverse, 1e-12, spec + ": forward vs reverse");
        assertClose(forward, numeric, 1e-6, spec + ": forward vs finite differences");
    }

    static void assertClose(Tensor a, Tensor b, double tol, String what) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        assertEquals(x.length, y.length, what + ": sizes");
        for (int i = 0; i < x.length; i++) {
            double err = Math.abs(x[i] - y[i]) / Math.max(1, Math.max(Math.abs(x[i]), Math.abs(y[i])));
            assertTrue(err <= tol, what + ": element " + i + ": " + x[i] + " vs " + y[i] + " (relative error " + err + ")");
        }
    }

    @Test
    void autoPicksForwardForTallAndReverseForWideJacobians() {
        assertEquals(Jacobians.Mode.FORWARD, Jacobians.Mode.AUTO.resolve(2, 10));
        assertEquals(Jacobians.Mode.REVERSE, Jacobians.Mode.AUTO.resolve(10, 2));
        assertEquals(Jacobians.Mode.FORWARD, Jacobians.Mode.AUTO.resolve(3, 3));
        assertEquals(Jacobians.Mode.REVERSE, Jacobians.Mode.REVERSE.resolve(2, 10));
        // Count evaluations of f: the probe, then n forward passes (tall) or nothing more (wide).
        AtomicInteger calls = new AtomicInteger();
        Tensor w = Tensor.on(Device.CPU).uniform(-1, 1, 5, DType.FLOAT64, 2, 6);
        Function<Var, Var> tall = x -> {
            calls.incrementAndGet();
            return x.matmul(Var.constant(w)).sin();             // R^2 -> R^6
        };
        Tensor x2 = Tensor.on(Device.CPU).uniform(-1, 1, 6, DType.FLOAT64, 1, 2);
        Tensor j = Jacobians.jacobian(tall, x2);
        assertEquals(1 + 2, calls.get(), "AUTO on a 2 -> 6 function should probe once and run 2 JVP passes");
        assertClose(j, Jacobians.jacobian(tall, x2, Jacobians.Mode.REVERSE), 1e-12, "tall");
        calls.set(0);
        Function<Var, Var> wide = x -> {
            calls.incrementAndGet();
            return x.matmul(false, Var.constant(w), true).tanh();   // R^6 -> R^2
        };
        Tensor x6 = Tensor.on(Device.CPU).uniform(-1, 1, 7, DType.FLOAT64, 1, 6);
        j = Jacobians.jacobian(wide, x6);
        assertEquals(1, calls.get(), "AUTO on a 6 -> 2 function should record once and sweep twice");
        assertClose(j, Jacobians.jacobian(wide, x6, Jacobians.Mode.FORWARD), 1e-12, "wide");
    }

    @Test
    void vjpIsTheTransposeOfJvp() {
        Function<Var, Var> f = x -> x.exp().matmul(x.transpose()).tanh();
        Tensor x = Tensor.on(Device.CPU).uniform(-1, 1, 8, DType.FLOAT64, 3, 2);
        Tensor v = Tensor.on(Device.CPU).uniform(-1, 1, 9, DType.FLOAT64, 3, 2);
        Tensor u = Tensor.on(Device.CPU).uniform(-1, 1, 10, DType.FLOAT64, 3, 3);
        Forward.Jvp jv = Jacobians.jvp(f, x, v);
        Jacobians.Vjp uj = Jacobians.vjp(f, x, u);
        assertClose(jv.value(), uj.value(), 0, "values");
        double uJv = u.mul(jv.tangent()).sum().item();
        double ujv = uj.cotangent().mul(v).sum().item();
        assertEquals(uJv, ujv, 1e-12, "u . (J v) must equal (u^T J) . v");
    }

    @Test
    void errorsNameTheFunctionAndTheShapes() {
        Tensor x = Tensor.on(Device.CPU).uniform(-1, 1, 8, DType.FLOAT64, 3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Jacobians.vjp(Var::sin, x, Tensor.zeros(DType.FLOAT64, 2, 3)));
        assertTrue(e.getMessage().startsWith("vjp:") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Jacobians.hessian(Var::sin, x));
        assertTrue(e.getMessage().startsWith("hvp:") && e.getMessage().contains("sum()"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Jacobians.hvp(v -> v.sum(), x, Tensor.zeros(DType.FLOAT64, 6)));
        assertTrue(e.getMessage().startsWith("hvp:") && e.getMessage().contains("[6]"), e.getMessage());
    }

    @Test
    void hessianOfAQuadraticFormIsAPlusATransposed() {
        Tensor a = Tensor.on(Device.CPU).uniform(-2, 2, 11, DType.FLOAT64, 4, 4);
        Tensor x = Tensor.on(Device.CPU).uniform(-2, 2, 12, DType.FLOAT64, 4);
        Var aVar = Var.constant(a);
        Function<Var, Var> quadratic = v -> v.reshape(1, 4).matmul(aVar).matmul(v.reshape(4, 1)).reshape();
        Tensor h = Jacobians.hessian(quadratic, x);
        assertArrayEquals(new int[] {4, 4}, h.shape());
        assertClose(h, a.add(a.transpose()), 1e-10, "x^T A x");
    }

    @Test
    void hessianOfRosenbrockMatchesTheClosedForm() {
        double[] p = {-1.2, 1.0, 0.7, 1.3};
        Tensor x = Tensor.of(p, 4);
        Tensor h = Jacobians.hessian(JacobiansTest::rosenbrock, x);
        assertClose(h, Tensor.of(rosenbrockHessian(p), 4, 4), 1e-10, "Rosenbrock");
        Tensor v = Tensor.of(new double[] {0.3, -1, 2, 0.5}, 4);
        assertClose(Jacobians.hvp(JacobiansTest::rosenbrock, x, v), h.matmul(v.reshape(4, 1)).reshape(4), 1e-10, "H v");
        // the gradient against its closed form, too
        double[] g = Jacobians.grad(JacobiansTest::rosenbrock, x).toDoubleArray();
        for (int i = 0; i < 4; i++) {
            double gi = (i < 3 ? -400 * p[i] * (p[i + 1] - p[i] * p[i]) - 2 * (1 - p[i]) : 0)
                    + (i > 0 ? 200 * (p[i] - p[i - 1] * p[i - 1]) : 0);
            assertEquals(gi, g[i], 1e-10 * Math.max(1, Math.abs(gi)), "gradient " + i);
        }
    }

    /** sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2. */
    static Var rosenbrock(Var x) {
        int n = x.shape()[0];
        Var head = x.slice(0, 0, n - 1);
        Var tail = x.slice(0, 1, n);
        return tail.sub(head.square()).square().mul(100).add(head.rsub(1).square()).sum();
    }

    static double[] rosenbrockHessian(double[] x) {
        int n = x.length;
        double[] h = new double[n * n];
        for (int i = 0; i < n; i++) {
            if (i < n - 1) {
                h[i * n + i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
                h[i * n + i + 1] = -400 * x[i];
                h[(i + 1) * n + i] = -400 * x[i];
            }
            if (i > 0) {
                h[i * n + i] += 200;
            }
        }
        return h;
    }
}
