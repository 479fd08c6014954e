/* Open MPI's own all-reduce figures, for comparison with Java's (dev.wengert.distributed.AllReduceBench):
 * in-place MPI_Allreduce(SUM) of float32 buffers of 4 KB .. 64 MB, the same sizes and repetitions.
 * Build and run: bench/mpi/allreduce.sh */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (long bytes = 4096; bytes <= 64L << 20; bytes *= 4) {
        int n = (int) (bytes / 4);
        float *buf = malloc(bytes);
        for (int i = 0; i < n; i++) buf[i] = 1.0f;
        int reps = bytes <= (1 << 20) ? 200 : 10;
        for (int w = 0; w < 3; w++) MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int r = 0; r < reps; r++) MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double t = (MPI_Wtime() - t0) / reps;
        if (rank == 0) {
            double bus = 2.0 * (size - 1) / size * bytes / t / 1e9;
            printf("C     %10ld bytes  %10.1f us  algbw %7.3f GB/s  busbw %7.3f GB/s\n", bytes, t * 1e6, bytes / t / 1e9, bus);
        }
        free(buf);
    }
    MPI_Finalize();
    return 0;
}
