package dev.wengert.tensor.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * A kernel's argument list, built with explicit widths so that every value matches its C parameter
 * ({@code int} = i32, {@code long long} = i64, pointers, and the {@link Geo} struct passed by value).
 */
final class Args {
    private final List<NativePointerObject> params = new ArrayList<>(12);

    Args ptr(CUdeviceptr p) {
        params.add(Pointer.to(p));
        return this;
    }

    Args i32(int v) {
        params.add(Pointer.to(new int[] {v}));
        return this;
    }

    Args i64(long v) {
        params.add(Pointer.to(new long[] {v}));
        return this;
    }

    Args f64(double v) {
        params.add(Pointer.to(new double[] {v}));
        return this;
    }

    /** A scalar of a kernel's element type T (float, double or long long). */
    Args scalar(dev.wengert.tensor.DType dtype, double v) {
        switch (dtype) {
            case FLOAT32 -> params.add(Pointer.to(new float[] {(float) v}));
            case FLOAT64 -> params.add(Pointer.to(new double[] {v}));
            case INT64 -> params.add(Pointer.to(new long[] {(long) v}));
        }
        return this;
    }

    /** The Geo struct by value (41 ints). */
    Args geo(Geo g) {
        params.add(Pointer.to(g.packed()));
        return this;
    }

    /** A struct by value, packed as little-endian 8-byte words (optim.cuh's MtList). */
    Args struct(long[] words) {
        params.add(Pointer.to(words));
        return this;
    }

    Pointer pointer() {
        return Pointer.to(params.toArray(new NativePointerObject[0]));
    }
}
