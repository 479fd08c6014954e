package dev.wengert.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import dev.wengert.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Numerical edge cases of the CPU backend on both of its paths: Java loops below
 * {@link Nd4jKernels#LARGE} elements, ND4J at or above it. Every test says (asserts) which path it takes.
 */
@ExtendWith(ScopePerTest.class)
class CpuNumericsTest {
    private static final TensorFactory CPU = Tensor.on(Device.CPU);

    /** A [rows, cols] tensor of zeros with {@code first} as row 0. */
    private static Tensor batch(DType dtype, int rows, int cols, double... first) {
        double[] v = new double[rows * cols];
        System.arraycopy(first, 0, v, 0, first.length);
        return CPU.of(v, rows, cols).cast(dtype);
    }

    private static Tensor labels(int rows, long first) {
        long[] y = new long[rows];
        y[0] = first;
        return CPU.of(y, rows);
    }

    private static Tensor nd4jSized(Tensor t) {
        assertTrue(t.numel() >= Nd4jKernels.LARGE, t.describe() + " is below the ND4J threshold " + Nd4jKernels.LARGE);
        return t;
    }

    private static Tensor javaSized(Tensor t) {
        assertTrue(t.numel() < Nd4jKernels.LARGE, t.describe() + " is at or above the ND4J threshold " + Nd4jKernels.LARGE);
        return t;
    }

    private static double crossEntropyRow0(Tensor logits, long label) {
        return crossEntropy(logits, labels(logits.dim(0), label)).toDoubleArray()[0];
    }

    /** The CPU's cross-entropy kernel (what the cross-entropy primitive runs on the CPU). */
    private static Tensor crossEntropy(Tensor logits, Tensor labels) {
        Tensor loss = CPU.zeros(logits.dtype(), logits.dim(0));
        CpuFused.softmaxCrossEntropy(logits, labels, loss);
        return loss;
    }

    // ------------------------------------------------------------------ log-softmax and cross-entropy overflow

    @Test
    void logSoftmaxAndCrossEntropyOfAGapOf1000OnTheNd4jPath() {
        for (Tensor x : new Tensor[] {nd4jSized(batch(DType.FLOAT64, 4096, 8, 1000)), javaSized(batch(DType.FLOAT64, 4095, 8, 1000))}) {
            double[] ls = x.logSoftmax(1).toDoubleArray();
            assertEquals(0, ls[0], 0, x.describe());
            for (int c = 1; c < 8; c++) {
                assertEquals(-1000, ls[c], 0, x.describe() + " column " + c);
            }
            assertEquals(-Math.log(8), ls[8], 1e-15, "a row of zeros");
            assertEquals(1000, crossEntropyRow0(x, 1), 0, x.describe());
            assertEquals(0, crossEntropyRow0(x, 0), 0, x.describe());
        }
    }

    @Test
    void float32CrossEntropyOfAGapOf120OnBothPaths() {
        for (Tensor x : new Tensor[] {nd4jSized(batch(DType.FLOAT32, 4096, 8, 120)), javaSized(batch(DType.FLOAT32, 4095, 8, 120))}) {
            assertEquals(120, crossEntropyRow0(x, 1), 0, x.describe());
            assertEquals(-120, x.logSoftmax(1).toDoubleArray()[1], 0, x.describe());
        }
    }

    @Test
    void crossEntropyOfTwoFarApartLogits() {
        double[] row = {-229.26343873593785, -985.1175557866385};
        for (Tensor x : new Tensor[] {nd4jSized(batch(DType.FLOAT64, 16384, 2, row)), javaSized(batch(DType.FLOAT64, 1, 2, row))}) {
            assertEquals(755.8541170507007, crossEntropyRow0(x, 1), 0, x.describe());
        }
    }

    /** Above a gap of ~87 exp(-gap) is subnormal in float32; the log of a softmax lost its digits there. */
    @Test
    void float32CrossEntropyPastTheSubnormalGap() {
        Tensor x = nd4jSized(batch(DType.FLOAT32, 4096, 8, 100));
        assertEquals(100f, (float) crossEntropyRow0(x, 1), 0f);
        for (int gap = 80; gap <= 140; gap += 5) {
            Tensor g = nd4jSized(batch(DType.FLOAT32, 4096, 8, gap));
            float exact = (float) (gap + Math.log1p(7 * Math.exp(-gap)));
            assertEquals(exact, (float) crossEntropyRow0(g, 1), Math.ulp(exact), "gap " + gap);
        }
    }

    // ------------------------------------------------------------------ accuracy: (x - max) - log sum

    @Test
    void crossEntropyOfLargeLogitsKeepsFullRelativeAccuracy() {
        double exact = 1.0130042289579063e-05;                       // log1p(exp(-11.5))
        double[] row = {1e5, 1e5 - 11.5};
        for (Tensor x : new Tensor[] {javaSized(batch(DType.FLOAT64, 1, 2, row)), nd4jSized(batch(DType.FLOAT64, 16384, 2, row))}) {
            Tensor y = labels(x.dim(0), 0);
            assertRelative(exact, crossEntropy(x, y).toDoubleArray()[0], x.describe() + " fused");
            Tensor composed = x.logSoftmax(1).gather(1, y.reshape(x.dim(0), 1)).reshape(x.dim(0)).neg(); // the composed fallback's formula
            assertRelative(exact, composed.toDoubleArray()[0], x.describe() + " composed");
            double[] ls = x.logSoftmax(1).toDoubleArray();
            assertRelative(-exact, ls[0], x.describe() + " logSoftmax[0]");
            assertRelative(-11.5 - exact, ls[1], x.describe() + " logSoftmax[1]");
            Tensor grad = CPU.zeros(DType.FLOAT64, x.shape());
            CpuFused.softmaxCrossEntropyBackward(x, y, CPU.full(1, DType.FLOAT64), 1.0, grad);
            double[] g = grad.toDoubleArray();
            assertEquals(-Math.exp(-11.5 - exact), g[0], 1e-16, x.describe() + " gradient[0]");   // p0 - 1: cancels, as everywhere
            assertRelative(Math.exp(-11.5 - exact), g[1], x.describe() + " gradient[1]");
        }
    }

    private static void assertRelative(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected), what + ": expected " + expected + ", got " + actual);
    }

    // ------------------------------------------------------------------ unary ops on the ND4J path

    /**
     * The accuracy bound of every unary op on both paths, in ulps of the result's dtype against the
     * correctly rounded float64 reference ({@link UnaryOp#apply(double)}). 4 ulp: what a faithful vectorised
     * libm kernel meets (ND4J's exp, log, sin, cos, sqrt measure at most 1 ulp; a composed sigmoid rounds
     * three times, measured 2 ulp in float32 and 3 in float64), while a formula that cancels or
     * overflows (tanh near 0 was 440 ulp at 1e-4, sigmoid below -87 was 0 instead of a subnormal) fails it
     * by orders of magnitude.
     */
    private static final double ULP_BOUND = 4;

    /**
     * 32,768+ inputs: a log-spaced sweep of +-[1e-8, 250], the points near 0 (1e-6, 1e-4, 1e-2) and far
     * out (10, 50, 88, and past float32's exp range) of both signs, zeros, infinities and NaN.
     */
    private static double[] sweep(int n) {
        List<Double> special = new ArrayList<>();
        for (double p : new double[] {1e-6, 1e-4, 1e-2, 0.5, 1, 10, 50, 87, 88, 88.7, 89, 100, 104, 700, 710, 745, 750}) {
            special.add(p);
            special.add(-p);
        }
        for (double p : new double[] {0.0, -0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN}) {
            special.add(p);
        }
        double[] x = new double[n];
        int half = (n - special.size()) / 2;
        for (int i = 0; i < half; i++) {
            double v = Math.pow(10, -8 + 10.4 * i / half);
            x[2 * i] = v;
            x[2 * i + 1] = -v;
        }
        for (int i = 0; i < special.size(); i++) {
            x[n - 1 - i] = special.get(i);
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void everyUnaryOpIsAccurateOnBothPaths(DType dtype) {
        double[] x = sweep(Nd4jKernels.LARGE + 256);
        Tensor big = nd4jSized(CPU.of(x, x.length).cast(dtype));
        Tensor small = javaSized(big.slice(0, x.length - 4096, x.length));
        List<String> failures = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            for (Tensor in : new Tensor[] {big, small}) {
                double[] xs = in.toDoubleArray();
                double[] ys = in.apply(op).toDoubleArray();
                double worst = 0;
                double at = 0;
                for (int i = 0; i < xs.length; i++) {
                    double e = ulps(dtype, op.apply(xs[i]), ys[i]);
                    if (!(e <= worst)) {
                        worst = e;
                        at = xs[i];
                    }
                }
                if (!(worst <= ULP_BOUND)) {
                    failures.add(op + " (" + (in == big ? "ND4J" : "Java") + "): " + worst + " ulp at x = " + at);
                }
            }
        }
        assertTrue(failures.isEmpty(), dtype + ", bound " + ULP_BOUND + " ulp: " + failures);
    }

    /** |actual - reference| in ulps of the reference rounded to dtype; 0 for equal values (NaN included). */
    private static double ulps(DType dtype, double reference, double actual) {
        double ref = dtype == DType.FLOAT32 ? (float) reference : reference;
        if (ref == actual || Double.isNaN(ref) && Double.isNaN(actual)) {
            return 0;
        }
        if (Double.isInfinite(ref) || Double.isInfinite(actual) || Double.isNaN(actual) || Double.isNaN(ref)) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.abs(actual - ref) / (dtype == DType.FLOAT32 ? Math.ulp((float) ref) : Math.ulp(ref));
    }

    /** The float32 patch's polynomial against Math.tanh on every 4099th float in [-0.5, 0.5] (1 ulp: a rounding tie). */
    @Test
    void tanhPolynomialIsWithinOneUlpBelowHalf() {
        for (int bits = 0, limit = Float.floatToIntBits(0.5f); bits <= limit; bits += 4099) {
            float x = Float.intBitsToFloat(bits);
            for (float v : new float[] {x, -x}) {
                float ref = (float) Math.tanh(v);
                assertEquals(ref, (float) Nd4jKernels.tanhNearZero(v), Math.ulp(ref), "tanh(" + v + ")");
            }
        }
    }

    @Test
    void tanhNearZeroOnTheNd4jPath() {
        float[] x = new float[Nd4jKernels.LARGE];
        java.util.Arrays.fill(x, 1e-4f);
        x[1] = 1e-6f;
        float[] y = nd4jSized(CPU.of(x, x.length)).tanh().toFloatArray();
        assertEquals((float) Math.tanh(1e-4f), y[0], 0f);
        assertEquals((float) Math.tanh(1e-6f), y[1], 0f);
    }
}
