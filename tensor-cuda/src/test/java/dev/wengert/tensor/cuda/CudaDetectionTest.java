package dev.wengert.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.wengert.tensor.Backends;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Detection never crashes: without a GPU, CUDA is reported unavailable with a reason and the CPU still works. */
class CudaDetectionTest {

    static boolean machineHasNvidiaGpu() {
        return Files.exists(Path.of("/dev/nvidia0")) || Files.exists(Path.of("/proc/driver/nvidia/gpus"));
    }

    @Test
    void withoutAGpuCudaIsUnavailableWithAReasonAndTheCpuWorks() {
        assumeFalse(machineHasNvidiaGpu(), "this machine has an NVIDIA GPU; CudaBackendTest covers it");
        for (int attempt = 0; attempt < 2; attempt++) { // the second attempt must give the same clean answer
            StringBuilder why = new StringBuilder();
            assertFalse(Backends.isAvailable(Device.cuda(0), why));
            String reason = why.toString();
            System.out.println("CUDA unavailable here, as expected: " + reason);
            assertFalse(reason.isBlank());
            assertTrue(reason.contains("cuda:0"), reason);
            assertFalse(reason.contains("NoClassDefFoundError"), "a second detection must not hit a half-initialised class: " + reason);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.on(Device.cuda(1)).zeros(DType.FLOAT32, 2));
        assertTrue(e.getMessage().contains("cuda:1") && e.getMessage().contains("Device.CPU"), e.getMessage());
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.on(Device.CPU).of(new float[] {1, 2, 3});
            assertArrayEquals(new float[] {2, 4, 6}, t.mul(2).toFloatArray());
        }
    }

    @Test
    void geometryMergesContiguousDimensions() {
        Geo same = Geo.merged("t", new int[] {2, 3, 4}, new int[] {12, 4, 1}, new int[] {12, 4, 1});
        assertArrayEquals(new int[] {24}, same.shape);
        Geo row = Geo.merged("t", new int[] {5, 1, 3, 4}, new int[] {0, 0, 4, 1}, new int[] {12, 12, 4, 1});
        assertArrayEquals(new int[] {5, 12}, row.shape);
        assertArrayEquals(new int[] {0, 1}, row.strides[0]);
        assertArrayEquals(new int[] {12, 1}, row.strides[1]);
        int[] packed = row.packed();
        assertEquals(41, packed.length, "sizeof(struct Geo) / 4 in common.cuh");
        assertEquals(2, packed[0]);
        assertEquals(12, packed[1 + 8 + 8 + 0]);
        assertThrows(IllegalArgumentException.class, () -> Geo.merged("t", new int[] {2, 2, 2, 2, 2, 2, 2, 2, 2},
                new int[] {0, 1, 0, 1, 0, 1, 0, 1, 0}));
    }

    @Test
    void sizeClassesWasteAtMostAQuarter() {
        assertEquals(512, CachingAllocator.sizeClass(0));
        assertEquals(512, CachingAllocator.sizeClass(512));
        assertEquals(1024, CachingAllocator.sizeClass(513));
        for (long b = 1; b < 1L << 32; b = b * 3 + 7) {
            long c = CachingAllocator.sizeClass(b);
            assertTrue(c >= b && (c <= 512 || c <= b * 1.25 + 512), b + " -> " + c);
            assertEquals(c, CachingAllocator.sizeClass(c), "a class maps to itself");
        }
    }
}
