package dev.wengert.tensor.cpu;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Storage;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A reference-counted handle on pooled off-heap memory (handles are never reused, memory is). */
final class CpuStorage extends Storage {
    final Memory memory;
    private final BufferPool pool;

    CpuStorage(Memory memory, BufferPool pool) {
        this.memory = memory;
        this.pool = pool;
    }

    /** One off-heap ND4J buffer with its direct-address view for the Java kernels; what the pool caches. */
    static final class Memory {
        final INDArray flat;
        final DType dtype;
        final int numel;
        final Buf buf;

        Memory(INDArray flat, DType dtype, int numel) {
            this.flat = flat;
            this.dtype = dtype;
            this.numel = numel;
            long address = flat.data().addressPointer().address();
            this.buf = switch (dtype) {
                case FLOAT32 -> new Buf.F32(address);
                case FLOAT64 -> new Buf.F64(address);
                case INT64 -> new Buf.I64(address);
            };
        }

        long bytes() {
            return (long) numel * dtype.bytes();
        }

        /**
         * A 2-D row-major view [rows, cols] starting at element {@code offset}, created once and cached:
         * creating an INDArray costs microseconds (shape buffers), more than a small GEMM itself.
         */
        INDArray view(int offset, int rows, int cols) {
            if (views.size() >= 16) { // e.g. the many slices of a batched product: not worth caching
                INDArray cached = views.get(new ViewKey(offset, rows, cols));
                return cached != null ? cached : org.nd4j.linalg.factory.Nd4j.create(
                        flat.data(), new long[] {rows, cols}, new long[] {cols, 1}, offset, 'c');
            }
            return views.computeIfAbsent(new ViewKey(offset, rows, cols), k -> org.nd4j.linalg.factory.Nd4j.create(
                    flat.data(), new long[] {rows, cols}, new long[] {cols, 1}, offset, 'c'));
        }

        private final java.util.Map<ViewKey, INDArray> views = new java.util.concurrent.ConcurrentHashMap<>(4);

        private record ViewKey(int offset, int rows, int cols) {
        }
    }

    @Override
    public long bytes() {
        return memory.bytes();
    }

    @Override
    protected void free() {
        pool.giveBack(memory);
    }
}
