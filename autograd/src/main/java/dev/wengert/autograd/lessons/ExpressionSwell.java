package dev.wengert.autograd.lessons;

import java.util.ArrayList;
import java.util.List;

/**
 * The expression-swell example of Baydin, Pearlmutter, Radul and Siskind, "Automatic
 * Differentiation in Machine Learning: a Survey" (JMLR 18(153), 2018), Table 1: iterating the
 * logistic map {@code l_1 = x, l_{n+1} = 4 l_n (1 - l_n)} and differentiating l_n symbolically.
 *
 * <p>Why it swells: l_{n+1} contains l_n twice, so l_n as a tree already has
 * {@code 6·2^(n-1) - 5} nodes; the product rule then puts both l_n and its derivative into
 * {@code d l_{n+1}/dx} twice each, so the derivative grows roughly like {@code n·2^n}.
 * {@link Expr#simplify()} (which applies only value-preserving rules, no expansion or
 * collection of terms) shrinks it by a constant factor but not the exponential growth. Forward
 * or reverse AD evaluates the same derivative in O(n) operations by keeping the numeric value
 * of each l_k instead of its formula.
 */
public final class ExpressionSwell {

    /** The name of the independent variable of the logistic map. */
    public static final String VARIABLE = "x";

    /**
     * One row of the table.
     *
     * @param n                    the iteration index (1-based)
     * @param expressionSize       tree size of l_n
     * @param derivativeSize       tree size of d l_n / dx after {@link Expr#simplify()}
     * @param rawDerivativeSize    tree size of d l_n / dx straight from {@link Expr#diff}
     */
    public record Row(int n, long expressionSize, long derivativeSize, long rawDerivativeSize) {
    }

    private ExpressionSwell() {
    }

    /**
     * The n-th iterate l_n of the logistic map in the variable {@link #VARIABLE}, built as
     * {@code 4 * l * (1 - l)} (a tree in which l_{n-1} occurs twice, shared in memory).
     *
     * @param n the index, at least 1
     */
    public static Expr logisticTerm(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1: " + n);
        }
        Expr l = Expr.variable(VARIABLE);
        for (int k = 1; k < n; k++) {
            l = Expr.constant(4).times(l).times(Expr.constant(1).minus(l));
        }
        return l;
    }

    /**
     * The table for n = 1..maxN: {@code (n, size of l_n, size of d l_n/dx after simplify,
     * size of d l_n/dx before simplify)}. Runs in time linear in n per row thanks to the
     * node sharing inside {@link Expr} even though the sizes grow exponentially.
     *
     * @param maxN the last n, at least 1
     */
    public static List<Row> logisticMap(int maxN) {
        if (maxN < 1) {
            throw new IllegalArgumentException("maxN must be at least 1: " + maxN);
        }
        List<Row> rows = new ArrayList<>(maxN);
        for (int n = 1; n <= maxN; n++) {
            Expr l = logisticTerm(n);
            Expr raw = l.diff(VARIABLE);
            Expr simplified = raw.simplify();
            rows.add(new Row(n, l.size(), simplified.size(), raw.size()));
        }
        return rows;
    }
}
