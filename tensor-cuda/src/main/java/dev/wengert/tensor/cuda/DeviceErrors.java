package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemsetD8;

import dev.wengert.tensor.Device;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * The device-side error record ({@code struct Err} in common.cuh) that kernels fill on the first bad
 * index or integer division by zero. Kernels cannot throw and ops do not synchronise, so the record is
 * read at the next synchronising read, and only when an op that can fail ran since the last read.
 */
final class DeviceErrors {
    private static final int BYTES = 32;
    private final Device device;
    private final CUdeviceptr record = new CUdeviceptr();
    private volatile boolean pending;
    private volatile long expectations;

    /** Allocates and zeroes the record in the current context. */
    DeviceErrors(Device device) {
        this.device = device;
        Cu.check(cuMemAlloc(record, BYTES), "allocating the error record on " + device);
        Cu.check(cuMemsetD8(record, (byte) 0, BYTES), "clearing the error record on " + device);
    }

    CUdeviceptr ptr() {
        return record;
    }

    /**
     * Notes that a queued kernel may report an error. No device access: inside a graph capture the
     * record is read only at the first synchronisation after a replay ({@link CudaGraph#replay} calls this
     * again when its captured work called it).
     */
    void expect() {
        pending = true;
        expectations++;
    }

    /** How many times {@link #expect} was called: a capture compares it before and after its work. */
    long expectations() {
        return expectations;
    }

    /** After a stream synchronisation: throws (and clears) the recorded error, if any. */
    void throwIfAny() {
        if (!pending) {
            return;
        }
        pending = false;
        long[] r = new long[4];
        Cu.check(cuMemcpyDtoH(Pointer.to(r), record, BYTES), "reading the error record on " + device);
        int code = (int) r[0];
        if (code == 0) {
            return;
        }
        Cu.check(cuMemsetD8(record, (byte) 0, BYTES), "clearing the error record on " + device);
        throw toException(code, r[1], r[2], r[3]);
    }

    private RuntimeException toException(int code, long a, long b, long c) {
        String where = " (found on " + device + " by an asynchronous op; reported at this synchronising read)";
        if (code == 4 && b != 0) {          // the integer division of fmod (b = 1) or remainder (b = 2)
            return new ArithmeticException((b == 1 ? "fmod" : "remainder") + ": integer division by zero (dividend " + a + ")" + where);
        }
        return switch (code) {
            case 1 -> new IndexOutOfBoundsException("gather: index " + a + " is out of range [0, " + c + ") along axis " + b + where);
            case 2 -> new IndexOutOfBoundsException("scatterAdd: index " + a + " is out of range [0, " + c + ") along axis " + b + where);
            case 3 -> new IndexOutOfBoundsException("oneHot: label " + a + " at position " + b + " is outside [0, " + c + ")" + where);
            case 4 -> new ArithmeticException("div: integer division by zero (dividend " + a + ")" + where);
            case 5 -> new ArithmeticException("pow: negative integer exponent " + b + "; cast to a float type first" + where);
            case 6 -> new IndexOutOfBoundsException("softmaxCrossEntropy: label " + a + " of row " + b + " is outside [0, " + c + ")" + where);
            default -> new IllegalStateException("unknown device error code " + code + where);
        };
    }
}
