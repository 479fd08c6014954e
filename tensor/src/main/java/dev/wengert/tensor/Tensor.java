package dev.wengert.tensor;

import dev.wengert.tensor.spi.Tensors;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * An n-dimensional array with a shape, a {@link DType} and a {@link Device}; row-major and contiguous.
 * Operations return new tensors and never modify their operands (the few in-place methods say so in
 * their names). Tensors hold device or off-heap memory: close them, or let the enclosing {@link Scope}
 * close them; a {@link Cleaner} frees forgotten ones only as a safety net. Any use of a closed tensor
 * throws {@link IllegalStateException}.
 *
 * <p><b>Threads.</b> A tensor belongs to the scope of the thread that created it (see {@link Scope}).
 * Any thread may read a tensor (use it as an operand, download it) and close it; reading needs a
 * happens-before edge from its creation (handing it over through a {@code Future}, a {@code join}, a
 * concurrent collection) and must end before anyone closes it or writes into it in place, since the
 * library takes no lock. Several threads reading one tensor at once is fine: that is how a model's
 * parameters are shared read-only. Moving a tensor between scopes ({@link #keep()}, {@link #keepWith},
 * {@link #keepForever()}) is confined to the thread of each scope involved: from another thread these
 * throw {@link IllegalStateException} naming the operation, the tensor and both threads, and change
 * nothing. To give a tensor to another thread for good, {@code keepForever()} it on its own thread.
 * Writing in place ({@code applyInPlace}, {@code assign}) while another thread reads is a data race the
 * library does not detect.
 *
 * <p>This class is not differentiable by itself; {@code dev.wengert.autograd.Var} records operations on
 * tensors for reverse and forward mode.
 */
public final class Tensor implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int PRINT_LIMIT = 64;

    private final int[] shape;
    private final DType dtype;
    private final Backend backend;
    private final Storage storage;
    private final Release release;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;
    private Scope owner;

    private Tensor(Backend backend, Storage storage, int[] shape, DType dtype) {
        this.backend = backend;
        this.storage = storage;
        this.shape = shape;
        this.dtype = dtype;
        this.release = new Release(storage, MemoryWatch.innermost(), MemoryWatch.TRACE_FORGOTTEN ? describe() : null);
        this.cleanable = CLEANER.register(this, release);
        this.owner = Scope.current();
        if (owner != null) {
            owner.adopt(this, "create");
        }
    }

    /**
     * Releases a storage once, whether by close() or by the Cleaner; must not refer to the tensor. A run
     * that close() did not ask for is the Cleaner's: the tensor was forgotten, which the {@link MemoryWatch}
     * open at its creation counts (and {@code wengert.debug.forgotten} reports with where it was created).
     */
    private static final class Release implements Runnable {
        private final Storage storage;
        private final MemoryWatch watch;
        private final String what;
        private final Throwable createdAt;
        private volatile boolean closedExplicitly;

        Release(Storage storage, MemoryWatch watch, String what) {
            this.storage = storage;
            this.watch = watch;
            this.what = what;
            this.createdAt = what == null ? null : new Throwable("tensor created here");
        }

        @Override
        public void run() {
            if (!closedExplicitly) {
                if (watch != null) {
                    watch.forgotten();
                }
                if (createdAt != null) {
                    MemoryWatch.reportForgotten(what, createdAt);
                }
            }
            storage.release(closedExplicitly);
        }
    }

    // ------------------------------------------------------------------ creation

    /** Factory for tensors on {@code device}. */
    public static TensorFactory on(Device device) {
        return TensorFactory.of(device);
    }

    private static TensorFactory here() {
        return TensorFactory.of(Device.defaultDevice());
    }

    /** A float32 tensor holding {@code data} (copied) with the given shape (a vector when shape is omitted). */
    public static Tensor of(float[] data, int... shape) {
        return here().of(data, shape);
    }

    /** A float64 tensor holding {@code data} (copied). */
    public static Tensor of(double[] data, int... shape) {
        return here().of(data, shape);
    }

    /** An int64 tensor holding {@code data} (copied). */
    public static Tensor of(long[] data, int... shape) {
        return here().of(data, shape);
    }

    /** A rank-0 tensor. */
    public static Tensor scalar(double value, DType dtype) {
        return here().full(value, dtype);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return here().zeros(dtype, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return here().ones(dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        return here().full(value, dtype, shape);
    }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n, DType dtype) {
        return here().arange(n, dtype);
    }

    /** Normal(0, 1) samples; the same seed gives the same values on every backend. */
    public static Tensor randn(long seed, DType dtype, int... shape) {
        return here().randn(seed, dtype, shape);
    }

    /** Uniform [0, 1) samples; the same seed gives the same values on every backend. */
    public static Tensor rand(long seed, DType dtype, int... shape) {
        return here().rand(seed, dtype, shape);
    }

    static {
        Tensors.install(new Tensors.Access() {
            @Override
            public Tensor empty(Backend backend, DType dtype, int[] shape) {
                return Tensor.empty(backend, dtype, shape);
            }

            @Override
            public Storage storage(Tensor t) {
                return t.storage;
            }
        });
    }

    /**
     * Allocates an uninitialised tensor on {@code backend}. For the factories and ops here; backends reach it
     * through {@link Tensors#empty}; users create tensors through the factories.
     */
    static Tensor empty(Backend backend, DType dtype, int... shape) {
        int[] s = shape.clone();
        for (int d : s) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Shape.str(s));
            }
        }
        return new Tensor(backend, backend.allocate(dtype, Shape.numel(s)), s, dtype);
    }

    private Tensor emptyLike(DType dt, int[] s) {
        return empty(backend, dt, s);
    }

    // ------------------------------------------------------------------ properties

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code axis} (negative counts from the end). */
    public int dim(int axis) {
        return shape[Shape.axis("dim", axis, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return backend.device();
    }

    /** The backend that owns this tensor's memory. */
    public Backend backend() {
        return backend;
    }

    /** "float32[2, 3] on cpu". */
    public String describe() {
        return dtype + Shape.str(shape) + " on " + device();
    }

    // ------------------------------------------------------------------ lifetime

    public boolean isClosed() {
        return closed;
    }

    Scope owner() {
        return owner;
    }

    /**
     * Moves this tensor out of its scope into the enclosing one (or out of every scope when there is
     * none), so that it survives the scope's close. Returns this.
     *
     * @throws IllegalStateException when the tensor belongs to a scope of another thread
     */
    public Tensor keep() {
        ensureOpen("keep");
        if (owner != null) {
            owner.checkThread("keep", this);
            Scope parent = owner.parent();
            if (parent != null) {
                parent.adopt(this, "keep");
            }
            owner = parent;
        }
        return this;
    }

    /**
     * Moves this tensor into the scope that owns {@code companion} (out of every scope when it has none),
     * so the two are freed together: a parameter's gradient lives as long as the parameter. Returns this.
     *
     * @throws IllegalStateException when either scope involved belongs to another thread
     */
    public Tensor keepWith(Tensor companion) {
        ensureOpen("keepWith");
        companion.ensureOpen("keepWith");
        Scope target = companion.owner;
        if (owner != null && owner != target) {
            owner.checkThread("keepWith", this);
        }
        if (target != null && target != owner) {
            target.adopt(this, "keepWith");
        }
        owner = target;
        return this;
    }

    /**
     * Moves this tensor into the calling thread's innermost open scope (out of every scope when none is
     * open), so that it is freed with that scope: for a tensor made ahead of time and kept forever until
     * it is handed out, such as a prefetched batch. Returns this.
     *
     * @throws IllegalStateException when the tensor belongs to a scope of another thread
     */
    public Tensor keepInCurrentScope() {
        ensureOpen("keepInCurrentScope");
        Scope target = Scope.current();
        if (owner != null && owner != target) {
            owner.checkThread("keepInCurrentScope", this);
        }
        if (target != null && target != owner) {
            target.adopt(this, "keepInCurrentScope");
        }
        owner = target;
        return this;
    }

    /**
     * Detaches this tensor from every scope: only {@link #close()} (or the Cleaner) will free it.
     *
     * @throws IllegalStateException when the tensor belongs to a scope of another thread
     */
    public Tensor keepForever() {
        ensureOpen("keepForever");
        if (owner != null) {
            owner.checkThread("keepForever", this);
        }
        owner = null;
        return this;
    }

    /**
     * Frees this tensor's reference to its memory. Idempotent, and allowed from any thread (the
     * {@link MemoryWatch} of the closing thread counts the free); no thread may still be reading it.
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release.closedExplicitly = true;
            cleanable.clean();
        }
    }

    /**
     * A mark of the allocations so far, for {@link #ownsMemoryAllocatedSince}: take it before running code whose
     * results you may adopt.
     */
    public static long allocationMark() {
        return Storage.latestSerial();
    }

    /**
     * True when this tensor is open, its memory was allocated after {@code mark} ({@link #allocationMark()}) and no
     * other open tensor (a view such as a reshape) shares that memory. Autograd uses it to adopt a gradient that a
     * derivative rule has just computed instead of copying it: memory allocated during the rule and seen by no
     * other tensor cannot be an input, an output or a value kept elsewhere (the caller still has to check that it
     * kept no second reference to this very tensor object).
     */
    public boolean ownsMemoryAllocatedSince(long mark) {
        return !closed && storage.serial() > mark && !storage.isShared();
    }

    /** @throws IllegalStateException naming {@code op} when this tensor was closed */
    public void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": the tensor " + describe() + " was closed (explicitly or by its scope); "
                    + "keep() it to use it after its scope, or compute it again");
        }
    }

    /**
     * Checks that two operands share device and dtype and are open: what every binary op checks first,
     * public for the authors of user-defined primitives and for autograd's entry points (jvp, vjp, hvp).
     *
     * @throws IllegalArgumentException naming the op, both operands and what to do
     */
    public static void checkCompatible(String op, Tensor a, Tensor b) {
        Objects.requireNonNull(a, op + ": first operand is null");
        Objects.requireNonNull(b, op + ": second operand is null");
        a.ensureOpen(op);
        b.ensureOpen(op);
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": operands are on different devices: " + a.describe() + " and "
                    + b.describe() + "; move one with to(" + a.device() + ")");
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": operands have different dtypes: " + a.describe() + " and "
                    + b.describe() + "; convert one with cast(DType." + a.dtype().name() + ")");
        }
    }

    // ------------------------------------------------------------------ reading back

    /** Elements as floats (converted from the dtype). Synchronises with the device. */
    public float[] toFloatArray() {
        Object h = download("toFloatArray");
        if (h instanceof float[] f) {
            return f;
        }
        double[] d = toDoubleArray();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** Elements as doubles (converted from the dtype). Synchronises with the device. */
    public double[] toDoubleArray() {
        Object h = download("toDoubleArray");
        if (h instanceof double[] d) {
            return d;
        }
        if (h instanceof float[] f) {
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        long[] l = (long[]) h;
        double[] d = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            d[i] = l[i];
        }
        return d;
    }

    /** Elements as longs; only for int64 tensors (use {@link #cast} first otherwise). */
    public long[] toLongArray() {
        if (dtype != DType.INT64) {
            throw new IllegalArgumentException("toLongArray: tensor is " + describe() + "; cast(DType.INT64) first");
        }
        return (long[]) download("toLongArray");
    }

    /** The single element of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalArgumentException("item: tensor " + describe() + " has " + numel()
                    + " elements; item() needs exactly one (reduce it first, e.g. sum())");
        }
        return toDoubleArray()[0];
    }

    private Object download(String op) {
        ensureOpen(op);
        return backend.download(this);
    }

    // ------------------------------------------------------------------ conversions

    /** A copy on {@code target} (this tensor itself when it is already there). */
    public Tensor to(Device target) {
        ensureOpen("to");
        if (target.equals(device())) {
            return this;
        }
        Backend tb = Backends.of(target);
        Tensor out = empty(tb, dtype, shape);
        tb.upload(backend.download(this), out);
        return out;
    }

    /** A copy converted to {@code target} (this tensor itself when it already has that dtype). */
    public Tensor cast(DType target) {
        ensureOpen("cast");
        if (target == dtype) {
            return this;
        }
        Tensor out = emptyLike(target, shape);
        backend.cast(this, out);
        return out;
    }

    /** A copy with its own memory. */
    public Tensor copy() {
        ensureOpen("copy");
        Tensor out = emptyLike(dtype, shape);
        backend.broadcastTo(this, out);
        return out;
    }

    // ------------------------------------------------------------------ elementwise

    private Tensor unary(UnaryOp op) {
        return apply(op, op.defaultParameter(0), op.defaultParameter(1));
    }

    /**
     * Applies a unary primitive by its enum, with its default parameters where it takes any ({@link
     * UnaryOp#defaultParameter}, PyTorch's); {@link #exp()} and friends are shorthands.
     */
    public Tensor apply(UnaryOp op) {
        return unary(op);
    }

    /**
     * Applies a unary primitive with its scalar parameters: p0 and p1 are, by op, softplus's beta and threshold,
     * leakyRelu's slope, elu's alpha, clamp's lower and upper bound (+-inf for none); ignored by the ops that
     * take fewer. On a float32 tensor they are rounded to float32 first, as PyTorch converts scalars to the
     * tensor's type. A NaN parameter is refused.
     */
    public Tensor apply(UnaryOp op, double p0, double p1) {
        ensureOpen(op.opName());
        if (!dtype.isFloating() && !op.allowsIntegers()) {
            throw new IllegalArgumentException(op.opName() + ": not defined for " + describe() + "; cast to a float type first");
        }
        int n = op.parameterCount();
        if ((n > 0 && Double.isNaN(p0)) || (n > 1 && Double.isNaN(p1))) {
            throw new IllegalArgumentException(op.opName() + ": parameter is NaN (" + p0 + (n > 1 ? ", " + p1 : "") + ")");
        }
        double q0 = n > 0 ? (dtype == DType.FLOAT32 ? (float) p0 : p0) : 0;
        double q1 = n > 1 ? (dtype == DType.FLOAT32 ? (float) p1 : p1) : 0;
        Tensor out = emptyLike(dtype, shape);
        backend.unary(op, q0, q1, this, out);
        return out;
    }

    public Tensor neg() {
        return unary(UnaryOp.NEG);
    }

    public Tensor exp() {
        return unary(UnaryOp.EXP);
    }

    public Tensor log() {
        return unary(UnaryOp.LOG);
    }

    public Tensor sqrt() {
        return unary(UnaryOp.SQRT);
    }

    public Tensor abs() {
        return unary(UnaryOp.ABS);
    }

    public Tensor sin() {
        return unary(UnaryOp.SIN);
    }

    public Tensor cos() {
        return unary(UnaryOp.COS);
    }

    public Tensor tanh() {
        return unary(UnaryOp.TANH);
    }

    public Tensor sigmoid() {
        return unary(UnaryOp.SIGMOID);
    }

    public Tensor relu() {
        return unary(UnaryOp.RELU);
    }

    public Tensor sign() {
        return unary(UnaryOp.SIGN);
    }

    /** Applies a binary primitive with broadcasting; {@link #add} and friends are shorthands. */
    public Tensor apply(BinaryOp op, Tensor other) {
        String name = op.opName();
        checkCompatible(name, this, other);
        checkIntegers(op);
        Tensor out = emptyLike(dtype, Shape.broadcast(name, shape, other.shape));
        backend.binary(op, this, other, out);
        return out;
    }

    /** Same as {@link #apply(BinaryOp, Tensor)} with a scalar second operand of this tensor's dtype. */
    public Tensor apply(BinaryOp op, double other) {
        try (Tensor s = scalarLike(other)) {
            return apply(op, s);
        }
    }

    /**
     * In place: this = op(this, other), where other broadcasts to this tensor's shape. Modifies this
     * tensor only; for optimizer updates and gradient accumulation. Returns this.
     */
    public Tensor applyInPlace(BinaryOp op, Tensor other) {
        String name = op.opName() + "InPlace";
        checkCompatible(name, this, other);
        checkIntegers(op);
        if (!Shape.broadcastsTo(other.shape, shape)) {
            throw new IllegalArgumentException(name + ": operand " + other.describe() + " does not broadcast to "
                    + describe() + ", the tensor modified in place");
        }
        backend.binary(op, this, other, this);
        return this;
    }

    private void checkIntegers(BinaryOp op) {
        if (!dtype.isFloating() && !op.allowsIntegers()) {
            throw new IllegalArgumentException(op.opName() + ": not defined for " + describe() + "; cast to a float type first");
        }
    }

    /** In place: this = op(this, scalar). Returns this. */
    public Tensor applyInPlace(BinaryOp op, double other) {
        try (Tensor s = scalarLike(other)) {
            return applyInPlace(op, s);
        }
    }

    /** In place: copies {@code src} (broadcast to this shape) into this tensor. Returns this. */
    public Tensor assign(Tensor src) {
        checkCompatible("assign", this, src);
        if (!Shape.broadcastsTo(src.shape, shape)) {
            throw new IllegalArgumentException("assign: source " + src.describe() + " does not broadcast to " + describe());
        }
        backend.broadcastTo(src, this);
        return this;
    }

    private Tensor scalarLike(double v) {
        Tensor s = empty(backend, dtype);
        backend.fill(s, v);
        return s;
    }

    public Tensor add(Tensor o) {
        return apply(BinaryOp.ADD, o);
    }

    public Tensor add(double o) {
        return apply(BinaryOp.ADD, o);
    }

    public Tensor sub(Tensor o) {
        return apply(BinaryOp.SUB, o);
    }

    public Tensor sub(double o) {
        return apply(BinaryOp.SUB, o);
    }

    public Tensor mul(Tensor o) {
        return apply(BinaryOp.MUL, o);
    }

    public Tensor mul(double o) {
        return apply(BinaryOp.MUL, o);
    }

    public Tensor div(Tensor o) {
        return apply(BinaryOp.DIV, o);
    }

    public Tensor div(double o) {
        return apply(BinaryOp.DIV, o);
    }

    public Tensor pow(Tensor o) {
        return apply(BinaryOp.POW, o);
    }

    public Tensor pow(double o) {
        return apply(BinaryOp.POW, o);
    }

    public Tensor maximum(Tensor o) {
        return apply(BinaryOp.MAXIMUM, o);
    }

    public Tensor minimum(Tensor o) {
        return apply(BinaryOp.MINIMUM, o);
    }

    public Tensor eq(Tensor o) {
        return apply(BinaryOp.EQ, o);
    }

    public Tensor ne(Tensor o) {
        return apply(BinaryOp.NE, o);
    }

    public Tensor lt(Tensor o) {
        return apply(BinaryOp.LT, o);
    }

    public Tensor le(Tensor o) {
        return apply(BinaryOp.LE, o);
    }

    public Tensor gt(Tensor o) {
        return apply(BinaryOp.GT, o);
    }

    public Tensor ge(Tensor o) {
        return apply(BinaryOp.GE, o);
    }

    /** cond != 0 ? a : b elementwise, all three broadcast together; a and b share dtype and device. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        checkCompatible("where", a, b);
        cond.ensureOpen("where");
        if (!cond.device().equals(a.device())) {
            throw new IllegalArgumentException("where: condition is on " + cond.device() + " but the values are on "
                    + a.device() + "; move it with to(device)");
        }
        int[] s = Shape.broadcast("where", Shape.broadcast("where", cond.shape, a.shape), b.shape);
        Tensor out = a.emptyLike(a.dtype, s);
        a.backend.where(cond, a, b, out);
        return out;
    }

    // ------------------------------------------------------------------ linear algebra

    /** Matrix product; see {@link #matmul(boolean, Tensor, boolean)}. */
    public Tensor matmul(Tensor other) {
        return matmul(false, other, false);
    }

    /**
     * op(this) @ op(other) as torch.matmul, where op transposes the last two dimensions when its flag is set,
     * without copying: 2-D x 2-D is the matrix product; a 1-D left operand is a row vector and a 1-D right operand
     * a column vector, whose dimension the result drops (1-D x 1-D is the dot product, rank 0); the dimensions
     * before the last two are batch dimensions and broadcast (NumPy rules). The backends run 2-D and 3-D products
     * with equal batches or a shared 2-D operand; other shapes are reshaped to those (views), and batch
     * dimensions that really broadcast are materialised ({@link #broadcastTo}), as PyTorch's expand + bmm.
     * ({@link Shape#matmul} gives the result shape.)
     */
    public Tensor matmul(boolean transposeThis, Tensor other, boolean transposeOther) {
        checkCompatible("matmul", this, other);
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("matmul: not defined for " + describe() + "; cast to a float type first");
        }
        if (!Shape.isDirectMatmul(shape, other.shape)) {
            return matmulBroadcast(transposeThis, other, transposeOther);
        }
        int[] out = Tensors.matmulShape(shape, transposeThis, other.shape, transposeOther);
        Tensor result = emptyLike(dtype, out);
        backend.matmul(this, transposeThis, other, transposeOther, result, false);
        return result;
    }

    /** {@link #matmul} for the shapes the backends do not take directly: reshaped (and broadcast) to ones they do. */
    private Tensor matmulBroadcast(boolean ta, Tensor other, boolean tb) {
        int[] result = Shape.matmul("matmul", shape, ta, other.shape, tb);
        try (Tensor a = matmulOperand(this, true, shape, other.shape); Tensor b = matmulOperand(other, false, other.shape, shape);
             Tensor r = a.matmul(ta, b, tb)) {
            return r.reshape(result);
        }
    }

    /**
     * One operand of a broadcast matmul in a form the backends take: a vector as a row (left) or column (right),
     * a batch of one as a 2-D matrix, other batches broadcast to the common batch shape and flattened to 3-D.
     * A view where no broadcasting is needed.
     */
    private static Tensor matmulOperand(Tensor t, boolean left, int[] s, int[] otherShape) {
        int[][] plan = Shape.matmulOperand(s, left, otherShape);
        if (plan[1] == null) {
            return t.reshape(plan[0]);
        }
        try (Tensor b = t.broadcastTo(plan[1])) {
            return b.reshape(plan[0]);
        }
    }

    // ------------------------------------------------------------------ convolution and pooling (Convolutions)

    /**
     * torch.nn.functional.unfold (im2col) of an NCHW tensor: [N, C*kh*kw, OH*OW], positions outside the input
     * read {@code padValue} (0 for a convolution, -inf for max pooling).
     */
    public Tensor unfold(Window2d window, double padValue) {
        return Convolutions.unfold(this, window, padValue);
    }

    /** torch.nn.functional.fold (col2im) of columns [N, C*kh*kw, OH*OW] into [N, C, height, width], overlaps summed. */
    public Tensor fold(Window2d window, int height, int width) {
        return Convolutions.fold(this, window, height, width);
    }

    /**
     * 2-D convolution (cross-correlation, torch.nn.functional.conv2d without bias) of this [N, C, H, W] with
     * weight [Cout, C/groups, kh, kw]; the window's kernel must match the weight. Result [N, Cout, OH, OW].
     */
    public Tensor conv2d(Tensor weight, Window2d window, int groups) {
        return Convolutions.conv2d(this, weight, window, groups);
    }

    /**
     * The adjoint of {@link #conv2d} in its input: this is the output gradient [N, Cout, OH, OW]; the result is
     * the input's gradient [N, C, height, width] (torch.nn.grad.conv2d_input; a transposed convolution).
     */
    public Tensor conv2dInputGrad(Tensor weight, Window2d window, int groups, int height, int width) {
        return Convolutions.inputGrad(this, weight, window, groups, height, width);
    }

    /**
     * The adjoint of {@link #conv2d} in its weight: this is the input [N, C, H, W], gradOut the output
     * gradient [N, Cout, OH, OW]; the result is the weight's gradient [Cout, C/groups, kh, kw]
     * (torch.nn.grad.conv2d_weight).
     */
    public Tensor conv2dWeightGrad(Tensor gradOut, Window2d window, int groups) {
        return Convolutions.weightGrad(this, gradOut, window, groups, gradOut.rank() == 4 ? gradOut.shape[1] : -1);
    }

    /**
     * Max pooling with indices (torch.nn.functional.max_pool2d(return_indices=True)): {values [N, C, OH, OW],
     * int64 indices h*W + w within each channel}; ties go to the first maximum, NaN propagates
     * ({@link Backend#maxPool2d}). The caller closes both.
     */
    public Tensor[] maxPool2dWithIndices(Window2d window) {
        return Convolutions.maxPool2d(this, window);
    }

    /** Max pooling (torch.nn.functional.max_pool2d) of an NCHW tensor. */
    public Tensor maxPool2d(Window2d window) {
        Tensor[] r = Convolutions.maxPool2d(this, window);
        r[1].close();
        return r[0];
    }

    /** Average pooling (torch.nn.functional.avg_pool2d, count_include_pad=True) of an NCHW tensor. */
    public Tensor avgPool2d(Window2d window) {
        return Convolutions.avgPool2d(this, window);
    }

    // ------------------------------------------------------------------ reductions

    /** Sum of all elements (rank 0). */
    public Tensor sum() {
        return sum(false);
    }

    /** Sum along {@code axes} (all when empty), keeping reduced dimensions as 1 when {@code keepDims}. */
    public Tensor sum(boolean keepDims, int... axes) {
        return reduce(ReduceOp.SUM, keepDims, axes);
    }

    /** Mean of all elements. */
    public Tensor mean() {
        return mean(false);
    }

    /** Mean along {@code axes} (all when empty). */
    public Tensor mean(boolean keepDims, int... axes) {
        int[] ax = Shape.axes("mean", axes, shape.length);
        int count = 1;
        for (int a : ax) {
            count *= shape[a];
        }
        try (Tensor s = sum(keepDims, ax)) {
            return s.mul(1.0 / count);
        }
    }

    /** Maximum of all elements. */
    public Tensor max() {
        return max(false);
    }

    /** Maximum along {@code axes} (all when empty). */
    public Tensor max(boolean keepDims, int... axes) {
        return reduce(ReduceOp.MAX, keepDims, axes);
    }

    /** Applies a reduction by its enum. */
    public Tensor reduce(ReduceOp op, boolean keepDims, int... axes) {
        ensureOpen(op.opName());
        int[] ax = Shape.axes(op.opName(), axes, shape.length);
        for (int a : ax) {
            if (op == ReduceOp.MAX && shape[a] == 0) {
                throw new IllegalArgumentException("max: cannot reduce the empty dimension " + a + " of " + describe());
            }
        }
        Tensor out = emptyLike(dtype, Shape.reducedKeepDims(shape, ax));
        backend.reduce(op, this, ax, out);
        return keepDims ? out : out.reshapeOwned(Shape.reducedDropDims(shape, ax));
    }

    /** Index (int64) of the first maximum along {@code axis}. */
    public Tensor argmax(int axis, boolean keepDims) {
        ensureOpen("argmax");
        int a = Shape.axis("argmax", axis, shape.length);
        if (shape[a] == 0) {
            throw new IllegalArgumentException("argmax: dimension " + a + " of " + describe() + " is empty; there is no maximum");
        }
        Tensor out = emptyLike(DType.INT64, Shape.reducedKeepDims(shape, new int[] {a}));
        backend.argmax(this, a, out);
        return keepDims ? out : out.reshapeOwned(Shape.reducedDropDims(shape, new int[] {a}));
    }

    /** Replaces {@code this} (a fresh temporary) by a reshaped view and closes the temporary. */
    private Tensor reshapeOwned(int[] newShape) {
        Tensor r = reshape(newShape);
        close();
        return r;
    }

    // ------------------------------------------------------------------ movement

    /**
     * The same elements with a new shape, sharing memory (a view); one dimension may be -1 (inferred).
     * Closing the view does not close this tensor.
     */
    public Tensor reshape(int... newShape) {
        ensureOpen("reshape");
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape: only one dimension may be -1, got " + Arrays.toString(newShape));
                }
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape: negative dimension in " + Arrays.toString(newShape));
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer -1 in " + Arrays.toString(newShape) + " for " + describe());
            }
            s[infer] = (int) (numel() / known);
        }
        if (Shape.numel(s) != numel()) {
            throw new IllegalArgumentException("reshape: " + describe() + " has " + numel() + " elements, shape "
                    + Arrays.toString(newShape) + " needs " + Shape.numel(s));
        }
        storage.retain();
        return new Tensor(backend, storage, s, dtype);
    }

    /** Swaps the last two dimensions (a copy). */
    public Tensor transpose() {
        if (shape.length < 2) {
            throw new IllegalArgumentException("transpose: needs rank 2 or more, got " + describe());
        }
        int[] perm = new int[shape.length];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        perm[perm.length - 1] = perm.length - 2;
        perm[perm.length - 2] = perm.length - 1;
        return permute(perm);
    }

    /** Reorders dimensions (a copy): result.shape[i] = shape[perm[i]]. */
    public Tensor permute(int... perm) {
        ensureOpen("permute");
        if (perm.length != shape.length) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " has " + perm.length
                    + " entries but the tensor " + describe() + " has rank " + shape.length);
        }
        int[] norm = Shape.axes("permute", perm, shape.length);
        if (norm.length != shape.length) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " is not a permutation");
        }
        int[] p = new int[perm.length];
        int[] s = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            p[i] = Shape.axis("permute", perm[i], shape.length);
            s[i] = shape[p[i]];
        }
        Tensor out = emptyLike(dtype, s);
        backend.permute(this, p, out);
        return out;
    }

    /** Elements start..end-1 along {@code axis} (a copy). */
    public Tensor slice(int axis, int start, int end) {
        ensureOpen("slice");
        int a = Shape.axis("slice", axis, shape.length);
        if (start < 0 || end > shape[a] || start > end) {
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") is outside dimension " + a
                    + " (size " + shape[a] + ") of " + describe());
        }
        int[] s = shape.clone();
        s[a] = end - start;
        Tensor out = emptyLike(dtype, s);
        backend.slice(this, a, start, out);
        return out;
    }

    /** Joins tensors of equal shape except along {@code axis}. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("concat: needs at least one tensor");
        }
        Tensor first = parts[0];
        first.ensureOpen("concat");
        int a = Shape.axis("concat", axis, first.rank());
        int total = 0;
        for (int i = 0; i < parts.length; i++) {
            Tensor p = parts[i];
            checkCompatible("concat", first, p);
            if (p.rank() != first.rank()) {
                throw new IllegalArgumentException("concat: input " + i + " " + p.describe() + " has a different rank from input 0 "
                        + first.describe());
            }
            for (int d = 0; d < first.rank(); d++) {
                if (d != a && p.shape[d] != first.shape[d]) {
                    throw new IllegalArgumentException("concat: input " + i + " " + p.describe() + " differs from input 0 "
                            + first.describe() + " in dimension " + d + " (only dimension " + a + " may differ)");
                }
            }
            total += p.shape[a];
        }
        int[] s = first.shape.clone();
        s[a] = total;
        Tensor out = first.emptyLike(first.dtype, s);
        first.backend.concat(parts, a, out);
        return out;
    }

    /** A copy broadcast to {@code target} under NumPy rules. */
    public Tensor broadcastTo(int... target) {
        ensureOpen("broadcastTo");
        if (!Shape.broadcastsTo(shape, target)) {
            throw new IllegalArgumentException("broadcastTo: " + describe() + " does not broadcast to " + Shape.str(target));
        }
        Tensor out = emptyLike(dtype, target.clone());
        backend.broadcastTo(this, out);
        return out;
    }

    /** result[..i..] = this[..index[..i..]..] along {@code axis} (torch.gather); index is int64. */
    public Tensor gather(int axis, Tensor index) {
        int a = checkIndexOp("gather", axis, index);
        Tensor out = emptyLike(dtype, index.shape.clone());
        backend.gather(this, a, index, out);
        return out;
    }

    /**
     * A copy of this tensor with {@code src} added at {@code index} along {@code axis}:
     * result[..index[..i..]..] += src[..i..]. The adjoint of {@link #gather}.
     */
    public Tensor scatterAdd(int axis, Tensor index, Tensor src) {
        int a = checkIndexOp("scatterAdd", axis, index);
        checkCompatible("scatterAdd", this, src);
        if (!Arrays.equals(index.shape, src.shape)) {
            throw new IllegalArgumentException("scatterAdd: index " + index.describe() + " and source " + src.describe()
                    + " must have the same shape");
        }
        Tensor out = copy();
        backend.scatterAdd(out, a, index, src);
        return out;
    }

    private int checkIndexOp(String op, int axis, Tensor index) {
        ensureOpen(op);
        index.ensureOpen(op);
        int a = Shape.axis(op, axis, shape.length);
        if (index.dtype != DType.INT64) {
            throw new IllegalArgumentException(op + ": index must be int64, got " + index.describe() + "; cast(DType.INT64)");
        }
        if (!index.device().equals(device())) {
            throw new IllegalArgumentException(op + ": index is on " + index.device() + " but the tensor is on " + device());
        }
        if (index.rank() != rank()) {
            throw new IllegalArgumentException(op + ": index " + index.describe() + " must have the rank of " + describe());
        }
        for (int d = 0; d < rank(); d++) {
            if (d != a && index.shape[d] > shape[d]) {
                throw new IllegalArgumentException(op + ": index " + index.describe() + " is larger than " + describe()
                        + " in dimension " + d);
            }
        }
        return a;
    }

    /** One-hot encoding of an int64 tensor of class labels: a new trailing dimension of size numClasses. */
    public Tensor oneHot(int numClasses, DType resultType) {
        ensureOpen("oneHot");
        if (dtype != DType.INT64) {
            throw new IllegalArgumentException("oneHot: labels must be int64, got " + describe());
        }
        int[] s = Arrays.copyOf(shape, shape.length + 1);
        s[shape.length] = numClasses;
        Tensor out = emptyLike(resultType, s);
        backend.oneHot(this, out);
        return out;
    }

    // ------------------------------------------------------------------ composites

    /** Numerically stable log-softmax along {@code axis} (fused on the backend). */
    public Tensor logSoftmax(int axis) {
        ensureOpen("logSoftmax");
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("logSoftmax: not defined for " + describe());
        }
        int a = Shape.axis("logSoftmax", axis, shape.length);
        Tensor out = emptyLike(dtype, shape);
        backend.logSoftmax(this, a, out);
        return out;
    }

    /** Softmax along {@code axis}, computed as exp(logSoftmax) so large logits do not overflow. */
    public Tensor softmax(int axis) {
        try (Tensor ls = logSoftmax(axis)) {
            return ls.exp();
        }
    }

    // ------------------------------------------------------------------ more reductions (composed from the SPI)

    /** Minimum of all elements. */
    public Tensor min() {
        return min(false);
    }

    /**
     * Minimum along {@code axes} (all when empty), computed as -max(-x): exact, NaN propagates and signed zeros
     * follow Math.min. (In int64, Long.MIN_VALUE, whose negation overflows, is not supported.)
     */
    public Tensor min(boolean keepDims, int... axes) {
        ensureOpen("min");
        int[] ax = Shape.axes("min", axes, shape.length);
        for (int a : ax) {
            if (shape[a] == 0) {
                throw new IllegalArgumentException("min: cannot reduce the empty dimension " + a + " of " + describe());
            }
        }
        try (Tensor n = neg(); Tensor m = n.max(keepDims, ax)) {
            return m.neg();
        }
    }

    /** Index (int64) of the first minimum along {@code axis} (the first NaN where there is one, as argmax). */
    public Tensor argmin(int axis, boolean keepDims) {
        ensureOpen("argmin");
        int a = Shape.axis("argmin", axis, shape.length);
        if (shape[a] == 0) {
            throw new IllegalArgumentException("argmin: dimension " + a + " of " + describe() + " is empty; there is no minimum");
        }
        try (Tensor n = neg()) {
            return n.argmax(a, keepDims);
        }
    }

    /** Product of all elements. */
    public Tensor prod() {
        return prod(false);
    }

    /**
     * Product along {@code axes} (all when empty; 1 over an empty dimension): the reduced dimensions are moved
     * last and multiplied pairwise, halving the length each pass (log2 n elementwise products).
     */
    public Tensor prod(boolean keepDims, int... axes) {
        ensureOpen("prod");
        int[] ax = Shape.axes("prod", axes, shape.length);
        int[] kept = Shape.reducedKeepDims(shape, ax);
        int k = 1;
        for (int a : ax) {
            k *= shape[a];
        }
        int rows = Shape.numel(kept);
        int[] perm = new int[shape.length];
        int p = 0;
        for (int d = 0; d < shape.length; d++) {
            if (Arrays.binarySearch(ax, d) < 0) {
                perm[p++] = d;
            }
        }
        for (int a : ax) {
            perm[p++] = a;
        }
        boolean moved = false;
        for (int d = 0; d < perm.length; d++) {
            moved |= perm[d] != d;
        }
        Tensor acc;
        if (k == 0) {
            acc = emptyLike(dtype, new int[] {rows, 1});
            backend.fill(acc, 1);
        } else {
            try (Tensor t = moved ? permute(perm) : copy()) {
                acc = t.reshape(rows, k);
            }
        }
        while (k > 1) {
            int h = k / 2;
            Tensor next;
            try (Tensor lo = acc.slice(1, 0, h); Tensor hi = acc.slice(1, h, 2 * h)) {
                next = lo.mul(hi);
            }
            if (k % 2 == 1) {
                try (Tensor product = next; Tensor last = acc.slice(1, 2 * h, k)) {
                    next = concat(1, product, last);
                }
            }
            acc.close();
            acc = next;
            k = h + k % 2;
        }
        try (Tensor r = acc) {
            return r.reshape(keepDims ? kept : Shape.reducedDropDims(shape, ax));
        }
    }

    /**
     * Cumulative sum along {@code axis} (torch.cumsum): element i is the sum of elements 0..i. Computed in
     * log2(n) passes of shifted additions (Hillis-Steele), so its rounding differs slightly from a running sum.
     */
    public Tensor cumsum(int axis) {
        ensureOpen("cumsum");
        int a = Shape.axis("cumsum", axis, shape.length);
        int n = shape[a];
        Tensor y = copy();
        for (int d = 1; d < n; d *= 2) {
            int[] zs = shape.clone();
            zs[a] = d;
            Tensor next;
            try (Tensor zeros = emptyLike(dtype, zs); Tensor head = y.slice(a, 0, n - d)) {
                backend.fill(zeros, 0);
                try (Tensor shifted = concat(a, zeros, head)) {
                    next = y.add(shifted);
                }
            }
            y.close();
            y = next;
        }
        return y;
    }

    /** Variance along {@code axes} with Bessel's correction (divisor n - 1), as torch.var. */
    public Tensor var(boolean keepDims, int... axes) {
        return var(1, keepDims, axes);
    }

    /**
     * Variance along {@code axes} (all when empty): the sum of squared deviations from the mean divided by
     * max(0, n - correction), as torch.var(correction=...): 1 is the sample variance, 0 the population's.
     */
    public Tensor var(int correction, boolean keepDims, int... axes) {
        ensureOpen("var");
        int[] ax = Shape.axes("var", axes, shape.length);
        int n = 1;
        for (int a : ax) {
            n *= shape[a];
        }
        try (Tensor m = mean(true, ax); Tensor d = sub(m); Tensor sq = d.mul(d); Tensor s = sq.sum(keepDims, ax)) {
            return s.div(Math.max(0, n - correction));
        }
    }

    /** Standard deviation with Bessel's correction, as torch.std. */
    public Tensor std(boolean keepDims, int... axes) {
        return std(1, keepDims, axes);
    }

    /** The square root of {@link #var(int, boolean, int...)}. */
    public Tensor std(int correction, boolean keepDims, int... axes) {
        try (Tensor v = var(correction, keepDims, axes)) {
            return v.sqrt();
        }
    }

    /**
     * The vector p-norm along {@code axes} (all when empty), as torch.linalg.vector_norm: p = 1 (sum of |x|),
     * 2 (square root of the sum of squares) or infinity (max |x|).
     */
    public Tensor norm(double p, boolean keepDims, int... axes) {
        ensureOpen("norm");
        int[] ax = Shape.axes("norm", axes, shape.length);
        if (p == 2) {
            try (Tensor sq = mul(this); Tensor s = sq.sum(keepDims, ax)) {
                return s.sqrt();
            }
        }
        Shape.checkNormOrder("norm", p);
        try (Tensor a = abs()) {
            return p == 1 ? a.sum(keepDims, ax) : a.max(keepDims, ax);
        }
    }

    // ------------------------------------------------------------------ more movement (composed from the SPI)

    /** The same elements without the size-1 dimensions among {@code axes} (all size-1 dimensions when none); a view. */
    public Tensor squeeze(int... axes) {
        ensureOpen("squeeze");
        return reshape(Shape.squeeze("squeeze", shape, axes));
    }

    /** The same elements with a dimension of size 1 inserted at {@code axis} (-1 appends one); a view. */
    public Tensor unsqueeze(int axis) {
        ensureOpen("unsqueeze");
        return reshape(Shape.unsqueeze("unsqueeze", shape, axis));
    }

    /** Joins tensors of equal shape along a new dimension {@code axis} (torch.stack). */
    public static Tensor stack(int axis, Tensor... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("stack: needs at least one tensor");
        }
        for (int i = 1; i < parts.length; i++) {
            checkCompatible("stack", parts[0], parts[i]);
            if (!Arrays.equals(parts[0].shape, parts[i].shape)) {
                throw new IllegalArgumentException("stack: input " + i + " " + parts[i].describe() + " differs in shape from input 0 "
                        + parts[0].describe());
            }
        }
        int a = Shape.newAxis("stack", axis, parts[0].rank());
        Tensor[] views = new Tensor[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                views[i] = parts[i].unsqueeze(a);
            }
            return concat(a, views);
        } finally {
            for (Tensor v : views) {
                if (v != null) {
                    v.close();
                }
            }
        }
    }

    /** {@code length} elements from {@code start} along {@code axis} (a copy); a negative start counts from the end. */
    public Tensor narrow(int axis, int start, int length) {
        ensureOpen("narrow");
        int a = Shape.axis("narrow", axis, shape.length);
        int s = start < 0 ? start + shape[a] : start;
        if (length < 0) {
            throw new IllegalArgumentException("narrow: negative length " + length);
        }
        return slice(a, s, s + length);
    }

    /** Pieces of {@code size} along {@code axis}, the last one smaller when it does not divide (torch.split). */
    public Tensor[] split(int axis, int size) {
        int a = Shape.axis("split", axis, shape.length);
        return splitSections(a, Shape.splitSizes("split", shape[a], size));
    }

    /** Pieces of the given sizes along {@code axis}, which must sum to its length (torch.split with a list). */
    public Tensor[] split(int axis, int[] sizes) {
        int a = Shape.axis("split", axis, shape.length);
        Shape.checkSections("split", shape[a], sizes);
        return splitSections(a, sizes);
    }

    /** {@code chunks} pieces (fewer when the length does not allow that many) of equal size but the last (torch.chunk). */
    public Tensor[] chunk(int axis, int chunks) {
        int a = Shape.axis("chunk", axis, shape.length);
        return splitSections(a, Shape.chunkSizes("chunk", shape[a], chunks));
    }

    private Tensor[] splitSections(int axis, int[] sizes) {
        Tensor[] out = new Tensor[sizes.length];
        int at = 0;
        for (int i = 0; i < sizes.length; i++) {
            out[i] = slice(axis, at, at + sizes[i]);
            at += sizes[i];
        }
        return out;
    }

    /** The reversed order of elements along each of {@code axes} (at least one), as torch.flip. */
    public Tensor flip(int... axes) {
        ensureOpen("flip");
        Tensor y = null;
        for (int a : Shape.flipAxes("flip", axes, shape.length)) {
            int n = shape[a];
            if (n < 2) {
                continue;
            }
            long[] rev = new long[n];
            for (int i = 0; i < n; i++) {
                rev[i] = n - 1 - i;
            }
            int[] line = new int[shape.length];
            Arrays.fill(line, 1);
            line[a] = n;
            try (Tensor r = on(device()).of(rev, line); Tensor index = r.broadcastTo(shape)) {
                Tensor next = (y == null ? this : y).gather(a, index);
                if (y != null) {
                    y.close();
                }
                y = next;
            }
        }
        return y == null ? copy() : y;
    }

    /**
     * This tensor repeated {@code reps[i]} times along dimension i (torch.tile): with fewer repetitions than
     * dimensions the leading dimensions are repeated once, with more the tensor gets leading dimensions of 1.
     * Composed as a broadcast between interleaved dimensions of 1.
     */
    public Tensor tile(int... reps) {
        ensureOpen("tile");
        int[][] plan = Shape.tile("tile", shape, reps);
        try (Tensor v = reshape(plan[0]); Tensor b = v.broadcastTo(plan[1])) {
            return b.reshape(plan[2]);
        }
    }

    /** torch.Tensor.repeat: {@link #tile} with at least one repetition count per dimension. */
    public Tensor repeat(int... reps) {
        Shape.checkRepeat("repeat", shape, reps);
        return tile(reps);
    }

    /** Constant padding with zeros; see {@link #pad(int[], PadMode, double)}. */
    public Tensor pad(int... pads) {
        return pad(pads, PadMode.CONSTANT, 0);
    }

    /**
     * torch.nn.functional.pad: {@code pads} holds (before, after) pairs from the last dimension backwards;
     * {@code value} fills a {@link PadMode#CONSTANT} padding, the other modes copy elements of this tensor (see
     * {@link PadMode}). Composed of slices, flips and a concatenation per padded dimension.
     */
    public Tensor pad(int[] pads, PadMode mode, double value) {
        ensureOpen("pad");
        int[][] pairs = Shape.padPairs("pad", shape, pads);
        Tensor y = copy();
        for (int d = shape.length - 1; d >= 0; d--) {
            if (pairs[d][0] == 0 && pairs[d][1] == 0) {
                continue;
            }
            try (Tensor prev = y) {
                y = prev.padAxis(d, pairs[d][0], pairs[d][1], mode, value);
            }
        }
        return y;
    }

    private Tensor padAxis(int axis, int before, int after, PadMode mode, double value) {
        Shape.checkPad("pad", shape[axis], axis, before, after, mode);
        java.util.List<Tensor> parts = new java.util.ArrayList<>(3);
        try {
            if (before > 0) {
                parts.add(padPart(axis, before, true, mode, value));
            }
            parts.add(this);
            if (after > 0) {
                parts.add(padPart(axis, after, false, mode, value));
            }
            return concat(axis, parts.toArray(new Tensor[0]));
        } finally {
            for (Tensor t : parts) {
                if (t != this) {
                    t.close();
                }
            }
        }
    }

    /** The block of {@code count} elements padded before (or after) this tensor along {@code axis}. */
    private Tensor padPart(int axis, int count, boolean before, PadMode mode, double value) {
        int n = shape[axis];
        int[] s = shape.clone();
        s[axis] = count;
        switch (mode) {
            case CONSTANT -> {
                Tensor t = emptyLike(dtype, s);
                backend.fill(t, value);
                return t;
            }
            case REFLECT -> {
                try (Tensor part = before ? slice(axis, 1, count + 1) : slice(axis, n - 1 - count, n - 1)) {
                    return part.flip(axis);
                }
            }
            case REPLICATE -> {
                try (Tensor edge = before ? slice(axis, 0, 1) : slice(axis, n - 1, n)) {
                    return edge.broadcastTo(s);
                }
            }
            default -> {
                return before ? slice(axis, n - count, n) : slice(axis, 0, count);
            }
        }
    }

    /** The slices at the int64 {@code index} (rank 0 or 1) along {@code axis}, as torch.index_select; composed as a gather. */
    public Tensor indexSelect(int axis, Tensor index) {
        ensureOpen("indexSelect");
        index.ensureOpen("indexSelect");
        int a = Shape.axis("indexSelect", axis, shape.length);
        int[][] plan = Shape.indexSelect("indexSelect", shape, a, index.dtype, index.shape);
        try (Tensor r = index.reshape(plan[0]); Tensor full = r.broadcastTo(plan[1])) {
            return gather(a, full);
        }
    }

    /** {@code value} where {@code mask} (any dtype, broadcasting to this shape) is non-zero, else this (torch.masked_fill). */
    public Tensor maskedFill(Tensor mask, double value) {
        ensureOpen("maskedFill");
        mask.ensureOpen("maskedFill");
        Shape.checkMask("maskedFill", mask.shape, shape);
        try (Tensor v = scalarLike(value)) {
            return where(mask, v, this);
        }
    }

    // ------------------------------------------------------------------ sorting

    /**
     * The int64 indices that sort this tensor along {@code axis} (torch.argsort(stable=True)): equal elements keep
     * their order, ascending or descending; NaN counts as larger than every number. Runs the backend's
     * {@link Backend#argsort} (on the host by default: see there).
     */
    public Tensor argsort(int axis, boolean descending) {
        ensureOpen("argsort");
        int a = Shape.axis("argsort", axis, shape.length);
        Tensor out = emptyLike(DType.INT64, shape);
        backend.argsort(this, a, descending, out);
        return out;
    }

    /** The values of this tensor sorted along {@code axis}, stably (the order of {@link #argsort}). */
    public Tensor sort(int axis, boolean descending) {
        try (Tensor index = argsort(axis, descending)) {
            return gather(axis, index);
        }
    }

    /** The int64 indices of the {@code k} largest (or smallest) elements along {@code axis}, in sorted order, ties in input order. */
    public Tensor topkIndices(int axis, int k, boolean largest) {
        int a = Shape.axis("topk", axis, shape.length);
        if (k < 0 || k > shape[a]) {
            throw new IllegalArgumentException("topk: k = " + k + " is outside 0.." + shape[a] + " for dimension " + a + " of " + describe());
        }
        try (Tensor index = argsort(a, largest)) {
            return index.slice(a, 0, k);
        }
    }

    // ------------------------------------------------------------------ checks and printing

    /** Values for small tensors, a summary for large ones: {@code tensor([[1, 2], [3, 4]], float32, cpu)}. */
    @Override
    public String toString() {
        if (closed) {
            return "tensor(<closed> " + describe() + ")";
        }
        if (numel() > PRINT_LIMIT) {
            return "tensor(" + describe() + ")";
        }
        StringBuilder sb = new StringBuilder("tensor(");
        double[] v = toDoubleArray();
        appendNested(sb, v, 0, 0);
        return sb.append(", ").append(dtype).append(", ").append(device()).append(')').toString();
    }

    private int appendNested(StringBuilder sb, double[] v, int dimIdx, int pos) {
        if (dimIdx == shape.length) {
            sb.append(formatValue(v[pos]));
            return pos + 1;
        }
        sb.append('[');
        for (int i = 0; i < shape[dimIdx]; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            pos = appendNested(sb, v, dimIdx + 1, pos);
        }
        sb.append(']');
        return pos;
    }

    private String formatValue(double x) {
        if (dtype == DType.INT64) {
            return Long.toString((long) x);
        }
        if (x == Math.rint(x) && Math.abs(x) < 1e7) {
            return String.format(Locale.ROOT, "%.1f", x);
        }
        String s = String.format(Locale.ROOT, "%.6g", x);
        if (s.contains("e") || !s.contains(".")) {
            return s;
        }
        return s.replaceAll("0+$", "").replaceAll("\\.$", ".0");
    }
}
