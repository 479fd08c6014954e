package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.lessons.Dual;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The conventions of docs/design.md, "Numerical conventions": pow at a zero base and exponent (every
 * order, both modes), d/db a^b for a negative base, maximum/minimum with a NaN input, logSumExp of a row
 * of -inf, prod's gradient with zeros (to second order), std and the norms at 0, ties of max/min and the
 * stable sort; and that reverse mode (Var's VJP), forward mode (the JVP rule) and {@link Dual} agree on them.
 */
@ExtendWith(ScopePerTest.class)
class NumericalConventionsTest {
    private static final TensorFactory CPU = Tensor.on(Device.CPU);

    private static Tensor vec(double... v) {
        return CPU.of(v, v.length);
    }

    private static double[] grad(Function<Var, Var> f, double... x) {
        Var v = Var.param(vec(x));
        f.apply(v).sum().backward();
        return v.gradTensor().toDoubleArray();
    }

    // ------------------------------------------------------------------ pow at 0

    @Test
    void powWithExponentZeroAtBaseZero() {
        assertArrayEquals(new double[] {0, 0}, grad(x -> x.pow(0.0), 0, 2));
        assertArrayEquals(new double[] {0, 0}, Forward.jvp(x -> x.pow(0.0), vec(0, 2), vec(1, 1)).tangent().toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, Jacobians.hvp(x -> x.pow(0.0).sum(), vec(0, 2), vec(1, 1)).toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, reverseOverReverse(x -> x.pow(0.0), 0, 2));
        assertEquals(0.0, Dual.variable(0).pow(0.0).tangent, 0.0);
    }

    @Test
    void powWithExponentOneHasSecondDerivativeZeroAtBaseZero() {
        assertArrayEquals(new double[] {1, 1}, grad(x -> x.pow(1.0), 0, 2));
        assertArrayEquals(new double[] {0, 0}, Jacobians.hvp(x -> x.pow(1.0).sum(), vec(0, 2), vec(1, 1)).toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, reverseOverReverse(x -> x.pow(1.0), 0, 2));
        assertArrayEquals(new double[] {2, 2}, Jacobians.hvp(x -> x.pow(2.0).sum(), vec(0, 2), vec(1, 1)).toDoubleArray());
    }

    /** d/dx of sum(d f / dx) with the backward recorded: the diagonal of the Hessian for elementwise f. */
    private static double[] reverseOverReverse(Function<Var, Var> f, double... x) {
        Var v = Var.param(vec(x));
        Var g = Backward.adjoints(f.apply(v).sum(), null, true, v)[0];
        g.sum().backward();
        return v.gradTensor().toDoubleArray();
    }

    @Test
    void powOfTwoVariablesAtZeroZero() {
        Var a = Var.param(vec(0));
        Var b = Var.param(vec(0));
        a.pow(b).sum().backward();
        assertEquals(0.0, a.gradTensor().item(), 0.0, "d/da 0^0");
        assertEquals(0.0, b.gradTensor().item(), 0.0, "d/db 0^0");
        // both as one input z = [a, b]: the JVP along (1, 1) and the Hessian are 0, not NaN
        Function<Var, Var> f = z -> z.slice(0, 0, 1).pow(z.slice(0, 1, 2));
        assertEquals(0.0, Forward.jvp(f, vec(0, 0), vec(1, 1)).tangent().item(), 0.0);
        assertArrayEquals(new double[] {0, 0, 0, 0}, Jacobians.hessian(z -> f.apply(z).sum(), vec(0, 0)).toDoubleArray());
        assertEquals(Dual.of(1, 0), Dual.of(0, 1).pow(Dual.of(0, 1)));
    }

    // ------------------------------------------------------------------ Var (both modes) and Dual agree

    /** (a, b) over signs, zeros and integer and fractional exponents, where the partials are defined or not. */
    private static final double[] BASES = {-2, -0.5, 0, 0.5, 2};
    private static final double[] EXPONENTS = {-1, 0, 0.5, 1, 2, 3};

    @Test
    void powPartialsAgreeAcrossReverseForwardAndDual() {
        List<String> mismatches = new ArrayList<>();
        for (double a : BASES) {
            for (double b : EXPONENTS) {
                compare("pow", (x, y) -> x.pow(y), Dual::pow, a, b, mismatches);
            }
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
        // the convention for a negative base: d/db is NaN (ln a), as PyTorch; d/da is finite for integer b
        Var a = Var.param(vec(-2));
        Var b = Var.param(vec(3));
        a.pow(b).sum().backward();
        assertEquals(12.0, a.gradTensor().item(), 0.0);
        assertTrue(Double.isNaN(b.gradTensor().item()), "d/db (-2)^3 is NaN, got " + b.gradTensor().item());
        assertTrue(Double.isNaN(Dual.constant(-2).pow(Dual.variable(3)).tangent));
    }

    @Test
    void maximumAndMinimumWithNaNGiveBothInputsTheFullGradient() {
        double nan = Double.NaN;
        for (boolean max : new boolean[] {true, false}) {
            Var a = Var.param(vec(nan, 1, 3, 2));
            Var b = Var.param(vec(1, nan, 1, 2));
            (max ? a.maximum(b) : a.minimum(b)).sum().backward();
            double[] ga = a.gradTensor().toDoubleArray();
            double[] gb = b.gradTensor().toDoubleArray();
            String which = max ? "maximum" : "minimum";
            assertArrayEquals(new double[] {1, 1, max ? 1 : 0, 0.5}, ga, which + " d/da");
            assertArrayEquals(new double[] {1, 1, max ? 0 : 1, 0.5}, gb, which + " d/db");
        }
        List<String> mismatches = new ArrayList<>();
        for (double[] ab : new double[][] {{nan, 1}, {1, nan}, {nan, nan}, {3, 1}, {1, 3}}) {
            compare("maximum", Var::maximum, (x, y) -> x.max(y), ab[0], ab[1], mismatches);
            compare("minimum", Var::minimum, (x, y) -> x.min(y), ab[0], ab[1], mismatches);
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
    }

    /**
     * d f(a, b) along the seeds (1, 0), (0, 1) and (1, 1): Var's VJP, Var's JVP and Dual must give the same
     * number (NaN included; exactly, as all three evaluate the same formula). A zero seed is a constant
     * operand (no tangent), as Dual's zero tangents are exact zeros; a tangent tensor of zeros would still
     * multiply a NaN partial.
     */
    private static void compare(String name, BinaryOperator<Var> f, BinaryOperator<Dual> dual, double a, double b, List<String> out) {
        Var va = Var.param(vec(a));
        Var vb = Var.param(vec(b));
        f.apply(va, vb).sum().backward();
        double[] reverse = {va.gradTensor().item(), vb.gradTensor().item()};
        double[][] seeds = {{1, 0}, {0, 1}, {1, 1}};
        for (double[] s : seeds) {
            double r = s[0] == 0 ? reverse[1] : s[1] == 0 ? reverse[0] : reverse[0] + reverse[1];
            double fwd = s[1] == 0 ? Forward.jvp(x -> f.apply(x, Var.constant(vec(b))), vec(a), vec(1)).tangent().item()
                    : s[0] == 0 ? Forward.jvp(y -> f.apply(Var.constant(vec(a)), y), vec(b), vec(1)).tangent().item()
                    : Forward.jvp(z -> f.apply(z.slice(0, 0, 1), z.slice(0, 1, 2)), vec(a, b), vec(s)).tangent().item();
            double d = dual.apply(Dual.of(a, s[0]), Dual.of(b, s[1])).tangent;
            if (Double.compare(r, fwd) != 0 || Double.compare(r, d) != 0) {
                out.add(name + "(" + a + ", " + b + ") along (" + s[0] + ", " + s[1] + "): reverse " + r + ", forward " + fwd + ", Dual " + d);
            }
        }
    }

    // ------------------------------------------------------------------ logSumExp

    @Test
    void logSumExpOfARowOfMinusInfinityIsMinusInfinity() {
        double inf = Double.POSITIVE_INFINITY;
        Var x = Var.param(CPU.of(new double[] {-inf, -inf, -inf, 0, Math.log(3), -inf, inf, 1, 2}, 3, 3));
        Var lse = x.logSumExp(false, 1);
        assertArrayEquals(new double[] {-inf, Math.log(4), inf}, lse.value().toDoubleArray(), 1e-15);
        lse.backward(CPU.of(new double[] {1, 1, 1}, 3));
        double[] g = x.gradTensor().toDoubleArray();
        for (int c = 0; c < 3; c++) {
            assertTrue(Double.isNaN(g[c]), "row of -inf: exp(x - lse) = exp(-inf + inf) is NaN, as PyTorch; got " + g[c]);
        }
        assertArrayEquals(new double[] {0.25, 0.75, 0}, new double[] {g[3], g[4], g[5]}, 1e-15, "softmax of a finite row");
        assertTrue(Double.isNaN(g[6]) && g[7] == 0 && g[8] == 0, "row holding +inf: NaN at the inf, 0 elsewhere, as PyTorch");
        assertEquals(-inf, x.detach().slice(0, 0, 1).logSumExp(true, 0, 1).item(), 0.0, "over both axes");
        assertEquals(-inf, Var.constant(vec(-inf, -inf)).logSumExp(false, 0).item(), 0.0);
    }

    // ------------------------------------------------------------------ reductions at zeros and ties (issue 16), PyTorch's values

    @Test
    void prodGradientWithZerosIsPyTorchs() {
        // torch.tensor([2., 0., 3.], requires_grad=True).prod().backward() -> [0., 6., 0.]
        assertArrayEquals(new double[] {0, 6, 0}, grad(x -> x.prod(), 2, 0, 3));
        assertArrayEquals(new double[] {0, 0, 0}, grad(x -> x.prod(), 0, 0, 3), "two zeros: 0");
        assertArrayEquals(new double[] {13.5, 9, 6}, grad(x -> x.prod(), 2, 3, 4.5), 1e-14);
        assertArrayEquals(new double[] {0, 6, 0}, Forward.jvp(x -> x.prod().broadcastTo(3).mul(Var.constant(vec(0, 1, 0))), vec(2, 0, 3),
                vec(0, 1, 0)).tangent().toDoubleArray(), "forward mode: the tangent through the zero");
        // second derivatives at two zeros: d2 prod / dx0 dx1 = 3 (PyTorch's formula gives 0 there)
        assertArrayEquals(new double[] {3, 3, 0}, Jacobians.hvp(x -> x.prod(), vec(0, 0, 3), vec(1, 1, 0)).toDoubleArray());
        assertArrayEquals(new double[] {0, 3, 0}, Jacobians.hvp(x -> x.prod(), vec(0, 0, 3), vec(1, 0, 0)).toDoubleArray());
    }

    @Test
    void stdAndNormsHaveGradientZeroAtZero() {
        assertArrayEquals(new double[] {0, 0, 0}, grad(x -> x.std(), 0.5, 0.5, 0.5), "std of a constant: 0, as PyTorch");
        assertArrayEquals(new double[] {0, 0, 0}, grad(x -> x.norm(), 0, 0, 0), "2-norm at the zero vector: 0, as PyTorch");
        assertArrayEquals(new double[] {0, 0, 0}, grad(x -> x.norm(1, false), 0, 0, 0));
        assertArrayEquals(new double[] {0, 0, 0}, grad(x -> x.norm(Double.POSITIVE_INFINITY, false), 0, 0, 0));
        assertArrayEquals(new double[] {0, 0, 0}, Jacobians.hvp(x -> x.norm(), vec(0, 0, 0), vec(1, 1, 1)).toDoubleArray(),
                "finite to second order");
        assertArrayEquals(new double[] {0.6, -0.8}, grad(x -> x.norm(), 3, -4), 1e-15);
        assertArrayEquals(new double[] {-0.5, 0, -0.5}, grad(x -> x.norm(Double.POSITIVE_INFINITY, false), -2, 1, -2), "ties share");
        assertArrayEquals(new double[] {0.5, 0, 0.5}, grad(x -> x.amax(false), 2, 1, 2), "amax: ties share, as torch.amax");
        assertArrayEquals(new double[] {0, 0.5, 0.5}, grad(x -> x.min(), 2, 1, 1), "min: ties share, as torch.amin");
        assertArrayEquals(new double[] {1, 0, 0}, grad(x -> x.gather(0, x.argmax(0, true)), 2, 1, 2), "torch.max(x, dim)'s gradient: one index");
    }

    @Test
    void sortIsStableAndItsGradientFollowsTheIndices() {
        Var x = Var.param(vec(1, 3, 1, 2));
        Var.Sorted s = x.sort(0, true);
        assertArrayEquals(new long[] {1, 3, 0, 2}, s.indices().toLongArray(), "ties keep their order, descending too");
        s.values().mul(Var.constant(vec(10, 20, 30, 40))).sum().backward();
        assertArrayEquals(new double[] {30, 10, 40, 20}, x.gradTensor().toDoubleArray());
        Var.Sorted top = Var.constant(vec(1, 3, 1, 2)).topk(0, 3, false);
        assertArrayEquals(new long[] {0, 2, 3}, top.indices().toLongArray());
        assertArrayEquals(new double[] {1, 1, 2}, top.values().value().toDoubleArray());
    }
}
