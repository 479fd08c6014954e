package dev.wengert.tensor;

import java.util.Optional;

/**
 * Service-loader entry for a backend family. Implementations must not touch their native libraries in
 * the constructor: a provider is instantiated only when its device kind is first used.
 */
public interface BackendProvider {

    /** The device family this provider serves. */
    Device.Kind kind();

    /**
     * The backend for a device of this kind, or empty with {@code whyNot} explaining (no driver, no such
     * device, ...). Called once per device; the result is cached.
     */
    Optional<Backend> open(Device device, StringBuilder whyNot);
}
