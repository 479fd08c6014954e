package dev.wengert.autograd;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * An operation in PyTorch's terms: its equivalent, its gradient conventions and how it differs. It sits on
 * every built-in primitive (a constant of {@link Prim}) and on every public {@link Var} method that composes
 * primitives, next to the definition it describes; the table of supported operations, docs/operations.md, is
 * generated from these and nothing else (OperationsDocTest regenerates it and fails when the file differs, or
 * when a built-in primitive or a public {@code Var} operation has no {@code @Torch}).
 *
 * <p>Adding an operation therefore means adding its {@code @Torch} line above its descriptor (or method) and
 * regenerating the file: {@code -Dwengert.regenerate.docs=true}, see docs/operations.md.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD})
public @interface Torch {
    /** The PyTorch equivalent, e.g. {@code "torch.exp"}; several separated by ", ". */
    String value();

    /** The section of the table. */
    Group group();

    /** Gradient notes: conventions at kinks and ties, what is not differentiable, how the rule is built. Empty: none. */
    String grad() default "";

    /** Differences from PyTorch beyond the library-wide ones (docs/operations.md lists those). Empty: none. */
    String differs() default "";

    /**
     * On a primitive: the name of the {@code Var} method(s) that apply it when it is not the primitive's name;
     * {@code "-"} for a primitive with no method of its own (recorded by another primitive's rule).
     */
    String method() default "";

    /** The sections of docs/operations.md, in order. */
    enum Group {
        ELEMENTWISE("Elementwise"),
        REDUCTION("Reductions and scans"),
        LINEAR_ALGEBRA("Linear algebra"),
        SHAPE("Shape and movement"),
        INDEXING("Indexing"),
        SORTING("Sorting"),
        SOFTMAX_AND_LOSSES("Softmax and losses"),
        CONVOLUTION("Convolution and pooling"),
        NORMALIZATION("Normalisation");

        private final String title;

        Group(String title) {
            this.title = title;
        }

        /** The section heading. */
        public String title() {
            return title;
        }
    }
}
