package dev.wengert.tensor.cpu;

import dev.wengert.tensor.spi.Strides;
import dev.wengert.tensor.Backend;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.CounterRandom;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.FusedKernels;
import dev.wengert.tensor.MemoryStats;
import dev.wengert.tensor.RandomKind;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Storage;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import dev.wengert.tensor.spi.Tensors;

/**
 * The CPU backend. Memory is off-heap ND4J buffers (pooled, see {@link BufferPool}). Following the
 * measured costs of ND4J (every call costs 6-22 us whatever its size), small work runs as plain Java
 * loops over the buffers and only work large enough to amortise a native call goes to ND4J: GEMMs
 * (OpenBLAS through {@code Nd4j.gemm} with transpose flags, never an allocating mmul) and large
 * transcendental elementwise ops ({@link Nd4jKernels}).
 */
public final class CpuBackend implements Backend {
    /** Below this many multiply-adds a GEMM runs in Java; a native call would cost more than the work. */
    static final long SMALL_GEMM = 32 * 1024;

    private final BufferPool pool = new BufferPool();

    // The elementwise kernels' loops (Loops), one per dtype and op, compiled on first use.
    private static final Loops.Table<UnaryOp, Loops.MapRun> UNARY = new Loops.Table<>(UnaryOp.class,
            (dtype, op) -> Loops.map(Elements.unary(dtype, op), dtype, dtype));
    private static final Loops.Table<BinaryOp, Loops.ZipRun> BINARY = new Loops.Table<>(BinaryOp.class,
            (dtype, op) -> Loops.zip(Elements.binary(dtype, op), dtype, dtype, dtype));
    private static final Loops.Table<ReduceOp, Loops.MapRun> REDUCE = new Loops.Table<>(ReduceOp.class,
            (dtype, op) -> Loops.map(Elements.reduce(dtype, op), dtype, Elements.accumulator(dtype)));
    private static final Loops.Table<ReduceOp, Loops.FoldRun> FOLD = new Loops.Table<>(ReduceOp.class,
            (dtype, op) -> Loops.fold(Elements.fold(dtype, op), dtype));
    private static final Loops.Table<DType, Loops.MapRun> CAST = new Loops.Table<>(DType.class,
            (from, to) -> Loops.map(Elements.cast(from, to), from, to));
    private static final Loops.MapRun COPY_4 = Loops.map(Elements.copy(4), DType.FLOAT32, DType.FLOAT32);
    private static final Loops.MapRun COPY_8 = Loops.map(Elements.copy(8), DType.FLOAT64, DType.FLOAT64);

    CpuBackend() {
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Storage allocate(DType dtype, int numel) {
        return pool.take(dtype, numel);
    }

    static CpuStorage.Memory st(Tensor t) {
        return ((CpuStorage) Tensors.storage(t)).memory;
    }

    static Buf buf(Tensor t) {
        return st(t).buf;
    }

    @Override
    public void upload(Object host, Tensor out) {
        Buf.copyFromArray(host, buf(out).address, (long) out.numel() * out.dtype().bytes());
    }

    @Override
    public Object download(Tensor src) {
        int n = src.numel();
        Object a = switch (src.dtype()) {
            case FLOAT32 -> new float[n];
            case FLOAT64 -> new double[n];
            case INT64 -> new long[n];
        };
        Buf.copyToArray(buf(src).address, a, (long) n * src.dtype().bytes());
        return a;
    }

    @Override
    public void fill(Tensor out, double value) {
        Buf b = buf(out);
        for (int i = 0, n = out.numel(); i < n; i++) {
            b.set(i, value);
        }
    }

    @Override
    public void random(RandomKind kind, double lo, double hi, long seed, Tensor out) {
        Buf b = buf(out);
        for (int i = 0, n = out.numel(); i < n; i++) {
            b.set(i, CounterRandom.sample(kind, lo, hi, seed, i));
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out) {
        if (op.parameterCount() == 0 && Nd4jKernels.unary(op, x, out)) {
            return;
        }
        UNARY.get(x.dtype(), op).run(buf(x), buf(out), x.numel(), p0, p1);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (Nd4jKernels.binary(op, a, b, out)) {
            return;
        }
        int[] os = out.shape();
        BINARY.get(out.dtype(), op).walk(os, buf(a), Strides.broadcastStrides(a.shape(), os), buf(b), Strides.broadcastStrides(b.shape(), os),
                buf(out), Strides.strides(os));
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        int[] os = out.shape();
        int[][] strides = {Strides.broadcastStrides(cond.shape(), os), Strides.broadcastStrides(a.shape(), os),
            Strides.broadcastStrides(b.shape(), os), Strides.strides(os)};
        Buf cb = buf(cond);
        Buf ab = buf(a);
        Buf bb = buf(b);
        Buf ob = buf(out);
        Strided.walkSplit(os, strides, new int[4], (off, in, len) -> {
            for (int i = 0; i < len; i++) {
                boolean c = cb.get(off[0] + i * in[0]) != 0;
                ob.set(off[3] + i * in[3], c ? ab.get(off[1] + i * in[1]) : bb.get(off[2] + i * in[2]));
            }
        });
    }

    // ------------------------------------------------------------------ matmul

    @Override
    public void matmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor out, boolean accumulate) {
        int[] as = a.shape();
        int[] bs = b.shape();
        int[] os = out.shape();
        int batch = os.length == 3 ? os[0] : 1;
        int m = os[os.length - 2];
        int n = os[os.length - 1];
        int k = ta ? as[as.length - 2] : as[as.length - 1];
        int aStep = as.length == 3 ? m * k : 0;
        int bStep = bs.length == 3 ? k * n : 0;
        for (int i = 0; i < batch; i++) {
            if ((long) m * n * k <= SMALL_GEMM || k == 0) {
                javaGemm(buf(a), i * aStep, ta, buf(b), i * bStep, tb, buf(out), i * m * n, m, n, k, accumulate);
            } else {
                Nd4jKernels.gemm(st(a), i * aStep, ta, st(b), i * bStep, tb, st(out), i * m * n, m, n, k, accumulate);
            }
        }
    }

    /** C[m,n] (+)= op(A) op(B) with plain loops, i-p-j order so the inner loop streams rows of B and C. */
    private static void javaGemm(Buf a, int ao, boolean ta, Buf b, int bo, boolean tb, Buf c, int co,
                                 int m, int n, int k, boolean accumulate) {
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            if (accumulate) {
                for (int j = 0; j < n; j++) {
                    row[j] = c.get(co + i * n + j);
                }
            } else {
                java.util.Arrays.fill(row, 0);
            }
            for (int p = 0; p < k; p++) {
                double av = ta ? a.get(ao + p * m + i) : a.get(ao + i * k + p);
                int base = tb ? bo + p : bo + p * n;   // row p of op(B): B's column p when transposed
                int step = tb ? k : 1;
                for (int j = 0; j < n; j++) {
                    row[j] += av * b.get(base + j * step);
                }
            }
            for (int j = 0; j < n; j++) {
                c.set(co + i * n + j, row[j]);
            }
        }
    }

    // ------------------------------------------------------------------ reductions

    /**
     * Reductions accumulate in long arithmetic for int64 (exact beyond 2^53; sums wrap like Java's long) and
     * in double for the floating dtypes (float32 rounds once, at the end), into out itself when it has the
     * accumulator's dtype.
     */
    @Override
    public void reduce(ReduceOp op, Tensor x, int[] axes, Tensor out) {
        if (op == ReduceOp.SUM && Nd4jKernels.columnSum(x, axes, out)) {
            return;
        }
        int[] xs = x.shape();
        DType accType = Elements.accumulator(x.dtype());
        boolean direct = out.dtype() == accType && st(out) != st(x);
        try (Tensor scratch = direct ? null : Tensors.empty(this, accType, out.shape())) {
            Tensor acc = direct ? out : scratch;
            double identity = op == ReduceOp.SUM ? 0 : accType == DType.INT64 ? Long.MIN_VALUE : Double.NEGATIVE_INFINITY;
            fill(acc, identity);
            Buf xb = buf(x);
            Buf ab = buf(acc);
            Loops.MapRun each = REDUCE.get(x.dtype(), op);
            Loops.FoldRun rows = accType == DType.FLOAT64 ? FOLD.get(x.dtype(), op) : null;
            int[][] strides = {Strides.strides(xs), Strides.broadcastStrides(out.shape(), xs)};
            Strided.Run run = (off, st, len) -> {
                if (rows != null && st[1] == 0 && st[0] == 1) { // along a row: one accumulator, in a register
                    Buf.putDouble(ab.at(off[1]), rows.run(xb.at(off[0]), len, Buf.getDouble(ab.at(off[1]))));
                } else {
                    each.run(xb.at(off[0]), xb.step(st[0]), ab.at(off[1]), ab.step(st[1]), len);
                }
            };
            int kept = widestKept(xs, strides[1]);
            if (kept >= 0) { // each accumulator in one part, fed in the same order: the same bits as one walk
                Strided.walkSplitAlong(kept, xs, strides, run);
            } else {
                Strided.walk(xs, strides, new int[2], run);
            }
            if (!direct) {
                cast(acc, out);
            }
        }
    }

    /** The longest dimension a reduction keeps (its output stride is not 0), or -1 when it keeps none longer than 1. */
    private static int widestKept(int[] shape, int[] outStrides) {
        int best = -1;
        for (int d = 0; d < shape.length; d++) {
            if (outStrides[d] != 0 && shape[d] > 1 && (best < 0 || shape[d] > shape[best])) {
                best = d;
            }
        }
        return best;
    }

    @Override
    public void argmax(Tensor x, int axis, Tensor out) {
        Buf xb = buf(x);
        Buf.I64 ob = (Buf.I64) buf(out);
        lines(x.shape(), axis, (base, step, len, index) -> {
            int best = 0;
            double bv = xb.get(base);
            for (int j = 1; j < len && !Double.isNaN(bv); j++) {
                double v = xb.get(base + j * step);
                if (v > bv || Double.isNaN(v)) {
                    bv = v;
                    best = j;
                }
            }
            ob.setLong(index, best);
        });
    }

    /** Body of {@link #lines}: a line of len elements at base, base + step, ...; index counts the lines. */
    interface Line {
        void visit(int base, int step, int len, int index);
    }

    /** Visits every line of a row-major shape along an axis (the rows of a softmax or an argmax), in order. */
    static void lines(int[] shape, int axis, Line body) {
        int outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        int len = shape[axis];
        int inner = Shape.numel(shape) / Math.max(1, outer * len);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                body.visit(o * len * inner + i, inner, len, o * inner + i);
            }
        }
    }

    // ------------------------------------------------------------------ movement

    /** Strided copy between tensors of one dtype, bit for bit (int64 exact). */
    private static void copyStridedTyped(Tensor srcT, int base, int[] srcStrides, Tensor dstT, int dstBase, int[] dstStrides, int[] s) {
        (srcT.dtype().bytes() == 4 ? COPY_4 : COPY_8).walk(s, buf(srcT), base, srcStrides, buf(dstT), dstBase, dstStrides);
    }

    @Override
    public void permute(Tensor x, int[] perm, Tensor out) {
        int[] xst = Strides.strides(x.shape());
        int[] ps = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            ps[i] = xst[perm[i]];
        }
        int[] os = out.shape();
        copyStridedTyped(x, 0, ps, out, 0, Strides.strides(os), os);
    }

    @Override
    public void slice(Tensor x, int axis, int start, Tensor out) {
        int[] xst = Strides.strides(x.shape());
        int[] os = out.shape();
        copyStridedTyped(x, start * xst[axis], xst, out, 0, Strides.strides(os), os);
    }

    @Override
    public void concat(Tensor[] inputs, int axis, Tensor out) {
        int[] ost = Strides.strides(out.shape());
        int at = 0;
        for (Tensor p : inputs) {
            int[] ps = p.shape();
            copyStridedTyped(p, 0, Strides.strides(ps), out, at * ost[axis], ost, ps);
            at += ps[axis];
        }
    }

    @Override
    public void broadcastTo(Tensor x, Tensor out) {
        if (x.numel() == out.numel()) { // same elements: a plain memory copy
            Buf.copy(buf(x).address, buf(out).address, (long) x.numel() * x.dtype().bytes());
            return;
        }
        int[] os = out.shape();
        copyStridedTyped(x, 0, Strides.broadcastStrides(x.shape(), os), out, 0, Strides.strides(os), os);
    }

    @Override
    public void im2col(Tensor x, dev.wengert.tensor.Window2d window, double padValue, Tensor out) {
        CpuConv.im2col(x, window, padValue, out);
    }

    @Override
    public void col2im(Tensor cols, dev.wengert.tensor.Window2d window, Tensor out) {
        CpuConv.col2im(cols, window, out);
    }

    @Override
    public void maxPool2d(Tensor x, dev.wengert.tensor.Window2d window, Tensor out, Tensor indices) {
        CpuConv.maxPool2d(x, window, out, indices);
    }

    @Override
    public void gather(Tensor x, int axis, Tensor index, Tensor out) {
        Buf xb = buf(x);
        Buf ob = buf(out);
        indexWalk(x, axis, index, true, (xOff, iOff) -> ob.set(iOff, xb.get(xOff)));
    }

    @Override
    public void scatterAdd(Tensor out, int axis, Tensor index, Tensor src) {
        Buf ob = buf(out);
        Buf sb = buf(src);
        indexWalk(out, axis, index, false, (oOff, iOff) -> ob.set(oOff, ob.get(oOff) + sb.get(iOff)));
    }

    private interface IndexVisit {
        void visit(int dataOffset, int indexOffset);
    }

    /**
     * For each position of {@code index}: the offset in {@code data} it addresses along {@code axis}; split
     * over the cores: anywhere when {@code disjoint} (each visit writes its own element: a gather), else (a
     * scatter) by dimension 0 when that is not the axis, so that positions writing the same element stay in one part.
     */
    private static void indexWalk(Tensor data, int axis, Tensor index, boolean disjoint, IndexVisit visit) {
        int[] is = index.shape();
        int[] ds = data.shape();
        int[] dst = Strides.strides(ds);
        Buf.I64 ib = (Buf.I64) buf(index);
        int[] dataStrides = dst.clone();
        dataStrides[axis] = 0;
        int limit = ds[axis];
        String op = "gather/scatterAdd";
        Strided.Run run = (off, in, len) -> {
            for (int i = 0; i < len; i++) {
                int io = off[1] + i * in[1];
                long idx = ib.getLong(io);
                if (idx < 0 || idx >= limit) {
                    throw new IndexOutOfBoundsException(op + ": index " + idx + " is out of range [0, " + limit
                            + ") along axis " + axis + " of shape " + Shape.str(ds));
                }
                visit.visit(off[0] + i * in[0] + (int) idx * dst[axis], io);
            }
        };
        int[][] strides = {dataStrides, Strides.strides(is)};
        if (disjoint) {
            Strided.walkSplit(is, strides, new int[2], run);
        } else if (axis != 0) { // index positions that differ in dimension 0 address different data: split there
            Strided.walkSplitAlong(0, is, strides, run);
        } else {
            Strided.walk(is, strides, new int[2], run);
        }
    }

    @Override
    public void oneHot(Tensor index, Tensor out) {
        int[] os = out.shape();
        int classes = os[os.length - 1];
        fill(out, 0);
        Buf.I64 ib = (Buf.I64) buf(index);
        Buf ob = buf(out);
        for (int i = 0, n = index.numel(); i < n; i++) {
            long c = ib.getLong(i);
            if (c < 0 || c >= classes) {
                throw new IndexOutOfBoundsException("oneHot: label " + c + " at position " + i + " is outside [0, " + classes + ")");
            }
            ob.set(i * classes + (int) c, 1);
        }
    }

    /** Through double, as {@link Buf#set}({@link Buf#get}). */
    @Override
    public void cast(Tensor x, Tensor out) {
        CAST.get(x.dtype(), out.dtype()).run(buf(x), buf(out), x.numel());
    }

    @Override
    public void logSoftmax(Tensor x, int axis, Tensor out) {
        if (Nd4jKernels.logSoftmax(x, axis, out)) {
            return;
        }
        Buf xb = buf(x);
        Buf ob = buf(out);
        lines(x.shape(), axis, (base, step, len, index) -> {
            double max = rowMax(xb, base, step, len);
            logSoftmaxLine(xb, ob, base, step, len, max, logSumShifted(xb, base, step, len, max));
        });
    }

    /*
     * Log-softmax and cross-entropy share one formula, written to keep both overflow and rounding away:
     * log_softmax(x)_j = (x_j - max) - log1p(rest), where rest = sum over j != argmax of exp(x_j - max).
     * Subtracting the max first keeps the result's error relative to |x_j - max| instead of |max| (a
     * logit of 1e5 would otherwise cost 1e5 * eps), and log1p of the sum without the max's own 1 keeps
     * log(sum) accurate when the other terms are tiny (log(1 + 1e-5) rounded to double loses 5 digits).
     */

    /** The maximum of n elements at base, base + step, ...; NaN when one is NaN. */
    static double rowMax(Buf x, int base, int step, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, x.get(base + j * step));
        }
        return max;
    }

    /** The first j with x[base + j * step] == v, or -1 (v is NaN). */
    static int firstIndexOf(Buf x, int base, int step, int n, double v) {
        for (int j = 0; j < n; j++) {
            if (x.get(base + j * step) == v) {
                return j;
            }
        }
        return -1;
    }

    /** log(sum_j exp(x_j - max)) over n elements at base, base + step, ..., as log1p of the sum without the max's term. */
    static double logSumShifted(Buf x, int base, int step, int n, double max) {
        return log1pOfRest(x, base, step, n, firstIndexOf(x, base, step, n, max), max, true);
    }

    /**
     * log1p of the sum of e_j = exp(v_j - max) over n elements at base, base + step, ... (or e_j = v_j when v
     * holds the exponentials already), with the term of element {@code at} (the max) counted as e_at - 1.
     */
    static double log1pOfRest(Buf v, int base, int step, int n, int at, double max, boolean exponentiate) {
        double rest = 0;
        for (int j = 0; j < n; j++) {
            double e = exponentiate ? Math.exp(v.get(base + j * step) - max) : v.get(base + j * step);
            rest += j == at ? e - 1 : e;   // e - 1 is exactly 0 for the max (NaN for a row of +inf or -inf)
        }
        return Math.log1p(rest);
    }

    /** out_j = (x_j - max) - logSum over n elements at base, base + step, ... */
    static void logSoftmaxLine(Buf x, Buf out, int base, int step, int n, double max, double logSum) {
        for (int j = 0; j < n; j++) {
            out.set(base + j * step, (x.get(base + j * step) - max) - logSum);
        }
    }

    /** The CPU's one-pass Java softmax cross-entropy and batch norm's running-statistics update; the optimizers' composed updates already run large steps in ND4J. */
    private static final FusedKernels FUSED = FusedKernels.NONE
            .with(FusedKernel.SOFTMAX_XENT_FWD, CpuFused::softmaxCrossEntropy)
            .with(FusedKernel.SOFTMAX_XENT_BWD, CpuFused::softmaxCrossEntropyBackward)
            .with(FusedKernel.BATCH_NORM_RUNNING_STATS, CpuBatchNorm::runningStats);

    @Override
    public FusedKernels fusedKernels() {
        return FUSED;
    }

    @Override
    public MemoryStats memoryStats() {
        return pool.stats();
    }

    /** Closes every cached buffer (memory in use is untouched). */
    @Override
    public void releaseCache() {
        pool.trim();
    }

    /** Restarts peak tracking at the current allocation. */
    @Override
    public void resetPeak() {
        pool.resetPeak();
    }
}
