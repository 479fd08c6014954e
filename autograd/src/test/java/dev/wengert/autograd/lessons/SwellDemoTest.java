package dev.wengert.autograd.lessons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The swell table: the symbolic derivative more than doubles per step, the Wengert list grows by a constant. */
class SwellDemoTest {
    @Test
    void symbolicDerivativeSwellsWhileTheWengertListGrowsLinearly() {
        List<SwellDemo.Row> rows = SwellDemo.rows(12);
        for (int i = 1; i < rows.size(); i++) {
            SwellDemo.Row prev = rows.get(i - 1);
            SwellDemo.Row r = rows.get(i);
            assertEquals(3, r.wengertLength() - prev.wengertLength(), "three operations per step: " + r);
            assertEquals(4, r.adjointLength() - prev.adjointLength(), "four adjoint terms per step: " + r);
            assertTrue(r.symbolicDerivativeSize() > 2 * prev.symbolicDerivativeSize(), "symbolic more than doubles: " + r);
        }
        assertFalse(SwellDemo.table(rows).isEmpty());
    }
}
