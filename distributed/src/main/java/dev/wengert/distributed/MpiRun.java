package dev.wengert.distributed;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code mpirun} command that starts N copies of a Java program on this machine ({@code wengert train
 * --nproc N} and the tests use it). Where the user is root it adds {@code --allow-run-as-root}; it always allows
 * more ranks than cores ({@code --oversubscribe}), leaves the ranks unbound ({@code --bind-to none}: each rank's
 * OpenMP threads are limited instead, see {@link #environment}) and, unless {@code WENGERT_MPIRUN_ARGS} says
 * otherwise, uses TCP over the loopback interface, the transport checked on the project's machines (shared memory,
 * {@code --mca btl self,vader}, is faster where it works: set WENGERT_MPIRUN_ARGS).
 */
public final class MpiRun {
    /** The transport options used unless WENGERT_MPIRUN_ARGS is set. */
    public static final List<String> DEFAULT_TRANSPORT = List.of("--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo",
            "--mca", "oob_tcp_if_include", "lo");

    private MpiRun() {
    }

    /** mpirun on the PATH, or null where Open MPI is not installed. */
    public static Path mpirun() {
        return Mpi.mpirun();
    }

    /** What to tell a user without mpirun. */
    public static String installHint() {
        return Mpi.INSTALL_HINT;
    }

    /** {@code mpirun <options> -np n <program...>}. */
    public static List<String> command(Path mpirun, int n, List<String> program) {
        if (n < 1) {
            throw new IllegalArgumentException("mpirun: need at least 1 process, got " + n);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(mpirun.toString());
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("--allow-run-as-root");
        }
        cmd.add("--oversubscribe");
        cmd.add("--bind-to");
        cmd.add("none");
        String extra = System.getenv("WENGERT_MPIRUN_ARGS");
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        } else {
            cmd.addAll(DEFAULT_TRANSPORT);
        }
        cmd.add("-np");
        cmd.add(Integer.toString(n));
        cmd.addAll(program);
        return cmd;
    }

    /**
     * Sets in {@code env} (a child's environment, inherited by the ranks) OMP_NUM_THREADS to this machine's cores
     * divided between the n ranks (at least 1), unless set already (it bounds ND4J's native threads and the CPU
     * backend's Java loop threads alike), and OMP_WAIT_POLICY=PASSIVE unless set.
     */
    public static void environment(Map<String, String> env, int n) {
        env.putIfAbsent("OMP_NUM_THREADS", Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / n)));
        env.putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
    }

    /** The java command of this JVM: its binary, its JVM options and its class path, ready for a main class. */
    public static List<String> thisJava() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        return cmd;
    }
}
