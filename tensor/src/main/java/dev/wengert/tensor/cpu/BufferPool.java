package dev.wengert.tensor.cpu;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.MemoryStats;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Caches freed off-heap buffers by (dtype, length) for reuse: ND4J allocation zero-fills and page-faults
 * (about 13 ms for 4 MB), so a training loop that frees and re-allocates the same shapes every step
 * must not pay it. Cached bytes are capped ({@code wengert.cpu.cacheBytes}, default 4 GiB: a step of the
 * 4096-wide MLP at batch 4096 frees 2 GB, and re-allocating that every step cost 30% of the step);
 * beyond the cap buffers are closed. {@link CpuBackend#releaseCache()} empties the cache. Thread-safe: the Cleaner thread may return buffers.
 */
final class BufferPool {
    private final Map<Long, ArrayDeque<CpuStorage.Memory>> free = new HashMap<>();
    private final long capBytes = Long.getLong("wengert.cpu.cacheBytes", 4L << 30);
    private long cachedBytes;
    private long liveBuffers;
    private long liveBytes;
    private long peakBytes;

    synchronized CpuStorage take(DType dtype, int numel) {
        ArrayDeque<CpuStorage.Memory> q = free.get(key(dtype, numel));
        CpuStorage.Memory m = q == null ? null : q.poll();
        if (m != null) {
            cachedBytes -= m.bytes();
        } else {
            m = new CpuStorage.Memory(Nd4j.createUninitializedDetached(nd4jType(dtype), Math.max(numel, 1)), dtype, numel);
        }
        liveBuffers++;
        liveBytes += m.bytes();
        peakBytes = Math.max(peakBytes, liveBytes);
        return new CpuStorage(m, this);
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
