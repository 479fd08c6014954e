package dev.wengert.tensor.cpu;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * Element access to an off-heap buffer as doubles, for the plain-Java kernels. Three final subclasses,
 * one per dtype, so the JIT can inline get/set at monomorphic and bimorphic call sites.
 */
abstract sealed class Buf permits Buf.F32, Buf.F64, Buf.I64 {

    abstract double get(int i);

    abstract void set(int i, double v);

    abstract int length();

    static final class F32 extends Buf {
        final FloatBuffer b;

        F32(FloatBuffer b) {
            this.b = b;
        }

        @Override
        double get(int i) {
            return b.get(i);
        }

        @Override
        void set(int i, double v) {
            b.put(i, (float) v);
        }

        @Override
        int length() {
            return b.capacity();
        }
    }

    static final class F64 extends Buf {
        final DoubleBuffer b;

        F64(DoubleBuffer b) {
            this.b = b;
        }

        @Override
        double get(int i) {
            return b.get(i);
        }

        @Override
        void set(int i, double v) {
            b.put(i, v);
        }

        @Override
        int length() {
            return b.capacity();
        }
    }

    /** int64 as doubles: exact below 2^53; integer arithmetic uses {@link #longs()} instead. */
    static final class I64 extends Buf {
        final LongBuffer b;

        I64(LongBuffer b) {
            this.b = b;
        }

        @Override
        double get(int i) {
            return b.get(i);
        }

        @Override
        void set(int i, double v) {
            b.put(i, (long) v);
        }

        @Override
        int length() {
            return b.capacity();
        }

        LongBuffer longs() {
            return b;
        }
    }
}
