package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Inverted dropout: in training mode zeroes each element with probability {@code p} and scales the rest
 * by 1/(1-p); in evaluation mode the identity. Masks come from {@code seed} and a call counter, so a run
 * is reproducible; the seed and the counter are saved and restored with {@link Module#randomState()}.
 *
 * <p>Mask n is drawn from seed + n * 0x9E3779B97F4A7C15 wherever it is drawn. Created with a device whose
 * backend has the {@link FusedKernel#DROPOUT_MASK} kernel (CUDA), the layer keeps {seed, calls} in a small
 * int64 tensor there and draws each mask in one launch that also advances the counter, so a captured CUDA
 * graph's replays draw new masks ({@link #drawsOnDevice()}); the masks are the same numbers as the host's.
 * Otherwise (the CPU, or {@link #Dropout(double, long)}) the counter lives on the host.
 */
public final class Dropout extends Module {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final double p;
    private long seed;
    /** Masks drawn; while {@link #state} exists, its copy on the device is the current one. */
    private long calls;
    /** {seed, calls, ticket} on the device (FusedKernel.DropoutMask's state), or null: drawn on the host. */
    private Tensor state;

    /** A layer that keeps its counter on the host: it draws on any device, but a CUDA graph cannot replay it. */
    public Dropout(double p, long seed) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        this.p = p;
        this.seed = seed;
    }

    /**
     * A layer for inputs on {@code device}: where its backend has the {@link FusedKernel#DROPOUT_MASK} kernel
     * (and p > 0) the seed and counter live in device memory there, freed by {@link #close()}, and inputs must
     * be on that device; elsewhere the same as {@link #Dropout(double, long)}.
     */
    public Dropout(double p, long seed, Device device) {
        this(p, seed);
        if (p > 0 && Backends.of(device).fused(FusedKernel.DROPOUT_MASK).isPresent()) {
            state = Tensor.on(device).of(new long[] {seed, 0, 0}).keepForever();
        }
    }

    /** x * mask, where mask is 0 with probability p and 1/(1-p) otherwise, drawn from {@code seed}. */
    public static Var apply(Var x, double p, long seed) {
        if (p == 0) {
            return x;
        }
        Tensor u = Tensor.on(x.value().device()).rand(seed, x.dtype(), x.shape());
        Tensor mask = u.apply(BinaryOp.GE, p);
        u.close();
        return x.mul(Var.constant(mask.applyInPlace(BinaryOp.MUL, 1.0 / (1 - p))));
    }

    /** The identity in evaluation mode and for p = 0 (which draws and counts no mask); else x times the next mask. */
    @Override
    public Var forward(Var x) {
        if (!isTraining() || p == 0) {
            return x;
        }
        if (state == null) {
            return apply(x, p, seed + GOLDEN * ++calls);
        }
        if (!x.value().device().equals(state.device())) {
            throw new IllegalArgumentException(this + ": input " + x.value().describe() + " is not on " + state.device()
                    + ", where this layer's random state lives (it was created for that device); move the input there"
                    + " or create the layer for " + x.value().device());
        }
        Backend backend = state.backend();
        Optional<FusedKernel.DropoutMask> kernel = backend.fused(FusedKernel.DROPOUT_MASK);
        Tensor mask = Tensor.on(state.device()).empty(x.dtype(), x.shape());
        kernel.orElseThrow().draw(state, p, mask);
        return x.mul(Var.constant(mask));
    }

    /**
     * True when this layer's masks are drawn on the device from its device-side counter (or it draws none,
     * p = 0), so a captured graph's replays draw new ones; false when the counter lives on the host.
     */
    @Override
    protected boolean ownDrawsOnDevice() {
        return state != null || p == 0;
    }

    /**
     * {@code seed} and {@code calls} (how many masks this layer has drawn): mask n is drawn from
     * seed + n * 0x9E3779B97F4A7C15. With the counter on the device this reads it back (a synchronisation:
     * for checkpoints, not per step).
     */
    @Override
    protected Map<String, Long> ownRandomState() {
        if (state != null) {
            calls = state.toLongArray()[1];
        }
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("seed", seed);
        m.put("calls", calls);
        return m;
    }

    /** Restores seed and calls; on the device as an enqueued write (no synchronisation). */
    @Override
    protected void loadOwnRandomState(Map<String, Long> state) {
        long c = state.get("calls");
        if (c < 0) {
            throw new IllegalArgumentException("Dropout: a mask count must be >= 0, got " + c);
        }
        seed = state.get("seed");
        calls = c;
        if (this.state != null) {
            this.state.backend().upload(new long[] {seed, calls, 0}, this.state);
        }
    }

    /** Frees the device-side random state (after which the layer neither draws nor reports its state). */
    @Override
    protected void closeOwnState() {
        if (state != null) {
            state.close();
        }
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
