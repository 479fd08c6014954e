package dev.wengert.tensor;

/**
 * The backend SPI: the small set of primitives a device implements. {@link Tensor} checks shapes, dtypes
 * and devices and allocates outputs before it calls a backend, so every method may assume valid,
 * contiguous, row-major operands that live on this backend's device. Every method writes only its
 * {@code out} argument (documented otherwise where it accumulates); inputs are never modified.
 * Everything else (mean, softmax, cross-entropy, layers) is composed above this interface; optional fused
 * kernels a backend accelerates are looked up by name ({@link #fused(FusedKernel)}).
 */
public interface Backend {

    /** The device this backend computes on. */
    Device device();

    /** Uninitialised memory for {@code numel} elements of {@code dtype}. */
    Storage allocate(DType dtype, int numel);

    /**
     * Copies host data into {@code out}; {@code host} is a float[], double[] or long[] matching out's dtype.
     * The caller may reuse {@code host} as soon as this returns; later ops see the values.
     */
    void upload(Object host, Tensor out);

    /**
     * {@link #upload}, except that the copy may still be running when this returns, overlapping the work
     * queued before it: {@code out} must not be used (read, written or closed) before
     * {@link #awaitUploadsAhead} was called. The caller may reuse {@code host} at once. For prefetching;
     * the default is {@link #upload}.
     */
    default void uploadAhead(Object host, Tensor out) {
        upload(host, out);
    }

    /**
     * Orders every op issued from now on after the {@link #uploadAhead} copies issued so far, without
     * blocking the host (on a GPU: the compute stream waits for the copy stream's event). Default: nothing.
     */
    default void awaitUploadsAhead() {
    }

    /**
     * True when {@link #uploadAhead} overlaps the copy with queued computation, so that preparing the next
     * batch while the current one computes saves time; false (the default) where uploads are synchronous.
     */
    default boolean uploadsOverlapCompute() {
        return false;
    }

    /** Copies {@code src} into a new host array (float[], double[] or long[] by dtype); synchronises. */
    Object download(Tensor src);

    /** out[i] = value. */
    void fill(Tensor out, double value);

    /**
     * Fills {@code out} with counter-based random numbers: element i depends only on (seed, i), so every
     * backend produces the same values. UNIFORM is in [lo, hi); NORMAL has mean lo and deviation hi.
     */
    void random(RandomKind kind, double lo, double hi, long seed, Tensor out);

    /** out = op(x), with the op's default parameters where it takes any ({@link UnaryOp#defaultParameter}). */
    default void unary(UnaryOp op, Tensor x, Tensor out) {
        unary(op, op.defaultParameter(0), op.defaultParameter(1), x, out);
    }

    /**
     * out = op(x; p0, p1): p0 and p1 are the op's scalar parameters ({@link UnaryOp#parameterCount()} of them,
     * already rounded to x's dtype; the others are 0 and ignored), e.g. softplus's beta and threshold.
     */
    void unary(UnaryOp op, double p0, double p1, Tensor x, Tensor out);

    /** out = op(a, b), where a and b broadcast to out's shape. */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out = cond != 0 ? a : b, where the three broadcast to out's shape. */
    void where(Tensor cond, Tensor a, Tensor b, Tensor out);

    /**
     * out = op(a) @ op(b) with op a transpose when the flag is set; 2-D [m,k]x[k,n] or batched 3-D
     * [B,m,k]x[B,k,n], where one batched operand may be 2-D (shared by every batch).
     * {@code accumulate} adds into out instead of overwriting it.
     */
    void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out, boolean accumulate);

    /** Reduces the sorted {@code axes}; out has x's rank with those dimensions set to 1. */
    void reduce(ReduceOp op, Tensor x, int[] axes, Tensor out);

    /** Index of the first maximum along {@code axis}; out (int64) has x's rank with that dimension 1. */
    void argmax(Tensor x, int axis, Tensor out);

    /**
     * The int64 indices (out has x's shape) that sort x along {@code axis}, stably (equal elements keep their
     * order in both directions), NaN larger than every number, as torch.sort(stable=True). The default downloads
     * x, sorts on the host ({@link dev.wengert.tensor.spi.HostSort}) and uploads the indices: a synchronising
     * round trip on a device, which a backend with a sorting kernel avoids by overriding it.
     */
    default void argsort(Tensor x, int axis, boolean descending, Tensor out) {
        upload(dev.wengert.tensor.spi.HostSort.argsort(download(x), x.shape(), axis, descending), out);
    }

    /** out = x with its dimensions permuted: out.shape[i] = x.shape[perm[i]]. */
    void permute(Tensor x, int[] perm, Tensor out);

    /** out = x[..., start:start+out.shape[axis], ...] along {@code axis}. */
    void slice(Tensor x, int axis, int start, Tensor out);

    /** out = the inputs joined along {@code axis}. */
    void concat(Tensor[] inputs, int axis, Tensor out);

    /** out = x broadcast (materialised) to out's shape. */
    void broadcastTo(Tensor x, Tensor out);

    /** out[..i..] = x[..index[..i..]..] along {@code axis} (torch.gather); index is int64 of out's shape. */
    void gather(Tensor x, int axis, Tensor index, Tensor out);

    /** out[..index[..i..]..] += src[..i..] along {@code axis}; the adjoint of gather. Accumulates into out. */
    void scatterAdd(Tensor out, int axis, Tensor index, Tensor src);

    /** out[..., c] = (index[...] == c) for an int64 index; out has one more trailing dimension. */
    void oneHot(Tensor index, Tensor out);

    /**
     * im2col (torch.nn.functional.unfold): x [N, C, H, W] to out [N, C*kh*kw, OH*OW] with
     * out[n, (c*kh + i)*kw + j, oh*OW + ow] = x[n, c, oh*strideH - padH + i*dilationH, ow*strideW - padW + j*dilationW],
     * or {@code padValue} where that position is outside x. The convolutions' and pooling's one gather; float dtypes.
     */
    void im2col(Tensor x, Window2d window, double padValue, Tensor out);

    /**
     * col2im (torch.nn.functional.fold), the adjoint of {@link #im2col} with zero padding: out [N, C, H, W] is
     * overwritten with, for each element, the sum of the entries of cols [N, C*kh*kw, OH*OW] that im2col reads
     * from it (padding positions are dropped). Float dtypes.
     */
    void col2im(Tensor cols, Window2d window, Tensor out);

    /**
     * Max pooling, as torch.nn.functional.max_pool2d(return_indices=True): out [N, C, OH, OW] is the maximum of
     * each window of x [N, C, H, W] (padding never wins), and indices (int64, out's shape) the position h*W + w of
     * that maximum within its channel. PyTorch's loop exactly: start at the window's first in-range position with
     * -inf, take an element when it is greater or NaN, so ties go to the first maximum in window order (kernel
     * rows, then columns) and a NaN propagates (the last NaN). The gradient is a scatter-add at the indices.
     */
    void maxPool2d(Tensor x, Window2d window, Tensor out, Tensor indices);

    /** out = x converted to out's dtype (float to int truncates toward zero). */
    void cast(Tensor x, Tensor out);

    /** Fused, numerically stable log-softmax along {@code axis}: x - max - log(sum(exp(x - max))). */
    void logSoftmax(Tensor x, int axis, Tensor out);

    /**
     * True for a backend that runs on a simulator (the CUDA simulator of cuda-kernels): correct results,
     * but no timing of it is a device figure, and automatic device choice never picks it.
     */
    default boolean isSimulated() {
        return false;
    }

    /** The fused kernels this backend accelerates (none unless it registers some). */
    default FusedKernels fusedKernels() {
        return FusedKernels.NONE;
    }

    /**
     * This backend's implementation of the fused kernel {@code key}, or empty where it has none: the caller
     * then runs its own composed version.
     */
    default <F> java.util.Optional<F> fused(FusedKernel<F> key) {
        return fusedKernels().get(key);
    }

    /** Memory figures for this backend. */
    MemoryStats memoryStats();

    /** Frees memory cached for reuse (memory held by open tensors is untouched). */
    void releaseCache();

    /** Restarts {@link MemoryStats#peakAllocatedBytes()} at the current allocation. */
    void resetPeak();

    /**
     * Records everything {@code work} queues on this backend (its kernels, copies and GEMMs, in order)
     * as one replayable unit, without running it, where the backend supports it (CUDA graphs); empty,
     * <em>without running</em> {@code work}, where it does not (the CPU): the caller then runs its work
     * eagerly. The work must only queue device work: a host synchronisation (reading a value,
     * {@link #synchronize}, {@link #download}), a synchronous upload from a Java array, or an allocation
     * the capture's private memory pool cannot serve breaks the capture, which throws
     * {@link GraphCaptureException} naming the call and leaves the backend usable. Tensors created inside
     * the capture come from that pool and keep their addresses for every replay; tensors freed inside it
     * stay reserved for the graph until {@link CapturedWork#close}. Do not use the backend from other
     * threads while capturing: their work would be captured too. Close the result to free its memory.
     *
     * @throws GraphCaptureException when the captured work did something a graph cannot contain
     */
    default java.util.Optional<CapturedWork> capture(Runnable work) {
        return java.util.Optional.empty();
    }

    /** Waits until every queued operation has finished (no-op on synchronous backends). */
    default void synchronize() {
    }
}
