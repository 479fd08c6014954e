package dev.wengert.distributed;

/**
 * A collective operation waited longer than the communicator's timeout for the other ranks: one of them has
 * died, hangs or took another path through the program. The operation cannot be cancelled, so the process
 * should exit (a launcher such as mpirun then ends the others).
 */
public final class CollectiveTimeoutException extends RuntimeException {
    public CollectiveTimeoutException(String message) {
        super(message);
    }
}
