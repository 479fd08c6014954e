package dev.wengert.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every backend passes: each primitive against the naive {@link Ref} on random inputs,
 * broadcasting included, in float32 and float64, at sizes that take both a backend's small and large
 * code paths. A backend's test class only says which device to use.
 */
public abstract class BackendContractTest {
    /** Sizes past every "large" threshold a backend has (CPU: 32768 elements). */
    protected static final int BIG = 300;

    private Scope scope;
    private final Random rnd = new Random(42);

    /** The device under test. */
    protected abstract Device device();

    @BeforeEach
    void openScope() {
        scope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    protected TensorFactory on() {
        return Tensor.on(device());
    }

    protected Tensor random(DType dtype, double lo, double hi, int... shape) {
        double[] v = new double[Shape.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = lo + (hi - lo) * rnd.nextDouble();
        }
        return on().of(v, shape).cast(dtype);
    }

    static double tol(DType dtype) {
        return dtype == DType.FLOAT32 ? 2e-5 : 1e-12;
    }

    static void assertClose(Ref expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape, actual.shape(), "shape");
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            double e = expected.v[i];
            if (Double.isNaN(e)) {
                assertTrue(Double.isNaN(a[i]), "element " + i + ": expected NaN, got " + a[i]);
                continue;
            }
            double err = Math.abs(e - a[i]) / Math.max(1, Math.abs(e));
            assertTrue(err <= tol, "element " + i + " of " + actual.describe() + ": expected " + e + ", got " + a[i]);
        }
    }

    // ------------------------------------------------------------------ creation and reading back

    @Test
    void createsAndReadsBack() {
        Tensor f = on().of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new int[] {2, 3}, f.shape());
        assertEquals(DType.FLOAT32, f.dtype());
        assertEquals(device(), f.device());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, f.toFloatArray());
        assertArrayEquals(new long[] {0, 1, 2, 3}, on().arange(4, DType.INT64).toLongArray());
        assertArrayEquals(new double[] {7, 7}, on().full(7, DType.FLOAT64, 2).toDoubleArray());
        assertEquals(0.0, on().zeros(DType.FLOAT32, 3, 3).sum().item());
        assertEquals(9.0, on().ones(DType.FLOAT64, 3, 3).sum().item());
        assertEquals(2.5, on().full(2.5, DType.FLOAT64).item());
        long big = (1L << 60) + 1;
        assertEquals(big, on().of(new long[] {big}).toLongArray()[0], "int64 stays exact");
    }

    @Test
    void randomIsSeededAndIdenticalOnEveryBackend() {
        double[] a = on().randn(7, DType.FLOAT64, 1000).toDoubleArray();
        double[] b = on().randn(7, DType.FLOAT64, 1000).toDoubleArray();
        double[] c = on().randn(8, DType.FLOAT64, 1000).toDoubleArray();
        assertArrayEquals(a, b);
        assertTrue(a[0] != c[0]);
        double[] reference = new double[1000];
        for (int i = 0; i < reference.length; i++) {
            reference[i] = CounterRandom.normal(7, i);
        }
        assertArrayEquals(reference, a, 1e-12, "same seed, same values on every backend (the counter-based generator)");
        double mean = 0;
        double sq = 0;
        for (double x : on().randn(1, DType.FLOAT64, 100_000).toDoubleArray()) {
            mean += x / 100_000;
            sq += x * x / 100_000;
        }
        assertEquals(0, mean, 0.02);
        assertEquals(1, sq, 0.02);
        for (double u : on().rand(3, DType.FLOAT32, 10_000).toDoubleArray()) {
            assertTrue(u >= 0 && u < 1, "uniform sample " + u);
        }
    }

    @Test
    void toStringShowsValues() {
        assertEquals("tensor([[1.0, 2.0], [3.0, 4.5]], float32, " + device() + ")",
                on().of(new float[] {1, 2, 3, 4.5f}, 2, 2).toString());
        assertEquals("tensor([1, 2], int64, " + device() + ")", on().of(new long[] {1, 2}).toString());
        assertTrue(on().zeros(DType.FLOAT32, 100, 100).toString().contains("float32[100, 100]"));
    }

    // ------------------------------------------------------------------ elementwise

    static Stream<Arguments> unaryCases() {
        List<Arguments> out = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                out.add(Arguments.of(op, dt, new int[] {3, 5}));
                out.add(Arguments.of(op, dt, new int[] {BIG, 120}));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("unaryCases")
    void unaryMatchesReference(UnaryOp op, DType dtype, int[] shape) {
        boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT;
        boolean unit = op == UnaryOp.ASIN || op == UnaryOp.ACOS;
        Tensor x = random(dtype, positive ? 0.1 : unit ? -1 : op == UnaryOp.LOG1P ? -0.9 : -3, unit ? 1 : 3, shape);
        assertClose(Ref.of(x).unary(op), x.apply(op), tol(dtype));
    }

    /** The ops with scalar parameters, with other values than their defaults, against the reference. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void parametricUnaryOpsMatchReference(DType dtype) {
        double[][] cases = {{2, 3}, {0.5, 1}, {-1, 20}};             // softplus: beta, threshold
        for (int[] shape : new int[][] {{3, 5}, {BIG, 120}}) {
            Tensor x = random(dtype, -6, 6, shape);
            Ref r = Ref.of(x);
            java.util.function.DoubleUnaryOperator q = v -> dtype == DType.FLOAT32 ? (float) v : v;   // as Tensor.apply rounds them
            for (double[] c : cases) {
                assertClose(r.unary(UnaryOp.SOFTPLUS, q.applyAsDouble(c[0]), q.applyAsDouble(c[1])), x.apply(UnaryOp.SOFTPLUS, c[0], c[1]), tol(dtype));
            }
            assertClose(r.unary(UnaryOp.LEAKY_RELU, q.applyAsDouble(0.2), 0), x.apply(UnaryOp.LEAKY_RELU, 0.2, 0), tol(dtype));
            assertClose(r.unary(UnaryOp.ELU, 1.5, 0), x.apply(UnaryOp.ELU, 1.5, 0), tol(dtype));
            assertClose(r.unary(UnaryOp.CLAMP, q.applyAsDouble(-0.5), q.applyAsDouble(0.7)), x.apply(UnaryOp.CLAMP, -0.5, 0.7), tol(dtype));
            assertClose(r.unary(UnaryOp.CLAMP, Double.NEGATIVE_INFINITY, 1), x.apply(UnaryOp.CLAMP, Double.NEGATIVE_INFINITY, 1), 0);
            assertClose(r.unary(UnaryOp.CLAMP, 2, 1), x.apply(UnaryOp.CLAMP, 2, 1), 0);   // lo > hi: every element is hi
        }
    }

    /**
     * Edge values of the elementwise ops as PyTorch gives them (its kernels' formulas; checked against torch's
     * documented special cases and, for the finite values, against 40-digit mpmath values): 0, -0 (the sign of a
     * zero result is checked), +-inf, NaN, huge and tiny arguments, on a small tensor and on one past the CPU's
     * ND4J threshold, in both float types (float32 where the argument is a float and the result not subnormal).
     * Tolerance: exact for zeros (their sign included), infinities and NaN; otherwise a few ulp (the CUDA math library's
     * bounds), looser where PyTorch's formula itself cancels (gelu of a negative x: x/2 (1 + erf(x/sqrt 2))).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void unaryEdgeValuesAsPyTorch(DType dtype) {
        double inf = Double.POSITIVE_INFINITY;
        double nan = Double.NaN;
        double pi = Math.PI;
        Object[][] rows = {
            {UnaryOp.SIGN, -0.0, 0.0}, {UnaryOp.SIGN, nan, 0.0}, {UnaryOp.SIGN, -inf, -1.0}, {UnaryOp.SIGN, 1e-300, 1.0}, {UnaryOp.SIGN, 0.0, 0.0},
            {UnaryOp.ROUND, 2.5, 2.0}, {UnaryOp.ROUND, 0.5, 0.0}, {UnaryOp.ROUND, 1.5, 2.0}, {UnaryOp.ROUND, -0.5, -0.0}, {UnaryOp.ROUND, -2.5, -2.0},
            {UnaryOp.ROUND, 2.6, 3.0}, {UnaryOp.ROUND, -inf, -inf}, {UnaryOp.ROUND, nan, nan}, {UnaryOp.ROUND, 4503599627370497.0, 4503599627370497.0},
            {UnaryOp.FLOOR, -0.0, -0.0}, {UnaryOp.FLOOR, -0.5, -1.0}, {UnaryOp.FLOOR, 1.7, 1.0}, {UnaryOp.FLOOR, inf, inf}, {UnaryOp.FLOOR, nan, nan},
            {UnaryOp.CEIL, -0.5, -0.0}, {UnaryOp.CEIL, 1.2, 2.0}, {UnaryOp.CEIL, -inf, -inf},
            {UnaryOp.TRUNC, -0.5, -0.0}, {UnaryOp.TRUNC, -1.7, -1.0}, {UnaryOp.TRUNC, 1.7, 1.0}, {UnaryOp.TRUNC, inf, inf},
            {UnaryOp.RECIPROCAL, 0.0, inf}, {UnaryOp.RECIPROCAL, -0.0, -inf}, {UnaryOp.RECIPROCAL, -inf, -0.0}, {UnaryOp.RECIPROCAL, 4.0, 0.25},
            {UnaryOp.LOG1P, -1.0, -inf}, {UnaryOp.LOG1P, -2.0, nan}, {UnaryOp.LOG1P, -0.0, -0.0}, {UnaryOp.LOG1P, inf, inf},
            {UnaryOp.LOG1P, 1e-10, 9.999999999500001e-11}, {UnaryOp.LOG1P, -0.5, -0.6931471805599453}, {UnaryOp.LOG1P, 1e300, 690.7755278982137},
            {UnaryOp.EXPM1, -0.0, -0.0}, {UnaryOp.EXPM1, -inf, -1.0}, {UnaryOp.EXPM1, inf, inf}, {UnaryOp.EXPM1, 710.0, inf}, {UnaryOp.EXPM1, nan, nan},
            {UnaryOp.EXPM1, 1e-10, 1.00000000005e-10}, {UnaryOp.EXPM1, 1.0, 1.7182818284590453}, {UnaryOp.EXPM1, -40.0, -1.0},
            {UnaryOp.EXPM1, 700.0, 1.0142320547350045e+304},
            {UnaryOp.ERFC, -inf, 2.0}, {UnaryOp.ERFC, inf, 0.0}, {UnaryOp.ERFC, 0.0, 1.0}, {UnaryOp.ERFC, -0.0, 1.0}, {UnaryOp.ERFC, nan, nan},
            {UnaryOp.ERFC, 0.5, 0.4795001221869535}, {UnaryOp.ERFC, -1.0, 1.8427007929497148}, {UnaryOp.ERFC, 3.0, 2.209049699858544e-05},
            {UnaryOp.ERFC, 10.0, 2.088487583762545e-45}, {UnaryOp.ERFC, -0.3, 1.3286267594591274}, {UnaryOp.ERFC, -6.0, 2.0}, {UnaryOp.ERFC, 30.0, 0.0},
            {UnaryOp.TAN, -0.0, -0.0}, {UnaryOp.TAN, inf, nan}, {UnaryOp.TAN, 1.0, 1.5574077246549023}, {UnaryOp.TAN, 1.5, 14.101419947171719},
            {UnaryOp.ATAN, inf, pi / 2}, {UnaryOp.ATAN, -inf, -pi / 2}, {UnaryOp.ATAN, -0.0, -0.0}, {UnaryOp.ATAN, -3.0, -1.2490457723982544},
            {UnaryOp.ASIN, 1.0, pi / 2}, {UnaryOp.ASIN, -1.0, -pi / 2}, {UnaryOp.ASIN, 1.5, nan}, {UnaryOp.ASIN, -0.0, -0.0}, {UnaryOp.ASIN, 0.5, 0.5235987755982989},
            {UnaryOp.ACOS, 1.0, 0.0}, {UnaryOp.ACOS, -1.0, pi}, {UnaryOp.ACOS, -1.5, nan}, {UnaryOp.ACOS, 0.5, 1.0471975511965979},
            {UnaryOp.ACOS, -0.9, 2.6905658417935308},
            {UnaryOp.SINH, -0.0, -0.0}, {UnaryOp.SINH, 800.0, inf}, {UnaryOp.SINH, -inf, -inf}, {UnaryOp.SINH, -3.0, -10.017874927409903},
            {UnaryOp.SINH, 700.0, 5.0711602736750225e+303},
            {UnaryOp.COSH, 0.0, 1.0}, {UnaryOp.COSH, -inf, inf}, {UnaryOp.COSH, -3.0, 10.067661995777765}, {UnaryOp.COSH, nan, nan},
            {UnaryOp.GELU, -inf, nan}, {UnaryOp.GELU, inf, inf}, {UnaryOp.GELU, -0.0, -0.0}, {UnaryOp.GELU, nan, nan}, {UnaryOp.GELU, -40.0, -0.0},
            {UnaryOp.GELU, 1.0, 0.8413447460685429}, {UnaryOp.GELU, -1.0, -0.15865525393145705, 1e-13, 2e-6},
            {UnaryOp.GELU, -3.0, -0.0040496940948902835, 1e-12, 1e-4}, {UnaryOp.GELU, 5.0, 4.999998566742141},
            {UnaryOp.GELU_TANH, -inf, nan}, {UnaryOp.GELU_TANH, inf, inf}, {UnaryOp.GELU_TANH, -0.0, -0.0},
            {UnaryOp.GELU_TANH, 1.0, 0.8411919906082767}, {UnaryOp.GELU_TANH, -1.0, -0.1588080093917233, 1e-13, 2e-6},
            {UnaryOp.GELU_TANH, 0.5, 0.34571400982514394},
            {UnaryOp.SILU, -inf, nan}, {UnaryOp.SILU, inf, inf}, {UnaryOp.SILU, -0.0, -0.0}, {UnaryOp.SILU, -800.0, -0.0}, {UnaryOp.SILU, nan, nan},
            {UnaryOp.SILU, 1.0, 0.7310585786300049}, {UnaryOp.SILU, -20.0, -4.122307236380407e-08}, {UnaryOp.SILU, 30.0, 29.999999999997193},
            {UnaryOp.SOFTPLUS, 0.0, 0.6931471805599453}, {UnaryOp.SOFTPLUS, -1.0, 0.3132616875182228}, {UnaryOp.SOFTPLUS, 20.0, 20.000000002061153},
            {UnaryOp.SOFTPLUS, 20.5, 20.5}, {UnaryOp.SOFTPLUS, -inf, 0.0}, {UnaryOp.SOFTPLUS, inf, inf}, {UnaryOp.SOFTPLUS, nan, nan},
            {UnaryOp.SOFTPLUS, -800.0, 0.0}, {UnaryOp.SOFTPLUS, -30.0, 9.357622968839737e-14},
            {UnaryOp.LEAKY_RELU, -0.0, -0.0}, {UnaryOp.LEAKY_RELU, -inf, -inf}, {UnaryOp.LEAKY_RELU, nan, nan}, {UnaryOp.LEAKY_RELU, 2.0, 2.0},
            {UnaryOp.LEAKY_RELU, -100.0, -1.0},
            {UnaryOp.ELU, -0.0, -0.0}, {UnaryOp.ELU, -inf, -1.0}, {UnaryOp.ELU, inf, inf}, {UnaryOp.ELU, nan, nan}, {UnaryOp.ELU, -1.0, -0.6321205588285577},
            {UnaryOp.ELU, -1e-10, -9.9999999995e-11},
            {UnaryOp.CLAMP, nan, nan}, {UnaryOp.CLAMP, -inf, -inf}, {UnaryOp.CLAMP, 1e308, 1e308},   // defaults: no bounds
            {UnaryOp.ISNAN, nan, 1.0}, {UnaryOp.ISNAN, inf, 0.0}, {UnaryOp.ISNAN, -0.0, 0.0},
            {UnaryOp.ISINF, inf, 1.0}, {UnaryOp.ISINF, -inf, 1.0}, {UnaryOp.ISINF, nan, 0.0}, {UnaryOp.ISINF, 1e308, 0.0},
            {UnaryOp.ISFINITE, inf, 0.0}, {UnaryOp.ISFINITE, nan, 0.0}, {UnaryOp.ISFINITE, -0.0, 1.0}, {UnaryOp.ISFINITE, -1e308, 1.0},
            {UnaryOp.LOGICAL_NOT, 0.0, 1.0}, {UnaryOp.LOGICAL_NOT, -0.0, 1.0}, {UnaryOp.LOGICAL_NOT, nan, 0.0}, {UnaryOp.LOGICAL_NOT, -inf, 0.0},
        };
        for (Object[] row : rows) {
            checkEdge(dtype, (UnaryOp) row[0], Double.NaN, Double.NaN, row);
        }
        // with parameters: (op, p0, p1, x, want)
        Object[][] withParameters = {
            {UnaryOp.SOFTPLUS, 2.0, 3.0, 1.6, 1.6}, {UnaryOp.SOFTPLUS, 2.0, 3.0, 1.0, 1.0634640055214863}, {UnaryOp.SOFTPLUS, 2.0, 3.0, -inf, 0.0},
            {UnaryOp.LEAKY_RELU, 0.2, 0.0, -1.0, -0.2}, {UnaryOp.LEAKY_RELU, 0.2, 0.0, -0.0, -0.0},
            {UnaryOp.ELU, 2.0, 0.0, -inf, -2.0}, {UnaryOp.ELU, 2.0, 0.0, -0.5, -0.7869386805747332},
            {UnaryOp.CLAMP, 0.0, 1.0, nan, nan}, {UnaryOp.CLAMP, 0.0, 1.0, -inf, 0.0}, {UnaryOp.CLAMP, 0.0, 1.0, inf, 1.0},
            {UnaryOp.CLAMP, 0.0, 1.0, 0.5, 0.5}, {UnaryOp.CLAMP, 2.0, 1.0, 5.0, 1.0}, {UnaryOp.CLAMP, 2.0, 1.0, -5.0, 1.0},
            {UnaryOp.CLAMP, -inf, 1.0, -inf, -inf}, {UnaryOp.CLAMP, -1.0, inf, 1e300, 1e300},
        };
        for (Object[] row : withParameters) {
            Object[] r = {row[0], row[3], row[4]};
            checkEdge(dtype, (UnaryOp) row[0], (double) row[1], (double) row[2], r);
        }
    }

    /** One row {op, x, want[, tol64, tol32]} of the edge-value tables, small and past the ND4J threshold. */
    private void checkEdge(DType dtype, UnaryOp op, double p0, double p1, Object[] row) {
        double x = (double) row[1];
        double want = (double) row[2];
        boolean f32 = dtype == DType.FLOAT32;
        if (f32 && !Double.isNaN(x) && (double) (float) x != x) {
            return;
        }
        double w = f32 ? (float) want : want;
        if (f32 && w != 0 && Math.abs(w) < Float.MIN_NORMAL) {
            return;   // subnormal float32 results: the devices may flush them
        }
        double tol = row.length > 3 ? (double) row[f32 ? 4 : 3] : f32 ? 6e-7 : 2e-15;   // ~5 ulp
        for (int n : new int[] {1, BIG * 120}) {
            Tensor t = on().full(x, dtype, n);
            double[] y = (Double.isNaN(p0) ? t.apply(op) : t.apply(op, p0, p1)).toDoubleArray();
            for (int i : new int[] {0, n - 1}) {
                String what = op.opName() + (Double.isNaN(p0) ? "" : "(p=" + p0 + ", " + p1 + ")") + "(" + x + ") " + dtype + " n=" + n + ": got "
                        + y[i] + ", want " + w;
                if (Double.isNaN(w) || Double.isInfinite(w) || w == 0) {
                    assertEquals(Double.doubleToLongBits(w), Double.doubleToLongBits(y[i]), what);   // -0.0 is not 0.0
                } else {
                    assertTrue(Math.abs(y[i] - w) <= tol * Math.abs(w), what);
                }
            }
        }
    }

    /** Edge values of the binary ops added for issue 16 and the comparisons, as PyTorch gives them; see above. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void binaryEdgeValuesAsPyTorch(DType dtype) {
        double inf = Double.POSITIVE_INFINITY;
        double nan = Double.NaN;
        double pi = Math.PI;
        Object[][] rows = {
            {BinaryOp.ATAN2, 0.0, -0.0, pi}, {BinaryOp.ATAN2, -0.0, -0.0, -pi}, {BinaryOp.ATAN2, 0.0, 0.0, 0.0}, {BinaryOp.ATAN2, -0.0, 0.0, -0.0},
            {BinaryOp.ATAN2, inf, inf, pi / 4}, {BinaryOp.ATAN2, 1.0, -inf, pi}, {BinaryOp.ATAN2, nan, 1.0, nan}, {BinaryOp.ATAN2, 1.0, 2.0, 0.4636476090008061},
            {BinaryOp.ATAN2, -1.0, -2.0, -2.677945044588987}, {BinaryOp.ATAN2, inf, -inf, 3 * pi / 4},
            {BinaryOp.FMOD, -3.0, 2.0, -1.0}, {BinaryOp.FMOD, 3.0, -2.0, 1.0}, {BinaryOp.FMOD, 5.5, inf, 5.5}, {BinaryOp.FMOD, inf, 2.0, nan},
            {BinaryOp.FMOD, 1.0, 0.0, nan}, {BinaryOp.FMOD, -0.0, 3.0, -0.0}, {BinaryOp.FMOD, -5.5, 2.0, -1.5}, {BinaryOp.FMOD, nan, 2.0, nan},
            {BinaryOp.REMAINDER, -3.0, 2.0, 1.0}, {BinaryOp.REMAINDER, 3.0, -2.0, -1.0}, {BinaryOp.REMAINDER, -1.0, inf, inf},
            {BinaryOp.REMAINDER, 1.0, -inf, -inf}, {BinaryOp.REMAINDER, 5.5, inf, 5.5}, {BinaryOp.REMAINDER, -0.0, 1.0, -0.0},
            {BinaryOp.REMAINDER, 1.0, 0.0, nan}, {BinaryOp.REMAINDER, -5.5, 2.0, 0.5}, {BinaryOp.REMAINDER, 4.0, -2.0, 0.0},
            {BinaryOp.HYPOT, 3.0, 4.0, 5.0}, {BinaryOp.HYPOT, inf, nan, inf}, {BinaryOp.HYPOT, nan, -inf, inf}, {BinaryOp.HYPOT, nan, 1.0, nan},
            {BinaryOp.HYPOT, 1e300, 1e300, 1.4142135623730952e+300}, {BinaryOp.HYPOT, 1e-300, 3e-300, 3.16227766016838e-300},
            {BinaryOp.HYPOT, -0.0, 0.0, 0.0}, {BinaryOp.HYPOT, 1.0, 1.0, 1.4142135623730951},
            {BinaryOp.LOGICAL_AND, nan, 1.0, 1.0}, {BinaryOp.LOGICAL_AND, 0.0, nan, 0.0}, {BinaryOp.LOGICAL_AND, -0.0, 1.0, 0.0},
            {BinaryOp.LOGICAL_AND, -inf, 2.0, 1.0},
            {BinaryOp.LOGICAL_OR, -0.0, 0.0, 0.0}, {BinaryOp.LOGICAL_OR, nan, 0.0, 1.0}, {BinaryOp.LOGICAL_OR, 0.0, -3.0, 1.0},
            {BinaryOp.EQ, nan, nan, 0.0}, {BinaryOp.EQ, -0.0, 0.0, 1.0}, {BinaryOp.EQ, inf, inf, 1.0},
            {BinaryOp.NE, nan, nan, 1.0}, {BinaryOp.NE, -0.0, 0.0, 0.0},
            {BinaryOp.LT, nan, 1.0, 0.0}, {BinaryOp.LT, -inf, inf, 1.0}, {BinaryOp.LT, -0.0, 0.0, 0.0},
            {BinaryOp.LE, inf, inf, 1.0}, {BinaryOp.LE, nan, nan, 0.0},
            {BinaryOp.GT, 1.0, nan, 0.0}, {BinaryOp.GT, 0.0, -0.0, 0.0},
            {BinaryOp.GE, nan, nan, 0.0}, {BinaryOp.GE, -0.0, 0.0, 1.0},
        };
        boolean f32 = dtype == DType.FLOAT32;
        for (Object[] row : rows) {
            BinaryOp op = (BinaryOp) row[0];
            double a = (double) row[1];
            double b = (double) row[2];
            double want = (double) row[3];
            if (f32 && ((!Double.isNaN(a) && (double) (float) a != a) || (!Double.isNaN(b) && (double) (float) b != b))) {
                continue;
            }
            double w = f32 ? (float) want : want;
            for (int n : new int[] {1, BIG * 120}) {
                for (boolean scalarB : new boolean[] {false, true}) {   // same shapes, and a scalar operand
                    Tensor ta = on().full(a, dtype, n);
                    Tensor tb = scalarB ? on().full(b, dtype) : on().full(b, dtype, n);
                    double[] y = ta.apply(op, tb).toDoubleArray();
                    String what = op.opName() + "(" + a + ", " + b + ") " + dtype + " n=" + n + (scalarB ? " (scalar b)" : "") + ": got "
                            + y[n - 1] + ", want " + w;
                    if (Double.isNaN(w) || Double.isInfinite(w) || w == 0) {
                        assertEquals(Double.doubleToLongBits(w), Double.doubleToLongBits(y[n - 1]), what);
                        assertEquals(Double.doubleToLongBits(w), Double.doubleToLongBits(y[0]), what);
                    } else {
                        assertTrue(Math.abs(y[n - 1] - w) <= (f32 ? 6e-7 : 2e-15) * Math.abs(w), what);
                        assertTrue(Math.abs(y[0] - w) <= (f32 ? 6e-7 : 2e-15) * Math.abs(w), what);
                    }
                }
            }
        }
    }

    /**
     * int64: floor/ceil/round/trunc are the identity, sign and the masks exact, fmod/remainder with C's and Python's
     * signs and integer division by zero an error naming the op; atan2, hypot and the float-only unary ops are
     * refused with the usual message, as are a NaN parameter and mixed dtypes.
     */
    @Test
    void integerSemanticsAndRefusals() {
        long big = (1L << 60) + 3;
        Tensor i = on().of(new long[] {-7, 0, big, Long.MIN_VALUE});
        for (UnaryOp op : new UnaryOp[] {UnaryOp.FLOOR, UnaryOp.CEIL, UnaryOp.ROUND, UnaryOp.TRUNC}) {
            assertArrayEquals(new long[] {-7, 0, big, Long.MIN_VALUE}, i.apply(op).toLongArray(), op.opName());
        }
        assertArrayEquals(new long[] {-1, 0, 1, -1}, i.apply(UnaryOp.SIGN).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 0}, i.apply(UnaryOp.ISNAN).toLongArray());
        assertArrayEquals(new long[] {0, 0, 0, 0}, i.apply(UnaryOp.ISINF).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1, 1}, i.apply(UnaryOp.ISFINITE).toLongArray());
        assertArrayEquals(new long[] {0, 1, 0, 0}, i.apply(UnaryOp.LOGICAL_NOT).toLongArray());
        Tensor a = on().of(new long[] {-7, 7, -7, 7, Long.MIN_VALUE, big});
        Tensor b = on().of(new long[] {2, -2, -2, 2, -1, 1L << 59});
        assertArrayEquals(new long[] {-1, 1, -1, 1, 0, 3}, a.apply(BinaryOp.FMOD, b).toLongArray());
        assertArrayEquals(new long[] {1, -1, -1, 1, 0, 3}, a.apply(BinaryOp.REMAINDER, b).toLongArray());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1}, a.apply(BinaryOp.LOGICAL_AND, b).toLongArray());
        assertArrayEquals(new long[] {0, 1}, on().of(new long[] {0, 0}).apply(BinaryOp.LOGICAL_OR, on().of(new long[] {0, 5})).toLongArray());
        for (BinaryOp op : new BinaryOp[] {BinaryOp.FMOD, BinaryOp.REMAINDER}) {
            ArithmeticException e = assertThrows(ArithmeticException.class,
                    () -> a.apply(op, on().of(new long[] {1, 1, 0, 1, 1, 1})).toLongArray());
            assertTrue(e.getMessage().startsWith(op.opName() + ": integer division by zero"), e.getMessage());
        }
        for (BinaryOp op : new BinaryOp[] {BinaryOp.ATAN2, BinaryOp.HYPOT}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.apply(op, b));
            assertTrue(e.getMessage().contains(op.opName() + ": not defined for int64") && e.getMessage().contains("cast to a float type"),
                    e.getMessage());
        }
        for (UnaryOp op : new UnaryOp[] {UnaryOp.ERFC, UnaryOp.TAN, UnaryOp.RECIPROCAL, UnaryOp.SOFTPLUS, UnaryOp.CLAMP, UnaryOp.GELU}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> i.apply(op));
            assertTrue(e.getMessage().contains(op.opName() + ": not defined for int64"), e.getMessage());
        }
        Tensor x = on().of(new double[] {1, 2});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.apply(UnaryOp.CLAMP, Double.NaN, 1));
        assertTrue(e.getMessage().contains("clamp: parameter is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.apply(BinaryOp.ATAN2, x.cast(DType.FLOAT32)));
        assertTrue(e.getMessage().contains("atan2: operands have different dtypes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.apply(BinaryOp.LOGICAL_AND, on().of(new long[] {1, 0})));
        assertTrue(e.getMessage().contains("logicalAnd: operands have different dtypes"), e.getMessage());
    }

    /**
     * erf against values to 40 digits (mpmath; torch.erf agrees), within 2 ulp (the CUDA math library's bound), on a
     * small tensor and on one past the CPU's ND4J threshold; float32 where the argument is a float.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void erfMatchesHighPrecisionValues(DType dtype) {
        double[][] ref = {
            {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527}, {-3, -0.9999779095030014},
            {1e-10, 1.1283791670955126e-10}, {6, 1.0}, {0.84375, 0.7672256612323416}, {-0.1, -0.1124629160182849},
            {1.25, 0.9229001282564583}, {2.857, 0.9999466417399131}, {3.5, 0.9999992569016276}, {5.9, 0.9999999999999999},
            {-1.7, -0.9837904585907745}, {4.2, 0.9999999971445058}, {0.3, 0.3286267594591274}, {1e-300, 1.1283791670955126e-300},
            {-0.0, -0.0}, {0.0, 0.0}, {Double.POSITIVE_INFINITY, 1}, {Double.NEGATIVE_INFINITY, -1}, {Double.NaN, Double.NaN},
        };
        List<double[]> rows = new ArrayList<>();
        for (double[] r : ref) {
            if (dtype == DType.FLOAT64 || (double) (float) r[0] == r[0] || Double.isNaN(r[0])) {
                rows.add(r);
            }
        }
        for (int n : new int[] {rows.size(), BIG * 120}) {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = rows.get(i % rows.size())[0];
            }
            double[] y = on().of(x, n).cast(dtype).apply(UnaryOp.ERF).toDoubleArray();
            for (int i = 0; i < n; i++) {
                double want = dtype == DType.FLOAT32 ? (float) rows.get(i % rows.size())[1] : rows.get(i % rows.size())[1];
                double ulp = dtype == DType.FLOAT32 ? Math.ulp((float) want) : Math.ulp(want);
                boolean ok = Double.isNaN(want) ? Double.isNaN(y[i])
                        : want == 0 ? Double.compare(want, y[i]) == 0 : Math.abs(y[i] - want) <= 2 * ulp;
                assertTrue(ok, "erf(" + x[i] + ") " + dtype + " n=" + n + ": " + y[i] + ", want " + want);
            }
        }
    }

    static Stream<Arguments> binaryCases() {
        int[][][] shapes = {
            {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}}, {{}, {2, 3}},
            {{5, 1, 3}, {1, 4, 1}}, {{4}, {2, 3, 4}}, {{BIG, 200}, {BIG, 200}}, {{BIG, 200}, {200}}, {{BIG, 1}, {1, 200}}, {{BIG, 200}, {}},
        };
        List<Arguments> out = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] s : shapes) {
                out.add(Arguments.of(op, DType.FLOAT64, s[0], s[1]));
            }
            out.add(Arguments.of(op, DType.FLOAT32, new int[] {BIG, 200}, new int[] {BIG, 200}));
            out.add(Arguments.of(op, DType.FLOAT32, new int[] {3, 4}, new int[] {4}));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("binaryCases")
    void binaryBroadcastsLikeNumpy(BinaryOp op, DType dtype, int[] sa, int[] sb) {
        Tensor a = random(dtype, 0.5, 2, sa);
        Tensor b = random(dtype, 0.5, 2, sb);
        if (op.isMask()) { // small integers, so that ties (and zeros for the logical ops) occur
            a = random(dtype, 0, 3, sa).cast(DType.INT64).cast(dtype);
            b = random(dtype, 0, 3, sb).cast(DType.INT64).cast(dtype);
        }
        assertClose(Ref.binary(op, Ref.of(a), Ref.of(b)), a.apply(op, b), tol(dtype) * 4);
        assertClose(Ref.binary(op, Ref.of(b), Ref.of(a)), b.apply(op, a), tol(dtype) * 4);
    }

    @Test
    void binaryTiesAndIntegerArithmetic() {
        Tensor a = on().of(new double[] {1, 2, 3});
        Tensor b = on().of(new double[] {1, 5, 2});
        assertArrayEquals(new double[] {1, 0, 0}, a.eq(b).toDoubleArray());
        assertArrayEquals(new double[] {1, 1, 0}, a.le(b).toDoubleArray());
        assertArrayEquals(new double[] {1, 5, 3}, a.maximum(b).toDoubleArray());
        long big = (1L << 60) + 1;
        Tensor i = on().of(new long[] {big, 7, -7});
        Tensor j = on().of(new long[] {1, 2, 2});
        assertArrayEquals(new long[] {big + 1, 9, -5}, i.add(j).toLongArray());
        assertArrayEquals(new long[] {big, 3, -4}, i.div(j).toLongArray(), "integer division floors");
        assertArrayEquals(new long[] {big, 14, -14}, i.mul(j).toLongArray());
        assertArrayEquals(new long[] {-big, -7, 7}, i.neg().toLongArray(), "int64 unary ops stay exact");
        assertArrayEquals(new long[] {big, 7, 0}, i.relu().toLongArray());
        assertEquals(big + 7 - 7, i.sum().toLongArray()[0], "int64 sums stay exact beyond 2^53");
        assertEquals(big, i.max().toLongArray()[0]);
    }

    @Test
    void whereSelectsWithBroadcasting() {
        Tensor cond = on().of(new double[] {1, 0, 1});
        Tensor a = on().of(new double[] {10, 20, 30, 40, 50, 60}, 2, 3);
        Tensor b = on().full(-1, DType.FLOAT64);
        assertArrayEquals(new double[] {10, -1, 30, 40, -1, 60}, Tensor.where(cond, a, b).toDoubleArray());
    }

    @ParameterizedTest
    @EnumSource(value = BinaryOp.class, names = {"ADD", "SUB", "MUL", "DIV"})
    void inPlaceModifiesOnlyTheTarget(BinaryOp op) {
        for (int[] s : new int[][] {{3, 4}, {BIG, 200}}) {
            Tensor a = random(DType.FLOAT32, 1, 2, s);
            Tensor row = random(DType.FLOAT32, 1, 2, s[1]);
            Ref expected = Ref.binary(op, Ref.of(a), Ref.of(row));
            double[] rowBefore = row.toDoubleArray();
            assertClose(expected, a.applyInPlace(op, row), 1e-5);
            assertArrayEquals(rowBefore, row.toDoubleArray());
        }
    }

    // ------------------------------------------------------------------ matmul

    static Stream<Arguments> matmulCases() {
        List<Arguments> out = new ArrayList<>();
        int[][] mnk = {{2, 3, 4}, {1, 1, 1}, {64, 50, 70}, {7, 1, 300}};
        for (int[] d : mnk) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                        out.add(Arguments.of(d[0], d[1], d[2], ta, tb, dt));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} ta={3} tb={4} {5}")
    @MethodSource("matmulCases")
    void matmulWithTransposedOperands(int m, int n, int k, boolean ta, boolean tb, DType dtype) {
        Tensor a = ta ? random(dtype, -1, 1, k, m) : random(dtype, -1, 1, m, k);
        Tensor b = tb ? random(dtype, -1, 1, n, k) : random(dtype, -1, 1, k, n);
        assertClose(Ref.matmul(Ref.of(a), ta, Ref.of(b), tb), a.matmul(ta, b, tb), tol(dtype) * k);
    }

    @Test
    void batchedMatmulWithSharedOperand() {
        Tensor a = random(DType.FLOAT64, -1, 1, 4, 3, 5);
        Tensor b = random(DType.FLOAT64, -1, 1, 4, 5, 2);
        Tensor shared = random(DType.FLOAT64, -1, 1, 2, 5);
        assertClose(Ref.matmul(Ref.of(a), false, Ref.of(b), false), a.matmul(b), 1e-12);
        assertClose(Ref.matmul(Ref.of(a), false, Ref.of(shared), true), a.matmul(false, shared, true), 1e-12);
        Tensor left = random(DType.FLOAT64, -1, 1, 3, 4);
        Tensor big = random(DType.FLOAT32, -1, 1, 3, 64, 80);
        Tensor bigShared = random(DType.FLOAT32, -1, 1, 80, 90);
        assertClose(Ref.matmul(Ref.of(left), true, Ref.of(a.slice(1, 0, 3)), false), left.matmul(true, a.slice(1, 0, 3), false), 1e-12);
        assertClose(Ref.matmul(Ref.of(big), false, Ref.of(bigShared), false), big.matmul(bigShared), 1e-4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.matmul(a));
        assertTrue(e.getMessage().contains("inner dimensions"), e.getMessage());
    }

    // ------------------------------------------------------------------ reductions

    static Stream<Arguments> reduceCases() {
        List<Arguments> out = new ArrayList<>();
        for (ReduceOp op : ReduceOp.values()) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                out.add(Arguments.of(op, dt, new int[] {2, 3, 4}, new int[] {1}));
                out.add(Arguments.of(op, dt, new int[] {2, 3, 4}, new int[] {0, 2}));
                out.add(Arguments.of(op, dt, new int[] {2, 3, 4}, new int[] {}));
                out.add(Arguments.of(op, dt, new int[] {5}, new int[] {0}));
                out.add(Arguments.of(op, dt, new int[] {BIG, 200}, new int[] {0}));
                out.add(Arguments.of(op, dt, new int[] {BIG, 200}, new int[] {1}));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} axes {3}")
    @MethodSource("reduceCases")
    void reducesAlongAxes(ReduceOp op, DType dtype, int[] shape, int[] axes) {
        Tensor x = random(dtype, -1, 1, shape);
        int[] norm = Shape.axes("t", axes, shape.length);
        Ref expected = Ref.of(x).reduce(op, norm);
        Tensor kept = x.reduce(op, true, axes);
        assertClose(expected, kept, tol(dtype) * 50);
        Tensor dropped = x.reduce(op, false, axes);
        assertArrayEquals(Shape.reducedDropDims(shape, norm), dropped.shape());
    }

    @Test
    void meanAndArgmax() {
        Tensor x = on().of(new double[] {1, 5, 3, 9, 2, 9}, 2, 3);
        assertEquals(29.0 / 6, x.mean().item(), 1e-12);
        assertArrayEquals(new double[] {3, 20.0 / 3}, x.mean(false, 1).toDoubleArray(), 1e-12);
        assertArrayEquals(new long[] {1, 0}, x.argmax(1, false).toLongArray());
        assertArrayEquals(new long[] {1, 0, 1}, x.argmax(0, false).toLongArray());
        assertArrayEquals(new int[] {2, 1}, x.argmax(-1, true).shape());
        assertThrows(IllegalArgumentException.class, () -> on().zeros(DType.FLOAT32, 3, 0).argmax(1, false));
        Tensor big = random(DType.FLOAT32, -1, 1, BIG, 200);
        double[] v = big.toDoubleArray();
        long[] am = big.argmax(1, false).toLongArray();
        for (int r = 0; r < BIG; r++) {
            for (int c = 0; c < 200; c++) {
                assertTrue(v[r * 200 + c] <= v[r * 200 + (int) am[r]]);
            }
        }
    }

    // ------------------------------------------------------------------ movement

    @Test
    void reshapeIsAViewAndPermuteCopies() {
        Tensor x = random(DType.FLOAT64, -1, 1, 2, 3, 4);
        Tensor r = x.reshape(6, -1);
        assertArrayEquals(new int[] {6, 4}, r.shape());
        assertArrayEquals(x.toDoubleArray(), r.toDoubleArray());
        r.close();
        assertEquals(24, x.toDoubleArray().length, "closing a view leaves the base usable");
        assertClose(Ref.of(x).permute(2, 0, 1), x.permute(2, 0, 1), 0);
        assertClose(Ref.of(x).permute(0, 2, 1), x.transpose(), 0);
        Tensor big = random(DType.FLOAT32, -1, 1, BIG, 200);
        assertClose(Ref.of(big).permute(1, 0), big.transpose(), 0);
        assertThrows(IllegalArgumentException.class, () -> x.reshape(5, 5));
    }

    @Test
    void sliceConcatBroadcast() {
        Tensor x = random(DType.FLOAT64, -1, 1, 3, 4, 5);
        assertClose(Ref.of(x).slice(1, 1, 3), x.slice(1, 1, 3), 0);
        assertClose(Ref.of(x).slice(2, 4, 5), x.slice(-1, 4, 5), 0);
        Tensor joined = Tensor.concat(1, x.slice(1, 0, 1), x.slice(1, 1, 4));
        assertArrayEquals(x.toDoubleArray(), joined.toDoubleArray());
        Tensor joined0 = Tensor.concat(0, x.slice(0, 0, 2), x.slice(0, 2, 3));
        assertArrayEquals(x.toDoubleArray(), joined0.toDoubleArray());
        Tensor row = on().of(new double[] {1, 2, 3});
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3}, row.broadcastTo(2, 3).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> x.slice(0, 2, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.concat(0, x, on().zeros(DType.FLOAT64, 1, 4, 4)));
        assertTrue(e.getMessage().contains("dimension 2"), e.getMessage());
    }

    @Test
    void gatherScatterAddOneHot() {
        Tensor x = on().of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor idx = on().of(new long[] {2, 0}, 2, 1);
        assertArrayEquals(new double[] {3, 4}, x.gather(1, idx).toDoubleArray());
        Tensor src = on().of(new double[] {10, 20}, 2, 1);
        assertArrayEquals(new double[] {1, 2, 13, 24, 5, 6}, x.scatterAdd(1, idx, src).toDoubleArray());
        Tensor dup = on().of(new long[] {1, 1, 1}, 1, 3);
        assertArrayEquals(new double[] {0, 6}, on().zeros(DType.FLOAT64, 1, 2).scatterAdd(1, dup,
                on().of(new double[] {1, 2, 3}, 1, 3)).toDoubleArray(), "repeated indices accumulate");
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 1}, on().of(new long[] {1, 2}).oneHot(3, DType.FLOAT32).toFloatArray());
        assertThrows(IndexOutOfBoundsException.class, () -> on().of(new long[] {3}).oneHot(3, DType.FLOAT32).toFloatArray());
        assertThrows(IndexOutOfBoundsException.class, () -> x.gather(1, on().of(new long[] {5, 0}, 2, 1)).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> x.gather(1, on().of(new double[] {1, 0}, 2, 1)));
    }

    @Test
    void castConverts() {
        Tensor x = on().of(new double[] {1.7, -1.7, 3});
        assertArrayEquals(new long[] {1, -1, 3}, x.cast(DType.INT64).toLongArray());
        assertArrayEquals(new float[] {1.7f, -1.7f, 3}, x.cast(DType.FLOAT32).toFloatArray());
        assertEquals(DType.FLOAT64, on().of(new long[] {2}).cast(DType.FLOAT64).dtype());
    }

    /** NaN casts to 0 and +/-inf and out-of-range values saturate, as Java's (long) cast, on every backend. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void castOfNonFiniteValuesToInt64(DType dtype) {
        Tensor x = on().of(new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e30, -1e30, -0.0, 2.9})
                .cast(dtype);
        assertArrayEquals(new long[] {0, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, 0, 2},
                x.cast(DType.INT64).toLongArray());
    }

    /** maximum/minimum and max-reductions of signed zeros as Math.max / Math.min: max(+0, -0) = +0 either way. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void signedZerosAsJavaMath(DType dtype) {
        double[] av = {0.0, -0.0, -0.0, 0.0};
        double[] bv = {-0.0, 0.0, -0.0, 0.0};
        Tensor a = on().of(av).cast(dtype);
        Tensor b = on().of(bv).cast(dtype);
        double[] mx = a.maximum(b).toDoubleArray();
        double[] mn = a.minimum(b).toDoubleArray();
        for (int i = 0; i < 4; i++) {
            assertEquals(Double.doubleToRawLongBits(Math.max(av[i], bv[i])), Double.doubleToRawLongBits(mx[i]), "max " + av[i] + ", " + bv[i]);
            assertEquals(Double.doubleToRawLongBits(Math.min(av[i], bv[i])), Double.doubleToRawLongBits(mn[i]), "min " + av[i] + ", " + bv[i]);
        }
        double m = on().of(new double[] {-0.0, 0.0, -0.0}).cast(dtype).max(false, 0).item();
        assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits(m), "max of [-0, +0, -0] is +0");
    }

    /**
     * NaN propagates through max-reductions (rows and columns, short and long enough to take a backend's
     * multi-pass path), maximum/minimum and log-softmax, and argmax picks the first NaN, as the CPU's
     * Math.max semantics; a row without NaN is unaffected.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void nanPropagatesThroughMaxLikeOps(DType dtype) {
        for (int len : new int[] {7, 5000}) {
            double[] v = new double[3 * len];
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.sin(i);
            }
            v[len + len / 2] = Double.NaN;        // row 1, middle
            v[2 * len + len - 1] = Double.NaN;    // row 2, last
            Tensor x = on().of(v, 3, len).cast(dtype);
            double[] rowMax = x.max(false, 1).toDoubleArray();
            assertTrue(!Double.isNaN(rowMax[0]) && Double.isNaN(rowMax[1]) && Double.isNaN(rowMax[2]),
                    "row max of " + len + " with NaN: " + java.util.Arrays.toString(rowMax));
            double[] colMax = x.transpose().max(false, 0).toDoubleArray();
            assertTrue(!Double.isNaN(colMax[0]) && Double.isNaN(colMax[1]) && Double.isNaN(colMax[2]),
                    "column max of " + len + " with NaN: " + java.util.Arrays.toString(colMax));
            long[] arg = x.argmax(1, false).toLongArray();
            assertEquals(len / 2, arg[1], "argmax points at the NaN");
            assertEquals(len - 1, arg[2], "argmax points at the NaN");
            double[] ls = x.logSoftmax(1).toDoubleArray();
            assertTrue(!Double.isNaN(ls[0]) && Double.isNaN(ls[len]) && Double.isNaN(ls[2 * len]), "log-softmax rows with NaN are NaN");
        }
        Tensor a = on().of(new double[] {1, Double.NaN, 3}).cast(dtype);
        Tensor b = on().of(new double[] {Double.NaN, 2, 1}).cast(dtype);
        for (double[] r : new double[][] {a.maximum(b).toDoubleArray(), a.minimum(b).toDoubleArray()}) {
            assertTrue(Double.isNaN(r[0]) && Double.isNaN(r[1]) && !Double.isNaN(r[2]), java.util.Arrays.toString(r));
        }
    }

    /** Transposes and reductions of empty tensors and over size-1 axes (a batch of 0 must launch nothing). */
    @Test
    void emptyAndSizeOneEdgeCases() {
        Tensor empty = on().zeros(DType.FLOAT32, 0, 3, 4);
        Tensor t = empty.permute(0, 2, 1);
        assertArrayEquals(new int[] {0, 4, 3}, t.shape());
        assertEquals(0, t.toFloatArray().length);
        assertArrayEquals(new int[] {0, 4}, empty.sum(false, 1).shape());
        Tensor ones = random(DType.FLOAT64, -1, 1, 3, 1, 4, 1);
        assertArrayEquals(ones.toDoubleArray(), ones.sum(true, 1, 3).toDoubleArray(), 0);
        assertArrayEquals(ones.toDoubleArray(), ones.max(true, 1, 3).toDoubleArray(), 0);
        assertArrayEquals(new int[] {3, 4}, ones.sum(false, 1, 3).shape());
        assertArrayEquals(ones.toDoubleArray(), ones.sum(false, 1, 3).toDoubleArray(), 0);
    }

    // ------------------------------------------------------------------ softmax

    @Test
    void logSoftmaxIsStable() {
        for (int axis : new int[] {0, 1, 2}) {
            Tensor x = random(DType.FLOAT64, -5, 5, 3, 4, 5);
            assertClose(Ref.of(x).logSoftmax(axis), x.logSoftmax(axis), 1e-12);
        }
        Tensor huge = on().of(new float[] {1000, 0, -1000, 1000}, 2, 2);
        float[] ls = huge.logSoftmax(1).toFloatArray();
        assertArrayEquals(new float[] {0, -1000, -2000, 0}, ls, 1e-3f);
        float[] sm = huge.softmax(1).toFloatArray();
        assertArrayEquals(new float[] {1, 0, 0, 1}, sm, 1e-6f);
        Tensor big = random(DType.FLOAT32, -5, 5, BIG, 200);
        assertClose(Ref.of(big).logSoftmax(1), big.logSoftmax(1), 1e-5);
    }

    // ------------------------------------------------------------------ fused operations

    /** The backend's cross-entropy kernels, skipping the test where it registers none. */
    private FusedKernel.SoftmaxXentForward crossEntropyForward() {
        var k = Backends.of(device()).fused(FusedKernel.SOFTMAX_XENT_FWD);
        org.junit.jupiter.api.Assumptions.assumeTrue(k.isPresent(), device() + " registers no cross-entropy kernel");
        return k.get();
    }

    private FusedKernel.SoftmaxXentBackward crossEntropyBackward() {
        var k = Backends.of(device()).fused(FusedKernel.SOFTMAX_XENT_BWD);
        org.junit.jupiter.api.Assumptions.assumeTrue(k.isPresent(), device() + " registers no cross-entropy kernel");
        return k.get();
    }

    /**
     * The cross-entropy kernels a backend registers meet their specification ({@link FusedKernel.SoftmaxXentForward},
     * {@link FusedKernel.SoftmaxXentBackward}) against {@link Ref}'s log-softmax, and report a bad label; autograd
     * tests them against the cross-entropy primitive's composed fallback too.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void registeredCrossEntropyKernelsMeetTheirSpecification(DType dtype) {
        FusedKernel.SoftmaxXentForward fwd = crossEntropyForward();
        FusedKernel.SoftmaxXentBackward bwd = crossEntropyBackward();
        Tensor logits = Tensor.concat(0, random(dtype, -5, 5, 7, 10), on().of(new double[] {1000, -1000, 0, 0, 0, 0, 0, 0, 0, 999}, 1, 10).cast(dtype));
        long[] l = {0, 3, 9, 2, 2, 5, 1, 9};
        Tensor labels = on().of(l);
        Ref logp = Ref.of(logits).logSoftmax(1);
        double[] loss = new double[8];
        for (int r = 0; r < 8; r++) {
            loss[r] = -logp.v[r * 10 + (int) l[r]];
        }
        Tensor a = on().zeros(dtype, 8);
        fwd.run(logits, labels, a);
        double tol = dtype == DType.FLOAT32 ? 1e-4 : 1e-12;
        assertClose(new Ref(loss, 8), a, tol);
        assertEquals(1 + Math.log1p(Math.exp(-1)), a.toDoubleArray()[7], tol, "stable for logits of 1000: lse - 999");
        for (Tensor upstream : new Tensor[] {random(dtype, 0.5, 2, 8), on().full(0.25, dtype)}) {
            double[] up = upstream.toDoubleArray();
            double[] grad = new double[80];
            for (int i = 0; i < 80; i++) {
                int r = i / 10;
                grad[i] = (Math.exp(logp.v[i]) - (i % 10 == l[r] ? 1 : 0)) * up[up.length == 1 ? 0 : r] * 0.5;
            }
            Tensor ga = on().zeros(dtype, 8, 10);
            bwd.run(logits, labels, upstream, 0.5, ga);
            assertClose(new Ref(grad, 8, 10), ga, tol);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> {
            fwd.run(logits, on().of(new long[] {0, 0, 0, 0, 0, 0, 0, 10}), on().zeros(dtype, 8));
            on().zeros(dtype, 1).item(); // a device reports kernel-side errors at the next read
        });
        IndexOutOfBoundsException backward = assertThrows(IndexOutOfBoundsException.class, () -> {
            bwd.run(logits, on().of(new long[] {0, 0, 0, -1, 0, 0, 0, 0}), on().full(1, dtype), 1, on().zeros(dtype, 8, 10));
            on().zeros(dtype, 1).item();
        });
        assertTrue(backward.getMessage().contains("-1"), "the backward names the bad label: " + backward.getMessage());
        assertEquals(0.0, on().zeros(dtype, 1).item(), "the device error was cleared");
    }

    /**
     * The batch-norm kernels a backend registers meet their specification ({@link FusedKernel.BatchNormForward},
     * {@link FusedKernel.BatchNormBackward}) against {@link BatchNormRef}: shapes with one value per channel, one
     * channel, a long channel and channels that are no multiple of anything; NaN stays in its channel; each
     * adjoint is right when the others are not asked for (null); a second run gives the same bits. (CUDA's own
     * test adds launch counts, graph capture and aliasing.)
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void registeredBatchNormKernelsMeetTheirSpecification(DType dtype) {
        var fwd = Backends.of(device()).fused(FusedKernel.BATCH_NORM);
        var bwd = Backends.of(device()).fused(FusedKernel.BATCH_NORM_BACKWARD);
        org.junit.jupiter.api.Assumptions.assumeTrue(fwd.isPresent() && bwd.isPresent(), device() + " registers no batch-norm kernels");
        double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-11;
        double eps = 1e-5;
        for (int[] s : new int[][] {{4, 3, 5}, {1, 2, 1}, {2, 1, 7}, {3, 5, 1}, {16, 7, 300}}) {
            int n = s[0], c = s[1], l = s[2];
            String what = dtype + " " + Shape.str(s);
            Tensor x = random(dtype, -2, 3, s);
            Tensor w = random(dtype, 0.5, 2, c);
            Tensor b = random(dtype, -1, 1, c);
            Tensor dy = random(dtype, -1, 1, s);
            Tensor y = on().zeros(dtype, s), mean = on().zeros(dtype, c), var = on().zeros(dtype, c);
            fwd.get().run(x, w, b, eps, y, mean, var);
            BatchNormRef ref = new BatchNormRef(n, c, l, eps, x.toDoubleArray(), w.toDoubleArray(), b.toDoubleArray(),
                    dy.toDoubleArray(), mean.toDoubleArray(), var.toDoubleArray());
            assertScaled(ref.mean, null, mean, tol, what + " mean");
            assertScaled(ref.var, null, var, tol, what + " var");
            assertScaled(ref.y, ref.yScale, y, tol, what + " y");
            Tensor dx = on().zeros(dtype, s), dw = on().zeros(dtype, c), db = on().zeros(dtype, c);
            bwd.get().run(dy, x, mean, var, w, eps, dx, dw, db);
            assertScaled(ref.dx, ref.dxScale, dx, tol, what + " dx");
            assertScaled(ref.dweight, ref.dweightScale, dw, tol, what + " dweight");
            assertScaled(ref.dbias, ref.dbiasScale, db, tol, what + " dbias");
            Tensor again = on().zeros(dtype, s);
            fwd.get().run(x, w, b, eps, again, on().zeros(dtype, c), on().zeros(dtype, c));
            assertArrayEquals(y.toDoubleArray(), again.toDoubleArray(), 0, what + ": the same bits on a second run");
            Tensor dwOnly = on().zeros(dtype, c), dbOnly = on().zeros(dtype, c);
            bwd.get().run(dy, x, mean, var, w, eps, null, dwOnly, null);
            bwd.get().run(dy, x, mean, var, w, eps, null, null, dbOnly);
            assertArrayEquals(dw.toDoubleArray(), dwOnly.toDoubleArray(), 0, what + ": dweight alone");
            assertArrayEquals(db.toDoubleArray(), dbOnly.toDoubleArray(), 0, what + ": dbias alone");
        }
        // a NaN poisons its own channel only
        Tensor x = on().of(new double[] {1, Double.NaN, 2, 3, 4, 5}, 1, 2, 3).cast(dtype);
        Tensor y = on().zeros(dtype, 1, 2, 3);
        fwd.get().run(x, on().ones(dtype, 2), on().zeros(dtype, 2), eps, y, on().zeros(dtype, 2), on().zeros(dtype, 2));
        double[] yv = y.toDoubleArray();
        for (int i = 0; i < 3; i++) {
            assertTrue(Double.isNaN(yv[i]), "channel 0 has a NaN: " + java.util.Arrays.toString(yv));
            assertTrue(Double.isFinite(yv[3 + i]), "channel 1 has none: " + java.util.Arrays.toString(yv));
        }
    }

    /**
     * The running-statistics kernel a backend registers ({@link FusedKernel.BatchNormRunningStats}) computes the
     * composed update (to rounding: a device may fuse a multiply-add), modifies only the running statistics, and
     * handles one channel and channels that are no multiple of a block.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void registeredRunningStatisticsKernelUpdatesAsTheComposition(DType dtype) {
        var kernel = Backends.of(device()).fused(FusedKernel.BATCH_NORM_RUNNING_STATS);
        org.junit.jupiter.api.Assumptions.assumeTrue(kernel.isPresent(), device() + " registers no running-statistics kernel");
        for (int c : new int[] {1, 3, 300}) {
            Tensor rm = random(dtype, -1, 1, c), rv = random(dtype, 0.5, 2, c);
            Tensor mean = random(dtype, -2, 2, c), var = random(dtype, 0, 3, c);
            double[] rmv = rm.toDoubleArray(), rvv = rv.toDoubleArray(), mv = mean.toDoubleArray(), vv = var.toDoubleArray();
            double momentum = 0.1, factor = 64 / 63.0;
            kernel.get().update(rm, rv, mean, var, momentum, factor);
            double[] wantMean = new double[c], wantVar = new double[c];
            for (int i = 0; i < c; i++) {
                wantMean[i] = (1 - momentum) * rmv[i] + momentum * mv[i];
                wantVar[i] = (1 - momentum) * rvv[i] + momentum * factor * vv[i];
            }
            assertScaled(wantMean, null, rm, tol(dtype), dtype + " running mean of " + c);
            assertScaled(wantVar, null, rv, tol(dtype), dtype + " running var of " + c);
            assertArrayEquals(mv, mean.toDoubleArray(), 0, "the batch mean is not modified");
            assertArrayEquals(vv, var.toDoubleArray(), 0, "the batch var is not modified");
        }
    }

    /** |actual - expected| &lt;= tol * scale per element (scale 1 + |expected| where none is given). */
    private static void assertScaled(double[] expected, double[] scale, Tensor actual, double tol, String what) {
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            double sc = scale == null ? 1 + Math.abs(expected[i]) : scale[i];
            assertTrue(Math.abs(a[i] - expected[i]) <= tol * sc, what + "[" + i + "]: expected " + expected[i] + ", got " + a[i]);
        }
    }

    @Test
    void fusedCrossEntropyOnALargeBatch() {
        Tensor logits = random(DType.FLOAT32, -8, 8, 4000, 10);
        long[] l = new long[4000];
        for (int i = 0; i < l.length; i++) {
            l[i] = (i * 7L) % 10;
        }
        Tensor labels = on().of(l);
        Tensor a = on().zeros(DType.FLOAT32, 4000);
        crossEntropyForward().run(logits, labels, a);
        Ref expected = Ref.of(logits).logSoftmax(1);
        double[] got = a.toDoubleArray();
        for (int r = 0; r < 4000; r++) {
            assertEquals(-expected.v[r * 10 + (int) l[r]], got[r], 1e-4, "row " + r);
        }
        Tensor g = on().zeros(DType.FLOAT32, 4000, 10);
        crossEntropyBackward().run(logits, labels, on().full(1, DType.FLOAT32), 1, g);
        double[] gv = g.toDoubleArray();
        for (int r = 0; r < 4000; r += 97) {
            double rowSum = 0;
            for (int c = 0; c < 10; c++) {
                rowSum += gv[r * 10 + c];
                double p = Math.exp(expected.v[r * 10 + c]);
                assertEquals(p - (c == l[r] ? 1 : 0), gv[r * 10 + c], 1e-5, "row " + r + " class " + c);
            }
            assertEquals(0, rowSum, 1e-5, "softmax minus one-hot sums to zero");
        }
    }

    /**
     * The optimizer kernels a backend registers meet their specification ({@link FusedKernel.SgdMomentum},
     * {@link FusedKernel.Adam}) element by element in plain Java; the optimizers (models' optim) test them
     * against their composed fallbacks too. A backend without them skips this.
     */
    @Test
    void registeredOptimizerKernelsMeetTheirSpecification() {
        var sgd = Backends.of(device()).fused(FusedKernel.SGD_MOMENTUM);
        var adam = Backends.of(device()).fused(FusedKernel.ADAM);
        org.junit.jupiter.api.Assumptions.assumeTrue(sgd.isPresent() || adam.isPresent(),
                device() + " registers no optimizer kernel: the optimizers run their composed updates");
        for (int variant = 0; sgd.isPresent() && variant < 3; variant++) {
            boolean nesterov = variant == 1;
            double wd = variant == 2 ? 0.01 : 0;
            Tensor w = random(DType.FLOAT64, -1, 1, 300, 130);
            Tensor v = random(DType.FLOAT64, -1, 1, 300, 130);
            Tensor g = random(DType.FLOAT64, -1, 1, 300, 130);
            double[] we = w.toDoubleArray();
            double[] ve = v.toDoubleArray();
            double[] ge = g.toDoubleArray();
            for (int i = 0; i < we.length; i++) {
                double d = ge[i] + wd * we[i];
                ve[i] = 0.9 * ve[i] + d;
                we[i] -= 0.1 * (nesterov ? d + 0.9 * ve[i] : ve[i]);
            }
            sgd.get().step(w, g, v, 0.1, 0.9, wd, nesterov);
            assertClose(new Ref(we, 300, 130), w, 1e-12);
            assertClose(new Ref(ve, 300, 130), v, 1e-12);
            assertArrayEquals(ge, g.toDoubleArray(), "the gradient is not modified");
        }
        for (boolean decoupled : new boolean[] {false, true}) {
            if (adam.isEmpty()) {
                break;
            }
            Tensor w = random(DType.FLOAT64, -1, 1, 40, 30);
            Tensor m = on().zeros(DType.FLOAT64, 40, 30);
            Tensor s = on().zeros(DType.FLOAT64, 40, 30);
            double[] we = w.toDoubleArray();
            double[] me = new double[we.length];
            double[] se = new double[we.length];
            for (int step = 1; step <= 3; step++) {
                Tensor g = random(DType.FLOAT64, -1, 1, 40, 30);
                double[] ge = g.toDoubleArray();
                for (int i = 0; i < we.length; i++) {
                    double d = ge[i];
                    if (decoupled) {
                        we[i] *= 1 - 1e-2 * 0.01;
                    } else {
                        d += 0.01 * we[i];
                    }
                    me[i] = 0.9 * me[i] + 0.1 * d;
                    se[i] = 0.999 * se[i] + 0.001 * d * d;
                    we[i] -= 1e-2 * (me[i] / (1 - Math.pow(0.9, step))) / (Math.sqrt(se[i] / (1 - Math.pow(0.999, step))) + 1e-8);
                }
                adam.get().step(w, g, m, s, 1e-2, 0.9, 0.999, 1e-8, 0.01, step, decoupled);
            }
            assertClose(new Ref(we, 40, 30), w, 1e-10);
            assertClose(new Ref(me, 40, 30), m, 1e-12);
            assertClose(new Ref(se, 40, 30), s, 1e-12);
        }
    }

    // ------------------------------------------------------------------ composed ops (min, prod, cumsum, var, norm, flip, pad, sort, ...)

    static Stream<Arguments> composedReductionCases() {
        List<Arguments> out = new ArrayList<>();
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            out.add(Arguments.of(dt, new int[] {2, 3, 4}, new int[] {1}));
            out.add(Arguments.of(dt, new int[] {2, 3, 4}, new int[] {0, 2}));
            out.add(Arguments.of(dt, new int[] {2, 3, 4}, new int[] {}));
            out.add(Arguments.of(dt, new int[] {3, 1, 5}, new int[] {1}));
            out.add(Arguments.of(dt, new int[] {7}, new int[] {0}));
            out.add(Arguments.of(dt, new int[] {BIG, 200}, new int[] {1}));
            out.add(Arguments.of(dt, new int[] {BIG, 200}, new int[] {0}));
        }
        return out.stream();
    }

    /** min, prod, var (both corrections), std and the 1-, 2- and inf-norms against the reference, kept and dropped dimensions. */
    @ParameterizedTest(name = "{0} {1} axes {2}")
    @MethodSource("composedReductionCases")
    void composedReductionsMatchReference(DType dtype, int[] shape, int[] axes) {
        int[] ax = Shape.axes("t", axes, shape.length);
        int[] dropped = Shape.reducedDropDims(shape, ax);
        double tol = tol(dtype) * 50;
        Tensor x = random(dtype, -1, 1, shape);
        Ref r = Ref.of(x);
        assertClose(r.min(ax), x.min(true, axes), 0);
        assertClose(r.min(ax).reshape(dropped), x.min(false, axes), 0);
        Tensor near1 = random(dtype, 0.97, 1.03, shape);
        assertClose(Ref.of(near1).prod(ax), near1.prod(true, axes), tol);
        assertClose(Ref.of(near1).prod(ax).reshape(dropped), near1.prod(false, axes), tol);
        for (int correction : new int[] {0, 1}) {
            assertClose(r.var(correction, ax), x.var(correction, true, axes), tol);
            Ref sd = r.var(correction, ax).unary(UnaryOp.SQRT);
            assertClose(sd.reshape(dropped), x.std(correction, false, axes), tol);
        }
        assertClose(r.var(1, ax).reshape(dropped), x.var(false, axes), tol);
        for (double p : new double[] {1, 2, Double.POSITIVE_INFINITY}) {
            assertClose(r.norm(p, ax), x.norm(p, true, axes), tol);
        }
    }

    @Test
    void minArgminAndProdEdgeCases() {
        Tensor x = on().of(new double[] {3, 1, 2, 1, Double.NaN, 0, -0.0, 5, 5}, 3, 3);
        assertArrayEquals(new long[] {1, 1, 0}, x.argmin(1, false).toLongArray(), "the first minimum, the first NaN");
        assertClose(Ref.of(x).argmin(0), x.argmin(0, true).cast(DType.FLOAT64), 0);
        double[] m = x.min(false, 1).toDoubleArray();
        assertEquals(1, m[0]);
        assertTrue(Double.isNaN(m[1]), "NaN propagates through min");
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(on().of(new double[] {0.0, -0.0}).min().item()),
                "min of +0 and -0 is -0, as Math.min");
        Tensor z = on().of(new double[] {2, 0, 3, 0, 0, 4, 1.5, 2, -1}, 3, 3);
        assertArrayEquals(new double[] {0, 0, -3}, z.prod(false, 1).toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, on().zeros(DType.FLOAT64, 2, 0).prod(false, 1).toDoubleArray(), "the empty product is 1");
        long big = 1L << 40;
        assertEquals(big * 3 * 7, on().of(new long[] {big, 3, 7}).prod().toLongArray()[0], "int64 products stay exact");
        assertEquals(-7, on().of(new long[] {4, -7, 2}).min().toLongArray()[0]);
        assertThrows(IllegalArgumentException.class, () -> on().zeros(DType.FLOAT64, 2, 0).min(false, 1));
        assertThrows(IllegalArgumentException.class, () -> on().zeros(DType.FLOAT64, 2, 0).argmin(1, false));
        assertThrows(IllegalArgumentException.class, () -> x.norm(3, false));
        assertTrue(Double.isNaN(on().of(new double[] {4}).var(false).item()), "one sample with correction 1: 0/0 = NaN, as torch.var");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void cumsumMatchesARunningSum(DType dtype) {
        Tensor x = random(dtype, -1, 1, 3, 4, 5);
        for (int axis = 0; axis < 3; axis++) {
            assertClose(Ref.of(x).cumsum(axis), x.cumsum(axis), tol(dtype) * 4);
        }
        Tensor big = random(dtype, -1, 1, BIG, 200);
        assertClose(Ref.of(big).cumsum(1), big.cumsum(-1), tol(dtype) * 50);
        assertClose(Ref.of(big).cumsum(0), big.cumsum(0), tol(dtype) * 50);
        assertArrayEquals(new long[] {1, 3, 6, 10}, on().of(new long[] {1, 2, 3, 4}).cumsum(0).toLongArray());
        assertEquals(0, on().zeros(DType.FLOAT64, 0, 2).cumsum(0).numel());
    }

    @Test
    void flipIndexSelectMaskedFill() {
        Tensor x = random(DType.FLOAT64, -1, 1, 3, 4, 5);
        assertClose(Ref.of(x).flip(1), x.flip(1), 0);
        assertClose(Ref.of(x).flip(0, 2), x.flip(0, -1), 0);
        assertClose(Ref.of(x).flip(0, 1, 2), x.flip(2, 1, 0), 0);
        assertArrayEquals(new long[] {3, 2, 1}, on().of(new long[] {1, 2, 3}).flip(0).toLongArray());
        Tensor big = random(DType.FLOAT32, -1, 1, BIG, 200);
        assertClose(Ref.of(big).flip(1), big.flip(1), 0);
        assertThrows(IllegalArgumentException.class, x::flip);
        long[] idx = {4, 0, 4, 2};
        assertClose(Ref.of(x).indexSelect(2, idx), x.indexSelect(-1, on().of(idx)), 0);
        assertClose(Ref.of(x).indexSelect(0, new long[] {2}), x.indexSelect(0, on().of(new long[] {2}).reshape()), 0);
        assertThrows(IllegalArgumentException.class, () -> x.indexSelect(0, on().of(new double[] {1})));
        assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(0, on().of(new long[] {3})).toDoubleArray());
        Tensor mask = on().of(new double[] {1, 0, 0, 1, 0}, 5);
        double[] xv = x.toDoubleArray();
        double[] filled = x.maskedFill(mask, -7).toDoubleArray();
        for (int i = 0; i < xv.length; i++) {
            assertEquals(i % 5 == 0 || i % 5 == 3 ? -7 : xv[i], filled[i], "element " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> x.maskedFill(on().ones(DType.FLOAT64, 2, 3, 4, 5), 0));
    }

    @Test
    void squeezeUnsqueezeStackNarrowSplitChunk() {
        Tensor x = random(DType.FLOAT64, -1, 1, 3, 1, 4, 1);
        assertArrayEquals(new int[] {3, 4}, x.squeeze().shape());
        assertArrayEquals(new int[] {3, 4, 1}, x.squeeze(1).shape());
        assertArrayEquals(new int[] {3, 1, 4, 1}, x.squeeze(0).shape(), "a dimension that is not 1 stays, as torch.squeeze");
        assertArrayEquals(new int[] {3, 4}, x.squeeze(1, -1).shape());
        assertArrayEquals(x.toDoubleArray(), x.squeeze().toDoubleArray());
        Tensor y = random(DType.FLOAT64, -1, 1, 3, 4);
        assertArrayEquals(new int[] {1, 3, 4}, y.unsqueeze(0).shape());
        assertArrayEquals(new int[] {3, 4, 1}, y.unsqueeze(-1).shape());
        assertArrayEquals(new int[] {3, 1, 4}, y.unsqueeze(-2).shape());
        assertThrows(IllegalArgumentException.class, () -> y.unsqueeze(3));
        Tensor z = random(DType.FLOAT64, -1, 1, 3, 4);
        Tensor s1 = Tensor.stack(1, y, z);
        assertArrayEquals(new int[] {3, 2, 4}, s1.shape());
        assertClose(Ref.of(y), s1.slice(1, 0, 1).squeeze(1), 0);
        assertClose(Ref.of(z), s1.slice(1, 1, 2).squeeze(1), 0);
        assertArrayEquals(new int[] {3, 4, 2}, Tensor.stack(-1, y, z).shape());
        assertThrows(IllegalArgumentException.class, () -> Tensor.stack(0, y, on().zeros(DType.FLOAT64, 4, 3)));
        assertClose(Ref.of(y).slice(1, 1, 3), y.narrow(1, 1, 2), 0);
        assertClose(Ref.of(y).slice(1, 2, 4), y.narrow(-1, -2, 2), 0);
        Tensor w = random(DType.FLOAT64, -1, 1, 2, 7);
        Tensor[] parts = w.split(1, 3);
        assertEquals(3, parts.length);
        assertArrayEquals(new int[] {2, 1}, parts[2].shape());
        assertArrayEquals(w.toDoubleArray(), Tensor.concat(1, parts).toDoubleArray());
        Tensor[] sections = w.split(-1, new int[] {2, 0, 5});
        assertArrayEquals(new int[] {2, 0}, sections[1].shape());
        assertClose(Ref.of(w).slice(1, 2, 7), sections[2], 0);
        assertThrows(IllegalArgumentException.class, () -> w.split(1, new int[] {2, 2}));
        assertEquals(3, on().zeros(DType.FLOAT64, 6).chunk(0, 4).length, "chunk(4) of 6 gives 3 pieces of 2, as torch.chunk");
        Tensor[] chunks = w.chunk(1, 3);
        assertArrayEquals(new int[] {3, 3, 1}, new int[] {chunks[0].dim(1), chunks[1].dim(1), chunks[2].dim(1)});
        assertArrayEquals(w.toDoubleArray(), Tensor.concat(1, chunks).toDoubleArray());
    }

    @Test
    void tileRepeatPad() {
        Tensor x = random(DType.FLOAT64, -1, 1, 2, 3);
        assertClose(Ref.of(x).tile(2, 3), x.tile(2, 3), 0);
        assertClose(Ref.of(x).tile(2), x.tile(2), 0);
        assertClose(Ref.of(x).tile(2, 1, 3), x.tile(2, 1, 3), 0);
        assertClose(Ref.of(x).tile(3, 1, 2), x.repeat(3, 1, 2), 0);
        assertThrows(IllegalArgumentException.class, () -> x.repeat(2));
        Tensor big = random(DType.FLOAT32, -1, 1, BIG, 20);
        assertClose(Ref.of(big).tile(1, 10), big.tile(1, 10), 0);
        Tensor y = random(DType.FLOAT64, -1, 1, 2, 4, 5);
        int[][] cases = {{1, 2}, {2, 1, 0, 3}, {0, 0, 3, 1}, {4, 4, 1, 1, 1, 0}};
        for (PadMode mode : PadMode.values()) {
            for (int[] pads : cases) {
                int[][] pairs = Shape.padPairs("t", y.shape(), pads);
                boolean fits = true;
                for (int d = 0; d < 3; d++) {
                    int most = Math.max(pairs[d][0], pairs[d][1]);
                    fits &= mode != PadMode.REFLECT || most < y.dim(d);
                    fits &= mode != PadMode.CIRCULAR || most <= y.dim(d);
                }
                if (fits) {
                    assertClose(Ref.of(y).pad(pairs, mode, 0.5), y.pad(pads, mode, 0.5), 0);
                } else {
                    assertThrows(IllegalArgumentException.class, () -> y.pad(pads, mode, 0.5), mode + " " + java.util.Arrays.toString(pads));
                }
            }
        }
        assertArrayEquals(new double[] {0, 1, 2, 0, 0}, on().of(new double[] {1, 2}).pad(1, 2).toDoubleArray());
        assertArrayEquals(new double[] {3, 2, 1, 2, 3, 2, 1}, on().of(new double[] {1, 2, 3}).pad(new int[] {2, 2}, PadMode.REFLECT, 0).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> y.pad(1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> y.pad(-1, 0));
    }

    /** Sorting is stable in both directions (equal values keep their input order), NaN sorts as the largest value. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void sortIsStableAndPutsNanLast(DType dtype) {
        Tensor ties = on().of(new double[] {2, 1, Double.NaN, 2, 1, -0.0, 0.0, 3, Double.NaN, 1}, 2, 5).cast(dtype);
        assertArrayEquals(new long[] {1, 4, 0, 3, 2, 0, 1, 4, 2, 3}, ties.argsort(1, false).toLongArray());
        assertArrayEquals(new long[] {2, 0, 3, 1, 4, 3, 2, 4, 0, 1}, ties.argsort(1, true).toLongArray());
        for (boolean descending : new boolean[] {false, true}) {
            for (int axis = 0; axis < 2; axis++) {
                assertClose(Ref.of(ties).argsort(axis, descending), ties.argsort(axis, descending).cast(DType.FLOAT64), 0);
            }
            Tensor x = random(dtype, 0, 4, 3, 4, 5).cast(DType.INT64).cast(dtype);       // many ties
            for (int axis = 0; axis < 3; axis++) {
                Ref order = Ref.of(x).argsort(axis, descending);
                assertClose(order, x.argsort(axis, descending).cast(DType.FLOAT64), 0);
                Tensor sorted = x.sort(axis, descending);
                assertArrayEquals(x.shape(), sorted.shape());
                double[] sv = sorted.toDoubleArray();
                double[] xv = x.toDoubleArray();
                for (int i = 0; i < sv.length; i++) {
                    int[] idx = Ref.index(i, x.shape());
                    idx[axis] = (int) order.v[i];
                    assertEquals(xv[Ref.flat(idx, x.shape())], sv[i], "sorted value " + i);
                }
            }
        }
        Tensor big = random(dtype, -1, 1, BIG, 200);
        assertClose(Ref.of(big).argsort(1, true), big.argsort(1, true).cast(DType.FLOAT64), 0);
        Tensor top = big.topkIndices(1, 5, true);
        assertClose(Ref.of(big).argsort(1, true).slice(1, 0, 5), top.cast(DType.FLOAT64), 0);
        assertClose(Ref.of(ties).argsort(1, false).slice(1, 0, 3), ties.topkIndices(-1, 3, false).cast(DType.FLOAT64), 0);
        assertThrows(IllegalArgumentException.class, () -> ties.topkIndices(1, 6, true));
        assertArrayEquals(new long[] {0, 1, 2}, on().of(new long[] {(1L << 60) + 1, (1L << 60) + 2, (1L << 60) + 3}).argsort(0, false).toLongArray(),
                "int64 sorts exactly");
    }

    static Stream<Arguments> matmulBroadcastCases() {
        int[][][] shapes = {
            {{4}, {4}}, {{4}, {4, 3}}, {{2, 4}, {4}}, {{5, 2, 4}, {4}}, {{4}, {5, 4, 3}}, {{5, 1, 2, 4}, {3, 4, 6}},
            {{1, 2, 4}, {5, 4, 3}}, {{5, 2, 4}, {1, 4, 3}}, {{2, 3, 2, 4}, {4, 6}}, {{2, 4}, {2, 3, 4, 6}},
            {{2, 1, 2, 4}, {1, 3, 4, 6}}, {{1, 1, 2, 4}, {4, 3}}, {{0, 2, 4}, {1, 4, 3}}, {{3, 64, 80}, {1, 80, 50}},
        };
        List<Arguments> out = new ArrayList<>();
        for (int[][] s : shapes) {
            out.add(Arguments.of(s[0], s[1]));
        }
        return out.stream();
    }

    /** torch.matmul's vectors and batch broadcasting against the reference; transposes apply to the last two dimensions. */
    @ParameterizedTest(name = "{0} @ {1}")
    @MethodSource("matmulBroadcastCases")
    void matmulBroadcastsLikeTorch(int[] sa, int[] sb) {
        DType dtype = sa.length == 3 && sa[1] == 64 ? DType.FLOAT32 : DType.FLOAT64;
        Tensor a = random(dtype, -1, 1, sa);
        Tensor b = random(dtype, -1, 1, sb);
        Ref expected = Ref.matmulTorch(Ref.of(a), Ref.of(b));
        assertArrayEquals(expected.shape, Shape.matmul("t", sa, false, sb, false));
        assertClose(expected, a.matmul(b), dtype == DType.FLOAT32 ? 1e-4 : 1e-12);
        if (sa.length >= 2 && sb.length >= 2) {
            Tensor at = a.transpose();
            Tensor bt = b.transpose();
            assertClose(expected, at.matmul(true, bt, true), dtype == DType.FLOAT32 ? 1e-4 : 1e-12);
        }
    }

    @Test
    void matmulShapeErrors() {
        Tensor v = on().zeros(DType.FLOAT64, 4);
        assertThrows(IllegalArgumentException.class, () -> v.matmul(on().zeros(DType.FLOAT64, 3)));
        assertThrows(IllegalArgumentException.class, () -> on().zeros(DType.FLOAT64, 2, 2, 4).matmul(on().zeros(DType.FLOAT64, 3, 4, 1)));
        assertThrows(IllegalArgumentException.class, () -> on().zeros(DType.FLOAT64).matmul(v));
        assertThrows(IllegalArgumentException.class, () -> v.matmul(true, on().zeros(DType.FLOAT64, 4, 2), false));
    }

    // ------------------------------------------------------------------ errors and memory

    @Test
    void mixingDtypesNamesTheOperandsAndTheFix() {
        Tensor f = on().zeros(DType.FLOAT32, 2);
        Tensor d = on().zeros(DType.FLOAT64, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.add(d));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("float32[2]")
                && e.getMessage().contains("float64[2]") && e.getMessage().contains("cast("), e.getMessage());
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> on().zeros(DType.FLOAT32, 2, 3).mul(on().zeros(DType.FLOAT32, 4)));
        assertTrue(b.getMessage().contains("[2, 3]") && b.getMessage().contains("[4]"), b.getMessage());
        assertThrows(IllegalArgumentException.class, () -> on().zeros(DType.INT64, 2).exp());
    }

    @Test
    void closedTensorsAreAnErrorNotACrash() {
        Tensor t = on().ones(DType.FLOAT32, 4);
        t.close();
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.add(t));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, t::toFloatArray);
        assertTrue(t.toString().contains("closed"));
    }

    @Test
    void scopesCloseWhatTheyOwnAndKeepWhatIsKept() {
        Tensor kept;
        Tensor dropped;
        try (Scope s = Scope.open()) {
            dropped = on().ones(DType.FLOAT32, 3);
            kept = dropped.mul(2).keep();
            assertEquals(1, s.ownedCount(), "the kept tensor moved to the enclosing scope");
        }
        assertTrue(dropped.isClosed());
        assertArrayEquals(new float[] {2, 2, 2}, kept.toFloatArray());
    }

    @Test
    void aTensorKeptForeverJoinsTheCurrentScopeWhenHandedOut() {
        LeakCheck leak = LeakCheck.start();
        Tensor ahead;
        try (Scope made = Scope.open()) {
            ahead = on().of(new float[] {1, 2}, 2).keepForever();
            assertEquals(0, made.ownedCount());
        }
        assertFalse(ahead.isClosed(), "kept forever: outlives the scope it was made in");
        Tensor inner;
        try (Scope outer = Scope.open()) {
            try (Scope handedOut = Scope.open()) {
                assertSame(ahead, ahead.keepInCurrentScope());
                assertEquals(1, handedOut.ownedCount());
                inner = on().ones(DType.FLOAT32, 1);
                inner.keepInCurrentScope();   // already there: stays
                assertEquals(2, handedOut.ownedCount());
                assertArrayEquals(new float[] {1, 2}, ahead.toFloatArray());
                ahead.keep();                 // and it moves on like any other tensor
            }
            assertTrue(inner.isClosed());
            assertFalse(ahead.isClosed());
            assertEquals(1, outer.ownedCount());
        }
        assertTrue(ahead.isClosed(), "freed with the scope it joined");
        Tensor loose = on().ones(DType.FLOAT32, 1).keepForever();
        loose.close();
        assertThrows(IllegalStateException.class, loose::keepInCurrentScope, "a closed tensor");
        leak.assertNoLeak("tensors handed into the current scope");
    }

    @Test
    void memoryStaysFlatOverManySteps() {
        LeakCheck whole = LeakCheck.start();
        Tensor w = on().randn(1, DType.FLOAT32, 8, 8).keepForever();
        LeakCheck steps = LeakCheck.start();
        for (int step = 0; step < 20_000; step++) {
            try (Scope s = Scope.open()) {
                Tensor y = w.matmul(w).relu().add(1).sum();
                y.item();
            }
        }
        steps.assertNoLeak("20,000 scoped steps");
        w.close();
        whole.assertNoLeak("closing the kept tensor frees its buffer");
    }

    // ------------------------------------------------------------------ sliding windows: unfold, fold, conv2d, pooling

    /** Windows covering stride, padding, dilation, non-square kernels and outputs whose rows are not a multiple of 32. */
    static Stream<Arguments> windows() {
        return Stream.of(
                Arguments.of(new int[] {2, 3, 7, 9}, new Window2d(3, 3, 1, 1, 1, 1, 1, 1), 1, DType.FLOAT64),
                Arguments.of(new int[] {2, 4, 8, 6}, new Window2d(3, 2, 2, 1, 1, 0, 1, 2), 2, DType.FLOAT64),
                Arguments.of(new int[] {1, 6, 9, 10}, new Window2d(2, 3, 2, 3, 1, 1, 2, 1), 3, DType.FLOAT32),
                Arguments.of(new int[] {3, 2, 5, 5}, new Window2d(5, 5, 1, 1, 2, 2, 1, 1), 1, DType.FLOAT32),
                Arguments.of(new int[] {1, 1, 1, 1}, new Window2d(1, 1, 1, 1, 0, 0, 1, 1), 1, DType.FLOAT64),
                Arguments.of(new int[] {2, 3, 37, 35}, new Window2d(3, 3, 1, 1, 1, 1, 1, 1), 1, DType.FLOAT32));
    }

    @ParameterizedTest
    @MethodSource("windows")
    void unfoldAndFoldMatchTheDefinition(int[] shape, Window2d w, int groups, DType dtype) {
        Tensor x = random(dtype, -2, 2, shape);
        assertClose(ConvRef.unfold(Ref.of(x), w, 0), x.unfold(w, 0), tol(dtype));
        assertArrayEquals(ConvRef.unfold(Ref.of(x), w, Double.NEGATIVE_INFINITY).v, x.unfold(w, Double.NEGATIVE_INFINITY).toDoubleArray(), 0);
        // fold is unfold's adjoint: <unfold(x), c> = <x, fold(c)> for any c
        Tensor cols = x.unfold(w, 0);
        Tensor c = random(dtype, -1, 1, cols.shape());
        Tensor folded = c.fold(w, shape[2], shape[3]);
        assertArrayEquals(shape, folded.shape());
        double lhs = ConvRef.dot(cols.toDoubleArray(), c.toDoubleArray());
        double rhs = ConvRef.dot(x.toDoubleArray(), folded.toDoubleArray());
        assertEquals(lhs, rhs, 1e-4 * Math.max(1, Math.abs(lhs)) * (dtype == DType.FLOAT32 ? 10 : 1e-6));
    }

    @ParameterizedTest
    @MethodSource("windows")
    void conv2dAndItsAdjointsMatchTheDefinition(int[] shape, Window2d w, int groups, DType dtype) {
        int cout = 2 * groups;
        Tensor x = random(dtype, -1, 1, shape);
        Tensor weight = random(dtype, -1, 1, cout, shape[1] / groups, w.kernelH(), w.kernelW());
        Tensor y = x.conv2d(weight, w, groups);
        double tol = dtype == DType.FLOAT32 ? 1e-5 : 1e-12;
        assertClose(ConvRef.conv2d(Ref.of(x), Ref.of(weight), w, groups), y, tol);
        // the adjoints: <conv(x, w), g> = <x, inputGrad(g, w)> = <w, weightGrad(x, g)>
        Tensor g = random(dtype, -1, 1, y.shape());
        Tensor dx = g.conv2dInputGrad(weight, w, groups, shape[2], shape[3]);
        Tensor dw = x.conv2dWeightGrad(g, w, groups);
        assertArrayEquals(x.shape(), dx.shape());
        assertArrayEquals(weight.shape(), dw.shape());
        double ref = ConvRef.dot(ConvRef.conv2d(Ref.of(x), Ref.of(weight), w, groups).v, g.toDoubleArray());
        double scale = Math.max(1, Math.abs(ref)) * (dtype == DType.FLOAT32 ? 1e-4 : 1e-10);
        assertEquals(ref, ConvRef.dot(x.toDoubleArray(), dx.toDoubleArray()), scale, "input adjoint");
        assertEquals(ref, ConvRef.dot(weight.toDoubleArray(), dw.toDoubleArray()), scale, "weight adjoint");
        // and element by element: the input gradient is the definition's sum over the windows that read each element
        Ref gr = Ref.of(g);
        double[] dxRef = new double[x.numel()];
        double[] dwRef = new double[weight.numel()];
        adjointsByDefinition(Ref.of(x), Ref.of(weight), gr, w, groups, dxRef, dwRef);
        assertClose(new Ref(dxRef, x.shape()), dx, tol * 10);
        assertClose(new Ref(dwRef, weight.shape()), dw, tol * 10);
    }

    /** dx and dw of sum(conv(x, w) * g), accumulated term by term from the convolution's definition. */
    private static void adjointsByDefinition(Ref x, Ref w, Ref g, Window2d win, int groups, double[] dx, double[] dw) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
        int cout = w.shape[0], cg = c / groups, og = cout / groups, oh = g.shape[2], ow = g.shape[3];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < cout; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double gv = g.v[((b * cout + o) * oh + oy) * ow + ox];
                        for (int ci = 0; ci < cg; ci++) {
                            for (int i = 0; i < win.kernelH(); i++) {
                                for (int j = 0; j < win.kernelW(); j++) {
                                    int iy = oy * win.strideH() - win.padH() + i * win.dilationH();
                                    int ix = ox * win.strideW() - win.padW() + j * win.dilationW();
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                        continue;
                                    }
                                    int xi = ((b * c + (o / og) * cg + ci) * h + iy) * wd + ix;
                                    int wi = ((o * cg + ci) * win.kernelH() + i) * win.kernelW() + j;
                                    dx[xi] += gv * w.v[wi];
                                    dw[wi] += gv * x.v[xi];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("windows")
    void poolingMatchesTheDefinition(int[] shape, Window2d w, int groups, DType dtype) {
        Window2d pool = 2 * w.padH() > w.kernelH() || 2 * w.padW() > w.kernelW()
                ? new Window2d(w.kernelH(), w.kernelW(), w.strideH(), w.strideW(), 0, 0, w.dilationH(), w.dilationW()) : w;
        Tensor x = random(dtype, -3, 3, shape).apply(UnaryOp.ROUND);   // small integers: many ties
        Ref[] ref = ConvRef.maxPool2d(Ref.of(x), pool);
        Tensor[] got = x.maxPool2dWithIndices(pool);
        assertClose(ref[0], got[0], 0);
        assertClose(ref[1], got[1], 0);
        assertEquals(DType.INT64, got[1].dtype());
        assertClose(ConvRef.avgPool2d(Ref.of(x), pool), x.avgPool2d(pool), tol(dtype));
    }

    @Test
    void maxPoolTiesNaNAndInfinityAsPyTorch() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double nan = Double.NaN;
            double inf = Double.POSITIVE_INFINITY;
            Tensor x = on().of(new double[] {
                1, 1, -inf, -inf,
                1, 0, -inf, -inf,
                2, nan, 5, inf,
                nan, 2, inf, 5}, 1, 1, 4, 4).cast(dtype);
            Tensor[] r = x.maxPool2dWithIndices(Window2d.of(2, 2, 0));
            double[] v = r[0].toDoubleArray();
            assertEquals(1, v[0]);
            assertEquals(-inf, v[1], "an all -inf window is -inf");
            assertTrue(Double.isNaN(v[2]), "NaN propagates");
            assertEquals(inf, v[3]);
            // first maximum for ties, the start of the window for all -inf, the last NaN, the first +inf
            assertArrayEquals(new long[] {0, 2, 12, 11}, r[1].toLongArray());
            // -0 and +0 tie (the first wins, its sign kept); of several NaNs the last wins, wherever it lies
            Tensor z = on().of(new double[] {-0.0, 0.0, 0.0, -0.0, nan, 1, 2, nan}, 1, 2, 2, 2).cast(dtype);
            Tensor[] zr = z.maxPool2dWithIndices(Window2d.of(2, 2, 0));
            assertArrayEquals(new long[] {0, 3}, zr[1].toLongArray());
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(zr[0].toDoubleArray()[0]));
            // padding never wins, even over -inf
            Tensor neg = on().full(-inf, dtype, 1, 1, 2, 2);
            Tensor[] p = neg.maxPool2dWithIndices(Window2d.of(2, 1, 1));
            assertArrayEquals(new long[] {0, 0, 1, 0, 0, 1, 2, 2, 3}, p[1].toLongArray());
        }
    }

    @Test
    void slidingWindowEdgeCasesAndRefusals() {
        Tensor empty = on().zeros(DType.FLOAT32, 0, 3, 5, 5);
        Tensor w = on().ones(DType.FLOAT32, 4, 3, 3, 3);
        assertArrayEquals(new int[] {0, 4, 5, 5}, empty.conv2d(w, Window2d.of(3, 1, 1), 1).shape());
        Tensor small = on().ones(DType.FLOAT32, 1, 3, 2, 2);
        Tensor none = small.conv2d(w, Window2d.of(3, 1, 0), 1);   // the window does not fit: no output positions
        assertArrayEquals(new int[] {1, 4, 0, 0}, none.shape());
        assertArrayEquals(new float[108], small.conv2dWeightGrad(none, Window2d.of(3, 1, 0), 1).toFloatArray(), 0);
        assertArrayEquals(new int[] {1, 3, 2, 2}, none.conv2dInputGrad(w, Window2d.of(3, 1, 0), 1, 2, 2).shape());
        assertArrayEquals(new float[12], none.conv2dInputGrad(w, Window2d.of(3, 1, 0), 1, 2, 2).toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> on().ones(DType.FLOAT32, 1, 2, 5, 5).conv2d(w, Window2d.of(3, 1, 1), 1));
        assertTrue(e.getMessage().contains("input channels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> on().ones(DType.FLOAT32, 3, 5, 5).conv2d(w, Window2d.of(3, 1, 1), 1));
        assertTrue(e.getMessage().contains("4-D"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> small.conv2d(w, Window2d.of(2, 1, 1), 1));
        assertTrue(e.getMessage().contains("weight must be"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> small.conv2d(w.cast(DType.FLOAT64), Window2d.of(3, 1, 1), 1));
        e = assertThrows(IllegalArgumentException.class, () -> on().ones(DType.FLOAT32, 1, 4, 5, 5).conv2d(w, Window2d.of(3, 1, 1), 3));
        assertTrue(e.getMessage().contains("groups=3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> small.maxPool2d(Window2d.of(2, 1, 2)));
        assertTrue(e.getMessage().contains("half the kernel"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Window2d.of(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> on().ones(DType.INT64, 1, 1, 2, 2).unfold(Window2d.of(1, 1, 0), 0));
    }
}
