package dev.wengert.autograd.trace;

import dev.wengert.autograd.Node;
import dev.wengert.autograd.Var;
import dev.wengert.tensor.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Graphviz DOT export of a recorded graph: one box per input (blue and marked "requires grad" for
 * parameters, grey for constants), one ellipse per operation labelled with its Wengert-list name
 * ({@link WengertList}), primitive and output shape, and an edge from each operand to its use. One-element
 * constants get a small node each. {@link #render} turns the text into SVG or PNG when the Graphviz
 * {@code dot} program is installed.
 */
public final class GraphViz {

    private GraphViz() {
    }

    /** The DOT text of the graph that produced {@code output}; modifies nothing. */
    public static String dot(Var output) {
        WengertList list = WengertList.of(output);
        StringBuilder sb = new StringBuilder("digraph wengert {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        Map<Var, String> ids = new IdentityHashMap<>();
        int k = 0;
        for (Var in : list.inputs()) {
            String id = "n" + k++;
            ids.put(in, id);
            String name = list.nameOf(in) + (in.name() != null ? " (" + in.name() + ")" : "");
            String style = in.requiresGrad() ? "style=filled, fillcolor=lightblue" : "style=filled, fillcolor=lightgrey";
            sb.append("  ").append(id).append(" [shape=box, ").append(style).append(", label=\"")
                    .append(escape(name + "\n" + describe(in) + "\n" + (in.requiresGrad() ? "requires grad" : "constant")))
                    .append("\"];\n");
        }
        for (Node n : list.nodes()) {
            String id = "n" + k++;
            Var out = n.output();
            ids.put(out, id);
            String name = list.nameOf(out) + " = " + n.prim().name() + (out.name() != null ? " (" + out.name() + ")" : "");
            sb.append("  ").append(id).append(" [shape=ellipse, label=\"").append(escape(name + "\n" + describe(out)))
                    .append("\"];\n");
            for (Var in : n.inputs()) {
                String from = ids.get(in);
                if (from == null) {            // a one-element constant, shown inline
                    from = "n" + k++;
                    sb.append("  ").append(from).append(" [shape=plaintext, label=\"")
                            .append(escape(WengertList.formatNumber(in.item()))).append("\"];\n");
                }
                sb.append("  ").append(from).append(" -> ").append(id).append(";\n");
            }
        }
        return sb.append("}\n").toString();
    }

    /** {@link #render(String, Path, String)} with the {@code dot} found on the PATH. */
    public static Path render(String dot, Path file) {
        return render(dot, file, "dot");
    }

    /**
     * Writes {@code dot} rendered by the Graphviz program {@code executable} to {@code file}; the format
     * comes from the file's extension (svg, png or pdf). Creates or replaces {@code file}. Returns it.
     *
     * @throws IllegalStateException when the program is not installed or fails (with its message)
     * @throws IllegalArgumentException for an unknown extension
     */
    public static Path render(String dot, Path file, String executable) {
        String name = file.getFileName().toString();
        String format = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        if (!format.equals("svg") && !format.equals("png") && !format.equals("pdf")) {
            throw new IllegalArgumentException("GraphViz.render: cannot tell the format of " + file
                    + "; name the file .svg, .png or .pdf");
        }
        Process p;
        try {
            p = new ProcessBuilder(executable, "-T" + format, "-o", file.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("GraphViz.render: could not run '" + executable + "' (" + e.getMessage()
                    + "); install Graphviz (e.g. apt-get install graphviz) or save GraphViz.dot(...) to a .dot file"
                    + " and render it elsewhere", e);
        }
        try {
            p.getOutputStream().write(dot.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String messages = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroy();
                throw new IllegalStateException("GraphViz.render: '" + executable + "' did not finish within 60 s");
            }
            if (p.exitValue() != 0 || !Files.exists(file)) {
                throw new IllegalStateException("GraphViz.render: '" + executable + "' failed with exit code "
                        + p.exitValue() + ": " + messages.strip());
            }
            return file;
        } catch (IOException e) {
            throw new IllegalStateException("GraphViz.render: writing to '" + executable + "' failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("GraphViz.render: interrupted", e);
        }
    }

    private static String describe(Var v) {
        return v.dtype() + Shape.str(v.shape());
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
