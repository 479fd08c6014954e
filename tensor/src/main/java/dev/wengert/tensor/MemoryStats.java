package dev.wengert.tensor;

/**
 * A backend's memory figures.
 *
 * @param liveBuffers   buffers held by open tensors now
 * @param allocatedBytes bytes held by open tensors now
 * @param reservedBytes  bytes held by the backend: in use plus cached for reuse
 * @param peakAllocatedBytes the highest {@code allocatedBytes} since start or the last reset
 */
public record MemoryStats(long liveBuffers, long allocatedBytes, long reservedBytes, long peakAllocatedBytes) {
}
