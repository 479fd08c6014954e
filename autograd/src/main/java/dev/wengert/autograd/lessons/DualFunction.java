package dev.wengert.autograd.lessons;

/**
 * A scalar function written against {@link Dual} numbers, so that evaluating it on
 * {@code Dual.variable(x)} yields both f(x) and f'(x) in one pass (forward-mode AD).
 *
 * <p>A dedicated interface rather than {@code java.util.function.UnaryOperator<Dual>} keeps
 * call sites short ({@code Dual.derivative(x -> x.sin().times(x), 1.0)}) and lets the
 * Javadoc say what is expected: f must be built only from {@code Dual} operations (plus
 * constants); any detour through {@code double} drops the tangent and silently yields a wrong
 * derivative.
 */
@FunctionalInterface
public interface DualFunction {

    /**
     * Evaluates the function on a dual number.
     *
     * @param x the argument, usually {@code Dual.variable(x0)}
     * @return f(x) carrying its tangent
     */
    Dual apply(Dual x);
}
