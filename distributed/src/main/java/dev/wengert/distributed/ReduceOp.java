package dev.wengert.distributed;

/** How {@link Communicator#allReduce} combines the ranks' values element by element. */
public enum ReduceOp {
    /** The sum over the ranks. */
    SUM,
    /** The sum over the ranks divided by the number of ranks. */
    MEAN
}
