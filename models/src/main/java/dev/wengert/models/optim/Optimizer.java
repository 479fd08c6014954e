package dev.wengert.models.optim;

import dev.wengert.autograd.Grad;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Updates parameters in place from their gradients. {@link #step()} modifies the parameter tensors (and
 * the optimizer's own state), never the gradients, and allocates only temporaries that it frees before
 * returning; state tensors live on each parameter's device, belong to no scope, and are freed by
 * {@link #close()}. {@link #state()} and {@link #loadState} save and restore the state (the tensors and
 * the step count) so that a resumed run continues exactly where it stopped.
 *
 * <p>{@link #step()} hands all parameters to {@link #updateAll} at once, so that a subclass can update
 * them with one launch of a backend's whole-step kernel ({@link FusedKernel#SGD_ALL}, {@link
 * FusedKernel#ADAM_ALL}); such kernels read the learning rate and the step count from {@link
 * #deviceScalars} in device memory, never from a value fixed at launch, so that a replayed CUDA graph of
 * the step uses the current values. The host writes those scalars only when its own value changes
 * ({@link #setLr}, {@link #loadState}), with an ordinary launch, never a copy or a synchronisation; the
 * step count is advanced on the device by the update itself.
 */
public abstract class Optimizer implements AutoCloseable {
    private final List<Var> params;
    private final Map<String, Tensor> state = new LinkedHashMap<>();
    private double lr;
    private long steps;
    /** {@link #deviceScalars}' tensor (created with Sgd's or Adam's state, else on first use); not part of {@link #state()}. */
    private Tensor scalars;
    /** Whether {@link #scalars} holds {lr, steps + 1} (between steps) as far as the host knows. */
    private boolean scalarsCurrent;
    private boolean scalarsUsed;

    protected Optimizer(List<Var> params, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got " + lr);
        }
        for (Var p : params) {
            if (!p.requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": " + p + " does not require grad");
            }
        }
        this.params = List.copyOf(params);
        this.lr = lr;
    }

    /** Applies one update to every parameter that has a gradient (modifies the parameters). */
    public final void step() {
        steps++;
        scalarsUsed = false;
        try (Scope temporaries = Scope.open(); Grad.Mode off = Grad.noGrad()) {
            Tensor[] values = new Tensor[params.size()];
            Tensor[] grads = new Tensor[params.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = params.get(i).value();
                grads[i] = params.get(i).gradTensor();
            }
            updateAll(values, grads);
        } finally {
            if (!scalarsUsed) {
                scalarsCurrent = false; // this step did not advance the device's step count
            }
        }
    }

    /**
     * Updates every {@code params[i]} (the parameters' values, in order) whose {@code grads[i]} is not
     * null, in place; grads are not modified. This default calls {@link #update} per parameter; a subclass
     * overrides it to update all at once with a backend's whole-step kernel. Runs inside a scope that frees
     * the temporaries it creates, with recording off, after {@link #steps()} has counted this step.
     */
    protected void updateAll(Tensor[] params, Tensor[] grads) {
        for (int i = 0; i < params.length; i++) {
            if (grads[i] != null) {
                update(i, params[i], grads[i]);
            }
        }
    }

    /**
     * Updates {@code param} in place from {@code grad} (not modified). Runs inside a scope that frees
     * the temporaries it creates, with recording off.
     */
    protected abstract void update(int index, Tensor param, Tensor grad);

    /**
     * For {@link #updateAll}: the float64 tensor {@code {t, lr, 0, 0}} of {@link FusedKernel.OptimizerScalars}
     * on the parameters' device, t being this step ({@link #steps()}), for a whole-step kernel that reads lr
     * and t there (and advances t, as {@link FusedKernel#ADAM_ALL} does: a kernel that reads t must). Created
     * by {@link #prepareDeviceScalars} or the first call (freed by {@link #close()}); the host writes it only
     * when its values changed. Null, and nothing created, when the parameters are not all on one device with
     * one float dtype or that device's backend has no {@link FusedKernel#OPTIMIZER_SCALARS}: then update per
     * parameter.
     */
    protected final Tensor deviceScalars(Tensor[] params) {
        Optional<FusedKernel.OptimizerScalars> set = scalarsKernel(params);
        if (set.isEmpty()) {
            return null;
        }
        if (scalars == null || !scalars.device().equals(params[0].device())) {
            createScalars(params[0]);
        }
        if (!scalarsCurrent) {
            set.get().set(scalars, steps, lr);
            scalarsCurrent = true;
        }
        scalarsUsed = true;
        return scalars;
    }

    /**
     * Creates {@link #deviceScalars}' tensor now, where the parameters' backend has {@link
     * FusedKernel#OPTIMIZER_SCALARS} (else nothing): for a subclass's constructor, so that the optimizer's
     * persistent buffers all exist before the first step, as its state does.
     */
    protected final void prepareDeviceScalars() {
        Tensor[] values = params.stream().map(Var::value).toArray(Tensor[]::new);
        if (scalarsKernel(values).isPresent() && scalars == null) {
            createScalars(values[0]);
            writeScalars();
        }
    }

    private static Optional<FusedKernel.OptimizerScalars> scalarsKernel(Tensor[] params) {
        if (params.length == 0) {
            return Optional.empty();
        }
        Tensor first = params[0];
        for (Tensor p : params) {
            if (!p.device().equals(first.device()) || p.dtype() != first.dtype() || !p.dtype().isFloating()) {
                return Optional.empty();
            }
        }
        return first.backend().fused(FusedKernel.OPTIMIZER_SCALARS);
    }

    private void createScalars(Tensor like) {
        if (scalars != null) {
            scalars.close();
        }
        scalars = Tensor.on(like.device()).zeros(DType.FLOAT64, FusedKernel.OPTIMIZER_SCALARS_SIZE).keepForever();
        scalarsCurrent = false;
    }

    /** Writes {lr, steps + 1} into the device scalars, if there are any (an enqueued launch, no synchronisation). */
    private void writeScalars() {
        if (scalars != null) {
            scalars.backend().fused(FusedKernel.OPTIMIZER_SCALARS).orElseThrow().set(scalars, steps + 1, lr);
            scalarsCurrent = true;
        }
    }

    /**
     * A zero tensor shaped like {@code like} on its device that lives until {@link #close()}, saved by
     * {@link #state()} as {@code name} (unnamed state gets {@code "state.<n>"}).
     */
    protected final Tensor newState(Tensor like) {
        return newState("state." + state.size(), like);
    }

    /**
     * Same as {@link #newState(Tensor)}, saved as {@code name}; by convention {@code "<i>.<kind>"} for
     * parameter i, with PyTorch's kinds ({@code momentum_buffer}, {@code exp_avg}, {@code exp_avg_sq}).
     */
    protected final Tensor newState(String name, Tensor like) {
        if (state.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": state '" + name + "' exists already");
        }
        Tensor t = Tensor.on(like.device()).zeros(like.dtype(), like.shape()).keepForever();
        state.put(name, t);
        return t;
    }

    /**
     * The state by name (the live tensors, not copies: read them before the next {@link #step()}); with
     * {@link #steps()} everything {@link #loadState} needs. Empty for plain SGD.
     */
    public final Map<String, Tensor> state() {
        return Collections.unmodifiableMap(state);
    }

    /**
     * Restores what {@link #state()} and {@link #steps()} returned, in a fresh optimizer of the same kind
     * and settings over parameters of the same shapes: copies each saved tensor into this optimizer's state
     * (modifies it; the saved tensors are not kept) and sets the step count (Adam's bias correction
     * depends on it). The learning rate is not state: set it from the schedule.
     *
     * @throws IllegalArgumentException when the names differ (another optimizer, or other settings such
     *     as SGD with and without momentum) or a tensor's dtype or shape differs; nothing is modified then
     */
    public final void loadState(Map<String, Tensor> saved, long steps) {
        String me = getClass().getSimpleName();
        if (steps < 0) {
            throw new IllegalArgumentException(me + ".loadState: the step count must be >= 0, got " + steps);
        }
        if (!saved.keySet().equals(state.keySet())) {
            Set<String> missing = new TreeSet<>(state.keySet());
            missing.removeAll(saved.keySet());
            Set<String> extra = new TreeSet<>(saved.keySet());
            extra.removeAll(state.keySet());
            throw new IllegalArgumentException(me + ".loadState: the saved state does not fit this optimizer"
                    + (missing.isEmpty() ? "" : ": it lacks " + missing) + (extra.isEmpty() ? "" : ": it has unknown " + extra)
                    + " (saved by another optimizer, or with other settings such as momentum on or off?)");
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor mine = e.getValue();
            Tensor theirs = saved.get(e.getKey());
            if (theirs.dtype() != mine.dtype() || !Arrays.equals(theirs.shape(), mine.shape())) {
                throw new IllegalArgumentException(me + ".loadState: state '" + e.getKey() + "' is " + theirs.dtype()
                        + Arrays.toString(theirs.shape()) + ", this optimizer's is " + mine.dtype() + Arrays.toString(mine.shape())
                        + " (saved for parameters of other shapes)");
            }
        }
        try (Scope s = Scope.open()) {
            state.forEach((name, mine) -> mine.assign(saved.get(name).to(mine.device())));
        }
        this.steps = steps;
        writeScalars();
    }

    /** Frees every parameter's gradient (the next backward starts from zero). */
    public final void zeroGrad() {
        params.forEach(Var::zeroGrad);
    }

    public final double lr() {
        return lr;
    }

    /** Changes the learning rate (for schedules); a whole-step kernel's device copy is written only when it differs. */
    public final void setLr(double lr) {
        if (Double.doubleToLongBits(lr) != Double.doubleToLongBits(this.lr)) {
            this.lr = lr;
            writeScalars();
        }
    }

    /** Number of steps taken so far: {@link #step()} calls, or as set by {@link #overrideStepCount}. */
    public final long steps() {
        return steps;
    }

    /**
     * Sets {@link #steps()} and nothing else (not the parameters, the state or the device scalars): for
     * steps whose update ran on the device without {@link #step()}, the replays of a captured CUDA graph of
     * a training step, which advance the device's step count themselves; and to undo the count of a
     * step() that a capture recorded without running. Keeps the count checkpoints save exact.
     *
     * @throws IllegalArgumentException for a negative count
     */
    public final void overrideStepCount(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a step count must be >= 0, got " + steps);
        }
        this.steps = steps;
    }

    public final List<Var> params() {
        return params;
    }

    /** Frees the optimizer state and device scalars (not the parameters). Idempotent. */
    @Override
    public void close() {
        state.values().forEach(Tensor::close);
        state.clear();
        if (scalars != null) {
            scalars.close();
            scalars = null;
        }
    }
}
