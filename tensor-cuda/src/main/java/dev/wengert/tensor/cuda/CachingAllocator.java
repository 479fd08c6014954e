package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import dev.wengert.tensor.Device;
import dev.wengert.tensor.MemoryStats;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * Device memory for one backend. Freed blocks go to free lists keyed by (stream, size class) and are
 * handed out again without a driver call; cuMemAlloc runs only when a size class is empty. Reuse on
 * the freeing stream needs no event: the stream orders the next user after the previous one's queued
 * kernels. Size classes round up to 512 bytes and then to a quarter of the size's power of two, so at
 * most 25% is wasted and similar sizes share blocks. Thread-safe: tensors may be freed by the
 * Cleaner's thread, which never makes a driver call here.
 */
final class CachingAllocator {
    /** One cuMemAlloc'd block, tied to the stream it is used on. */
    record Block(CUdeviceptr ptr, long size, CUstream stream) {
    }

    private record Key(CUstream stream, long size) {
    }

    private final Device device;
    private final Runnable synchronize;
    private final Map<Key, ArrayDeque<Block>> free = new HashMap<>();
    private long liveBlocks;
    private long allocated;
    private long reserved;
    private long peak;

    /**
     * @param synchronize waits for the device's queued work; called before cached blocks are returned
     *                    to the driver (a queued kernel may still use them)
     */
    CachingAllocator(Device device, Runnable synchronize) {
        this.device = device;
        this.synchronize = synchronize;
    }

    static long sizeClass(long bytes) {
        if (bytes <= 512) {
            return 512;
        }
        long step = Math.max(512, Long.highestOneBit(bytes - 1) / 4);
        return (bytes + step - 1) / step * step;
    }

    /** A block of at least {@code bytes} for use on {@code stream}; the current context must be this device's. */
    synchronized Block allocate(long bytes, CUstream stream) {
        long size = sizeClass(bytes);
        ArrayDeque<Block> list = free.get(new Key(stream, size));
        Block b = list == null ? null : list.pollLast();
        if (b == null) {
            b = new Block(driverAlloc(size, bytes), size, stream);
            reserved += size;
        }
        liveBlocks++;
        allocated += size;
        peak = Math.max(peak, allocated);
        return b;
    }

    private CUdeviceptr driverAlloc(long size, long requested) {
        CUdeviceptr p = new CUdeviceptr();
        int r = cuMemAlloc(p, size);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            releaseCache();
            r = cuMemAlloc(p, size);
        }
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            long[] freeBytes = {-1};
            long[] total = {-1};
            if (cuMemGetInfo(freeBytes, total) != CUresult.CUDA_SUCCESS) {
                freeBytes[0] = -1; // mib() prints "unknown"
                total[0] = -1;
            }
            throw new DeviceOutOfMemoryException(String.format(
                    "%s out of memory: requested %s (block %s); tensors hold %s, this backend reserves %s "
                            + "(its cache was released and the allocation retried); the device has %s free of %s. "
                            + "Close tensors you no longer need (use a Scope per step) or reduce the batch size.",
                    device, mib(requested), mib(size), mib(allocated), mib(reserved), mib(freeBytes[0]), mib(total[0])));
        }
        Cu.check(r, "cuMemAlloc of " + mib(size) + " on " + device);
        return p;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "an unknown amount" : String.format("%.1f MiB", bytes / 1048576.0);
    }

    /** Returns a block to its free list (no driver call). */
    synchronized void free(Block b) {
        liveBlocks--;
        allocated -= b.size();
        free.computeIfAbsent(new Key(b.stream(), b.size()), k -> new ArrayDeque<>()).addLast(b);
    }

    /** Gives every cached block back to the driver (after the device finished its queued work). */
    synchronized void releaseCache() {
        synchronize.run();
        for (ArrayDeque<Block> list : free.values()) {
            for (Block b : list) {
                Cu.check(cuMemFree(b.ptr()), "cuMemFree of a cached " + mib(b.size()) + " block on " + device);
                reserved -= b.size();
            }
        }
        free.clear();
    }

    synchronized MemoryStats stats() {
        return new MemoryStats(liveBlocks, allocated, reserved, peak);
    }

    synchronized void resetPeak() {
        peak = allocated;
    }
}
