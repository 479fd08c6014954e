package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventQuery;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * Host-to-device copies of one backend without a host synchronisation: the Java array is copied into a
 * page-locked (pinned) staging buffer and from there by {@code cuMemcpyHtoDAsync} on a dedicated copy
 * stream, so the caller may reuse its array as soon as {@link #copy} returns and the copy overlaps the
 * kernels queued on the compute stream.
 *
 * <p>Ordering, with events and no host block: before writing device memory that the compute stream may
 * still use (the caching allocator hands out blocks its queued kernels touched), the copy stream waits for
 * an event recorded on the compute stream; {@link #orderComputeAfterCopies} makes the compute stream wait
 * for the copies' event before it uses the data.
 *
 * <p>Bound: a ring of at most {@link #RING} buffers of {@link #STAGING_BYTES} bytes (16 MiB of pinned memory
 * per backend), allocated on first use and freed by {@link #releaseBuffers} (the backend's releaseCache;
 * otherwise by the driver at process exit: backends live for the process). A buffer is reused only when
 * its last copy has completed ({@code cuEventQuery}, non-blocking); copies on one stream complete in
 * order, so when the oldest one in the ring is still busy the ring is exhausted and the host blocks on it
 * (counted by {@link #stagingWaits}; the logic is {@link StagingRing}). An upload larger than a buffer goes through the ring in chunks of
 * {@link #STAGING_BYTES}. Thread-safe: one upload at a time per backend.
 */
final class PinnedUploads {
    /** Bytes of one staging buffer; an upload larger than this is copied in chunks of this size. */
    static final int STAGING_BYTES = 4 << 20;
    /** Staging buffers at most: copies in flight before the host has to wait for one. */
    static final int RING = 4;

    /** A staging buffer and the event recorded after its latest copy. */
    private static final class Staging {
        final Pointer host = new Pointer();
        final ByteBuffer view;
        final CUevent copied = new CUevent();

        Staging(Device device) {
            Cu.check(cuMemAllocHost(host, STAGING_BYTES), "allocating a " + (STAGING_BYTES >> 20)
                    + " MiB page-locked staging buffer for uploads to " + device);
            view = host.getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
            Cu.check(cuEventCreate(copied, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate for an upload buffer of " + device);
        }

        void free(Device device) {
            Cu.check(cuEventDestroy(copied), "cuEventDestroy of an upload buffer's event on " + device);
            Cu.check(cuMemFreeHost(host), "cuMemFreeHost of an upload staging buffer of " + device);
        }
    }

    private final Device device;
    private final CUstream compute;
    private final CUstream copies = new CUstream();
    private final CUevent computeReached = new CUevent();
    private final CUevent copiesDone = new CUevent();
    private final StagingRing<Staging> ring;
    private boolean computeMustWait;

    /** Creates the copy stream and its events in the current context, which must be the backend's. */
    PinnedUploads(Device device, CUstream compute) {
        this.device = device;
        this.compute = compute;
        // blocking, like the compute stream: the synchronous copies on the legacy stream are ordered with it
        Cu.check(cuStreamCreate(copies, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate (upload stream) on " + device);
        Cu.check(cuEventCreate(computeReached, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate on " + device);
        Cu.check(cuEventCreate(copiesDone, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate on " + device);
        ring = new StagingRing<>(RING, () -> new Staging(device), this::copied,
                s -> Cu.check(cuEventSynchronize(s.copied), "waiting for an upload staging buffer of " + device));
    }

    /** Whether the staging buffer's last copy has completed; does not block. */
    private boolean copied(Staging s) {
        int r = cuEventQuery(s.copied);
        if (r == CUresult.CUDA_ERROR_NOT_READY) {
            return false;
        }
        Cu.check(r, "querying an upload staging buffer of " + device);
        return true;
    }

    /**
     * Queues the copy of {@code host} (a float[], double[] or long[] of {@code dtype} with at least
     * {@code numel} elements) into {@code dst}, after the compute stream's queued work. {@code host} is
     * read before this returns; {@code dst} holds the values once {@link #orderComputeAfterCopies} was
     * called (for the compute stream's later work). {@code what} names the upload for error messages.
     */
    synchronized void copy(Object host, DType dtype, int numel, CUdeviceptr dst, String what) {
        if (numel == 0) {
            return;
        }
        Cu.check(cuEventRecord(computeReached, compute), "recording the compute stream's position before " + what);
        Cu.check(cuStreamWaitEvent(copies, computeReached, 0), "ordering " + what + " after the queued kernels");
        int bytesPer = dtype.bytes();
        int chunk = STAGING_BYTES / bytesPer;
        for (int from = 0; from < numel; from += chunk) {
            int n = Math.min(chunk, numel - from);
            Staging s = ring.acquire();
            ByteBuffer b = s.view.clear();
            switch (dtype) {
                case FLOAT32 -> b.asFloatBuffer().put((float[]) host, from, n);
                case FLOAT64 -> b.asDoubleBuffer().put((double[]) host, from, n);
                case INT64 -> b.asLongBuffer().put((long[]) host, from, n);
            }
            Cu.check(cuMemcpyHtoDAsync(dst.withByteOffset((long) from * bytesPer), s.host, (long) n * bytesPer, copies),
                    what + " (" + n + " of " + numel + " elements from element " + from + ")");
            Cu.check(cuEventRecord(s.copied, copies), "recording the end of " + what);
        }
        Cu.check(cuEventRecord(copiesDone, copies), "recording the end of " + what);
        computeMustWait = true;
    }

    /** Makes the compute stream's later work wait for every copy queued so far; the host does not wait. */
    synchronized void orderComputeAfterCopies() {
        if (computeMustWait) {
            Cu.check(cuStreamWaitEvent(compute, copiesDone, 0), "ordering the kernels on " + device + " after the uploads");
            computeMustWait = false;
        }
    }

    /** Times an upload found every staging buffer busy and blocked the host until the oldest copy finished. */
    synchronized long stagingWaits() {
        return ring.waits();
    }

    /** Staging buffers allocated now (at most {@link #RING}). */
    synchronized int buffers() {
        return ring.size();
    }

    /**
     * Frees the staging buffers after their copies completed (blocking the host for those still running);
     * later uploads allocate them again. The copy stream and its events stay.
     */
    synchronized void releaseBuffers() {
        ring.release(s -> s.free(device));
    }
}
