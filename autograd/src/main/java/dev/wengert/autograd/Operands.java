package dev.wengert.autograd;

import dev.wengert.tensor.Tensor;
import java.util.Objects;

/**
 * Operand checks of autograd's entry points (jvp, vjp, hvp, backward's cotangent, the cross-entropy
 * gradient). Tensor's own check lives in the tensor SPI ({@code dev.wengert.tensor.spi.Tensors}), which only
 * the tensor module may use, so autograd states its check here, with the same messages.
 */
final class Operands {
    private Operands() {
    }

    /**
     * Checks that two operands share device and dtype and are open.
     *
     * @throws IllegalArgumentException naming the op, both operands and what to do
     */
    static void checkCompatible(String op, Tensor a, Tensor b) {
        Objects.requireNonNull(a, op + ": first operand is null");
        Objects.requireNonNull(b, op + ": second operand is null");
        a.ensureOpen(op);
        b.ensureOpen(op);
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": operands are on different devices: " + a.describe() + " and "
                    + b.describe() + "; move one with to(" + a.device() + ")");
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": operands have different dtypes: " + a.describe() + " and "
                    + b.describe() + "; convert one with cast(DType." + a.dtype().name() + ")");
        }
    }
}
