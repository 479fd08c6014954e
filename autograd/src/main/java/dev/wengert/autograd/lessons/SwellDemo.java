package dev.wengert.autograd.lessons;

import dev.wengert.autograd.Var;
import dev.wengert.autograd.trace.WengertList;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Symbolic differentiation against AD on the logistic map {@code l_1 = x, l_{n+1} = 4 l_n (1 - l_n)}
 * (Baydin et al. 2018, Table 1): the symbolic derivative d l_n/dx grows exponentially in n
 * ({@link ExpressionSwell}), while the Wengert list of the same computation recorded with {@link Var}
 * grows by three operations per step, and its adjoint trace by a constant number of lines per step.
 * Run {@link #main} for the table.
 */
public final class SwellDemo {

    private SwellDemo() {
    }

    /**
     * One row: the symbolic sizes (tree nodes of l_n and of d l_n/dx after simplification) and the
     * lengths of the Wengert list of l_n (operations) and of its adjoint trace (lines).
     */
    public record Row(int n, long expressionSize, long symbolicDerivativeSize, int wengertLength, int adjointLength) {
    }

    /** Rows for n = 1..maxN (maxN at least 2: l_1 = x records nothing). */
    public static List<Row> rows(int maxN) {
        if (maxN < 2) {
            throw new IllegalArgumentException("SwellDemo.rows: maxN must be at least 2 (l_1 = x has no operations): " + maxN);
        }
        List<Row> rows = new ArrayList<>();
        List<ExpressionSwell.Row> symbolic = ExpressionSwell.logisticMap(maxN);
        for (int n = 2; n <= maxN; n++) {
            try (Scope s = Scope.open()) {
                Var x = Var.param(Tensor.scalar(0.3, DType.FLOAT64)).named("x");
                Var l = logistic(x, n);
                WengertList w = WengertList.of(l).backward();
                ExpressionSwell.Row r = symbolic.get(n - 1);
                rows.add(new Row(n, r.expressionSize(), r.derivativeSize(), w.size(), w.adjointSize()));
            }
        }
        return rows;
    }

    /** l_n of the logistic map, recorded with Var operations: 4 l (1 - l), repeated n - 1 times. */
    public static Var logistic(Var x, int n) {
        Var l = x;
        for (int k = 1; k < n; k++) {
            l = l.mul(4).mul(l.rsub(1));
        }
        return l;
    }

    /** The rows as a table. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder(" n  size of l_n  size of dl_n/dx  Wengert list  adjoint trace\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%2d  %11d  %15d  %12d  %13d\n", r.n(), r.expressionSize(),
                    r.symbolicDerivativeSize(), r.wengertLength(), r.adjointLength()));
        }
        return sb.toString();
    }

    /** Prints the table for n = 2..12 (or up to the first argument). */
    public static void main(String[] args) {
        int maxN = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        System.out.print(table(rows(maxN)));
    }
}
