package dev.wengert.tensor;

import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the backend of a device through {@link ServiceLoader}. A backend family's native libraries are
 * loaded only when a device of that family is first asked for, so a CPU-only run never loads JCuda and
 * a CUDA run never loads ND4J.
 */
public final class Backends {
    private static final Map<Device, Backend> OPEN = new ConcurrentHashMap<>();

    private Backends() {
    }

    /**
     * The backend of {@code device}.
     *
     * @throws IllegalStateException saying why the device cannot be used
     */
    public static Backend of(Device device) {
        Backend b = OPEN.get(device);
        if (b != null) {
            return b;
        }
        synchronized (Backends.class) {
            b = OPEN.get(device);
            if (b != null) {
                return b;
            }
            StringBuilder why = new StringBuilder();
            Optional<Backend> opened = tryOpen(device, why);
            if (opened.isEmpty()) {
                throw new IllegalStateException("device " + device + " is not usable: " + why
                        + (device.kind() == Device.Kind.CPU ? "" : "; use Device.CPU instead"));
            }
            OPEN.put(device, opened.get());
            return opened.get();
        }
    }

    /** True when {@code device} can be used; {@code whyNot} receives the reason when it cannot. */
    public static boolean isAvailable(Device device, StringBuilder whyNot) {
        if (OPEN.containsKey(device)) {
            return true;
        }
        try {
            of(device);
            return true;
        } catch (IllegalStateException e) {
            whyNot.append(e.getMessage());
            return false;
        }
    }

    private static Optional<Backend> tryOpen(Device device, StringBuilder why) {
        boolean found = false;
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            if (p.kind() != device.kind()) {
                continue;
            }
            found = true;
            try {
                Optional<Backend> b = p.open(device, why);
                if (b.isPresent()) {
                    return b;
                }
            } catch (LinkageError | RuntimeException e) {
                why.append(p.getClass().getSimpleName()).append(" failed: ").append(e);
            }
        }
        if (!found) {
            why.append("no backend for ").append(device.kind()).append(" devices is on the class path (add the artifact dev.wengert:")
                    .append(device.kind() == Device.Kind.CPU ? "wengert-cpu" : "wengert-cuda").append(" to your dependencies)");
        }
        return Optional.empty();
    }
}
