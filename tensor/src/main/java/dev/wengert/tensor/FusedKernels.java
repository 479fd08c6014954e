package dev.wengert.tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A backend's table of fused kernels: the implementation registered for each {@link FusedKernel} it
 * accelerates. Immutable: {@link #with} returns a new table, so a backend builds its table once (a static
 * constant) and shares it between threads.
 */
public final class FusedKernels {
    /** The table of a backend that accelerates nothing. */
    public static final FusedKernels NONE = new FusedKernels(Map.of());

    private final Map<FusedKernel<?>, Object> kernels;

    private FusedKernels(Map<FusedKernel<?>, Object> kernels) {
        this.kernels = kernels;
    }

    /** This table plus {@code kernel} as the implementation of {@code key} (replacing one already there). */
    public <F> FusedKernels with(FusedKernel<F> key, F kernel) {
        Map<FusedKernel<?>, Object> m = new LinkedHashMap<>(kernels);
        m.put(key, key.type().cast(java.util.Objects.requireNonNull(kernel, key.name())));
        return new FusedKernels(Collections.unmodifiableMap(m));
    }

    /** The implementation registered for {@code key}, or empty. */
    public <F> Optional<F> get(FusedKernel<F> key) {
        Object k = kernels.get(key);
        return k == null ? Optional.empty() : Optional.of(key.type().cast(k));
    }

    /** The kernels registered, in registration order. */
    public Set<FusedKernel<?>> keys() {
        return kernels.keySet();
    }

    @Override
    public String toString() {
        return kernels.keySet().toString();
    }
}
