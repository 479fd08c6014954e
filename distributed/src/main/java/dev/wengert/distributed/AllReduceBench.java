package dev.wengert.distributed;

import java.time.Duration;
import java.util.Locale;

/**
 * All-reduce bandwidth from Java, the path gradient buckets take ({@link Communicator#allReduceAsync} of a
 * native {@link HostBuffer} on the MPI thread, then {@link Communicator#await}): float32 sums of 4 KB .. 64 MB,
 * the sizes and repetitions of bench/mpi/allreduce.c, so the two print comparable lines. Run under mpirun
 * (bench/mpi/allreduce.sh).
 */
public final class AllReduceBench {
    private AllReduceBench() {
    }

    public static void main(String[] args) {
        try (MpiCommunicator comm = MpiCommunicator.init(Duration.ofSeconds(120))) {
            for (long bytes = 4096; bytes <= 64L << 20; bytes *= 4) {
                int n = (int) (bytes / 4);
                HostBuffer b = comm.hostBuffer(n, false);
                b.put(0, new float[n], 1);
                int reps = bytes <= (1 << 20) ? 200 : 10;
                for (int w = 0; w < 3; w++) {
                    comm.await(comm.allReduceAsync(b), "warm-up");
                }
                comm.barrier();
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    comm.await(comm.allReduceAsync(b), "all-reduce");
                }
                double t = (System.nanoTime() - t0) / 1e9 / reps;
                if (comm.isRoot()) {
                    double bus = 2.0 * (comm.size() - 1) / comm.size() * bytes / t / 1e9;
                    System.out.printf(Locale.ROOT, "Java  %10d bytes  %10.1f us  algbw %7.3f GB/s  busbw %7.3f GB/s%n", bytes, t * 1e6,
                            bytes / t / 1e9, bus);
                }
            }
        }
    }
}
