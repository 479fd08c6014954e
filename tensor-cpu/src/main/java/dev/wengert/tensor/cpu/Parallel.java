package dev.wengert.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Splits the CPU backend's big Java loops over the machine's cores, the way ND4J's native kernels use
 * OpenMP. Only loops whose parts write disjoint elements are split (a map, a zip, the window ops per image
 * plane), so the result is the same bit for bit with any number of threads. The calling thread runs the
 * first part itself and returns only when every part has finished, also when a part throws: a tensor is
 * never closed while a worker still writes it.
 *
 * <p>{@code -Dwengert.cpu.threads=N} sets the number of parts (default: {@code OMP_NUM_THREADS}, the
 * setting that also limits ND4J's native threads, as data-parallel ranks set it; else the available
 * processors; 1 turns splitting off); {@code -Dwengert.cpu.parallelThreshold=E} the least work, in elements, worth
 * splitting (default 2^16: below it a hand-off, a few microseconds, costs more than it saves).
 */
final class Parallel {
    static final int THREADS = Math.max(1, Integer.getInteger("wengert.cpu.threads", ompThreads()));
    static final long THRESHOLD = Long.getLong("wengert.cpu.parallelThreshold", 1 << 16);

    /** Daemon workers, one fewer than the parts (the caller runs one); null when there is nothing to split over. */
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS - 1, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("wengert-cpu-" + t.getPoolIndex());
        return t;
    }, null, false) : null;

    private Parallel() {
    }

    /** The body of a split loop: the items [from, to). */
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, n) in up to {@link #THREADS} contiguous parts when {@code work} (elements
     * touched, about) reaches {@link #THRESHOLD}, else in one call on this thread. Parts must write disjoint
     * memory. A worker's own call runs unsplit (no nesting).
     */
    static void forRange(int n, long work, Range body) {
        int parts = (int) Math.min(THREADS, n);
        if (POOL == null || parts < 2 || work < THRESHOLD || Thread.currentThread() instanceof ForkJoinWorkerThread) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        Throwable[] failures = new Throwable[parts];
        for (int p = 1; p < parts; p++) {
            int part = p;
            int from = bound(n, parts, p);
            int to = bound(n, parts, p + 1);
            others[p - 1] = POOL.submit(() -> {
                try {
                    body.run(from, to);
                } catch (RuntimeException | Error e) { // kept as thrown: join would rethrow a copy without its message
                    failures[part] = e;
                }
            });
        }
        try {
            body.run(0, bound(n, parts, 1));
        } catch (RuntimeException | Error e) {
            failures[0] = e;
        }
        for (ForkJoinTask<?> t : others) { // wait for all, even after a failure: they write the caller's tensors
            t.join();
        }
        for (Throwable f : failures) {
            if (f instanceof RuntimeException e) {
                throw e;
            }
            if (f instanceof Error e) {
                throw e;
            }
        }
    }

    /** OMP_NUM_THREADS when it is a positive number, else the available processors. */
    private static int ompThreads() {
        String omp = System.getenv("OMP_NUM_THREADS");
        try {
            return omp == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, Integer.parseInt(omp.trim()));
        } catch (NumberFormatException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    private static int bound(int n, int parts, int p) {
        return (int) ((long) n * p / parts);
    }
}
