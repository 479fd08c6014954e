package dev.wengert.distributed;

import dev.wengert.tensor.Tensor;
import java.util.concurrent.CompletableFuture;

/** The communicator of a job of one process: every collective leaves its data as it is. Needs no MPI. */
public final class SingleProcess implements Communicator {

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduce(Tensor tensor, ReduceOp op) {
    }

    @Override
    public void allReduce(double[] values, ReduceOp op) {
    }

    @Override
    public void allReduce(float[] values, ReduceOp op) {
    }

    @Override
    public CompletableFuture<HostBuffer> allReduceAsync(HostBuffer buffer) {
        return CompletableFuture.completedFuture(buffer);
    }

    @Override
    public HostBuffer hostBuffer(int count, boolean float64) {
        return new HostBuffer(count, float64);
    }

    @Override
    public <T> T await(CompletableFuture<T> future, String what) {
        return future.join();
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        if (root != 0) {
            throw new IllegalArgumentException("broadcast: root rank " + root + " is not in [0, 1)");
        }
    }

    @Override
    public void barrier() {
    }

    @Override
    public void close() {
    }
}
