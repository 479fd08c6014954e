package dev.wengert.tensor;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The core artifact alone (this module's test class path has no backend): using a device says which artifact
 * to add, instead of a ServiceLoader error or a NullPointerException.
 */
class NoBackendTest {
    @Test
    void cpuWithoutWengertCpuNamesTheArtifact() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.CPU));
        assertTrue(e.getMessage().contains("no backend for CPU devices is on the class path (add the artifact dev.wengert:wengert-cpu"),
                e.getMessage());
    }

    @Test
    void cudaWithoutWengertCudaNamesTheArtifact() {
        StringBuilder why = new StringBuilder();
        assertFalse(Backends.isAvailable(Device.cuda(0), why));
        assertTrue(why.toString().contains("dev.wengert:wengert-cuda"), why.toString());
    }
}
