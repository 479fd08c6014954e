package dev.wengert.tensor.cuda;

import dev.wengert.tensor.DType;
import dev.wengert.tensor.Storage;
import jcuda.driver.CUdeviceptr;

/** A tensor's device memory: one allocator block, returned to the allocator's cache when freed. */
final class CudaStorage extends Storage {
    private final CachingAllocator allocator;
    private final CachingAllocator.Block block;
    private final long bytes;

    CudaStorage(CachingAllocator allocator, CachingAllocator.Block block, DType dtype, int numel) {
        this.allocator = allocator;
        this.block = block;
        this.bytes = (long) numel * dtype.bytes();
    }

    CUdeviceptr ptr() {
        return block.ptr();
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    protected void free() {
        allocator.free(block);
    }
}
