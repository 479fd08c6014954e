package dev.wengert.tensor.cuda;

import dev.wengert.tensor.spi.Strides;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.CapturedWork;
import dev.wengert.tensor.GraphCaptureException;
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
import dev.wengert.tensor.Window2d;
import dev.wengert.tensor.UnaryOp;
import dev.wengert.tensor.spi.Tensors;
import java.util.Arrays;
import java.util.Optional;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * The CUDA backend of one device: every primitive is a kernel from kernels.fatbin or a cuBLAS call,
 * queued on one compute stream per device. Nothing synchronises the host except {@link #download} and
 * {@link #synchronize}: errors found by kernels (an index out of range, an integer division by zero)
 * are recorded on the device ({@link DeviceErrors}) and thrown at the next synchronising read, which
 * fetches the record with no synchronisation of its own. Memory comes from a {@link CachingAllocator}.
 * Uploads are asynchronous: staged in pinned host memory and copied on a copy stream ordered with the
 * compute stream by events ({@link PinnedUploads}).
 * Work can be captured once and replayed as a CUDA graph ({@link #capture}).
 * Open through {@link CudaDetection}; see {@link CudaFused} for the fused model kernels.
 */
public final class CudaBackend implements Backend {
    private static final ThreadLocal<CUcontext> CURRENT = new ThreadLocal<>();

    private final Device device;
    private final CUcontext context;
    private final CUstream stream = new CUstream();
    private final CachingAllocator allocator;
    private final Kernels kernels;
    private final Blas blas;
    private final DeviceErrors errors;
    private final PinnedUploads uploads;
    private final String description;
    private final boolean simulated;
    /** Whether float32 GEMMs of this backend may use TF32; from -Dwengert.cuda.tf32 when the backend is created. */
    private volatile boolean tf32 = Boolean.getBoolean("wengert.cuda.tf32");
    /** True while {@link #capture} runs its work: the stream records instead of running. */
    private volatile boolean capturing;

    CudaBackend(Device device, CUcontext context, int multiprocessors, String description, boolean simulated) {
        this.simulated = simulated;
        this.device = device;
        this.context = context;
        this.description = description;
        makeCurrent();
        // a blocking stream: the synchronous host copies on the legacy default stream are ordered with it
        Cu.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate on " + device);
        this.allocator = new CachingAllocator(device, this::synchronizeQuietly);
        this.kernels = new Kernels(stream, multiprocessors);
        this.blas = new Blas(stream);
        this.errors = new DeviceErrors(device);
        this.uploads = new PinnedUploads(device, stream);
    }

    /**
     * Allows TF32 tensor-core math for this backend's (this device's) float32 GEMMs: faster, about 10 mantissa
     * bits. Off by default, as in PyTorch; the system property {@code wengert.cuda.tf32=true} turns it on for
     * backends created after it is set. Other devices' backends are not affected. Takes effect at the next GEMM.
     */
    public void setTf32Enabled(boolean enabled) {
        tf32 = enabled;
    }

    /** Whether this backend's float32 GEMMs may use TF32; initially the system property {@code wengert.cuda.tf32}. */
    public boolean isTf32Enabled() {
        return tf32;
    }

    /** True when the driver is the Wengert CUDA simulator (cuda-kernels/src/sim), not a GPU. */
    @Override
    public boolean isSimulated() {
        return simulated;
    }

    /** "NVIDIA H100 80GB HBM3, compute capability 9.0, driver CUDA 13.0, cuBLAS ...". */
    public String describe() {
        return description;
    }

    /** Makes this backend's context current on the calling thread (cheap when it already is). */
    void makeCurrent() {
        if (CURRENT.get() != context) {
            Cu.check(cuCtxSetCurrent(context), "cuCtxSetCurrent for " + device);
            CURRENT.set(context);
        }
    }

    Kernels kernels() {
        return kernels;
    }

    DeviceErrors errors() {
        return errors;
    }

    static CUdeviceptr ptr(Tensor t) {
        Storage s = Tensors.storage(t);
        if (!(s instanceof CudaStorage cs)) {
            throw new IllegalArgumentException("tensor " + t.describe() + " does not hold CUDA memory");
        }
        return cs.ptr();
    }

    private static String k(String base, DType dtype) {
        return base + "_" + OpCodes.suffix(dtype);
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Storage allocate(DType dtype, int numel) {
        makeCurrent();
        return new CudaStorage(allocator, allocator.allocate((long) numel * dtype.bytes(), stream), dtype, numel);
    }

    /** A temporary device buffer for multi-pass kernels; give it back with {@link #release}. */
    CachingAllocator.Block scratch(long bytes) {
        return allocator.allocate(bytes, stream);
    }

    void release(CachingAllocator.Block b) {
        allocator.free(b); // stream order makes immediate reuse safe
    }

    // ------------------------------------------------------------------ host transfers

    /**
     * Copies {@code host} into {@code out} without a host synchronisation: staged in pinned memory (so the
     * caller may reuse the array at once) and copied on the copy stream; the compute stream's later ops
     * wait for the copy (an event, no host block).
     */
    @Override
    public void upload(Object host, Tensor out) {
        uploadAhead(host, out);
        awaitUploadsAhead();
    }

    /** {@link #upload} without ordering the compute stream after the copy: {@link #awaitUploadsAhead} does that. */
    @Override
    public void uploadAhead(Object host, Tensor out) {
        makeCurrent();
        if (capturing) { // a GPU would capture the staged copy, and every replay would copy the capture's data again
            throw new CaptureViolation("upload of " + out.describe() + " from a Java array inside a graph capture: the copy"
                    + " into staging memory runs on the host, so a replay would repeat only the captured data");
        }
        uploads.copy(host, out.dtype(), out.numel(), ptr(out), "upload of " + out.describe());
    }

    /** The compute stream's later ops wait (on the device) for the uploads queued so far. */
    @Override
    public void awaitUploadsAhead() {
        makeCurrent();
        uploads.orderComputeAfterCopies();
    }

    /** True: uploads run on their own stream, concurrently with the queued kernels. */
    @Override
    public boolean uploadsOverlapCompute() {
        return true;
    }

    /** Times an upload had to block the host because every pinned staging buffer was still being copied from. */
    public long uploadStagingWaits() {
        return uploads.stagingWaits();
    }

    /** Pinned staging buffers allocated now (at most {@link PinnedUploads#RING}, {@link PinnedUploads#STAGING_BYTES} each). */
    int uploadStagingBuffers() {
        return uploads.buffers();
    }

    /**
     * One host synchronisation: the copy on the legacy default stream waits for the compute and copy
     * streams (both blocking); the error record, when an op that can fail ran, is fetched by an
     * asynchronous copy queued before it and checked before the values are returned.
     */
    @Override
    public Object download(Tensor src) {
        makeCurrent();
        int n = src.numel();
        long bytes = (long) n * src.dtype().bytes();
        Object host;
        Pointer dst;
        switch (src.dtype()) {
            case FLOAT32 -> {
                float[] a = new float[n];
                host = a;
                dst = Pointer.to(a);
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                host = a;
                dst = Pointer.to(a);
            }
            default -> {
                long[] a = new long[n];
                host = a;
                dst = Pointer.to(a);
            }
        }
        if (bytes > 0) {
            errors.queueRead(stream);
            Cu.check(cuMemcpyDtoH(dst, ptr(src), bytes), capturing ? insideCapture("download of " + src.describe())
                    : "download of " + src.describe() + " (or an earlier op queued on " + device
                            + " failed; run with CUDA_LAUNCH_BLOCKING=1 to find it)");
            errors.throwIfRecorded();
        } else {
            synchronize();   // nothing to copy: the errors still surface at this read
        }
        return host;
    }

    /**
     * Waits for the queued work (kernels and uploads, on every stream of the context), then throws the
     * first error a kernel recorded since the last check.
     */
    @Override
    public void synchronize() {
        makeCurrent();
        errors.queueRead(stream);
        Cu.check(cuCtxSynchronize(), capturing
                ? insideCapture("synchronize() of " + device)
                : "executing the queued kernels on " + device
                        + " (an earlier op failed on the device; run with CUDA_LAUNCH_BLOCKING=1 to find it)");
        errors.throwIfRecorded();
    }

    /** What a host synchronisation {@code what} inside a {@link #capture} was, for its error message. */
    private static String insideCapture(String what) {
        return what + " inside a graph capture (a read of a value, e.g. item(), toFloatArray() or a download, waits for the device)";
    }

    /** Waits for the queued work without reading kernel-recorded errors (before cached blocks go back to the driver). */
    void synchronizeQuietly() {
        makeCurrent();
        Cu.check(cuCtxSynchronize(), "waiting for " + device + " before returning cached memory to the driver");
    }

    // ------------------------------------------------------------------ graphs

    /** True while a {@link #capture} is recording this backend's stream. */
    boolean isCapturing() {
        return capturing;
    }

    /**
     * Captures {@code work} as a CUDA graph: cuStreamBeginCapture (GLOBAL mode) on this backend's stream,
     * {@code work}, cuStreamEndCapture, cuGraphInstantiate. Before it: the cuBLAS handle gets its own
     * workspace and the queued work is synchronised (so an earlier kernel error is reported here, not as
     * a capture failure). During it, memory comes from a private pool (see {@link CachingAllocator}).
     * Never empty on this backend.
     *
     * @throws GraphCaptureException when the work made a call a capture cannot contain (the driver invalidated
     *                               the capture); the capture and its pool are discarded, the backend is usable
     */
    @Override
    public synchronized Optional<CapturedWork> capture(Runnable work) {
        makeCurrent();
        if (capturing) {
            throw new IllegalStateException("capture() inside a capture on " + device + ": captures do not nest");
        }
        blas.ensureWorkspace();
        synchronize();
        long expectationsBefore = errors.expectations();
        CachingAllocator.Pool pool = allocator.beginCapture();
        int begin = cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL);
        if (begin != CUresult.CUDA_SUCCESS) {
            allocator.endCapture();
            allocator.closePool(pool);
            Cu.check(begin, "cuStreamBeginCapture on " + device);
        }
        capturing = true;
        Throwable failure = null;
        CUgraph graph = new CUgraph();
        int end;
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            end = cuStreamEndCapture(stream, graph);
            capturing = false;
            allocator.endCapture();
        }
        if (failure == null && end == CUresult.CUDA_SUCCESS) {
            CUgraphExec exec = new CUgraphExec();
            int inst = cuGraphInstantiate(exec, graph, 0);
            if (inst == CUresult.CUDA_SUCCESS) {
                return Optional.of(new CudaGraph(this, stream, graph, exec, allocator, pool,
                        errors.expectations() != expectationsBefore));
            }
            failure = new IllegalStateException("cuGraphInstantiate failed: " + CUresult.stringFor(inst));
        }
        if (end == CUresult.CUDA_SUCCESS) {
            cuGraphDestroy(graph);
        }
        allocator.closePool(pool);
        if (failure instanceof Error err) {
            throw err;
        }
        if (end == CUresult.CUDA_SUCCESS && !(failure instanceof IllegalStateException ise && isCaptureError(ise))) {
            throw (RuntimeException) failure; // the work's own error (a shape mismatch...): not the capture's
        }
        String cause = failure != null ? failure.getMessage() : "the work swallowed the error of a call that invalidated it";
        throw new GraphCaptureException("graph capture on " + device + " failed (cuStreamEndCapture: "
                + CUresult.stringFor(end) + "): " + cause + ". Captured work may only queue device work: no read of a"
                + " value (item(), toFloatArray(), download), no synchronize(), no upload from a Java array (write"
                + " inputs into tensors before replay(), outside the capture). The capture was discarded; " + device
                + " is usable (run the work eagerly).", failure);
    }

    /** A call that {@link #capture} refuses itself, before the driver sees it. */
    private static final class CaptureViolation extends IllegalStateException {
        CaptureViolation(String message) {
            super(message);
        }
    }

    private static boolean isCaptureError(IllegalStateException e) {
        if (e instanceof CaptureViolation) {
            return true;
        }
        String m = String.valueOf(e.getMessage());
        return m.contains("CUDA_ERROR_STREAM_CAPTURE") || m.contains("CUDA_ERROR_CAPTURED_EVENT");
    }

    // ------------------------------------------------------------------ creation

    @Override
    public void fill(Tensor out, double value) {
        makeCurrent();
        kernels.launch(k("fill", out.dtype()), out.numel(),
                new Args().ptr(ptr(out)).scalar(out.dtype(), value).i64(out.numel()));
    }

    @Override
    public void random(RandomKind kind, double lo, double hi, long seed, Tensor out) {
        if (!out.dtype().isFloating()) {
            throw new IllegalArgumentException("random: " + out.describe() + " is not a float tensor");
        }
        makeCurrent();
        kernels.launch(k("random", out.dtype()), out.numel(), new Args().ptr(ptr(out))
                .i32(kind == RandomKind.UNIFORM ? 0 : 1).f64(lo).f64(hi).i64(seed).i64(out.numel()));
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out) {
        makeCurrent();
        Args args = new Args().i32(OpCodes.of(op)).ptr(ptr(x)).ptr(ptr(out)).i64(x.numel());
        if (op.parameterCount() > 0) {   // softplus, leakyRelu, elu, clamp: float types only (Tensor checks)
            kernels.launch(k("unary_param", x.dtype()), x.numel(), args.f64(p0).f64(p1));
        } else {
            kernels.launch(k("unary", x.dtype()), x.numel(), args);
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        makeCurrent();
        int[] os = out.shape();
        int n = out.numel();
        DType dt = out.dtype();
        if (dt == DType.INT64 && (op == BinaryOp.DIV || op == BinaryOp.POW || op == BinaryOp.FMOD || op == BinaryOp.REMAINDER)) {
            errors.expect();
        }
        boolean aFull = Arrays.equals(a.shape(), os);
        boolean bFull = Arrays.equals(b.shape(), os);
        Args args = new Args().i32(OpCodes.of(op)).ptr(ptr(a)).ptr(ptr(b)).ptr(ptr(out)).i64(n);
        if (aFull && bFull) {
            kernels.launch(k("binary_same", dt), n, args.ptr(errors.ptr()));
        } else if (aFull && b.numel() == 1) {
            kernels.launch(k("binary_bscalar", dt), n, args.ptr(errors.ptr()));
        } else if (bFull && a.numel() == 1) {
            kernels.launch(k("binary_ascalar", dt), n, args.ptr(errors.ptr()));
        } else {
            Geo g = Geo.merged(op.opName(), os, Strides.broadcastStrides(a.shape(), os), Strides.broadcastStrides(b.shape(), os),
                    Strides.strides(os));
            kernels.launch(k("binary_bcast", dt), n, args.geo(g).ptr(errors.ptr()));
        }
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        makeCurrent();
        int[] os = out.shape();
        Geo g = Geo.merged("where", os, Strides.broadcastStrides(cond.shape(), os), Strides.broadcastStrides(a.shape(), os),
                Strides.broadcastStrides(b.shape(), os), Strides.strides(os));
        kernels.launch(k("where", out.dtype()), out.numel(), new Args().ptr(ptr(cond)).i32(OpCodes.typeCode(cond.dtype()))
                .ptr(ptr(a)).ptr(ptr(b)).ptr(ptr(out)).i64(out.numel()).geo(g));
    }

    @Override
    public void cast(Tensor x, Tensor out) {
        makeCurrent();
        if (x.dtype() == out.dtype()) {
            copyBytes(x, 0, out, 0, out.numel());
            return;
        }
        kernels.launch("cast_" + OpCodes.suffix(x.dtype()) + "_" + OpCodes.suffix(out.dtype()), x.numel(),
                new Args().ptr(ptr(x)).ptr(ptr(out)).i64(x.numel()));
    }

    // ------------------------------------------------------------------ matmul

    @Override
    public void matmul(Tensor a, boolean ta, Tensor b, boolean tb, Tensor out, boolean accumulate) {
        makeCurrent();
        int[] as = a.shape();
        int[] os = out.shape();
        int batch = os.length == 3 ? os[0] : 1;
        int m = os[os.length - 2];
        int n = os[os.length - 1];
        int k = ta ? as[as.length - 2] : as[as.length - 1];
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                fill(out, 0);
            }
            return;
        }
        long aStride = as.length == 3 ? (long) m * k : 0;
        long bStride = b.rank() == 3 ? (long) k * n : 0;
        String shapes = a.describe() + (ta ? "^T" : "") + " @ " + b.describe() + (tb ? "^T" : "");
        blas.gemm(out.dtype(), tf32, ptr(a), ta, aStride, ptr(b), tb, bStride, ptr(out), batch, m, n, k, accumulate, shapes);
    }

    // ------------------------------------------------------------------ reductions, softmax

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] axes, Tensor out) {
        makeCurrent();
        Reductions.reduce(this, op, x, axes, out);
    }

    @Override
    public void argmax(Tensor x, int axis, Tensor out) {
        makeCurrent();
        long[] oli = outerLenInner(x.shape(), axis);
        if (oli[2] == 1 && oli[1] > 1) {   // contiguous rows: a warp per row scans it in parallel
            kernels.launchWarpRows(k("argmax_warp_rows", x.dtype()), oli[0], new Args().ptr(ptr(x)).ptr(ptr(out)).i64(oli[0]).i64(oli[1]));
            return;
        }
        kernels.launch(k("argmax", x.dtype()), oli[0] * oli[2],
                new Args().ptr(ptr(x)).ptr(ptr(out)).i64(oli[0]).i64(oli[1]).i64(oli[2]));
    }

    @Override
    public void logSoftmax(Tensor x, int axis, Tensor out) {
        makeCurrent();
        long[] oli = outerLenInner(x.shape(), axis);
        if (oli[2] == 1 && oli[1] <= Kernels.WARP_ROW_MAX) {
            kernels.launchWarpRows(k("log_softmax_warp_rows", x.dtype()), oli[0],
                    new Args().ptr(ptr(x)).ptr(ptr(out)).i64(oli[0]).i64(oli[1]));
        } else if (oli[2] == 1) {
            kernels.launchRows(k("log_softmax_rows", x.dtype()), oli[0],
                    new Args().ptr(ptr(x)).ptr(ptr(out)).i64(oli[0]).i64(oli[1]));
        } else {
            kernels.launch(k("log_softmax_oli", x.dtype()), oli[0] * oli[2],
                    new Args().ptr(ptr(x)).ptr(ptr(out)).i64(oli[0]).i64(oli[1]).i64(oli[2]));
        }
    }

    /** {outer, len, inner}: the sizes before, at and after {@code axis}. */
    static long[] outerLenInner(int[] shape, int axis) {
        long outer = 1;
        long inner = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        return new long[] {outer, shape[axis], inner};
    }

    // ------------------------------------------------------------------ movement

    /** Device-to-device copy of {@code count} elements (offsets in elements), queued on the stream. */
    void copyBytes(Tensor src, long srcOffset, Tensor dst, long dstOffset, long count) {
        int e = src.dtype().bytes();
        if (count > 0) {
            Cu.check(cuMemcpyDtoDAsync(ptr(dst).withByteOffset(dstOffset * e), ptr(src).withByteOffset(srcOffset * e), count * e,
                    stream), "device copy into " + dst.describe());
        }
    }

    /** dst[dstBase + ...] = src[srcBase + ...] over {@code shape} with the given element strides. */
    private void copyStrided(String op, Tensor src, long srcBase, int[] srcStrides, Tensor dst, long dstBase,
                             int[] dstStrides, int[] shape) {
        long n = Shape.numel(shape);
        Geo g = Geo.merged(op, shape, srcStrides, dstStrides);
        if (g.shape.length == 1 && g.strides[0][0] == 1 && g.strides[1][0] == 1) {
            copyBytes(src, srcBase, dst, dstBase, n); // contiguous on both sides after merging
            return;
        }
        if (g.shape.length == 0) {
            copyBytes(src, srcBase, dst, dstBase, n);
            return;
        }
        kernels.launch("copy_strided_" + OpCodes.bits(src.dtype()), n,
                new Args().ptr(ptr(src)).i64(srcBase).ptr(ptr(dst)).i64(dstBase).i64(n).geo(g));
    }

    @Override
    public void permute(Tensor x, int[] perm, Tensor out) {
        makeCurrent();
        int[] xs = x.shape();
        int r = perm.length;
        boolean swapsLastTwo = r >= 2 && perm[r - 1] == r - 2 && perm[r - 2] == r - 1;
        for (int i = 0; i < r - 2 && swapsLastTwo; i++) {
            swapsLastTwo = perm[i] == i;
        }
        if (x.numel() == 0) {
            return;
        }
        if (swapsLastTwo && xs[r - 1] > 1 && xs[r - 2] > 1) {
            int rows = xs[r - 2];
            int cols = xs[r - 1];
            int batch = (int) (x.numel() / ((long) rows * cols));
            kernels.launch("transpose_" + OpCodes.bits(x.dtype()), (cols + 31) / 32,
                    Math.min((rows + 31) / 32, 65535), Math.min(batch, 65535), 32, 8,
                    new Args().ptr(ptr(x)).ptr(ptr(out)).i32(batch).i32(rows).i32(cols));
            return;
        }
        int[] xst = Strides.strides(xs);
        int[] ps = new int[r];
        for (int i = 0; i < r; i++) {
            ps[i] = xst[perm[i]];
        }
        int[] os = out.shape();
        copyStrided("permute", x, 0, ps, out, 0, Strides.strides(os), os);
    }

    @Override
    public void slice(Tensor x, int axis, int start, Tensor out) {
        makeCurrent();
        int[] xst = Strides.strides(x.shape());
        int[] os = out.shape();
        copyStrided("slice", x, (long) start * xst[axis], xst, out, 0, Strides.strides(os), os);
    }

    @Override
    public void concat(Tensor[] inputs, int axis, Tensor out) {
        makeCurrent();
        int[] ost = Strides.strides(out.shape());
        long at = 0;
        for (Tensor p : inputs) {
            int[] ps = p.shape();
            copyStrided("concat", p, 0, Strides.strides(ps), out, at * ost[axis], ost, ps);
            at += ps[axis];
        }
    }

    @Override
    public void broadcastTo(Tensor x, Tensor out) {
        makeCurrent();
        int[] os = out.shape();
        copyStrided("broadcastTo", x, 0, Strides.broadcastStrides(x.shape(), os), out, 0, Strides.strides(os), os);
    }

    // ------------------------------------------------------------------ sliding windows (conv.cuh)

    @Override
    public void im2col(Tensor x, Window2d window, double padValue, Tensor out) {
        makeCurrent();
        kernels.launch(k("im2col", x.dtype()), out.numel(),
                new Args().ptr(ptr(x)).ptr(ptr(out)).struct(win(x.shape(), window)).f64(padValue));
    }

    @Override
    public void col2im(Tensor cols, Window2d window, Tensor out) {
        makeCurrent();
        kernels.launch(k("col2im", out.dtype()), out.numel(),
                new Args().ptr(ptr(cols)).ptr(ptr(out)).struct(win(out.shape(), window)));
    }

    @Override
    public void maxPool2d(Tensor x, Window2d window, Tensor out, Tensor indices) {
        makeCurrent();
        kernels.launch(k("max_pool2d", x.dtype()), out.numel(),
                new Args().ptr(ptr(x)).ptr(ptr(out)).ptr(ptr(indices)).struct(win(x.shape(), window)));
    }

    /** conv.cuh's Win struct (16 ints, two per little-endian word) for an NCHW image and a window. */
    private static long[] win(int[] image, Window2d w) {
        int[] v = {image[0], image[1], image[2], image[3], w.outH(image[2]), w.outW(image[3]), w.kernelH(), w.kernelW(),
            w.strideH(), w.strideW(), w.padH(), w.padW(), w.dilationH(), w.dilationW(), 0, 0};
        long[] words = new long[8];
        for (int i = 0; i < 8; i++) {
            words[i] = (v[2 * i] & 0xffffffffL) | ((long) v[2 * i + 1] << 32);
        }
        return words;
    }

    // ------------------------------------------------------------------ indexing

    @Override
    public void gather(Tensor x, int axis, Tensor index, Tensor out) {
        makeCurrent();
        indexKernel("gather", x, axis, index, new Args().ptr(ptr(x)).ptr(ptr(index)).ptr(ptr(out)));
    }

    @Override
    public void scatterAdd(Tensor out, int axis, Tensor index, Tensor src) {
        makeCurrent();
        indexKernel("scatter_add", out, axis, index, new Args().ptr(ptr(out)).ptr(ptr(index)).ptr(ptr(src)));
    }

    /** gather / scatter_add: (data, index, other, n, Geo over the index's shape, axis, axisLen, axisStride, err). */
    private void indexKernel(String name, Tensor data, int axis, Tensor index, Args args) {
        int[] is = index.shape();
        int[] dst = Strides.strides(data.shape());
        int[] dataStrides = dst.clone();
        dataStrides[axis] = 0;
        Geo g = Geo.merged(name, is, dataStrides, Strides.strides(is));
        errors.expect();
        kernels.launch(k(name, data.dtype()), index.numel(), args.i64(index.numel()).geo(g).i32(axis)
                .i32(data.shape()[axis]).i64(dst[axis]).ptr(errors.ptr()));
    }

    @Override
    public void oneHot(Tensor index, Tensor out) {
        makeCurrent();
        int[] os = out.shape();
        int classes = os[os.length - 1];
        errors.expect();
        kernels.launch(k("one_hot", out.dtype()), (long) index.numel() * classes,
                new Args().ptr(ptr(index)).ptr(ptr(out)).i64(index.numel()).i32(classes).ptr(errors.ptr()));
    }

    // ------------------------------------------------------------------ memory

    /** The kernels of fused.cuh, optim.cuh and random.cuh ({@link CudaFused}). */
    private static final FusedKernels FUSED = FusedKernels.NONE
            .with(FusedKernel.SOFTMAX_XENT_FWD, CudaFused::softmaxCrossEntropy)
            .with(FusedKernel.SOFTMAX_XENT_BWD, CudaFused::softmaxCrossEntropyBackward)
            .with(FusedKernel.SOFTMAX_XENT_MEAN, CudaFused::softmaxCrossEntropyMean)
            .with(FusedKernel.BIAS_ACT, CudaFused::biasActivation)
            .with(FusedKernel.BIAS_ACT_BACKWARD, CudaFused::biasActivationBackward)
            .with(FusedKernel.SGD_MOMENTUM, CudaFused::sgdMomentum)
            .with(FusedKernel.ADAM, CudaFused::adam)
            .with(FusedKernel.OPTIMIZER_SCALARS, CudaFused::optimizerScalars)
            .with(FusedKernel.SGD_ALL, CudaFused::sgdAll)
            .with(FusedKernel.ADAM_ALL, CudaFused::adamAll)
            .with(FusedKernel.LOSS_WATCH, CudaFused::lossWatch)
            .with(FusedKernel.BATCH_NORM, CudaFused::batchNorm)
            .with(FusedKernel.BATCH_NORM_BACKWARD, CudaFused::batchNormBackward)
            .with(FusedKernel.BATCH_NORM_RUNNING_STATS, CudaFused::batchNormRunningStats)
            .with(FusedKernel.DROPOUT_MASK, CudaFused::dropoutMask);

    @Override
    public FusedKernels fusedKernels() {
        return FUSED;
    }

    @Override
    public MemoryStats memoryStats() {
        return allocator.stats();
    }

    /** Returns every cached (free) block to the driver; memory held by tensors is untouched. */
    @Override
    public void releaseCache() {
        makeCurrent();
        allocator.releaseCache();
        uploads.releaseBuffers();
    }

    /** Restarts peak tracking at the current allocation. */
    @Override
    public void resetPeak() {
        allocator.resetPeak();
    }

    @Override
    public String toString() {
        return "CudaBackend[" + device + ": " + description + "]";
    }
}
