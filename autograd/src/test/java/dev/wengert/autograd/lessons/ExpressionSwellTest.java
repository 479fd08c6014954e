package dev.wengert.autograd.lessons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExpressionSwellTest {

    private static final int N = 14;

    @Test
    void rowsAreNumberedAndTermSizesFollowTheRecurrence() {
        List<ExpressionSwell.Row> rows = ExpressionSwell.logisticMap(N);
        assertEquals(N, rows.size());
        for (int i = 0; i < N; i++) {
            ExpressionSwell.Row row = rows.get(i);
            int n = i + 1;
            assertEquals(n, row.n());
            // size(l_{n+1}) = 5 + 2 size(l_n), size(l_1) = 1  =>  6 * 2^(n-1) - 5
            assertEquals(6L * (1L << (n - 1)) - 5, row.expressionSize(), "n=" + n);
            assertEquals(ExpressionSwell.logisticTerm(n).size(), row.expressionSize());
        }
        assertEquals(new ExpressionSwell.Row(1, 1, 1, 1), rows.get(0));
    }

    @Test
    void derivativeSizeGrowsExponentially() {
        List<ExpressionSwell.Row> rows = ExpressionSwell.logisticMap(N);
        for (int i = 2; i < N; i++) {
            ExpressionSwell.Row prev = rows.get(i - 1);
            ExpressionSwell.Row row = rows.get(i);
            // every step at least doubles both derivative sizes
            assertTrue(row.derivativeSize() >= 2 * prev.derivativeSize(), row + " vs " + prev);
            assertTrue(row.rawDerivativeSize() >= 2 * prev.rawDerivativeSize(), row + " vs " + prev);
            // the derivative outgrows the expression itself
            assertTrue(row.derivativeSize() > row.expressionSize(), row.toString());
        }
        for (ExpressionSwell.Row row : rows.subList(1, N)) {
            assertTrue(row.derivativeSize() < row.rawDerivativeSize(), "simplify helps: " + row);
            assertTrue(row.derivativeSize() >= (1L << row.n()), "at least 2^n: " + row);
        }
        // growth rate over the last 8 steps exceeds 2 per step (2^8 = 256)
        double ratio = (double) rows.get(N - 1).derivativeSize() / rows.get(N - 9).derivativeSize();
        assertTrue(ratio > 256, "ratio " + ratio);
    }

    @Test
    void smallCasesMatchTheSurveyTable() {
        Expr x = Expr.variable("x");
        assertEquals(x, ExpressionSwell.logisticTerm(1));
        assertEquals("4 * x * (1 - x)", ExpressionSwell.logisticTerm(2).toString());
        assertEquals("4 * (1 - x) - 4 * x", ExpressionSwell.logisticTerm(2).diff("x").simplify().toString());
        assertEquals("4 * (4 * x * (1 - x)) * (1 - 4 * x * (1 - x))", ExpressionSwell.logisticTerm(3).toString());
    }

    @Test
    void derivativeValueMatchesDualNumbers() {
        for (double x : new double[] {0.05, 0.2, 0.37, 0.5, 0.81, 0.99}) {
            Dual l = Dual.variable(x);
            for (int n = 1; n <= 10; n++) {
                if (n > 1) {
                    l = Dual.constant(4).times(l).times(Dual.constant(1).minus(l));
                }
                Expr term = ExpressionSwell.logisticTerm(n);
                Expr raw = term.diff(ExpressionSwell.VARIABLE);
                Expr simple = raw.simplify();
                double tol = 1e-10 * Math.max(1.0, Math.abs(l.tangent));
                assertEquals(l.value, term.eval("x", x), 1e-12, "l_" + n + "(" + x + ")");
                assertEquals(l.tangent, raw.eval("x", x), tol, "raw l_" + n + "'(" + x + ")");
                assertEquals(l.tangent, simple.eval("x", x), tol, "simplified l_" + n + "'(" + x + ")");
                // the safe simplification rules do not change a single bit here
                assertEquals(raw.eval("x", x), simple.eval("x", x), 0.0);
            }
        }
    }

    @Test
    void rejectsNonPositiveN() {
        assertThrows(IllegalArgumentException.class, () -> ExpressionSwell.logisticMap(0));
        assertThrows(IllegalArgumentException.class, () -> ExpressionSwell.logisticTerm(0));
    }
}
