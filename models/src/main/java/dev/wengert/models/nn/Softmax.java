package dev.wengert.models.nn;

/** Softmax along {@code axis} (exp of a fused, stable log-softmax); no parameters. */
public final class Softmax extends ActivationLayer {
    private final int axis;

    /** Softmax along the last axis. */
    public Softmax() {
        this(-1);
    }

    public Softmax(int axis) {
        super(x -> x.softmax(axis));
        this.axis = axis;
    }

    @Override
    public String toString() {
        return "Softmax(axis=" + axis + ")";
    }
}
