package dev.wengert.autograd;

import java.util.function.BiFunction;

/**
 * How a Wengert list ({@link dev.wengert.autograd.trace.WengertList}) shows a node of a primitive: the
 * right-hand side of {@code v_i = ...} from the operands' names, and, for one-element nodes, the local
 * partial derivatives as text (null: the list writes {@code ∂v_i/∂v_j}, the rule table's product).
 *
 * @param <A> the primitive's attribute type
 */
public record Printer<A>(Expression<A> expression, Partials partials) {

    /** The right-hand side of v_i = ... from the operands' names, the attributes and the output. */
    @FunctionalInterface
    public interface Expression<A> {
        String of(String[] args, A attrs, Var out);
    }

    /** The local partial derivatives ∂y/∂(argument j) as text, from the operands' names and the output's. */
    @FunctionalInterface
    public interface Partials {
        String[] of(String[] args, String out);
    }

    /** {@code name(a, b)}; the default form. */
    public static <A> Printer<A> call(String name) {
        return call(name, null);
    }

    /** {@code name(a, b, attributes)}; {@code attributes} (may be null) writes them from the attributes and the output. */
    public static <A> Printer<A> call(String name, BiFunction<A, Var, String> attributes) {
        return new Printer<>((a, at, out) -> {
            String text = attributes == null ? (at == null ? "" : String.valueOf(at)) : attributes.apply(at, out);
            return name + "(" + String.join(", ", a) + (text.isEmpty() ? "" : ", " + text) + ")";
        }, null);
    }

    /** {@code a op b} (e.g. {@code v_1 + v_2}) with the given partials. */
    public static <A> Printer<A> infix(String op, Partials partials) {
        return new Printer<>((a, at, out) -> a[0] + " " + op + " " + a[1], partials);
    }

    /** {@code prefix a} (e.g. {@code exp v_1}, {@code -v_1}) with the given partials (may be null). */
    public static <A> Printer<A> prefix(String prefix, Partials partials) {
        return new Printer<>((a, at, out) -> prefix + a[0], partials);
    }

    /** The same expression with other partials. */
    public Printer<A> withPartials(Partials p) {
        return new Printer<>(expression, p);
    }
}
