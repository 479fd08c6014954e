package dev.wengert.models.cli;

import dev.wengert.tensor.Backends;
import dev.wengert.tensor.Device;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The device a command runs on and why it was picked.
 *
 * @param device the device
 * @param reason one short line for the user, e.g. "cpu (auto: CUDA unavailable: no NVIDIA driver ...)"
 */
public record DeviceChoice(Device device, String reason) {

    /** The --device option's help, the same in every command. */
    static final String HELP = "where to compute: auto (cuda:0 when CUDA is usable, else cpu), cpu, cuda or cuda:N"
            + " (default: " + Defaults.DEVICE + ")";

    private static final Pattern NAME = Pattern.compile("auto|cpu|cuda(:\\d{1,4})?");

    /** The --device value in lower case, or an IllegalArgumentException saying what is accepted. */
    static String checkName(String option) {
        String d = option.trim().toLowerCase(Locale.ROOT);
        if (!NAME.matcher(d).matches()) {
            throw new IllegalArgumentException("--device must be auto, cpu, cuda or cuda:N, got '" + option + "'");
        }
        return d;
    }

    /**
     * Resolves {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}. Auto takes cuda:0 when its backend
     * opens and is a real GPU (never the CUDA simulator), else the CPU, and says why.
     *
     * @throws IllegalStateException when an explicitly requested CUDA device cannot be used
     * @throws IllegalArgumentException for an unknown name
     */
    public static DeviceChoice choose(String option) {
        String name = checkName(option);
        if (name.equals("auto")) {
            StringBuilder why = new StringBuilder();
            if (Backends.isAvailable(Device.cuda(0), why)) {
                if (!Backends.of(Device.cuda(0)).isSimulated()) {
                    return new DeviceChoice(Device.cuda(0), "cuda:0 (auto: CUDA is available)");
                }
                return new DeviceChoice(Device.CPU, "cpu (auto never picks the CUDA simulator; --device cuda runs on it)");
            }
            return new DeviceChoice(Device.CPU, "cpu (auto: CUDA unavailable: " + brief(why.toString(), Device.cuda(0)) + ")");
        }
        Device d = Device.parse(name);
        StringBuilder why = new StringBuilder();
        if (!Backends.isAvailable(d, why)) {
            throw new IllegalStateException("device " + d + " was requested but cannot be used: " + brief(why.toString(), d)
                    + "; use --device cpu or --device auto");
        }
        return new DeviceChoice(d, d + " (requested)");
    }

    /**
     * The backend's reason, short: without the repeated "device cuda:0 is not usable", its advice to Java
     * callers, and the Java error in parentheses that names a temporary copy of the native library.
     */
    static String brief(String why, Device d) {
        String s = why.replace("; use Device.CPU instead", "")
                .replace("device " + d + " is not usable: ", "")
                .replaceAll(" ?\\((?:[\\w.$]+(?:Error|Exception)): [^()]*(?:\\([^()]*\\)[^()]*)*\\)", "")
                .replaceAll("/tmp/\\S+?\\.so:? ?", "")
                .strip();
        if (s.startsWith("the NVIDIA driver library could not be loaded")) {
            return "no NVIDIA driver (libcuda.so.1 is not on the library path)";
        }
        return s;
    }
}
