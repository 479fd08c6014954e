package dev.wengert.bench;

/** One implementation of a workload's training step, prepared and ready to repeat. */
public interface TrainingStep extends AutoCloseable {

    /** Runs one complete step (forward, loss, backward, SGD update) and returns the loss. */
    double step();

    /** Peak bytes of tensor memory this implementation held, or -1 when it cannot tell. */
    default long peakBytes() {
        return -1;
    }

    @Override
    default void close() {
    }
}
