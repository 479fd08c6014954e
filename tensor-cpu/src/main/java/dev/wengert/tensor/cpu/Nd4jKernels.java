package dev.wengert.tensor.cpu;

import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;

import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import dev.wengert.tensor.spi.Tensors;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Cos;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Log;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sin;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The work the CPU backend sends to ND4J: only work big enough that one native call (6-22 us, measured)
 * is cheaper than a Java loop. Methods return false when they decline, and the caller runs its Java
 * kernel. Every ND4J call writes into an existing output array (an allocating call costs 2-10x more).
 */
final class Nd4jKernels {
    /** Elementwise work at or above this many elements goes to ND4J. */
    static final int LARGE = Integer.getInteger("wengert.cpu.nd4jThreshold", 1 << 15);

    private static final Map<Long, INDArray> ONES = new ConcurrentHashMap<>();

    private Nd4jKernels() {
    }

    /** Loads ND4J's natives once, so the first real op is not charged with it. */
    static CpuBackend init(CpuBackend backend) {
        Nd4j.getExecutioner();
        return backend;
    }

    /** A 2-D view [rows, cols] at an element offset of a storage, sharing its memory. */
    private static INDArray view(CpuStorage.Memory s, int offset, int rows, int cols) {
        return s.view(offset, rows, cols);
    }

    /** C (+)= op(A) op(B) through OpenBLAS; A is stored [m,k] (or [k,m] when ta), B [k,n] (or [n,k]). */
    static void gemm(CpuStorage.Memory a, int ao, boolean ta, CpuStorage.Memory b, int bo, boolean tb, CpuStorage.Memory c, int co,
                     int m, int n, int k, boolean accumulate) {
        INDArray av = ta ? view(a, ao, k, m) : view(a, ao, m, k);
        INDArray bv = tb ? view(b, bo, n, k) : view(b, bo, k, n);
        INDArray cv = view(c, co, m, n);
        Nd4j.gemm(av, bv, cv, ta, tb, 1.0, accumulate ? 1.0 : 0.0);
    }

    /**
     * Below this |x| ND4J's tanh is off by more than 2 ulp (it cancels in (e^2x - 1) / (e^2x + 1): 440 ulp
     * at 1e-4, 10^7 at 1e-8, in float32 and float64 alike), so those elements are recomputed in Java.
     * Measured on a log sweep of 1e-8..250: at most 2 ulp (float32) and 3 ulp (float64) above 0.5.
     */
    static final double TANH_EXACT_BELOW = 0.5;

    /**
     * Below this x ND4J's sigmoid, 1 / (1 + e^-x), overflows e^-x and returns 0 or a flushed subnormal
     * instead of e^x (float32 from -87.3, float64 from -708.4); those elements are recomputed in Java.
     */
    static double sigmoidExactBelow(DType dtype) {
        return dtype == DType.FLOAT32 ? -80 : -700;
    }

    static boolean unary(UnaryOp op, Tensor x, Tensor out) {
        if (x.numel() < LARGE || !x.dtype().isFloating()) {
            return false;
        }
        boolean patched = op == UnaryOp.TANH || op == UnaryOp.SIGMOID;
        if (patched && CpuBackend.st(x) == CpuBackend.st(out)) {
            return false; // the patch needs the inputs after ND4J wrote the outputs
        }
        INDArray xa = CpuBackend.st(x).flat;
        INDArray oa = CpuBackend.st(out).flat;
        Op nd = switch (op) { // not RELU: ND4J's keeps NaN, the contract (UnaryOp.apply, CUDA) gives relu(NaN) = 0
            case EXP -> new Exp(xa, oa);
            case LOG -> new Log(xa, oa);
            case SQRT -> new Sqrt(xa, oa);
            case SIN -> new Sin(xa, oa);
            case COS -> new Cos(xa, oa);
            case TANH -> new Tanh(xa, oa);
            case SIGMOID -> new Sigmoid(xa, oa);
            default -> null;
        };
        if (nd == null) {
            return false;
        }
        Nd4j.getExecutioner().exec(nd);
        if (patched) {
            patch(op, x, out);
        }
        return true;
    }

    /**
     * Recomputes with the Java kernel ({@link UnaryOp#apply(double)}) the elements where ND4J's kernel is
     * inaccurate: |x| below {@link #TANH_EXACT_BELOW} for tanh (float32 through {@link #tanhNearZero}), x below
     * {@link #sigmoidExactBelow} for sigmoid. One cheap pass; the recomputation costs only where it is
     * needed. NaN inputs keep ND4J's NaN.
     */
    private static void patch(UnaryOp op, Tensor x, Tensor out) {
        PATCH.get(x.dtype(), op).run(CpuBackend.buf(x), CpuBackend.buf(out), x.numel());
    }

    private static final Loops.Table<UnaryOp, Loops.MapRun> PATCH = new Loops.Table<>(UnaryOp.class,
            (dtype, op) -> Loops.map(patchKernel(dtype, op), dtype, dtype));

    /** The element kernel of {@link #patch} (the limits are exact in float32, so comparing in double changes nothing). */
    private static Loops.Map patchKernel(DType dtype, UnaryOp op) {
        if (op == UnaryOp.TANH && dtype == DType.FLOAT32) { // branch-free: the polynomial is cheaper than a mispredicted branch
            float lim = (float) TANH_EXACT_BELOW;
            return (x, o) -> {
                float v = Buf.getFloat(x);
                float near = (float) tanhNearZero(v);
                Buf.putFloat(o, Math.abs(v) < lim ? near : Buf.getFloat(o));
            };
        }
        boolean absolute = op == UnaryOp.TANH;
        double limit = absolute ? TANH_EXACT_BELOW : sigmoidExactBelow(dtype);
        Elements.Load in = Elements.load(dtype);
        Elements.Store out = Elements.store(dtype);
        return (x, o) -> {
            double v = in.at(x);
            if ((absolute ? Math.abs(v) : v) < limit) {
                out.at(o, op.apply(v));
            }
        };
    }

    /**
     * tanh(x) for |x| <= 0.5 to float32 precision, several times cheaper than Math.tanh: its Taylor series
     * to x^19 in double (the first term left out, 2^22 (2^22 - 1) B_22 / 22! x^21, is 1e-10 of the value
     * at 0.5, 1/600 ulp of a float).
     */
    static double tanhNearZero(double x) {
        double z = x * x;
        double p = -2.3912911424355248e-4;                        // coefficients of x^19 down to x^3
        p = p * z + 5.9002744094558595e-4;
        p = p * z - 1.4558343870513183e-3;
        p = p * z + 3.5921280365724810e-3;
        p = p * z - 8.8632355299021966e-3;
        p = p * z + 2.1869488536155203e-2;
        p = p * z - 5.3968253968253968e-2;
        p = p * z + 1.3333333333333333e-1;
        p = p * z - 3.3333333333333333e-1;
        return x + x * z * p;
    }

    static boolean binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (out.numel() < LARGE || !out.dtype().isFloating() || a.numel() != out.numel()) {
            return false;
        }
        if (b.numel() == 1) {
            return scalar(op, a, CpuBackend.buf(b).get(0), out);
        }
        if (b.numel() != out.numel()) {
            return rowBroadcast(op, a, b, out);
        }
        INDArray x = CpuBackend.st(a).flat;
        INDArray y = CpuBackend.st(b).flat;
        INDArray z = CpuBackend.st(out).flat;
        CustomOp nd = switch (op) {
            case ADD -> new AddOp(x, y, z);
            case SUB -> new SubOp(x, y, z);
            case MUL -> new MulOp(x, y, z);
            case DIV -> new DivOp(x, y, z);
            default -> null;
        };
        if (nd == null) {
            return false;
        }
        Nd4j.getExecutioner().exec(nd);
        return true;
    }

    /** out = a op s for a scalar s (learning rates, constants): ND4J's scalar ops. */
    static boolean scalar(BinaryOp op, Tensor a, double s, Tensor out) {
        INDArray x = CpuBackend.st(a).flat;
        INDArray z = CpuBackend.st(out).flat;
        Op nd = switch (op) {
            case ADD -> new org.nd4j.linalg.api.ops.impl.scalar.ScalarAdd(x, null, z, s);
            case SUB -> new org.nd4j.linalg.api.ops.impl.scalar.ScalarSubtraction(x, null, z, s);
            case MUL -> new org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication(x, null, z, s);
            case DIV -> new org.nd4j.linalg.api.ops.impl.scalar.ScalarDivision(x, null, z, s);
            case GT -> new org.nd4j.linalg.api.ops.impl.scalar.Step(x, z, s);   // x > s ? 1 : 0, e.g. ReLU's derivative
            default -> null;
        };
        if (nd == null) {
            return false;
        }
        Nd4j.getExecutioner().exec(nd);
        return true;
    }

    /** out[r, :] = a[r, :] op b for a row vector b (a bias): ND4J's broadcast ops along dimension 1. */
    private static boolean rowBroadcast(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int[] os = out.shape();
        int cols = os[os.length - 1];
        if (os.length < 2 || b.numel() != cols || b.dim(-1) != cols) {
            return false;
        }
        int rows = out.numel() / cols;
        INDArray x = view(CpuBackend.st(a), 0, rows, cols);
        INDArray y = CpuBackend.st(b).flat;
        INDArray z = view(CpuBackend.st(out), 0, rows, cols);
        Op nd = switch (op) {
            case ADD -> new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp(x, y, z, 1);
            case SUB -> new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp(x, y, z, 1);
            case MUL -> new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp(x, y, z, 1);
            case DIV -> new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp(x, y, z, 1);
            default -> null;
        };
        if (nd == null) {
            return false;
        }
        Nd4j.getExecutioner().exec(nd);
        return true;
    }

    /**
     * Large log-softmax along the last axis: the exponentials (Math.exp costs ~20 ns) go to ND4J, the rest
     * is the Java path's formula, (x - max) - log1p(sum without the max's term) (see CpuBackend.rowMax).
     * Not ND4J's LogSoftMax: it takes the log of a softmax, so an entry whose probability underflows
     * (a gap of ~745 in float64, ~87 in float32) becomes -inf or loses its digits.
     */
    static boolean logSoftmax(Tensor x, int axis, Tensor out) {
        int[] s = x.shape();
        if (x.numel() < LARGE || !x.dtype().isFloating() || axis != s.length - 1) {
            return false;
        }
        int cols = s[axis];
        int rows = x.numel() / cols;
        boolean inPlace = CpuBackend.st(x) == CpuBackend.st(out);
        try (Tensor scratch = inPlace ? Tensors.empty(x.backend(), x.dtype(), s) : null) {
            Buf xb = CpuBackend.buf(x);
            Tensor exps = inPlace ? scratch : out;
            Buf eb = CpuBackend.buf(exps);
            double[] max = new double[rows];
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                max[r] = CpuBackend.rowMax(xb, base, 1, cols);
                for (int c = 0; c < cols; c++) {
                    eb.set(base + c, xb.get(base + c) - max[r]);
                }
            }
            INDArray e = CpuBackend.st(exps).flat;
            Nd4j.getExecutioner().exec(new Exp(e, e));
            Buf ob = CpuBackend.buf(out);
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                int at = CpuBackend.firstIndexOf(xb, base, 1, cols, max[r]);
                double logSum = CpuBackend.log1pOfRest(eb, base, 1, cols, at, 0, false);
                CpuBackend.logSoftmaxLine(xb, ob, base, 1, cols, max[r], logSum);
            }
        }
        return true;
    }

    /** out = softmax of each row of a 2-D x, through ND4J's vectorised kernel (any size). */
    static void softmaxRows(Tensor x, Tensor out) {
        int rows = x.dim(0);
        int cols = x.dim(1);
        Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax(
                view(CpuBackend.st(x), 0, rows, cols), view(CpuBackend.st(out), 0, rows, cols), 1));
    }

    /**
     * Column sums of a large 2-D matrix (axis 0) as a GEMM with a ones vector: measured 10x faster than
     * ND4J's own reduction and than a strided Java loop.
     */
    static boolean columnSum(Tensor x, int[] axes, Tensor out) {
        int[] s = x.shape();
        if (s.length != 2 || !Arrays.equals(axes, new int[] {0}) || x.numel() < LARGE || !x.dtype().isFloating()) {
            return false;
        }
        INDArray ones = ONES.computeIfAbsent(((long) s[0] << 2) | x.dtype().ordinal(),
                k -> Nd4j.ones(BufferPool.nd4jType(x.dtype()), 1, s[0]));
        Nd4j.gemm(ones, view(CpuBackend.st(x), 0, s[0], s[1]), view(CpuBackend.st(out), 0, 1, s[1]), false, false, 1.0, 0.0);
        return true;
    }

}
