package dev.wengert.models.cli;

import dev.wengert.tensor.Backends;
import dev.wengert.tensor.Device;

/**
 * The device a command runs on and why it was picked.
 *
 * @param device the device
 * @param reason one line for the user, e.g. "cpu (auto: CUDA unavailable: ...)"
 */
public record DeviceChoice(Device device, String reason) {

    /**
     * Resolves {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}. Auto takes cuda:0 when its backend
     * opens and is a real GPU (never the CUDA simulator), else the CPU, and says why.
     *
     * @throws IllegalStateException when an explicitly requested CUDA device cannot be used
     * @throws IllegalArgumentException for an unknown name
     */
    public static DeviceChoice choose(String option) {
        if (option.equalsIgnoreCase("auto")) {
            StringBuilder why = new StringBuilder();
            if (Backends.isAvailable(Device.cuda(0), why)) {
                if (!Backends.of(Device.cuda(0)).isSimulated()) {
                    return new DeviceChoice(Device.cuda(0), "cuda:0 (auto: CUDA is available)");
                }
                return new DeviceChoice(Device.CPU, "cpu (auto: cuda:0 is the CUDA simulator, which auto never picks;"
                        + " --device cuda runs on it)");
            }
            return new DeviceChoice(Device.CPU, "cpu (auto: CUDA unavailable: " + plain(why) + ")");
        }
        Device d = Device.parse(option);
        StringBuilder why = new StringBuilder();
        if (!Backends.isAvailable(d, why)) {
            throw new IllegalStateException("device " + d + " was requested but cannot be used: " + plain(why)
                    + "; use --device cpu or --device auto");
        }
        return new DeviceChoice(d, d + " (requested)");
    }

    /** The backend's reason without its advice to Java callers ("use Device.CPU instead"). */
    private static String plain(StringBuilder why) {
        return why.toString().replace("; use Device.CPU instead", "");
    }
}
