package dev.wengert.tensor;

/** How {@link Tensor#pad} fills the new elements (torch.nn.functional.pad's modes). */
public enum PadMode {
    /** A constant value. */
    CONSTANT,
    /** The mirror image without repeating the edge: [1, 2, 3] padded by 2 on each side is [3, 2, 1, 2, 3, 2, 1]; padding must be smaller than the dimension. */
    REFLECT,
    /** The edge element repeated: [1, 2, 3] padded by 2 is [1, 1, 1, 2, 3, 3, 3]; the dimension must not be empty. */
    REPLICATE,
    /** Wrapping around: [1, 2, 3] padded by 2 is [2, 3, 1, 2, 3, 1, 2]; padding may not exceed the dimension. */
    CIRCULAR
}
