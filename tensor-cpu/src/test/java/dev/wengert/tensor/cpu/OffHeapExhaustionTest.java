package dev.wengert.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.MemoryStats;
import dev.wengert.tensor.OutOfMemoryException;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * Off-heap exhaustion on the CPU. Runs only in its own forked JVM (surefire execution {@code off-heap-limit}
 * in tensor-cpu/pom.xml) with {@code -Dorg.bytedeco.javacpp.maxphysicalbytes} small, so that allocating tensors
 * in a scope hits the limit within a second; anywhere else it is skipped (it would fill the machine).
 * JavaCPP checks the process's resident memory at each native allocation, so the tensors here are written
 * (zeros), not just reserved. {@code maxbytes} is set too but does not bound tensors: ND4J allocates data
 * buffers outside JavaCPP's count. {@code maxretries} is lowered to 3 (from 10: JavaCPP runs the GC and
 * sleeps 100 ms per retry before it gives up) only to keep the test short.
 */
class OffHeapExhaustionTest {
    private static final int CHUNK = 4 << 20; // float32 elements: 16 MiB

    @Test
    void exhaustionIsAClearExceptionAfterTheCacheIsReleasedAndTheProcessRecovers() {
        long limit = Pointer.maxPhysicalBytes();
        assumeTrue(limit > 0 && limit <= (1L << 30), "needs the forked JVM of the surefire execution off-heap-limit "
                + "(-Dorg.bytedeco.javacpp.maxphysicalbytes <= 1g); this JVM's limit is " + limit);
        Backend cpu = Backends.of(Device.CPU);
        cpu.releaseCache();
        LeakCheck check = LeakCheck.start();
        int maxTries = (int) (2 * limit / (CHUNK * 4L)) + 8;
        long start = System.nanoTime();

        // 1. Fill a scope until the allocation fails: a clear exception, with the cache released first.
        int filled;
        try (Scope s = Scope.open()) {
            Fill f = fill(CHUNK, maxTries);
            filled = f.count;
            String m = f.error.getMessage();
            System.out.println("off-heap exhaustion after " + filled + " x 16 MiB (" + ms(start) + " ms): " + m);
            assertTrue(filled >= 4, "the limit leaves room for a few tensors: " + filled);
            for (String part : new String[] {"cpu out of memory: requested 4194304 float32 elements (16.0 MiB)",
                    "tensors hold " + mib(16L * filled) + " in " + filled + " buffers", "(the cache was released and the allocation retried)",
                    "of physical memory, limit " + mib(limit >> 20), "-Dorg.bytedeco.javacpp.maxphysicalbytes",
                    "Close tensors you no longer need (use a Scope per step), reduce the batch size"}) {
                assertTrue(m.contains(part), "the message must contain \"" + part + "\": " + m);
            }
            assertInstanceOf(OutOfMemoryError.class, f.error.getCause(), "JavaCPP's error is the cause");
            MemoryStats st = cpu.memoryStats();
            assertEquals(16L * filled << 20, st.allocatedBytes(), "nothing was allocated for the failed request");
            assertEquals(st.allocatedBytes(), st.reservedBytes(), "the cache is empty");
        }

        // 2. The closed scope's buffers are now cached (16 MiB each) and keep the process at its limit. Tensors
        // of another size cannot reuse them: only releasing the cache on failure lets them fit.
        int other;
        try (Scope s = Scope.open()) {
            assertEquals(16L * filled << 20, cpu.memoryStats().reservedBytes(), "the scope's buffers went to the cache");
            other = fill(CHUNK + 1024, maxTries).count;
            MemoryStats st = cpu.memoryStats();
            assertEquals(st.allocatedBytes(), st.reservedBytes(), "the first failure released the cache");
        }
        assertTrue(other >= filled - 2, "with the cache released, " + other + " tensors of another size fit where " + filled + " did");

        // 3. Recovery: allocation and a small computation work again after the scope closed.
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(DType.FLOAT32, CHUNK);
            assertEquals(2.0 * CHUNK, x.add(1).sum().item(), 0);
            Tensor a = Tensor.randn(1, DType.FLOAT64, 64, 64);
            Tensor id = Tensor.arange(64, DType.INT64).oneHot(64, DType.FLOAT64);
            assertEquals(a.sum().item(), a.matmul(id).sum().item(), 1e-9);
        }
        check.assertNoLeak("exhaustion and recovery");
        cpu.releaseCache();
        System.out.println("off-heap exhaustion test: " + ms(start) + " ms");
    }

    private record Fill(int count, OutOfMemoryException error) {
    }

    /** Writes float32 tensors of {@code numel} elements into the current scope until allocation fails. */
    private static Fill fill(int numel, int maxTries) {
        for (int i = 0; i < maxTries; i++) {
            try {
                Tensor.zeros(DType.FLOAT32, numel);
            } catch (OutOfMemoryException e) {
                return new Fill(i, e);
            }
        }
        fail(maxTries + " tensors of " + numel + " float32 elements fit under -Dorg.bytedeco.javacpp.maxphysicalbytes="
                + Pointer.maxPhysicalBytes() + ": the limit is not enforced");
        return null;
    }

    private static String mib(long mebibytes) {
        return String.format("%.1f MiB", (double) mebibytes);
    }

    private static long ms(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }
}
