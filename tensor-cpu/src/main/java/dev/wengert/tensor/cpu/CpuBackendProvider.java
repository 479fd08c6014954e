package dev.wengert.tensor.cpu;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.BackendProvider;
import dev.wengert.tensor.Device;
import java.util.Optional;

/** Service entry for the CPU backend; ND4J is touched only when {@link #open} runs. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public Device.Kind kind() {
        return Device.Kind.CPU;
    }

    @Override
    public Optional<Backend> open(Device device, StringBuilder whyNot) {
        return Optional.of(Nd4jKernels.init(new CpuBackend()));
    }
}
