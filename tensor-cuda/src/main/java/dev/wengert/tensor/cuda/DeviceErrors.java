package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD8;

import dev.wengert.tensor.Device;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * The device-side error record ({@code struct Err} in common.cuh) that kernels fill on the first bad
 * index or integer division by zero. Kernels cannot throw and ops do not synchronise, so the record is
 * sticky: it keeps the first error until the host reads it, and the host reads it only where it reads
 * something anyway. Before each synchronising read (a download, {@code synchronize}), and only when an op
 * that can fail ran since the last read, {@link #queueRead} queues an asynchronous copy of the record
 * into page-locked host memory on the compute stream; the read's own host synchronisation completes it,
 * and {@link #throwIfRecorded} then throws before the read's result leaves. No extra synchronisation
 * for the record. Thread-safe.
 */
final class DeviceErrors {
    private static final int BYTES = 32;
    private final Device device;
    private final CUdeviceptr record = new CUdeviceptr();
    /** Page-locked copy of the record (the driver frees it with the context at process exit). */
    private final Pointer hostRecord = new Pointer();
    private final LongBuffer hostView;
    private boolean pending;
    private boolean queued;
    private long expectations;

    /** Allocates and zeroes the record, and its page-locked host copy, in the current context. */
    DeviceErrors(Device device) {
        this.device = device;
        Cu.check(cuMemAlloc(record, BYTES), "allocating the error record on " + device);
        Cu.check(cuMemsetD8(record, (byte) 0, BYTES), "clearing the error record on " + device);
        Cu.check(cuMemAllocHost(hostRecord, BYTES), "allocating page-locked host memory for the error record of " + device);
        hostView = hostRecord.getByteBuffer(0, BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    CUdeviceptr ptr() {
        return record;
    }

    /**
     * Notes that a queued kernel may report an error. No device access: inside a graph capture the
     * record is read only at the first synchronisation after a replay ({@link CudaGraph#replay} calls this
     * again when its captured work called it).
     */
    synchronized void expect() {
        pending = true;
        expectations++;
    }

    /** How many times {@link #expect} was called: a capture compares it before and after its work. */
    synchronized long expectations() {
        return expectations;
    }

    /**
     * Before a host synchronisation on {@code stream} (or a synchronous copy, which waits for it): when an
     * op that can fail was queued since the last read, queues the copy of the record to the host.
     */
    synchronized void queueRead(CUstream stream) {
        if (!pending) {
            return;
        }
        pending = false;
        queued = true;
        Cu.check(cuMemcpyDtoHAsync(hostRecord, record, BYTES, stream), "queueing the read of the error record on " + device);
    }

    /**
     * After the host synchronisation that followed {@link #queueRead}: throws (and clears) the recorded
     * error, if any; does nothing when no read was queued.
     */
    synchronized void throwIfRecorded() {
        if (!queued) {
            return;
        }
        queued = false;
        int code = (int) hostView.get(0);
        if (code == 0) {
            return;
        }
        RuntimeException e = toException(code, hostView.get(1), hostView.get(2), hostView.get(3));
        for (int i = 0; i < 4; i++) {
            hostView.put(i, 0);
        }
        // the error path only: a synchronous clear (on the legacy stream, ordered after the compute stream)
        Cu.check(cuMemsetD8(record, (byte) 0, BYTES), "clearing the error record on " + device);
        throw e;
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
