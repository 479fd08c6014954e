package dev.wengert.tensor.cuda;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the CUDA simulator's launch trace and fault counts from its stand-in libcuda.so.1 (the one JCuda
 * loaded from LD_LIBRARY_PATH): kernels, GEMMs, copies by direction, host synchronisations and driver
 * allocations, counted where the calls reach the driver, so implicit synchronisations are seen too.
 * Only usable when the CUDA backend runs on the simulator.
 */
public final class SimulatorTrace {
    /**
     * The counters in the order of sim.h's WSIM_T_* enum. {@code kernels} ... {@code memsets} count host-issued
     * work only; a CUDA graph replay counts one {@code graphLaunches} and the work it runs in the graph* counters;
     * work recorded by a capture runs nothing and counts {@code capturedNodes}. {@code captureViolations} are calls
     * the driver refused because of a capture (each with a note, {@link #lastNote}); {@code warnings} are notes of
     * legal but capture-unsafe use (a GEMM captured on a cuBLAS handle without a workspace). Neither is a fault.
     */
    public record Counts(long kernels, long gemms, long copiesToDevice, long copiesToHost, long copiesOnDevice, long memsets,
                         long hostSyncs, long allocations, long frees, long memcheckFaults, long hazardFaults,
                         long barrierFaults, long apiFaults, long liveAllocations, long graphLaunches, long graphKernels,
                         long graphGemms, long graphCopies, long graphMemsets, long capturedNodes, long captureViolations,
                         long warnings) {
        static final int N = 22;

        static Counts of(long[] c) {
            return new Counts(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
                    c[14], c[15], c[16], c[17], c[18], c[19], c[20], c[21]);
        }

        /** Host-issued launches: kernels plus GEMMs (not counting those inside graph replays). */
        public long launches() {
            return kernels + gemms;
        }

        /** Launches run inside graph replays: kernels plus GEMMs. */
        public long graphReplayLaunches() {
            return graphKernels + graphGemms;
        }

        /** Faults of every kind the simulator checks. */
        public long faults() {
            return memcheckFaults + hazardFaults + barrierFaults + apiFaults;
        }

        /** What happened between {@code earlier} and this reading (live allocations as now). */
        public Counts minus(Counts earlier) {
            return new Counts(kernels - earlier.kernels, gemms - earlier.gemms, copiesToDevice - earlier.copiesToDevice,
                    copiesToHost - earlier.copiesToHost, copiesOnDevice - earlier.copiesOnDevice, memsets - earlier.memsets,
                    hostSyncs - earlier.hostSyncs, allocations - earlier.allocations, frees - earlier.frees,
                    memcheckFaults - earlier.memcheckFaults, hazardFaults - earlier.hazardFaults,
                    barrierFaults - earlier.barrierFaults, apiFaults - earlier.apiFaults, liveAllocations,
                    graphLaunches - earlier.graphLaunches, graphKernels - earlier.graphKernels,
                    graphGemms - earlier.graphGemms, graphCopies - earlier.graphCopies, graphMemsets - earlier.graphMemsets,
                    capturedNodes - earlier.capturedNodes, captureViolations - earlier.captureViolations,
                    warnings - earlier.warnings);
        }
    }

    private interface Sim extends Library {
        void wsim_trace_read(long[] out, int n);

        void wsim_trace_reset();

        int wsim_trace_kernels(byte[] buf, long len);

        void wsim_last_report(byte[] buf, long len);

        void wsim_last_note(byte[] buf, long len);

        int wsim_is_simulator();
    }

    private static Sim sim;

    private SimulatorTrace() {
    }

    private static synchronized Sim sim() {
        if (sim == null) {
            String path = System.getenv().getOrDefault("LD_LIBRARY_PATH", "");
            for (String dir : path.split(":")) {
                Path lib = Path.of(dir.isEmpty() ? "." : dir, "libcuda.so.1");
                if (Files.exists(lib)) {
                    Sim s = Native.load(lib.toAbsolutePath().toString(), Sim.class);
                    if (s.wsim_is_simulator() == 1) {
                        sim = s;
                        break;
                    }
                }
            }
            if (sim == null) {
                throw new IllegalStateException("the CUDA simulator's libcuda.so.1 is not on LD_LIBRARY_PATH (" + path + ")");
            }
        }
        return sim;
    }

    public static Counts read() {
        long[] c = new long[Counts.N];
        sim().wsim_trace_read(c, c.length);
        return Counts.of(c);
    }

    /** Launches per kernel name since the last reset. */
    public static Map<String, Long> kernelCounts() {
        byte[] buf = new byte[1 << 16];
        sim().wsim_trace_kernels(buf, buf.length);
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : text(buf).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2) {
                m.put(f[0], Long.parseLong(f[1]));
            }
        }
        return m;
    }

    /** The last fault the simulator reported ("" if none). */
    public static String lastReport() {
        byte[] buf = new byte[4096];
        sim().wsim_last_report(buf, buf.length);
        return text(buf);
    }

    /** The last capture note (why the driver refused a call during a capture) or warning ("" if none). */
    public static String lastNote() {
        byte[] buf = new byte[4096];
        sim().wsim_last_note(buf, buf.length);
        return text(buf);
    }

    /** Zeroes every counter except the live allocations. */
    public static void reset() {
        sim().wsim_trace_reset();
    }

    private static String text(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
}
