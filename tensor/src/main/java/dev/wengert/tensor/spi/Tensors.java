package dev.wengert.tensor.spi;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Storage;
import dev.wengert.tensor.Tensor;
import java.util.Objects;

/**
 * What backends (and the fused kernels they register) need from a {@link Tensor} that users must not
 * call: allocating an uninitialised output, reaching a tensor's {@link Storage}, the shape inference and
 * operand checks the ops run before they call a backend. Only {@code dev.wengert.tensor} and its
 * subpackages may use this package; an ArchUnit rule ({@code ArchitectureRules.SPI_ONLY_INSIDE_TENSOR})
 * keeps autograd, models and bench out.
 *
 * <p><b>Mechanism.</b> The backends live in other packages than {@link Tensor}, so package-private members
 * cannot serve them, and making them public would put them on the user API. Instead {@code Tensor} keeps
 * its constructor and storage private and hands an {@link Access} to this class once, from its static
 * initialiser ({@link #install}); this class forces that initialisation before it is used, so a second
 * {@code install} (from anyone else) always throws.
 */
public final class Tensors {
    /** The two things only {@code Tensor} can do, handed over by its static initialiser. */
    public interface Access {
        Tensor empty(Backend backend, DType dtype, int[] shape);

        Storage storage(Tensor t);
    }

    private static Access access;

    static {
        try {
            // Tensor's static initialiser installs the access (re-entrant when Tensor is being initialised).
            Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Tensors() {
    }

    /** Called once by {@code Tensor}'s static initialiser; any other call throws. */
    public static synchronized void install(Access a) {
        if (access != null) {
            throw new IllegalStateException("Tensors.install: the tensor access is installed by Tensor alone");
        }
        access = Objects.requireNonNull(a);
    }

    /** Allocates an uninitialised tensor on {@code backend}: an op's output, or a kernel's scratch. */
    public static Tensor empty(Backend backend, DType dtype, int... shape) {
        return access.empty(backend, dtype, shape);
    }

    /** The memory behind {@code t} (a backend casts it to its own storage type). */
    public static Storage storage(Tensor t) {
        t.ensureOpen("storage");
        return access.storage(t);
    }

    /** Result shape of a matmul; throws naming both shapes when they do not fit. */
    public static int[] matmulShape(int[] a, boolean ta, int[] b, boolean tb) {
        if (a.length < 2 || a.length > 3 || b.length < 2 || b.length > 3) {
            throw new IllegalArgumentException("matmul: operands must be 2-D or 3-D, got " + Shape.str(a) + " and "
                    + Shape.str(b) + "; reshape first");
        }
        int m = ta ? a[a.length - 1] : a[a.length - 2];
        int ka = ta ? a[a.length - 2] : a[a.length - 1];
        int kb = tb ? b[b.length - 1] : b[b.length - 2];
        int n = tb ? b[b.length - 2] : b[b.length - 1];
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Shape.str(a) + (ta ? "^T" : "")
                    + " @ " + Shape.str(b) + (tb ? "^T" : "") + " (" + ka + " vs " + kb + ")");
        }
        if (a.length == 3 && b.length == 3 && a[0] != b[0]) {
            throw new IllegalArgumentException("matmul: batch sizes differ: " + Shape.str(a) + " @ " + Shape.str(b));
        }
        if (a.length == 3 || b.length == 3) {
            return new int[] {a.length == 3 ? a[0] : b[0], m, n};
        }
        return new int[] {m, n};
    }
}
