package dev.wengert.distributed;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link Communicator} over MPI_COMM_WORLD of Open MPI (started by {@code mpirun}), through {@link Mpi}.
 *
 * <p>Every MPI call runs on one thread of its own ("wengert-mpi", a daemon), the one that called MPI_Init_thread
 * (MPI_THREAD_FUNNELED): {@link #allReduceAsync} queues a reduction there and returns, which is how gradient
 * buckets are reduced while the backward pass goes on; the other operations queue theirs and wait. A wait longer
 * than the timeout ends with a {@link CollectiveTimeoutException}: a blocked MPI call cannot be cancelled, so
 * the caller should exit, and mpirun then ends the other ranks.
 */
public final class MpiCommunicator implements Communicator {
    private final Mpi mpi;
    private final ExecutorService thread;
    private final Duration timeout;
    private final int rank;
    private final int size;
    private boolean closed;

    private MpiCommunicator(Mpi mpi, ExecutorService thread, Duration timeout, int rank, int size) {
        this.mpi = mpi;
        this.thread = thread;
        this.timeout = timeout;
        this.rank = rank;
        this.size = size;
    }

    /**
     * Initialises MPI (collective: every rank of the job calls it) and returns the communicator of all ranks.
     *
     * @param timeout the longest any collective may wait for the other ranks before failing
     * @throws IllegalStateException where Open MPI's library is not installed (saying how to install it), or
     *     when MPI cannot be initialised
     */
    public static MpiCommunicator init(Duration timeout) {
        Mpi mpi = Mpi.load();
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "wengert-mpi");
            t.setDaemon(true);
            return t;
        });
        try {
            int[] rankSize = thread.submit(() -> {
                IntByReference provided = new IntByReference();
                Mpi.check(mpi.lib.MPI_Init_thread(null, null, Mpi.THREAD_FUNNELED, provided), "MPI_Init_thread");
                IntByReference r = new IntByReference();
                IntByReference s = new IntByReference();
                Mpi.check(mpi.lib.MPI_Comm_rank(mpi.commWorld, r), "MPI_Comm_rank");
                Mpi.check(mpi.lib.MPI_Comm_size(mpi.commWorld, s), "MPI_Comm_size");
                return new int[] {r.getValue(), s.getValue()};
            }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new MpiCommunicator(mpi, thread, timeout, rankSize[0], rankSize[1]);
        } catch (TimeoutException e) {
            throw new CollectiveTimeoutException("MPI_Init_thread did not return within " + timeout.toSeconds()
                    + " s: the other ranks did not start or cannot be reached");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while initialising MPI", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    /** True when this process was started by Open MPI's mpirun (it set OMPI_COMM_WORLD_SIZE). */
    public static boolean launchedByMpirun() {
        return System.getenv("OMPI_COMM_WORLD_SIZE") != null;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduce(Tensor tensor, ReduceOp op) {
        boolean f64 = tensor.dtype() == DType.FLOAT64;
        if (!f64 && tensor.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("allReduce: " + tensor.describe() + ": only float32 and float64 tensors are reduced");
        }
        HostBuffer b = hostBuffer(tensor.numel(), f64);
        if (f64) {
            b.put(0, tensor.toDoubleArray(), 1);
        } else {
            b.put(0, tensor.toFloatArray(), 1);
        }
        await(allReduceAsync(b), "all-reduce of " + tensor.describe());
        writeBack(tensor, b, op == ReduceOp.MEAN ? 1.0 / size : 1);
    }

    /** Copies {@code b} times {@code scale} into {@code tensor} (same element count), on the tensor's device. */
    static void writeBack(Tensor tensor, HostBuffer b, double scale) {
        try (Scope s = Scope.open()) {
            Tensor src = b.float64()
                    ? Tensor.on(tensor.device()).of(b.getDoubles(0, b.count()), tensor.shape())
                    : Tensor.on(tensor.device()).of(b.getFloats(0, b.count()), tensor.shape());
            if (src.dtype() != tensor.dtype()) {
                src = src.cast(tensor.dtype());
            }
            if (scale != 1) {
                src = src.mul(scale);
            }
            tensor.assign(src);
        }
    }

    @Override
    public void allReduce(double[] values, ReduceOp op) {
        HostBuffer b = hostBuffer(values.length, true);
        b.put(0, values, 1);
        await(allReduceAsync(b), "all-reduce of " + values.length + " float64 values");
        double[] r = b.getDoubles(0, values.length);
        for (int i = 0; i < values.length; i++) {
            values[i] = op == ReduceOp.MEAN ? r[i] / size : r[i];
        }
    }

    @Override
    public void allReduce(float[] values, ReduceOp op) {
        HostBuffer b = hostBuffer(values.length, false);
        b.put(0, values, 1);
        await(allReduceAsync(b), "all-reduce of " + values.length + " float32 values");
        float[] r = b.getFloats(0, values.length);
        for (int i = 0; i < values.length; i++) {
            values[i] = op == ReduceOp.MEAN ? r[i] / size : r[i];
        }
    }

    @Override
    public HostBuffer hostBuffer(int count, boolean float64) {
        return new HostBuffer(count, float64);
    }

    @Override
    public CompletableFuture<HostBuffer> allReduceAsync(HostBuffer buffer) {
        return submit(() -> {
            if (buffer.count() > 0) {
                Memory m = buffer.memory();
                Mpi.check(mpi.lib.MPI_Allreduce(Mpi.IN_PLACE, m, buffer.count(), buffer.float64() ? mpi.float64 : mpi.float32,
                        mpi.sum, mpi.commWorld), "MPI_Allreduce");
            }
            return buffer;
        });
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast: root rank " + root + " is not in [0, " + size + ")");
        }
        boolean f64 = tensor.dtype() == DType.FLOAT64;
        if (!f64 && tensor.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("broadcast: " + tensor.describe() + ": only float32 and float64 tensors are sent");
        }
        HostBuffer b = hostBuffer(tensor.numel(), f64);
        if (rank == root) {
            if (f64) {
                b.put(0, tensor.toDoubleArray(), 1);
            } else {
                b.put(0, tensor.toFloatArray(), 1);
            }
        }
        await(submit(() -> {
            if (b.count() > 0) {
                Mpi.check(mpi.lib.MPI_Bcast(b.memory(), b.count(), f64 ? mpi.float64 : mpi.float32, root, mpi.commWorld), "MPI_Bcast");
            }
            return b;
        }), "broadcast of " + tensor.describe() + " from rank " + root);
        if (rank != root) {
            writeBack(tensor, b, 1);
        }
    }

    /** Broadcasts raw bytes from {@code root} (e.g. an NCCL unique id); returns root's bytes on every rank. */
    public byte[] broadcast(byte[] bytes, int root) {
        Memory m = new Memory(Math.max(1, bytes.length));
        m.write(0, bytes, 0, bytes.length);
        await(submit(() -> {
            Pointer byteType = mpi.byteType();
            Mpi.check(mpi.lib.MPI_Bcast(m, bytes.length, byteType, root, mpi.commWorld), "MPI_Bcast");
            return m;
        }), "broadcast of " + bytes.length + " bytes from rank " + root);
        return m.getByteArray(0, bytes.length);
    }

    @Override
    public void barrier() {
        await(submit(() -> {
            Mpi.check(mpi.lib.MPI_Barrier(mpi.commWorld), "MPI_Barrier");
            return null;
        }), "barrier");
    }

    @Override
    public <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new CollectiveTimeoutException("rank " + rank + " of " + size + ": " + what + " waited more than "
                    + timeout.toSeconds() + " s for the other ranks: one of them has died or hangs (see the launcher's"
                    + " messages); stopping this rank");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("rank " + rank + ": interrupted during " + what, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    private <T> CompletableFuture<T> submit(Callable<T> call) {
        if (closed) {
            throw new IllegalStateException("MpiCommunicator: used after close (MPI_Finalize)");
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                f.complete(call.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** MPI_Finalize (collective), then the MPI thread ends. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        await(submit(() -> {
            Mpi.check(mpi.lib.MPI_Finalize(), "MPI_Finalize");
            return null;
        }), "MPI_Finalize");
        closed = true;
        thread.shutdown();
    }
}
