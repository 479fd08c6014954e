package dev.wengert.tensor;

import java.util.Objects;

/**
 * Where a tensor's memory lives: the host ({@code cpu}) or a CUDA device ({@code cuda:N}).
 */
public record Device(Kind kind, int index) {

    /** Device families; each has one backend. */
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    private static volatile Device defaultDevice = CPU;

    public Device {
        Objects.requireNonNull(kind, "kind");
        if (index < 0 || (kind == Kind.CPU && index != 0)) {
            throw new IllegalArgumentException("invalid device index " + index + " for " + kind);
        }
    }

    /** The CUDA device with the given ordinal. */
    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /** Parses {@code cpu}, {@code cuda} (= cuda:0) or {@code cuda:N}. */
    public static Device parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + text + "': use cpu, cuda or cuda:N");
    }

    /** Device used by factory methods that do not name one; {@link #CPU} unless changed. */
    public static Device defaultDevice() {
        return defaultDevice;
    }

    /** Changes the device used by factory methods that do not name one (process-wide). */
    public static void setDefaultDevice(Device device) {
        defaultDevice = Objects.requireNonNull(device, "device");
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
