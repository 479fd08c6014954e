package dev.wengert.distributed;

/**
 * Which rows of a global batch each rank trains on: a pure function of the batch's row count, the rank and the
 * number of ranks (the rows themselves come from the loader's order for (seed, epoch), the same on every rank).
 * Rank r takes the contiguous rows {@code [floor(r n / size), floor((r + 1) n / size))}: shares differ by at most
 * one row, a batch of n not divisible by size is covered exactly, and with n &lt; size some ranks take none.
 */
public final class Shards {
    private Shards() {
    }

    /** First row of {@code rank}'s share of a batch of {@code rows}. */
    public static int from(int rows, int rank, int size) {
        check(rows, rank, size);
        return (int) ((long) rows * rank / size);
    }

    /** One past the last row of {@code rank}'s share of a batch of {@code rows}. */
    public static int to(int rows, int rank, int size) {
        check(rows, rank, size);
        return (int) ((long) rows * (rank + 1) / size);
    }

    private static void check(int rows, int rank, int size) {
        if (rows < 0 || size < 1 || rank < 0 || rank >= size) {
            throw new IllegalArgumentException("Shards: need rows >= 0 and 0 <= rank < size, got rows " + rows + ", rank " + rank
                    + ", size " + size);
        }
    }
}
