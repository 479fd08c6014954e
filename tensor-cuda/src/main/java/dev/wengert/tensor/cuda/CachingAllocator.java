package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuThreadExchangeStreamCaptureMode;

import dev.wengert.tensor.Device;
import dev.wengert.tensor.MemoryStats;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;

/**
 * Device memory for one backend. Freed blocks go to free lists keyed by (stream, size class) and are
 * handed out again without a driver call; cuMemAlloc runs only when a size class is empty. Reuse on
 * the freeing stream needs no event: the stream orders the next user after the previous one's queued
 * kernels. Size classes round up to 512 bytes and then to a quarter of the size's power of two, so at
 * most 25% is wasted and similar sizes share blocks. Thread-safe: tensors may be freed by the
 * Cleaner's thread, which never makes a driver call here.
 *
 * <p>During a graph capture ({@link #beginCapture}) allocations come from the capture's private
 * {@link Pool}, as PyTorch's allocator does: a replay writes the addresses recorded at capture, so no
 * block the graph uses may be handed to anyone else while the graph lives. Blocks freed during the
 * capture (whoever allocated them) join the pool; a pool block freed later returns to the pool. An empty
 * size class is served by cuMemAlloc under CU_STREAM_CAPTURE_MODE_RELAXED (a plain cuMemAlloc would
 * invalidate the capture). {@link #closePool} gives the pool's free blocks back to the driver.
 */
final class CachingAllocator {
    /** One cuMemAlloc'd block, tied to the stream it is used on, and to a capture's pool while one owns it. */
    static final class Block {
        private final CUdeviceptr ptr;
        private final long size;
        private final CUstream stream;
        private Pool pool; // guarded by the allocator

        Block(CUdeviceptr ptr, long size, CUstream stream) {
            this.ptr = ptr;
            this.size = size;
            this.stream = stream;
        }

        CUdeviceptr ptr() {
            return ptr;
        }

        long size() {
            return size;
        }

        CUstream stream() {
            return stream;
        }
    }

    /** A graph capture's private memory: the blocks its graph may touch, free ones kept for it alone. */
    static final class Pool {
        private final Map<Key, ArrayDeque<Block>> free = new HashMap<>();
        private long ownedBytes;
        private long driverAllocations;
        private boolean closed;

        /** Bytes of the blocks this pool owns (in use by tensors or free for it). */
        long ownedBytes() {
            return ownedBytes;
        }

        /** cuMemAlloc calls made for this pool (all during its capture). */
        long driverAllocations() {
            return driverAllocations;
        }
    }

    private record Key(CUstream stream, long size) {
    }

    private final Device device;
    private final Runnable synchronize;
    private final Map<Key, ArrayDeque<Block>> free = new HashMap<>();
    private Pool capturing; // the pool that serves allocations while a capture is under way
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
        Pool pool = capturing;
        ArrayDeque<Block> list = (pool != null ? pool.free : free).get(new Key(stream, size));
        Block b = list == null ? null : list.pollLast();
        if (b == null) {
            b = new Block(pool != null ? driverAllocRelaxed(size, bytes) : driverAlloc(size, bytes), size, stream);
            reserved += size;
            if (pool != null) {
                b.pool = pool;
                pool.ownedBytes += size;
                pool.driverAllocations++;
            }
        }
        liveBlocks++;
        allocated += size;
        peak = Math.max(peak, allocated);
        return b;
    }

    private CUdeviceptr driverAlloc(long size, long requested) {
        CUdeviceptr p = new CUdeviceptr();
        int r = cuMemAlloc(p, size);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY && capturing == null) { // releasing synchronises: not in a capture
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

    /** cuMemAlloc during a capture: this thread in CU_STREAM_CAPTURE_MODE_RELAXED for the call, as PyTorch does. */
    private CUdeviceptr driverAllocRelaxed(long size, long requested) {
        int[] mode = {CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED};
        Cu.check(cuThreadExchangeStreamCaptureMode(mode), "cuThreadExchangeStreamCaptureMode on " + device);
        try {
            return driverAlloc(size, requested);
        } finally {
            Cu.check(cuThreadExchangeStreamCaptureMode(mode), "cuThreadExchangeStreamCaptureMode on " + device);
        }
    }

    static String mib(long bytes) {
        return bytes < 0 ? "an unknown amount" : String.format("%.1f MiB", bytes / 1048576.0);
    }

    /**
     * Returns a block to its free list (no driver call): its pool's while a live pool owns it (a block
     * freed during a capture joins the capture's pool: the graph may use it), else the shared one.
     */
    synchronized void free(Block b) {
        liveBlocks--;
        allocated -= b.size();
        if (capturing != null && b.pool == null) {
            b.pool = capturing;
            capturing.ownedBytes += b.size();
        }
        Map<Key, ArrayDeque<Block>> lists = free;
        if (b.pool != null && !b.pool.closed) {
            lists = b.pool.free;
        } else {
            b.pool = null;
        }
        lists.computeIfAbsent(new Key(b.stream(), b.size()), k -> new ArrayDeque<>()).addLast(b);
    }

    /** Starts serving allocations from a new private pool (a graph capture is beginning). */
    synchronized Pool beginCapture() {
        if (capturing != null) {
            throw new IllegalStateException("a graph capture is already under way on " + device);
        }
        capturing = new Pool();
        return capturing;
    }

    /** Stops serving allocations from the capture's pool; the pool keeps its blocks until {@link #closePool}. */
    synchronized void endCapture() {
        capturing = null;
    }

    /**
     * The pool's graph is gone: its free blocks go back to the driver (after the device finished its
     * queued work), blocks still held by tensors return to the shared cache when freed.
     */
    synchronized void closePool(Pool pool) {
        if (pool.closed) {
            return;
        }
        pool.closed = true;
        if (capturing == pool) {
            capturing = null;
        }
        if (pool.free.isEmpty()) {
            return;
        }
        synchronize.run();
        for (ArrayDeque<Block> list : pool.free.values()) {
            for (Block b : list) {
                Cu.check(cuMemFree(b.ptr()), "cuMemFree of a graph pool's " + mib(b.size()) + " block on " + device);
                reserved -= b.size();
                pool.ownedBytes -= b.size();
                b.pool = null;
            }
        }
        pool.free.clear();
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
