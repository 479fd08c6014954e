package dev.wengert.distributed;

import com.sun.jna.Memory;

/**
 * A flat host buffer of float32 or float64 elements in native memory, which MPI reads and writes directly (no
 * copy between the Java heap and the library). Made by {@link Communicator#hostBuffer}; freed by the garbage
 * collector with its {@link Memory}.
 */
public final class HostBuffer {
    private final Memory memory;
    private final int count;
    private final boolean float64;

    HostBuffer(int count, boolean float64) {
        if (count < 0) {
            throw new IllegalArgumentException("HostBuffer: count must be >= 0, got " + count);
        }
        this.count = count;
        this.float64 = float64;
        this.memory = new Memory(Math.max(1, (long) count * (float64 ? 8 : 4)));
    }

    public int count() {
        return count;
    }

    public boolean float64() {
        return float64;
    }

    Memory memory() {
        return memory;
    }

    /** Writes {@code values[i] * scale} to elements {@code offset ..}. */
    public void put(int offset, double[] values, double scale) {
        check(offset, values.length);
        if (float64) {
            double[] scaled = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                scaled[i] = values[i] * scale;
            }
            memory.write((long) offset * 8, scaled, 0, scaled.length);
        } else {
            float[] scaled = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                scaled[i] = (float) (values[i] * scale);
            }
            memory.write((long) offset * 4, scaled, 0, scaled.length);
        }
    }

    /** Writes {@code values[i] * scale} (rounded to float32 once) to elements {@code offset ..}. */
    public void put(int offset, float[] values, double scale) {
        check(offset, values.length);
        if (float64) {
            for (int i = 0; i < values.length; i++) {
                memory.setDouble((long) (offset + i) * 8, values[i] * scale);
            }
        } else if (scale == 1) {
            memory.write((long) offset * 4, values, 0, values.length);
        } else {
            float[] scaled = new float[values.length];      // one bulk write, not a native call per element
            for (int i = 0; i < values.length; i++) {
                scaled[i] = (float) (values[i] * scale);
            }
            memory.write((long) offset * 4, scaled, 0, scaled.length);
        }
    }

    /** Elements {@code offset .. offset + n} as float64. */
    public double[] getDoubles(int offset, int n) {
        check(offset, n);
        double[] out = new double[n];
        if (float64) {
            memory.read((long) offset * 8, out, 0, n);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = memory.getFloat((long) (offset + i) * 4);
            }
        }
        return out;
    }

    /** Elements {@code offset .. offset + n} as float32. */
    public float[] getFloats(int offset, int n) {
        check(offset, n);
        float[] out = new float[n];
        if (float64) {
            for (int i = 0; i < n; i++) {
                out[i] = (float) memory.getDouble((long) (offset + i) * 8);
            }
        } else {
            memory.read((long) offset * 4, out, 0, n);
        }
        return out;
    }

    private void check(int offset, int n) {
        if (offset < 0 || n < 0 || (long) offset + n > count) {
            throw new IndexOutOfBoundsException("HostBuffer: elements " + offset + ".." + ((long) offset + n) + " of " + count);
        }
    }
}
