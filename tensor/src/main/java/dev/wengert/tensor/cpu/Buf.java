package dev.wengert.tensor.cpu;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Element access to an off-heap ND4J buffer as doubles, for the plain-Java kernels, and the CPU backend's
 * only use of {@code sun.misc.Unsafe} (ArchitectureRules.UNSAFE_ONLY_IN_BUF). Reads and writes go straight
 * to the buffer's address (no NIO bounds checks: the kernels compute every index from validated shapes).
 * Three final subclasses, one per dtype, so call sites stay mono- or bimorphic.
 */
abstract sealed class Buf permits Buf.F32, Buf.F64, Buf.I64 {
    private static final Unsafe UNSAFE = unsafe();

    final long address;

    Buf(long address) {
        this.address = address;
    }

    abstract double get(int i);

    abstract void set(int i, double v);

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

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

    static final class F32 extends Buf {
        F32(long address) {
            super(address);
        }

        @Override
        double get(int i) {
            return UNSAFE.getFloat(address + 4L * i);
        }

        @Override
        void set(int i, double v) {
            UNSAFE.putFloat(address + 4L * i, (float) v);
        }

        float getFloat(int i) {
            return UNSAFE.getFloat(address + 4L * i);
        }

        void setFloat(int i, float v) {
            UNSAFE.putFloat(address + 4L * i, v);
        }
    }

    static final class F64 extends Buf {
        F64(long address) {
            super(address);
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
            super(address);
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
