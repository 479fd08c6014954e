package dev.wengert.autograd;

import dev.wengert.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reverse sweep. It knows no primitive: it orders the nodes reachable from the output (creation
 * order is topological), and for each node, latest first, asks {@link Rules} for the inputs' adjoints
 * and sums them over every use of a value (the multi-parent sum). Leaves and retained variables
 * accumulate their adjoints into {@link Var#grad()}.
 */
public final class Backward {

    /** Observes each adjoint as it is completed, for adjoint traces. */
    @FunctionalInterface
    public interface Listener {
        void adjoint(Var v, Var adjoint);
    }

    private Backward() {
    }

    static void run(Var root, Tensor cotangent, boolean retainGraph, boolean createGraph, Listener listener) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the output " + root.value().describe()
                    + " does not depend on any variable that requires grad (was it computed under Grad.noGrad(), or from constants only?)");
        }
        Var seed;
        if (cotangent == null) {
            if (root.value().numel() != 1) {
                throw new IllegalArgumentException("backward: the output " + root.value().describe()
                        + " is not a scalar; pass a cotangent of shape " + Arrays.toString(root.shape())
                        + " to backward(cotangent), or reduce the output first (sum(), mean())");
            }
            seed = Var.constant(Tensor.on(root.value().device()).ones(root.dtype(), root.shape()));
        } else {
            Tensor.checkCompatible("backward", root.value(), cotangent);
            if (!Arrays.equals(cotangent.shape(), root.shape())) {
                throw new IllegalArgumentException("backward: cotangent " + cotangent.describe() + " must have the output's shape "
                        + Arrays.toString(root.shape()));
            }
            seed = Var.constant(cotangent);
        }
        List<Node> order = topologicalOrder(root);
        Map<Var, Var> adjoints = new IdentityHashMap<>();
        adjoints.put(root, seed);
        try (Grad.Mode mode = Grad.set(createGraph)) {
            if (root.isLeaf()) {
                finish(root, seed, createGraph, listener);
                return;
            }
            for (Node node : order) {
                Var out = node.output();
                Var g = adjoints.remove(out);
                if (g == null) {
                    continue;
                }
                if (out.retainsGrad()) {
                    finish(out, g, createGraph, listener);
                } else if (listener != null) {
                    listener.adjoint(out, g);
                }
                Var[] in = node.inputs();
                Var[] grads = Rules.vjp(node, g);
                for (int i = 0; i < in.length; i++) {
                    if (!in[i].requiresGrad() || grads[i] == null) {
                        continue;
                    }
                    if (in[i].isLeaf()) {
                        finish(in[i], grads[i], createGraph, listener);
                    } else {
                        adjoints.merge(in[i], grads[i], Var::add);
                    }
                }
                if (!retainGraph) {
                    node.free();
                }
            }
        }
    }

    private static void finish(Var v, Var g, boolean createGraph, Listener listener) {
        if (listener != null) {
            listener.adjoint(v, g);
        }
        v.accumulate(g, createGraph);
    }

    /** Nodes reachable from {@code root}, latest first. */
    static List<Node> topologicalOrder(Var root) {
        List<Node> nodes = new ArrayList<>();
        Map<Node, Boolean> seen = new IdentityHashMap<>();
        Deque<Var> stack = new ArrayDeque<>();
        stack.push(root);
        while (!stack.isEmpty()) {
            Node n = stack.pop().node();
            if (n == null || seen.put(n, Boolean.TRUE) != null) {
                continue;
            }
            nodes.add(n);
            for (Var in : n.inputs()) {
                if (in.requiresGrad()) {
                    stack.push(in);
                }
            }
        }
        nodes.sort(Comparator.comparingLong(Node::id));
        Collections.reverse(nodes);
        return nodes;
    }
}
