package dev.wengert.tensor.cpu;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Element access to an off-heap ND4J buffer, the CPU backend's only use of {@code sun.misc.Unsafe}
 * (ArchitectureRules.UNSAFE_ONLY_IN_BUF). Reads and writes go straight to memory addresses (no NIO
 * bounds checks: the kernels compute every index from validated shapes). An instance reads and writes
 * its buffer's elements as doubles, for the kernels that are not worth a loop of their own; three final
 * subclasses, one per dtype, so call sites stay mono- or bimorphic. The static methods read and write
 * one element at an address, for the element kernels of {@link Loops}, and copy whole buffers.
 */
abstract sealed class Buf permits Buf.F32, Buf.F64, Buf.I64 {
    private static final Unsafe UNSAFE = unsafe();

    final long address;
    /** log2 of the element size in bytes. */
    private final int shift;

    Buf(long address, int shift) {
        this.address = address;
        this.shift = shift;
    }

    abstract double get(int i);

    abstract void set(int i, double v);

    /** The address of element i. */
    final long at(int i) {
        return address + ((long) i << shift);
    }

    /** A stride of n elements in bytes. */
    final long step(int n) {
        return (long) n << shift;
    }

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // ------------------------------------------------------------------ one element at an address

    static float getFloat(long address) {
        return UNSAFE.getFloat(address);
    }

    static void putFloat(long address, float v) {
        UNSAFE.putFloat(address, v);
    }

    static double getDouble(long address) {
        return UNSAFE.getDouble(address);
    }

    static void putDouble(long address, double v) {
        UNSAFE.putDouble(address, v);
    }

    static long getLong(long address) {
        return UNSAFE.getLong(address);
    }

    static void putLong(long address, long v) {
        UNSAFE.putLong(address, v);
    }

    static int getInt(long address) {
        return UNSAFE.getInt(address);
    }

    static void putInt(long address, int v) {
        UNSAFE.putInt(address, v);
    }

    // ------------------------------------------------------------------ bulk copies

    /** Copies {@code bytes} from the start of a float[], double[] or long[] to an address. */
    static void copyFromArray(Object array, long address, long bytes) {
        UNSAFE.copyMemory(array, arrayBase(array), null, address, bytes);
    }

    /** Copies {@code bytes} from an address to the start of a float[], double[] or long[]. */
    static void copyToArray(long address, Object array, long bytes) {
        UNSAFE.copyMemory(null, address, array, arrayBase(array), bytes);
    }

    /** Copies {@code bytes} between addresses (the ranges must not overlap). */
    static void copy(long from, long to, long bytes) {
        UNSAFE.copyMemory(from, to, bytes);
    }

    private static long arrayBase(Object array) {
        if (array instanceof float[]) {
            return Unsafe.ARRAY_FLOAT_BASE_OFFSET;
        } else if (array instanceof double[]) {
            return Unsafe.ARRAY_DOUBLE_BASE_OFFSET;
        } else if (array instanceof long[]) {
            return Unsafe.ARRAY_LONG_BASE_OFFSET;
        }
        throw new IllegalArgumentException("not a float[], double[] or long[]: " + array.getClass());
    }

    // ------------------------------------------------------------------ the three dtypes

    static final class F32 extends Buf {
        F32(long address) {
            super(address, 2);
        }

        @Override
        double get(int i) {
            return UNSAFE.getFloat(address + 4L * i);
        }

        @Override
        void set(int i, double v) {
            UNSAFE.putFloat(address + 4L * i, (float) v);
        }
    }

    static final class F64 extends Buf {
        F64(long address) {
            super(address, 3);
        }

        @Override
        double get(int i) {
            return UNSAFE.getDouble(address + 8L * i);
        }

        @Override
        void set(int i, double v) {
            UNSAFE.putDouble(address + 8L * i, v);
        }
    }

    /** int64 as doubles (exact below 2^53); integer arithmetic uses {@link #getLong}/{@link #setLong}. */
    static final class I64 extends Buf {
        I64(long address) {
            super(address, 3);
        }

        @Override
        double get(int i) {
            return UNSAFE.getLong(address + 8L * i);
        }

        @Override
        void set(int i, double v) {
            UNSAFE.putLong(address + 8L * i, (long) v);
        }

        long getLong(int i) {
            return UNSAFE.getLong(address + 8L * i);
        }

        void setLong(int i, long v) {
            UNSAFE.putLong(address + 8L * i, v);
        }
    }
}
