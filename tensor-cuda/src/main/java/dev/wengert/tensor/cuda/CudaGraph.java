package dev.wengert.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphGetNodes;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;

import dev.wengert.tensor.CapturedWork;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;

/**
 * A captured and instantiated CUDA graph of one {@link CudaBackend} ({@link CudaBackend#capture}), with the
 * private memory pool its tensors came from. A replay is one cuGraphLaunch on the backend's stream.
 */
final class CudaGraph implements CapturedWork {
    private final CudaBackend backend;
    private final CUstream stream;
    private final CUgraph graph;
    private final CUgraphExec exec;
    private final CachingAllocator allocator;
    private final CachingAllocator.Pool pool;
    private final boolean mayReportErrors;
    private final long nodes;
    private boolean closed;

    CudaGraph(CudaBackend backend, CUstream stream, CUgraph graph, CUgraphExec exec, CachingAllocator allocator,
              CachingAllocator.Pool pool, boolean mayReportErrors) {
        this.backend = backend;
        this.stream = stream;
        this.graph = graph;
        this.exec = exec;
        this.allocator = allocator;
        this.pool = pool;
        this.mayReportErrors = mayReportErrors;
        long[] n = {0};
        Cu.check(cuGraphGetNodes(graph, null, n), "cuGraphGetNodes of a captured graph on " + backend.device());
        this.nodes = n[0];
    }

    @Override
    public synchronized void replay() {
        if (closed) {
            throw new IllegalStateException("replay of a closed " + describe());
        }
        backend.makeCurrent();
        if (backend.isCapturing()) {
            throw new IllegalStateException("replay of " + describe() + " while " + backend.device()
                    + " is capturing: replay it outside capture()");
        }
        Cu.check(cuGraphLaunch(exec, stream), "replay (cuGraphLaunch) of " + describe());
        if (mayReportErrors) {
            backend.errors().expect(); // its kernels may record an index error: read at the next synchronisation
        }
    }

    /** The number of operations (kernels, copies, GEMMs...) one replay runs. */
    long nodes() {
        return nodes;
    }

    @Override
    public String describe() {
        long bytes = pool.ownedBytes();
        String size = bytes < (1 << 20) ? (bytes + 1023) / 1024 + " KiB" : CachingAllocator.mib(bytes);
        return "CUDA graph of " + nodes + " nodes on " + backend.device() + ", private pool " + size
                + (closed ? " (closed)" : "");
    }

    /** Waits for the queued replays, then frees the executable graph, the graph and the pool's free blocks. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        backend.makeCurrent();
        backend.synchronizeQuietly();
        Cu.check(cuGraphExecDestroy(exec), "cuGraphExecDestroy on " + backend.device());
        Cu.check(cuGraphDestroy(graph), "cuGraphDestroy on " + backend.device());
        allocator.closePool(pool);
    }

    @Override
    public String toString() {
        return describe();
    }
}
