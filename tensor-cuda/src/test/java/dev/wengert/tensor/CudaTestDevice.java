package dev.wengert.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.wengert.tensor.cuda.SimulatorTrace;

/**
 * The CUDA device a CUDA suite runs on. Every build runs the CUDA suites twice: in the default test
 * execution on a real GPU (skipped, with the reason, where there is none), and in the
 * {@code cuda-simulator} execution (system property {@code wengert.test.cuda.simulator=true}) on the
 * CUDA simulator of cuda-kernels, whose stand-in libcuda.so.1 and libcublas.so.12 Maven puts on
 * LD_LIBRARY_PATH (skipped, with the reason, where it could not be built: no g++ or not Linux x86-64).
 * Call {@link #assumeUsable} from {@code @BeforeEach}, so that a skip shows every test as skipped. Where the
 * simulator was built but CUDA does not work on it, the suites fail instead (a broken backend, not a missing tool).
 */
public final class CudaTestDevice {
    /** True in the simulator execution. */
    public static final boolean SIMULATOR_RUN = Boolean.getBoolean("wengert.test.cuda.simulator");
    /** cuda:N, N from the system property wengert.test.cuda (default 0). */
    public static final Device DEVICE = Device.cuda(Integer.getInteger("wengert.test.cuda", 0));

    private static String whyNot;
    private static boolean announced;

    private CudaTestDevice() {
    }

    /**
     * In the simulator execution, after a suite ran on the simulator: asserts that its memory checker,
     * stream-hazard checker, barrier checker and API coverage reported nothing (their reports are on
     * stderr, the last one in the message).
     */
    public static void assertNoSimulatorFaults(String suite) {
        if (SIMULATOR_RUN && "".equals(whyNot) && Backends.of(DEVICE).isSimulated()) {
            SimulatorTrace.Counts c = SimulatorTrace.read();
            assertEquals(0, c.faults(), suite + ": the CUDA simulator reported " + c + "; last: " + SimulatorTrace.lastReport());
        }
    }

    /** The simulator's stand-in libcuda.so.1 on LD_LIBRARY_PATH (where Maven puts it), or null where it was not built. */
    private static String builtSimulator() {
        String path = System.getenv("LD_LIBRARY_PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            java.nio.file.Path lib = java.nio.file.Path.of(dir.isEmpty() ? "." : dir, "libcuda.so.1");
            if (java.nio.file.Files.isRegularFile(lib)) {
                return lib.toString();
            }
        }
        return null;
    }

    /** Skips the calling test, saying why, when this run's CUDA device cannot be used. */
    public static synchronized void assumeUsable(String suite) {
        if (whyNot == null) {
            StringBuilder why = new StringBuilder();
            whyNot = Backends.isAvailable(DEVICE, why) ? "" : why.toString();
        }
        if (!whyNot.isEmpty()) {
            String builtSimulator = SIMULATOR_RUN ? builtSimulator() : null;
            if (builtSimulator != null) {
                // the simulator exists, so CUDA must work on it: a skip here would hide a broken build
                throw new AssertionError(suite + ": the CUDA simulator was built (" + builtSimulator
                        + ") but CUDA is not usable on it: " + whyNot);
            }
            String reason = SIMULATOR_RUN
                    ? "the CUDA simulator is not usable here (cuda-kernels/scripts/build-simulator.sh builds it where g++ exists on"
                      + " Linux x86-64): " + whyNot
                    : "no usable CUDA GPU (the cuda-simulator execution runs this suite on the simulator): " + whyNot;
            if (!announced) {
                System.out.println(suite + " skipped: " + reason);
                announced = true;
            }
            assumeTrue(false, reason);
        }
        Backend be = Backends.of(DEVICE);
        if (SIMULATOR_RUN) {
            assertTrue(be.isSimulated(), "the cuda-simulator execution must run on the simulator, not on " + be);
        }
        if (!announced) {
            System.out.println(suite + " on " + be);
            announced = true;
        }
    }
}
