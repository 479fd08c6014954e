package dev.wengert.autograd.trace;

import dev.wengert.autograd.Backward;
import dev.wengert.autograd.Node;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Shape;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A recorded computation printed as a Wengert list, in the notation of Baydin, Pearlmutter, Radul and
 * Siskind, "Automatic differentiation in machine learning: a survey" (JMLR 18(153), 2018), Tables 2
 * and 3:
 * <ul>
 *   <li>{@link #primalTrace()}: the inputs numbered {@code v_{1-n} .. v_0}, then one line per recorded
 *       node {@code v_i = op(v_j, ...)} in creation order, with value (and dtype and shape for tensors);
 *   <li>{@link #tangentTrace()}: the forward (dual) trace {@code v̇_i = ...} read from the tangents the
 *       variables carry when inputs were seeded with {@link dev.wengert.autograd.Forward#withTangent};
 *   <li>{@link #adjointTrace()}: after {@link #backward()}, one line per term of the reverse sweep,
 *       {@code v̄_j = v̄_j + v̄_i ∂v_i/∂v_j}, in the order the sweep adds them, so the multi-parent sums
 *       are visible.
 * </ul>
 * Inputs are the leaves of the graph (parameters and non-scalar constants; a variable's name,
 * {@link Var#named}, is shown); one-element constants appear inline by value. Local partial derivatives
 * are written out for the scalar primitives (e.g. {@code v̄_2 × v_-1}); other primitives show
 * {@code ∂v_i/∂v_j}, which for tensors stands for the vector-Jacobian product of the rule table.
 *
 * <p>Building the list reads the graph and modifies nothing; {@link #backward()} runs a real backward
 * pass (leaf gradients accumulate as usual) and keeps the graph.
 */
public final class WengertList {
    private final Var output;
    private final List<Var> inputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<Var, Integer> index = new IdentityHashMap<>();
    private final List<String[]> adjointRows = new ArrayList<>();

    private WengertList(Var output) {
        this.output = output;
    }

    /**
     * The list of the graph that produced {@code output}.
     *
     * @throws IllegalArgumentException when nothing was recorded (inputs made with {@code Var.param}?)
     * @throws IllegalStateException when a backward pass without retainGraph has freed the graph
     */
    public static WengertList of(Var output) {
        if (output.isLeaf()) {
            throw new IllegalArgumentException("WengertList.of: " + output + " was not produced by a recorded operation; "
                    + "make the inputs with Var.param (recording needs an input that requires grad) and do not use Grad.noGrad()");
        }
        WengertList w = new WengertList(output);
        try {
            w.nodes.addAll(Backward.topologicalOrder(output));     // the order the reverse sweep walks back
        } catch (IllegalStateException freed) {
            throw new IllegalStateException("WengertList.of: build the list before backward, or call backward with retainGraph=true ("
                    + freed.getMessage() + ")", freed);
        }
        for (Node n : w.nodes) {
            for (Var in : n.inputs()) {
                if (in.isLeaf() && !isInlineConstant(in) && !w.index.containsKey(in)) {
                    w.inputs.add(in);
                    w.index.put(in, 0);
                }
            }
        }
        int k = 1 - w.inputs.size();
        for (Var in : w.inputs) {
            w.index.put(in, k++);
        }
        k = 1;
        for (Node n : w.nodes) {
            w.index.put(n.output(), k++);
        }
        return w;
    }

    private static boolean isInlineConstant(Var v) {
        return !v.requiresGrad() && v.name() == null && v.value().numel() == 1;
    }

    /** Number of recorded operations (the length of the list without its inputs). */
    public int size() {
        return nodes.size();
    }

    /** Number of inputs v_{1-n} .. v_0. */
    public int inputCount() {
        return inputs.size();
    }

    /** Lines of the adjoint trace recorded by {@link #backward()} (0 before). */
    public int adjointSize() {
        return adjointRows.size();
    }

    /** The trace name of a variable of this list, e.g. {@code v_-1}, or null when it is not in the list. */
    public String nameOf(Var v) {
        Integer i = index.get(v);
        return i == null ? null : "v_" + i;
    }

    /** The recorded nodes in creation order: v_1, v_2, ... */
    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** The inputs in order: v_{1-n}, ..., v_0. */
    public List<Var> inputs() {
        return List.copyOf(inputs);
    }

    // ------------------------------------------------------------------ primal

    /** The forward primal trace, one line per input and per operation, then the output. */
    public String primalTrace() {
        List<String[]> rows = new ArrayList<>();
        for (Var in : inputs) {
            String what = in.name() != null ? in.name() : in.requiresGrad() ? "input" : "constant";
            if (in.name() != null && !in.requiresGrad()) {
                what += " (constant)";
            }
            rows.add(new String[] {nameOf(in), what, format(in.value())});
        }
        for (Node n : nodes) {
            Var out = n.output();
            String expr = expression(n);
            if (out.name() != null) {
                expr += "   (" + out.name() + ")";
            }
            rows.add(new String[] {nameOf(out), expr, format(out.value())});
        }
        rows.add(new String[] {output.name() != null ? output.name() : "y", nameOf(output), format(output.value())});
        return table("Forward primal trace", rows);
    }

    // ------------------------------------------------------------------ tangent

    /**
     * The forward (dual) trace: each v̇_i as the sum over inputs of (local partial) × v̇_j, with the
     * tangent value carried by the variable. Inputs without a tangent have v̇ = 0 and are left out of the
     * sums.
     *
     * @throws IllegalStateException when no input carries a tangent
     */
    public String tangentTrace() {
        List<String[]> rows = new ArrayList<>();
        boolean seeded = false;
        for (Var in : inputs) {
            if (in.tangent() != null) {
                seeded = true;
                String seed = in.name() != null ? dot(in.name()) : "seed";
                rows.add(new String[] {dot(nameOf(in)), seed, format(in.tangent().value())});
            }
        }
        if (!seeded) {
            throw new IllegalStateException("WengertList.tangentTrace: no input carries a tangent; seed one with "
                    + "Forward.withTangent(x, v) before computing the output");
        }
        for (Node n : nodes) {
            Var out = n.output();
            Var[] in = n.inputs();
            String[] partials = partials(n);
            List<String> terms = new ArrayList<>();
            for (int j = 0; j < in.length; j++) {
                if (in[j].tangent() != null && index.containsKey(in[j])) {
                    terms.add(term(dot(nameOf(in[j])), partials == null ? null : partials[j], nameOf(out), nameOf(in[j])));
                }
            }
            String expr = terms.isEmpty() ? "0" : String.join(" + ", terms).replace("+ -", "- ");
            rows.add(new String[] {dot(nameOf(out)), expr, out.tangent() == null ? formatNumber(0) : format(out.tangent().value())});
        }
        rows.add(new String[] {dot(output.name() != null ? output.name() : "y"), dot(nameOf(output)),
            output.tangent() == null ? formatNumber(0) : format(output.tangent().value())});
        return table("Forward tangent (dual) trace", rows);
    }

    // ------------------------------------------------------------------ adjoint

    /** Runs backward from a one-element output, recording the adjoint trace; keeps the graph. Returns this. */
    public WengertList backward() {
        return backward(null);
    }

    /**
     * Runs backward with {@code cotangent} (null: ones, for a one-element output) as
     * {@link Var#backward(Tensor, boolean, boolean, Backward.Listener)} with retainGraph, recording the
     * adjoint trace (replacing an earlier one). Leaf gradients accumulate as in any backward. Returns this.
     */
    public WengertList backward(Tensor cotangent) {
        adjointRows.clear();
        Map<Var, Tensor> sums = new IdentityHashMap<>();
        output.backward(cotangent, true, false, new Backward.Listener() {
            @Override
            public void adjoint(Var v, Var adjoint) {
                if (v == output && !sums.containsKey(v)) {
                    sums.put(v, adjoint.value());
                    adjointRows.add(new String[] {bar(nameOf(v)), "ȳ (seed)", format(adjoint.value())});
                }
            }

            @Override
            public void contribution(Node node, int inputIndex, Var contribution) {
                Var target = node.inputs()[inputIndex];
                String out = nameOf(node.output());
                String in = nameOf(target);
                String[] partials = partials(node);
                String t = term(bar(out), partials == null ? null : partials[inputIndex], out, in);
                Tensor previous = sums.get(target);
                String expr = previous == null ? t : (bar(in) + " + " + t).replace("+ -", "- ");
                Tensor sum = previous == null ? contribution.value().copy() : previous.add(contribution.value());
                sums.put(target, sum);
                adjointRows.add(new String[] {bar(in), expr, format(sum)});
            }
        });
        for (Var in : inputs) {
            if (in.requiresGrad() && sums.containsKey(in) && in.name() != null) {
                adjointRows.add(new String[] {bar(in.name()), bar(nameOf(in)), format(sums.get(in))});
            }
        }
        return this;
    }

    /**
     * The reverse adjoint trace of the last {@link #backward()}.
     *
     * @throws IllegalStateException before backward
     */
    public String adjointTrace() {
        if (adjointRows.isEmpty()) {
            throw new IllegalStateException("WengertList.adjointTrace: call backward() on this list first");
        }
        return table("Reverse adjoint trace", adjointRows);
    }

    @Override
    public String toString() {
        return primalTrace();
    }

    // ------------------------------------------------------------------ notation

    /** The right-hand side of v_i = ... for a node, as its primitive prints it ({@link dev.wengert.autograd.Printer}). */
    private String expression(Node n) {
        return n.prim().expression(operands(n), n.attrs(), n.output());
    }

    private String[] operands(Node n) {
        Var[] in = n.inputs();
        String[] a = new String[in.length];
        for (int i = 0; i < in.length; i++) {
            a[i] = operand(in[i]);
        }
        return a;
    }

    private String operand(Var v) {
        String name = nameOf(v);
        return name != null ? name : formatNumber(v.item());
    }

    /**
     * Local partial derivatives ∂v_i/∂(input j) as text, as the primitive prints them for one-element nodes,
     * or null: then the trace writes ∂v_i/∂v_j.
     */
    private String[] partials(Node n) {
        return scalarNode(n) ? n.prim().partials(operands(n), nameOf(n.output())) : null;
    }

    private static boolean scalarNode(Node n) {
        for (Var v : n.inputs()) {
            if (v.value().numel() != 1) {
                return false;
            }
        }
        return n.output().value().numel() == 1;
    }

    /** One term "seed × partial" of a chain-rule sum, simplifying the partials 1 and -1. */
    private static String term(String seed, String partial, String out, String in) {
        if (partial == null) {
            return seed + " ∂" + out + "/∂" + in;
        } else if (partial.equals("1")) {
            return seed;
        } else if (partial.equals("-1")) {
            return "-" + seed;
        }
        return seed + " × " + partial;
    }

    private static String bar(String name) {
        return mark(name, '\u0304');
    }

    private static String dot(String name) {
        return mark(name, '\u0307');
    }

    /** name with a combining accent on its first letter: v_3 -> v̄_3. */
    private static String mark(String name, char accent) {
        int first = name.offsetByCodePoints(0, 1);
        return name.substring(0, first) + accent + name.substring(first);
    }

    // ------------------------------------------------------------------ formatting

    /** Three decimals as in the survey's tables; scientific notation for tiny and huge magnitudes. */
    static String formatNumber(double x) {
        double a = Math.abs(x);
        if (x == 0 || (a >= 1e-3 && a < 1e7)) {
            return String.format(Locale.ROOT, "%.3f", x);
        }
        return String.format(Locale.ROOT, "%.3e", x);
    }

    /** A scalar's value; a tensor's dtype and shape, with its values when it has at most 8 elements. */
    static String format(Tensor t) {
        if (t.numel() == 1 && t.rank() == 0) {
            return formatNumber(t.item());
        }
        String head = t.dtype() + Shape.str(t.shape());
        if (t.numel() > 8) {
            return head;
        }
        double[] v = t.toDoubleArray();
        StringBuilder sb = new StringBuilder(head).append(' ');
        nest(sb, v, t.shape(), 0, 0);
        return sb.toString();
    }

    private static int nest(StringBuilder sb, double[] v, int[] shape, int dim, int pos) {
        if (dim == shape.length) {
            sb.append(formatNumber(v[pos]));
            return pos + 1;
        }
        sb.append('[');
        for (int i = 0; i < shape[dim]; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            pos = nest(sb, v, shape, dim + 1, pos);
        }
        sb.append(']');
        return pos;
    }

    /** Rows "lhs = expression = value" with aligned columns (accents take no width). */
    private static String table(String title, List<String[]> rows) {
        int w0 = 0;
        int w1 = 0;
        for (String[] r : rows) {
            w0 = Math.max(w0, width(r[0]));
            w1 = Math.max(w1, width(r[1]));
        }
        StringBuilder sb = new StringBuilder(title).append('\n');
        for (String[] r : rows) {
            sb.append(pad(r[0], w0)).append(" = ").append(pad(r[1], w1)).append(" = ").append(r[2]).append('\n');
        }
        return sb.toString();
    }

    private static int width(String s) {
        return (int) s.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).count();
    }

    private static String pad(String s, int w) {
        return s + " ".repeat(Math.max(0, w - width(s)));
    }
}
