package dev.wengert.tensor.cuda;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.BackendProvider;
import dev.wengert.tensor.Device;
import java.util.Optional;

/** Service entry for CUDA devices; JCuda is loaded only when {@link #open} runs. */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public Device.Kind kind() {
        return Device.Kind.CUDA;
    }

    @Override
    public Optional<Backend> open(Device device, StringBuilder whyNot) {
        return CudaDetection.open(device, whyNot);
    }
}
