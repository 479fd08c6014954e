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
     * op(this) @ op(other) where op transposes the last two dimensions when its flag is set, without
     * copying. 2-D x 2-D, or batched 3-D with a shared 2-D operand allowed on either side.
     */
    public Tensor matmul(boolean transposeThis, Tensor other, boolean transposeOther) {
        checkCompatible("matmul", this, other);
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("matmul: not defined for " + describe() + "; cast to a float type first");
        }
        int[] out = Tensors.matmulShape(shape, transposeThis, other.shape, transposeOther);
        Tensor result = emptyLike(dtype, out);
        backend.matmul(this, transposeThis, other, transposeOther, result, false);
        return result;
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
