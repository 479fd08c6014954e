package dev.wengert.distributed;

import dev.wengert.tensor.Tensor;
import java.util.concurrent.CompletableFuture;

/**
 * The collective operations data-parallel training needs, over a fixed group of {@link #size} processes
 * ("ranks") that each call every operation in the same order. Tensors are modified in place; on a GPU they are
 * staged through the host (see docs/distributed.md for the NCCL path). Implementations: {@link SingleProcess}
 * (size 1, no MPI) and {@link MpiCommunicator} (Open MPI's libmpi.so.40 through JNA).
 *
 * <p>A collective that waits longer than the communicator's timeout for the other ranks (one died or hangs)
 * fails with a {@link CollectiveTimeoutException} naming the operation, instead of hanging for ever.
 */
public interface Communicator extends AutoCloseable {

    /** This process's 0-based rank, in [0, size). */
    int rank();

    /** The number of ranks. */
    int size();

    /** In place: {@code tensor} becomes the element-wise sum (or mean) of every rank's {@code tensor}. Same shape and dtype on every rank. */
    void allReduce(Tensor tensor, ReduceOp op);

    /** In place: {@code values} becomes the element-wise sum (or mean) of every rank's {@code values}. */
    void allReduce(double[] values, ReduceOp op);

    /** In place: {@code values} becomes the element-wise sum (or mean) of every rank's {@code values}. */
    void allReduce(float[] values, ReduceOp op);

    /**
     * Starts summing {@code buffer} (a host buffer this communicator made, {@link #hostBuffer}) over the ranks and
     * returns at once; the future completes once the buffer holds the sum. Buffers are reduced in the order they
     * were started, the same order on every rank. Until then neither the buffer nor its future's result may be
     * touched.
     */
    CompletableFuture<HostBuffer> allReduceAsync(HostBuffer buffer);

    /** A host buffer of {@code count} float32 or float64 elements for {@link #allReduceAsync}. */
    HostBuffer hostBuffer(int count, boolean float64);

    /**
     * The result of {@code future} (from {@link #allReduceAsync}), waiting at most the communicator's timeout.
     *
     * @param what the operation, for the message of the {@link CollectiveTimeoutException}
     */
    <T> T await(CompletableFuture<T> future, String what);

    /** In place: every rank's {@code tensor} becomes rank {@code root}'s. */
    void broadcast(Tensor tensor, int root);

    /** Returns once every rank has called it. */
    void barrier();

    /** True for rank 0, the one that writes checkpoints, metrics and plots. */
    default boolean isRoot() {
        return rank() == 0;
    }

    /** Ends the group's use of the communicator (MPI_Finalize for MPI); collective. */
    @Override
    void close();
}
