package dev.wengert.tensor;

/**
 * Device work recorded once by {@link Backend#capture} and replayed as one launch (a CUDA graph): the
 * same kernels, on the same memory addresses, with the same scalar arguments, every time.
 *
 * <p>What a replay reads and writes is fixed at capture: the tensors the captured work used, and the
 * tensors it created (they keep their addresses; hold on to the ones you read, e.g. the loss). To give a
 * replay new inputs, write them into the captured input tensors <em>outside</em> the captured work (an
 * upload, {@link Tensor#assign}), before {@link #replay}. Tensors the work updated in place (parameters,
 * optimizer state) carry their state from one replay to the next; anything the host decided during the
 * capture (a learning rate passed as a number, a shape, a branch) is frozen into the graph.
 */
public interface CapturedWork extends AutoCloseable {

    /**
     * Queues one execution of the captured work on the backend's stream, asynchronously: reads and
     * synchronisation work as after any other op. No memory is allocated.
     *
     * @throws IllegalStateException after {@link #close}, or while the backend is capturing
     */
    void replay();

    /** What was captured, e.g. "CUDA graph of 12 nodes on cuda:0, private pool 1.5 MiB". */
    String describe();

    /**
     * Frees the graph and its private memory pool (after the device finished its replays). Tensors
     * created inside the capture stay valid; their memory returns to the backend when they are closed.
     * Idempotent.
     */
    @Override
    void close();
}
