package dev.wengert.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import dev.wengert.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every elementwise Java kernel of the CPU backend ({@link Elements}, below {@link Nd4jKernels#LARGE}
 * elements) against its op's reference scalar, bit for bit (any NaN for NaN): {@link UnaryOp#apply(double,
 * double, double)} and {@link BinaryOp#apply(double, double)} rounded once to float for float32,
 * {@link UnaryOp#apply(long)} and {@link BinaryOp#apply(long, long)} for int64. Elements writes some ops out
 * again (so that the JIT inlines them) and computes some float32 ops in float arithmetic; this is what
 * keeps those equal to the ops' definitions. Operands: edge values (signed zeros, infinities, NaN,
 * subnormals, the extremes, halves for rounding, softplus's threshold) and random ones (uniform, log-uniform
 * magnitudes over the whole range, raw bit patterns); binary ops on every pair of edge values, broadcast.
 */
@ExtendWith(ScopePerTest.class)
class CpuKernelsTest {
    private static final TensorFactory CPU = Tensor.on(Device.CPU);
    private static final int RANDOM = 6000;

    private static final double[] EDGES = {
        0.0, -0.0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, -7, 0.1, -0.1, 20, 20.5, -20, 100, -100, 1e-8, -1e-8,
        1e-30, -1e-30, 1e30, -1e30, 1e300, -1e300, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
        -Float.MAX_VALUE, Double.MIN_VALUE, Double.MAX_VALUE, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN,
    };

    /** Parameter sets to try per op (p0, p1): the defaults, and others where the op takes parameters. */
    private static List<double[]> parameters(UnaryOp op) {
        List<double[]> sets = new ArrayList<>();
        sets.add(new double[] {op.defaultParameter(0), op.defaultParameter(1)});
        switch (op) {
            case SOFTPLUS -> {
                sets.add(new double[] {2, 5});
                sets.add(new double[] {0.3, 1});
            }
            case LEAKY_RELU -> {
                sets.add(new double[] {0.2, 0});
                sets.add(new double[] {-1.7, 0});
            }
            case ELU -> sets.add(new double[] {0.3, 0});
            case CLAMP -> {
                sets.add(new double[] {-1, 1});
                sets.add(new double[] {0.1, 0.3});
                sets.add(new double[] {Double.NEGATIVE_INFINITY, -0.0});
                sets.add(new double[] {0.0, Double.POSITIVE_INFINITY});
                sets.add(new double[] {1, -1});
                sets.add(new double[] {1e-50, 1e50});
            }
            default -> {
            }
        }
        return sets;
    }

    private static double[] doubles(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[EDGES.length + RANDOM];
        System.arraycopy(EDGES, 0, v, 0, EDGES.length);
        for (int i = EDGES.length; i < v.length; i++) {
            v[i] = switch (i % 3) {
                case 0 -> r.nextDouble(-10, 10);
                case 1 -> (r.nextBoolean() ? 1 : -1) * Math.exp(r.nextDouble(-745, 710));
                default -> Double.longBitsToDouble(r.nextLong());
            };
        }
        return v;
    }

    private static float[] floats(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[EDGES.length + RANDOM];
        for (int i = 0; i < EDGES.length; i++) {
            v[i] = (float) EDGES[i];
        }
        for (int i = EDGES.length; i < v.length; i++) {
            v[i] = switch (i % 3) {
                case 0 -> (float) r.nextDouble(-10, 10);
                case 1 -> (float) ((r.nextBoolean() ? 1 : -1) * Math.exp(r.nextDouble(-104, 89)));
                default -> Float.intBitsToFloat(r.nextInt());
            };
        }
        return v;
    }

    private static long[] longs(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] v = new long[EDGES.length + RANDOM];
        long[] edges = {0, 1, -1, 2, -2, 7, -7, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1};
        System.arraycopy(edges, 0, v, 0, edges.length);
        for (int i = edges.length; i < v.length; i++) {
            v[i] = i % 2 == 0 ? r.nextLong(-1000, 1000) : r.nextLong();
        }
        return v;
    }

    private static Tensor javaSized(Tensor t) {
        assertTrue(t.numel() < Nd4jKernels.LARGE, t.describe() + " is at or above the ND4J threshold");
        return t;
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryKernelsAreTheReferenceScalars(UnaryOp op) {
        for (double[] p : parameters(op)) {
            String what = op.opName() + " (" + p[0] + ", " + p[1] + ")";
            double[] d = doubles(op.ordinal());
            double[] dOut = javaSized(CPU.of(d)).apply(op, p[0], p[1]).toDoubleArray();
            for (int i = 0; i < d.length; i++) {
                same(op.apply(d[i], p[0], p[1]), dOut[i], what + " float64 of " + d[i]);
            }
            float[] f = floats(op.ordinal());
            float[] fOut = javaSized(CPU.of(f)).apply(op, p[0], p[1]).toFloatArray();
            double q0 = (float) p[0]; // as Tensor.apply rounds them for float32
            double q1 = (float) p[1];
            for (int i = 0; i < f.length; i++) {
                same((float) op.apply(f[i], q0, q1), fOut[i], what + " float32 of " + f[i]);
            }
        }
        if (op.allowsIntegers()) {
            long[] l = longs(op.ordinal());
            long[] lOut = javaSized(CPU.of(l)).apply(op).toLongArray();
            for (int i = 0; i < l.length; i++) {
                if (lOut[i] != op.apply(l[i])) {
                    fail(op.opName() + " int64 of " + l[i] + ": " + lOut[i] + ", expected " + op.apply(l[i]));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binaryKernelsAreTheReferenceScalars(BinaryOp op) {
        int n = EDGES.length;
        // every pair of edge values, by broadcasting [n, 1] against [1, n] (steps of 0), then random pairs
        double[] d = doubles(100 + op.ordinal());
        double[] dOut = CPU.of(EDGES.clone(), n, 1).apply(op, CPU.of(EDGES.clone(), 1, n)).toDoubleArray();
        double[] dRandom = CPU.of(d).apply(op, javaSized(CPU.of(reversed(d)))).toDoubleArray();
        float[] f = floats(100 + op.ordinal());
        float[] fEdges = new float[n];
        for (int i = 0; i < n; i++) {
            fEdges[i] = (float) EDGES[i];
        }
        float[] fOut = CPU.of(fEdges, n, 1).apply(op, CPU.of(fEdges, 1, n)).toFloatArray();
        float[] fRandom = CPU.of(f).apply(op, javaSized(CPU.of(reversed(f)))).toFloatArray();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                String what = op.opName() + "(" + EDGES[i] + ", " + EDGES[j] + ")";
                same(op.apply(EDGES[i], EDGES[j]), dOut[i * n + j], what + " float64");
                same((float) op.apply(fEdges[i], fEdges[j]), fOut[i * n + j], what + " float32");
            }
        }
        for (int i = 0; i < d.length; i++) {
            double b = d[d.length - 1 - i];
            same(op.apply(d[i], b), dRandom[i], op.opName() + "(" + d[i] + ", " + b + ") float64");
            float fb = f[f.length - 1 - i];
            same((float) op.apply(f[i], fb), fRandom[i], op.opName() + "(" + f[i] + ", " + fb + ") float32");
        }
        if (op.allowsIntegers()) {
            long[] a = longs(200 + op.ordinal());
            long[] b = longs(300 + op.ordinal());
            for (int i = 0; i < b.length; i++) { // no division by zero (refused), small exponents (pow loops b times)
                b[i] = op == BinaryOp.POW ? Math.floorMod(b[i], 70) : b[i] == 0 ? 3 : b[i];
            }
            long[] out = CPU.of(a).apply(op, CPU.of(b)).toLongArray();
            for (int i = 0; i < a.length; i++) {
                if (out[i] != op.apply(a[i], b[i])) {
                    fail(op.opName() + "(" + a[i] + ", " + b[i] + ") int64: " + out[i] + ", expected " + op.apply(a[i], b[i]));
                }
            }
        }
    }

    private static double[] reversed(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[v.length - 1 - i];
        }
        return r;
    }

    private static float[] reversed(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[v.length - 1 - i];
        }
        return r;
    }

    private static void same(double expected, double actual, String what) {
        if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(actual)) {
            fail(what + ": " + actual + ", expected " + expected);
        }
    }

    private static void same(float expected, float actual, String what) {
        if (Float.floatToIntBits(expected) != Float.floatToIntBits(actual)) {
            fail(what + ": " + actual + ", expected " + expected);
        }
    }
}
