package dev.wengert.models.nn;

import dev.wengert.autograd.Var;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Inverted dropout: in training mode zeroes each element with probability {@code p} and scales the rest
 * by 1/(1-p); in evaluation mode the identity. Masks come from {@code seed} and a call counter, so a run
 * is reproducible; the seed and the counter are saved and restored with {@link Module#randomState()}.
 */
public final class Dropout extends Module {
    private final double p;
    private long seed;
    private long calls;

    public Dropout(double p, long seed) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        this.p = p;
        this.seed = seed;
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

    @Override
    public Var forward(Var x) {
        return isTraining() ? apply(x, p, seed + 0x9E3779B97F4A7C15L * ++calls) : x;
    }

    /**
     * {@code seed} and {@code calls} (how many masks this layer has drawn): mask n is drawn from
     * seed + n * 0x9E3779B97F4A7C15.
     */
    @Override
    protected Map<String, Long> ownRandomState() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("seed", seed);
        m.put("calls", calls);
        return m;
    }

    @Override
    protected void loadOwnRandomState(Map<String, Long> state) {
        long c = state.get("calls");
        if (c < 0) {
            throw new IllegalArgumentException("Dropout: a mask count must be >= 0, got " + c);
        }
        seed = state.get("seed");
        calls = c;
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
