package dev.wengert.tensor;

/**
 * Element types. Floating types are differentiable; {@link #INT64} holds class labels and indices.
 */
public enum DType {
    FLOAT32(4, true, "float32"),
    FLOAT64(8, true, "float64"),
    INT64(8, false, "int64");

    private final int bytes;
    private final boolean floating;
    private final String label;

    DType(int bytes, boolean floating, String label) {
        this.bytes = bytes;
        this.floating = floating;
        this.label = label;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for float32 and float64, the types that can carry gradients. */
    public boolean isFloating() {
        return floating;
    }

    @Override
    public String toString() {
        return label;
    }
}
