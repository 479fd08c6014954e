package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The elementwise primitives of issue 16 where the gradient table cannot look: PyTorch's gradients at kinks and
 * bounds (leakyRelu'(0) = slope, elu'(0) = alpha, clamp's inclusive bounds, 0 at NaN), piecewise-constant ops
 * giving a zero (not g × 0) under an infinite adjoint, fmod/remainder's quotient partials, hypot at the origin;
 * and the masks: constants, not recorded, a backward through one names the op; and the Composites registry.
 */
@ExtendWith(ScopePerTest.class)
class ElementwiseOpsTest {
    private static final TensorFactory CPU = Tensor.on(Device.CPU);
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double NAN = Double.NaN;

    private static Tensor vec(double... v) {
        return CPU.of(v, v.length);
    }

    /** d sum(f(x)) / dx by reverse mode; also checks the forward mode (one JVP with a ones tangent, elementwise). */
    private static double[] grad(Function<Var, Var> f, double... x) {
        Var v = Var.param(vec(x));
        f.apply(v).sum().backward();
        double[] reverse = v.gradTensor().toDoubleArray();
        double[] forward = Forward.jvp(f, vec(x), CPU.ones(DType.FLOAT64, x.length)).tangent().toDoubleArray();
        assertArrayEquals(reverse, forward, 0, "forward mode agrees");
        return reverse;
    }

    @Test
    void gradientsAtKinksAndBoundsAsPyTorch() {
        assertArrayEquals(new double[] {0.2, 0.2, 1}, grad(x -> x.leakyRelu(0.2), -1, 0, 1));
        assertArrayEquals(new double[] {1.5 * Math.exp(-1), 1.5, 1}, grad(x -> x.elu(1.5), -1, 0, 1), 1e-15);
        assertArrayEquals(new double[] {1, 0.2}, grad(x -> Var.concat(0, x.slice(0, 0, 1).elu(), x.slice(0, 1, 2).leakyRelu(0.2)), NAN, NAN),
                "at NaN: PyTorch's elu_backward takes the x > 0 branch, leaky_relu_backward the other");
        assertArrayEquals(new double[] {0, 1, 1, 1, 0, 0}, grad(x -> x.clamp(-1, 1), -2, -1, 0, 1, 2, NAN));
        assertArrayEquals(new double[] {1, 1, 0}, grad(x -> x.clampMin(0), 0, 5, -1));
        assertArrayEquals(new double[] {0, 0}, grad(x -> x.clamp(2, 1), 1.5, 3));            // min > max: the constant max
        assertArrayEquals(new double[] {1, 1}, grad(x -> x.softplus(1, 20), 21, 1e6));        // linear part
        assertArrayEquals(new double[] {0.5, 0.5, 0.5}, grad(x -> Var.concat(0, x.slice(0, 0, 1).softplus(),
                x.slice(0, 1, 2).gelu(), x.slice(0, 2, 3).silu()), 0, 0, 0), 1e-15);
        double[] asin = grad(Var::asin, 1, -1);
        assertTrue(asin[0] == INF && asin[1] == INF, Arrays.toString(asin));
        assertTrue(Double.isNaN(grad(x -> x.hypot(Var.constant(vec(0))), 0)[0]), "hypot'(0, 0) is NaN, as PyTorch's a / result");
    }

    @Test
    void piecewiseConstantOpsGiveZeroEvenUnderAnInfiniteAdjoint() {
        for (Function<Var, Var> f : java.util.List.<Function<Var, Var>>of(Var::floor, Var::ceil, Var::round, Var::trunc, Var::sign)) {
            Var x = Var.param(vec(0.5, -2.5, NAN));
            Var y = f.apply(x);
            assertTrue(y.requiresGrad(), "recorded (a primitive with gradient zero, not a constant)");
            y.backward(vec(INF, NAN, 1));
            assertArrayEquals(new double[] {0, 0, 0}, x.gradTensor().toDoubleArray());
        }
        assertArrayEquals(new double[] {2, -2, -0.0, 0.0}, Var.constant(vec(2.5, -2.5, -0.5, 0.5)).round().value().toDoubleArray(), 0);
    }

    @Test
    void fmodAndRemainderGradientsAsPyTorch() {
        Var a = Var.param(vec(7, -7, 7, -7));
        Var b = Var.param(vec(2, 2, -2, -2));
        a.fmod(b).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1, 1}, a.gradTensor().toDoubleArray());
        assertArrayEquals(new double[] {-3, 3, 3, -3}, b.gradTensor().toDoubleArray(), "-trunc(a / b)");
        Var c = Var.param(vec(7, -7, 7, -7));
        Var d = Var.param(vec(2, 2, -2, -2));
        c.remainder(d).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1, 1}, c.gradTensor().toDoubleArray());
        assertArrayEquals(new double[] {-3, 4, 4, -3}, d.gradTensor().toDoubleArray(), "-floor(a / b)");
        assertArrayEquals(new double[] {1, -1, 1, -1}, c.fmod(d).value().toDoubleArray());
        assertArrayEquals(new double[] {1, 1, -1, -1}, c.remainder(d).value().toDoubleArray());
    }

    @Test
    void masksAreConstantsOfTheOperandsDtype() {
        Var x = Var.param(vec(-1, 0, 2, NAN));
        Var y = Var.param(vec(0, 0, 1, NAN));
        Var[] masks = {x.gt(y), x.ge(0), x.lt(y), x.le(0), x.eq(y), x.ne(y), x.logicalAnd(y), x.logicalOr(y), x.logicalNot(),
            x.isnan(), x.isinf(), x.isfinite()};
        double[][] want = {{0, 0, 1, 0}, {0, 1, 1, 0}, {1, 0, 0, 0}, {1, 1, 0, 0}, {0, 1, 0, 0}, {1, 0, 1, 1}, {0, 0, 1, 1},
            {1, 0, 1, 1}, {0, 1, 0, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}, {1, 1, 1, 0}};
        for (int i = 0; i < masks.length; i++) {
            assertFalse(masks[i].requiresGrad(), "mask " + i + " is a constant");
            assertTrue(masks[i].isLeaf(), "mask " + i + " is not recorded");
            assertEquals(DType.FLOAT64, masks[i].dtype());
            assertArrayEquals(want[i], masks[i].value().toDoubleArray(), "mask " + i);
        }
        Var selected = Var.where(x.gt(0), x, y.mul(3));                       // a mask selects differentiated values
        selected.sum().backward();
        assertArrayEquals(new double[] {0, 0, 1, 0}, x.gradTensor().toDoubleArray());
        assertArrayEquals(new double[] {3, 3, 0, 3}, y.gradTensor().toDoubleArray());
        Var z = Var.param(vec(-1, 2));
        z.mul(z.gt(0)).sum().backward();                                       // or weights them
        assertArrayEquals(new double[] {0, 1}, z.gradTensor().toDoubleArray());
    }

    @Test
    void aBackwardThroughAMaskNamesTheOp() {
        Var x = Var.param(vec(-1, 2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.gt(0).sum().backward());
        assertTrue(e.getMessage().contains("only through 'gt'") && e.getMessage().contains("constant 0/1 mask"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> x.isnan().add(1).mul(Var.constant(vec(2, 3))).exp().sum().backward());
        assertTrue(e.getMessage().contains("only through 'isnan'"), "kept through later unrecorded ops: " + e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> x.exp().logicalAnd(x).logicalNot().sum().backward());
        assertTrue(e.getMessage().contains("only through 'logicalAnd'"), "the first mask cut the gradient: " + e.getMessage());
        Var c = Var.constant(vec(1, 2));
        e = assertThrows(IllegalStateException.class, () -> c.gt(0).sum().backward());
        assertTrue(e.getMessage().contains("does not depend on any variable that requires grad"), "constants only: " + e.getMessage());
        assertNull(c.gt(0).cutBy());
        try (Grad.Mode off = Grad.noGrad()) {
            assertNull(x.gt(0).cutBy(), "under noGrad nothing is cut by the mask");
        }
    }

    @Test
    void attributesAndOperandsAreChecked() {
        Var x = Var.param(vec(1, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.gelu("exact"));
        assertTrue(e.getMessage().contains("gelu: approximate must be \"none\" or \"tanh\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.clamp(NAN, 1));
        assertTrue(e.getMessage().contains("clamp: a bound is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.softplus(0, 20));
        assertTrue(e.getMessage().contains("softplus: beta"), e.getMessage());
        Var f32 = Var.param(vec(1, 2).cast(DType.FLOAT32));
        for (Function<Var, Var> op : java.util.List.<Function<Var, Var>>of(x::atan2, x::fmod, x::remainder, x::hypot, x::gt, x::logicalOr)) {
            e = assertThrows(IllegalArgumentException.class, () -> op.apply(f32));
            assertTrue(e.getMessage().contains("operands have different dtypes"), e.getMessage());
        }
        assertEquals("gelu(x, approximate=tanh)", Prim.GELU.expression(new String[] {"x"}, new Var.Gelu(true), null));
        assertEquals("clamp(x, min=-Infinity, max=1.0)", Prim.CLAMP.expression(new String[] {"x"}, new Var.Clamp(-INF, 1), null));
    }

    @Test
    void compositesNamePublicVarMethodsThatAreNotPrimitives() {
        java.util.Set<String> methods = new java.util.HashSet<>();
        for (Method m : Var.class.getMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getDeclaringClass() == Var.class) {
                methods.add(m.getName());
            }
        }
        java.util.Set<String> prims = new java.util.HashSet<>();
        Rules.builtins().forEach(p -> prims.add(p.name()));
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Composites.Entry e : Composites.list()) {
            assertTrue(methods.contains(e.name()), "Composites entry " + e.name() + " is a public method of Var");
            assertFalse(prims.contains(e.name()), "Composites entry " + e.name() + " is not a primitive");
            assertTrue(seen.add(e.name()), "one entry per name: " + e.name());
        }
    }
}
