package dev.wengert.tensor;

import java.util.Objects;

/**
 * Where a tensor's memory lives: the host ({@code cpu}) or a CUDA device ({@code cuda:N}).
 */
public record Device(Kind kind, int index) {

    /** Device families; each has one backend. */
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

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

    /**
     * The device of the factory methods that do not name one ({@code Tensor.zeros(...)}, {@code Tensor.of(...)}):
     * always {@link #CPU}. There is no process-wide setter: code that works on another device names it,
     * {@code Tensor.on(device).zeros(...)}, or derives it from a tensor it has ({@code t.device()}).
     */
    public static Device defaultDevice() {
        return CPU;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
