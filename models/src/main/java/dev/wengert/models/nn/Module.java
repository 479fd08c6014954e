package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A layer or a network: a differentiable function of one input with named parameters.
 *
 * <p>Parameters are {@link Var#param leaf variables} whose tensors belong to no scope
 * ({@code keepForever()}); the module owns them and {@link #close()} frees them and their
 * gradients. Subclasses register parameters with {@link #register}, buffers (persistent state that is
 * not trained, such as batch normalisation's running statistics) with {@link #registerBuffer} and
 * children with {@link #child}; names follow PyTorch's {@code state_dict} ({@code "0.weight"},
 * {@code "2.bias"}, {@code "1.running_mean"}).
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Var> ownParameters = new LinkedHashMap<>();
    private final Map<String, Tensor> ownBuffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Computes the output for {@code x}. Records on the autograd graph unless in {@code Grad.noGrad()}. */
    public abstract Var forward(Var x);

    /** Registers a parameter under {@code name}; returns it. For constructors of subclasses. */
    protected final Var register(String name, Var parameter) {
        if (!parameter.requiresGrad()) {
            throw new IllegalArgumentException("register: parameter '" + name + "' does not require grad; create it with Var.param");
        }
        if (isUsed(name)) {
            throw new IllegalArgumentException("register: the name '" + name + "' is already used");
        }
        ownParameters.put(name, parameter);
        parameter.named(name);
        return parameter;
    }

    /**
     * Registers a buffer under {@code name}: a tensor that is part of the module's state (saved in
     * checkpoints, restored on resume, closed by {@link #close()}) but is not a parameter (no gradient, not
     * updated by optimizers). Takes ownership: the tensor is detached from its scope ({@code keepForever}).
     * The module updates it in place ({@link Tensor#assign}), so holders of the tensor see the new values.
     * Returns it.
     */
    protected final Tensor registerBuffer(String name, Tensor buffer) {
        if (isUsed(name)) {
            throw new IllegalArgumentException("registerBuffer: the name '" + name + "' is already used");
        }
        ownBuffers.put(name, buffer.keepForever());
        return buffer;
    }

    private boolean isUsed(String name) {
        return ownParameters.containsKey(name) || ownBuffers.containsKey(name) || children.containsKey(name);
    }

    /** Registers a sub-module under {@code name}; returns it. */
    protected final <M extends Module> M child(String name, M module) {
        if (isUsed(name)) {
            throw new IllegalArgumentException("child: the name '" + name + "' is already used");
        }
        children.put(name, module);
        return module;
    }

    /** Every parameter by its dotted name, in registration order ({@code "0.weight"}, {@code "0.bias"}, ...). */
    public final Map<String, Var> namedParameters() {
        Map<String, Var> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Var> out) {
        ownParameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /**
     * Every buffer by its dotted name, in registration order ({@code "1.running_mean"},
     * {@code "1.running_var"}, {@code "1.num_batches_tracked"}, ...); empty when no module has state
     * besides its parameters. The tensors themselves, not copies: {@link Tensor#assign} restores them.
     */
    public final Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collectBuffers(String prefix, Map<String, Tensor> out) {
        ownBuffers.forEach((n, b) -> out.put(prefix + n, b));
        children.forEach((n, m) -> m.collectBuffers(prefix + n + ".", out));
    }

    /** Every parameter, in the order of {@link #namedParameters()}. */
    public final List<Var> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Total number of scalar parameters. */
    public final long parameterCount() {
        long n = 0;
        for (Var p : parameters()) {
            n += p.value().numel();
        }
        return n;
    }

    /**
     * The random state of this module and its children by dotted name (a {@link Dropout} at index 1 of a
     * {@link Sequential} gives {@code "1.seed"} and {@code "1.calls"}), in registration order; empty when
     * nothing draws random numbers. Parameters are drawn from explicit seeds when a module is built, so this
     * is what draws while training: a checkpoint saves it, and {@link #loadRandomState} makes a resumed run
     * draw the numbers the uninterrupted run would have drawn.
     */
    public final Map<String, Long> randomState() {
        Map<String, Long> out = new LinkedHashMap<>();
        collectRandomState("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collectRandomState(String prefix, Map<String, Long> out) {
        ownRandomState().forEach((n, v) -> out.put(prefix + n, v));
        children.forEach((n, m) -> m.collectRandomState(prefix + n + ".", out));
    }

    /**
     * Restores what {@link #randomState()} returned (modifies the modules that draw random numbers).
     *
     * @throws IllegalArgumentException when the names differ from this module's (another architecture);
     *     nothing is modified then
     */
    public final void loadRandomState(Map<String, Long> state) {
        Map<String, Long> mine = randomState();
        if (!mine.keySet().equals(state.keySet())) {
            throw new IllegalArgumentException("loadRandomState: the saved random state " + new TreeSet<>(state.keySet())
                    + " does not match this model's " + new TreeSet<>(mine.keySet())
                    + " (it was saved from a model with other random layers, e.g. a different Dropout placement)");
        }
        distributeRandomState("", state);
    }

    private void distributeRandomState(String prefix, Map<String, Long> state) {
        Map<String, Long> own = new LinkedHashMap<>();
        for (String n : ownRandomState().keySet()) {
            own.put(n, state.get(prefix + n));
        }
        if (!own.isEmpty()) {
            loadOwnRandomState(own);
        }
        children.forEach((n, m) -> m.distributeRandomState(prefix + n + ".", state));
    }

    /** This module's own random state by plain name (not its children's); none by default. */
    protected Map<String, Long> ownRandomState() {
        return Map.of();
    }

    /** Restores {@link #ownRandomState()}; called with exactly its names. */
    protected void loadOwnRandomState(Map<String, Long> state) {
    }

    /**
     * True when every random number this module and its children draw while training comes from state kept
     * in device memory and advanced there (a {@link Dropout} created for a CUDA device), or nothing draws: a
     * captured CUDA graph's replays then draw new numbers and keep the {@link #randomState()} exact. False when
     * some module draws from a counter on the host, which a graph would freeze (the trainer then runs eagerly).
     */
    public final boolean drawsOnDevice() {
        if (!ownDrawsOnDevice()) {
            return false;
        }
        for (Module m : children.values()) {
            if (!m.drawsOnDevice()) {
                return false;
            }
        }
        return true;
    }

    /**
     * This module's own part of {@link #drawsOnDevice()} (not its children's): by default true only when it has
     * no random state; a module that keeps its random state on the device overrides this.
     */
    protected boolean ownDrawsOnDevice() {
        return ownRandomState().isEmpty();
    }

    /** Sets training (true) or evaluation (false) mode on this module and all children. Returns this. */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(m -> m.train(on));
        return this;
    }

    /** Same as {@code train(false)}. */
    public final Module eval() {
        return train(false);
    }

    /** True in training mode (the default): dropout is active, batch normalisation uses and updates batch statistics. */
    public final boolean isTraining() {
        return training;
    }

    /** Frees every parameter's gradient. */
    public final void zeroGrad() {
        parameters().forEach(Var::zeroGrad);
    }

    /**
     * Frees the parameters, their gradients, the buffers and what the modules hold besides ({@link
     * #closeOwnState}; modifies: closes every parameter and buffer tensor). Idempotent.
     */
    @Override
    public void close() {
        for (Var p : parameters()) {
            p.zeroGrad();
            p.value().close();
        }
        namedBuffers().values().forEach(Tensor::close);
        closeStates();
    }

    private void closeStates() {
        closeOwnState();
        children.values().forEach(Module::closeStates);
    }

    /**
     * Frees what this module owns besides parameters (a {@link Dropout}'s device-side random state); called by
     * {@link #close()} of the module and of every module above it. Idempotent. Nothing by default.
     */
    protected void closeOwnState() {
    }

    /** The class name and its children, one per line, e.g. {@code Linear(784 -> 10)}. */
    @Override
    public String toString() {
        if (children.isEmpty()) {
            return getClass().getSimpleName() + "()";
        }
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append("(\n");
        children.forEach((n, m) -> sb.append("  (").append(n).append("): ")
                .append(m.toString().replace("\n", "\n  ")).append('\n'));
        return sb.append(')').toString();
    }
}
