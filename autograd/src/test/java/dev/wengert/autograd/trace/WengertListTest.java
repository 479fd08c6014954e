package dev.wengert.autograd.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Forward;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The survey's example f(x1, x2) = ln x1 + x1 x2 - sin x2 at (2, 5) (Baydin et al. 2018, Tables 2 and
 * 3): the primal trace must show its intermediate values, the tangent trace df/dx1 = 5.5 and the adjoint
 * trace x̄1 = 5.5, x̄2 = 1.716 with the multi-parent sums; plus DOT export.
 */
class WengertListTest {
    private Scope scope;
    private Var x1;
    private Var x2;
    private Var y;

    @BeforeEach
    void open() {
        scope = Scope.open();
        x1 = Var.param(Tensor.scalar(2, DType.FLOAT64)).named("x1");
        x2 = Var.param(Tensor.scalar(5, DType.FLOAT64)).named("x2");
        Forward.withTangent(x1, Tensor.scalar(1, DType.FLOAT64));
        y = x1.log().add(x1.mul(x2)).sub(x2.sin());
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** "lhs = expression = value" rows of a trace, split at the aligned " = ". */
    static List<String[]> rows(String trace) {
        List<String[]> out = new ArrayList<>();
        for (String line : trace.split("\n")) {
            String[] p = line.split(" += ");
            if (p.length == 3) {
                out.add(new String[] {p[0].strip(), p[1].strip(), p[2].strip()});
            }
        }
        return out;
    }

    static String valueOf(List<String[]> rows, String lhs, String expr) {
        for (String[] r : rows) {
            if (r[0].equals(lhs) && r[1].equals(expr)) {
                return r[2];
            }
        }
        throw new AssertionError("no row " + lhs + " = " + expr + " in " + rows.stream().map(r -> String.join(" = ", r)).toList());
    }

    @Test
    void primalTraceShowsTheSurveysValues() {
        WengertList w = WengertList.of(y);
        assertEquals(5, w.size());
        assertEquals(2, w.inputCount());
        List<String[]> r = rows(w.primalTrace());
        assertEquals("2.000", valueOf(r, "v_-1", "x1"));
        assertEquals("5.000", valueOf(r, "v_0", "x2"));
        assertEquals("0.693", valueOf(r, "v_1", "ln v_-1"));
        assertEquals("10.000", valueOf(r, "v_2", "v_-1 × v_0"));
        assertEquals("10.693", valueOf(r, "v_3", "v_1 + v_2"));
        assertEquals("-0.959", valueOf(r, "v_4", "sin v_0"));
        assertEquals("11.652", valueOf(r, "v_5", "v_3 - v_4"));
        assertEquals("11.652", valueOf(r, "y", "v_5"));
        assertEquals(8, r.size());
    }

    @Test
    void tangentTraceIsTheDualTrace() {
        List<String[]> r = rows(WengertList.of(y).tangentTrace());
        assertEquals("1.000", valueOf(r, "v̇_-1", "x\u03071"));
        assertEquals("0.500", valueOf(r, "v̇_1", "v̇_-1 × (1/v_-1)"));
        assertEquals("5.000", valueOf(r, "v̇_2", "v̇_-1 × v_0"));
        assertEquals("5.500", valueOf(r, "v̇_3", "v̇_1 + v̇_2"));
        assertEquals("0.000", valueOf(r, "v̇_4", "0"));
        assertEquals("5.500", valueOf(r, "y\u0307", "v̇_5"));
    }

    @Test
    void adjointTraceShowsTheMultiParentSums() {
        WengertList w = WengertList.of(y).backward();
        List<String[]> r = rows(w.adjointTrace());
        assertEquals("1.000", valueOf(r, "v̄_5", "ȳ (seed)"));
        assertEquals("-1.000", valueOf(r, "v̄_4", "-v̄_5"));
        assertEquals("-0.284", valueOf(r, "v̄_0", "v̄_4 × cos v_0"));
        assertEquals("5.000", valueOf(r, "v̄_-1", "v̄_2 × v_0"));
        assertEquals("1.716", valueOf(r, "v̄_0", "v̄_0 + v̄_2 × v_-1"));        // x2 has two parents
        assertEquals("5.500", valueOf(r, "v̄_-1", "v̄_-1 + v̄_1 × (1/v_-1)"));   // x1 has two parents
        assertEquals("5.500", valueOf(r, "x̄1", "v̄_-1"));
        assertEquals("1.716", valueOf(r, "x̄2", "v̄_0"));
        assertEquals(5.5, x1.gradTensor().item(), 1e-15);
        assertEquals(2 - Math.cos(5), x2.gradTensor().item(), 1e-15);
        assertEquals(11, w.adjointSize());
    }

    @Test
    void tensorTracesShowShapesAndVjpTerms() {
        Var a = Var.param(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3)).named("A");
        Var out = a.exp().sum(false, 1).mul(a.sum()).sum();
        WengertList w = WengertList.of(out);
        String primal = w.primalTrace();
        assertTrue(primal.contains("v_2 = sum(v_1, axes=[1])"), primal);
        assertTrue(primal.contains("float64[2, 3] [[1.000, 2.000, 3.000], [4.000, 5.000, 6.000]]"), primal);
        String adjoint = w.backward().adjointTrace();
        assertTrue(adjoint.contains("v̄_0 = v̄_0 + v̄_"), "A is used twice: " + adjoint);
        assertTrue(adjoint.contains("∂v_"), adjoint);
    }

    @Test
    void misuseFailsWithAMessage() {
        Var c = Var.constant(Tensor.scalar(1, DType.FLOAT64)).sin();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WengertList.of(c));
        assertTrue(e.getMessage().contains("Var.param"), e.getMessage());
        y.backward();
        IllegalStateException freed = assertThrows(IllegalStateException.class, () -> WengertList.of(y));
        assertTrue(freed.getMessage().contains("retainGraph"), freed.getMessage());
        Var z = Var.param(Tensor.scalar(1, DType.FLOAT64)).exp();
        IllegalStateException noTangent = assertThrows(IllegalStateException.class, () -> WengertList.of(z).tangentTrace());
        assertTrue(noTangent.getMessage().contains("Forward.withTangent"), noTangent.getMessage());
        assertThrows(IllegalStateException.class, () -> WengertList.of(z).adjointTrace());
    }

    @Test
    void dotExportNamesOpsShapesAndRequiresGrad() {
        Var data = Var.constant(Tensor.of(new double[] {1, 2, 3, 4}, 2, 2)).named("X");
        Var w = Var.param(Tensor.of(new double[] {1, 0}, 2, 1)).named("w");
        String dot = GraphViz.dot(data.matmul(w).tanh().sum().mul(2));
        assertTrue(dot.startsWith("digraph wengert {") && dot.endsWith("}\n"), dot);
        assertTrue(dot.contains("v_-1 (X)\\nfloat64[2, 2]\\nconstant"), dot);
        assertTrue(dot.contains("v_0 (w)\\nfloat64[2, 1]\\nrequires grad"), dot);
        assertTrue(dot.contains("v_1 = matmul\\nfloat64[2, 1]"), dot);
        assertTrue(dot.contains("v_4 = mul\\nfloat64[]"), dot);
        assertTrue(dot.contains("label=\"2.000\""), "the inline constant: " + dot);
        Matcher edges = Pattern.compile(" -> ").matcher(dot);
        int count = 0;
        while (edges.find()) {
            count++;
        }
        assertEquals(2 + 1 + 1 + 2, count, dot);
    }

    @Test
    void renderingWithoutDotSaysWhatToDo(@TempDir Path dir) {
        Var w = Var.param(Tensor.of(new double[] {1, 0}, 2)).named("w");
        String dot = GraphViz.dot(w.exp().sum());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> GraphViz.render(dot, dir.resolve("g.svg"), "/nonexistent/graphviz/dot"));
        assertTrue(e.getMessage().contains("install Graphviz"), e.getMessage());
        IllegalArgumentException format = assertThrows(IllegalArgumentException.class, () -> GraphViz.render(dot, dir.resolve("g.txt")));
        assertTrue(format.getMessage().contains(".svg"), format.getMessage());
    }
}
