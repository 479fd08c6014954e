package dev.wengert.tensor.cpu;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.MemoryStats;
import dev.wengert.tensor.OutOfMemoryException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Caches freed off-heap buffers by (dtype, length) for reuse: ND4J allocation zero-fills and page-faults
 * (about 13 ms for 4 MB), so a training loop that frees and re-allocates the same shapes every step
 * must not pay it. Cached bytes are capped ({@code wengert.cpu.cacheBytes}, default 4 GiB: a step of the
 * 4096-wide MLP at batch 4096 frees 2 GB, and re-allocating that every step cost 30% of the step);
 * beyond the cap buffers are closed. {@link CpuBackend#releaseCache()} empties the cache. Thread-safe: the Cleaner thread may return buffers;
 * a new buffer is allocated outside the lock.
 *
 * <p>When an allocation fails (JavaCPP's {@code OutOfMemoryError}: with {@code -Dorg.bytedeco.javacpp.maxphysicalbytes}
 * the process's resident memory is checked at every native allocation, including the shape buffer of each new
 * ND4J array), the pool releases its cache and retries once, as the CUDA allocator does; if that fails too it
 * throws {@link OutOfMemoryException} naming the request, what tensors hold and what was cached, and the limits.
 * Note that {@code -Dorg.bytedeco.javacpp.maxbytes} does not bound tensors: ND4J allocates its data buffers
 * natively, outside JavaCPP's count ({@code Pointer.totalBytes()} stays near zero).
 */
final class BufferPool {
    private final Map<Long, ArrayDeque<CpuStorage.Memory>> free = new HashMap<>();
    private final long capBytes = Long.getLong("wengert.cpu.cacheBytes", 4L << 30);
    private long cachedBytes;
    private long liveBuffers;
    private long liveBytes;
    private long peakBytes;

    CpuStorage take(DType dtype, int numel) {
        CpuStorage.Memory m = cached(dtype, numel);
        if (m == null) {
            m = allocate(dtype, numel);
        }
        synchronized (this) {
            liveBuffers++;
            liveBytes += m.bytes();
            peakBytes = Math.max(peakBytes, liveBytes);
        }
        return new CpuStorage(m, this);
    }

    private synchronized CpuStorage.Memory cached(DType dtype, int numel) {
        ArrayDeque<CpuStorage.Memory> q = free.get(key(dtype, numel));
        CpuStorage.Memory m = q == null ? null : q.poll();
        if (m != null) {
            cachedBytes -= m.bytes();
        }
        return m;
    }

    /** A new buffer; on failure the cache is released and the allocation retried once (outside the lock). */
    private CpuStorage.Memory allocate(DType dtype, int numel) {
        try {
            return newMemory(dtype, numel);
        } catch (OutOfMemoryError first) {
            if (isHeap(first)) {
                throw first;
            }
            long released;
            synchronized (this) {
                released = cachedBytes;
                trim();
            }
            try {
                return newMemory(dtype, numel);
            } catch (OutOfMemoryError second) {
                if (isHeap(second)) {
                    throw second;
                }
                second.addSuppressed(first);
                throw outOfMemory(dtype, numel, released, second);
            }
        }
    }

    private static CpuStorage.Memory newMemory(DType dtype, int numel) {
        return new CpuStorage.Memory(Nd4j.createUninitializedDetached(nd4jType(dtype), Math.max(numel, 1)), dtype, numel);
    }

    /** The Java heap's own exhaustion is not ours to explain. */
    private static boolean isHeap(OutOfMemoryError e) {
        String m = e.getMessage();
        return m != null && (m.contains("Java heap space") || m.contains("GC overhead"));
    }

    private OutOfMemoryException outOfMemory(DType dtype, int numel, long released, OutOfMemoryError cause) {
        long live;
        long buffers;
        synchronized (this) {
            live = liveBytes;
            buffers = liveBuffers;
        }
        return new OutOfMemoryException(String.format(
                "cpu out of memory: requested %d %s elements (%s); tensors hold %s in %d buffers, this backend had %s cached "
                        + "(the cache was released and the allocation retried); the process uses %s of physical memory, limit %s "
                        + "(-Dorg.bytedeco.javacpp.maxphysicalbytes; -Dorg.bytedeco.javacpp.maxbytes, %s, does not count ND4J's "
                        + "data buffers). Close tensors you no longer need (use a Scope per step), reduce the batch size, "
                        + "or raise -Dorg.bytedeco.javacpp.maxphysicalbytes.",
                numel, dtype, mib((long) numel * dtype.bytes()), mib(live), buffers, mib(released),
                mib(Pointer.physicalBytes()), limit(Pointer.maxPhysicalBytes()), limit(Pointer.maxBytes())), cause);
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    private static String limit(long bytes) {
        return bytes > 0 ? mib(bytes) : "none";
    }

    synchronized void giveBack(CpuStorage.Memory s) {
        liveBuffers--;
        liveBytes -= s.bytes();
        if (cachedBytes + s.bytes() <= capBytes) {
            free.computeIfAbsent(key(s.dtype, s.numel), k -> new ArrayDeque<>()).push(s);
            cachedBytes += s.bytes();
        } else if (s.flat.closeable()) {
            s.flat.close();
        }
    }

    /** Closes every cached buffer. */
    synchronized void trim() {
        for (ArrayDeque<CpuStorage.Memory> q : free.values()) {
            for (CpuStorage.Memory s : q) {
                if (s.flat.closeable()) {
                    s.flat.close();
                }
            }
        }
        free.clear();
        cachedBytes = 0;
    }

    synchronized MemoryStats stats() {
        return new MemoryStats(liveBuffers, liveBytes, liveBytes + cachedBytes, peakBytes);
    }

    synchronized void resetPeak() {
        peakBytes = liveBytes;
    }

    private static long key(DType dtype, int numel) {
        return ((long) numel << 2) | dtype.ordinal();
    }

    static DataType nd4jType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> DataType.FLOAT;
            case FLOAT64 -> DataType.DOUBLE;
            case INT64 -> DataType.LONG;
        };
    }
}
