package dev.wengert.autograd;

import dev.wengert.tensor.Scope;
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

        /**
         * One term of the multi-parent sum: {@code node}'s VJP rule sent {@code contribution} to its input
         * number {@code inputIndex}. Called once per (node, input) edge, in the order the sweep adds them,
         * before the terms of one variable are summed. The default ignores it.
         */
        default void contribution(Node node, int inputIndex, Var contribution) {
        }
    }

    private Backward() {
    }

    static void run(Var root, Tensor cotangent, boolean retainGraph, boolean createGraph, Listener listener) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the output " + root.value().describe()
                    + " does not depend on any variable that requires grad (was it computed under Grad.noGrad(), or from constants only?)");
        }
        Var seed = seed("backward", root, cotangent);
        List<Node> order = topologicalOrder(root);
        Map<Var, Var> adjoints = new IdentityHashMap<>();
        adjoints.put(root, seed);
        List<Var> claimed = new ArrayList<>();   // gradients this pass holds (see Var's threads rule)
        try (Grad.Mode mode = Grad.set(createGraph)) {
            if (root.isLeaf()) {
                finish(root, seed, createGraph, listener, claimed);
                return;
            }
            for (Node node : order) {
                Var out = node.output();
                Var g = adjoints.remove(out);
                if (g == null) {
                    continue;
                }
                if (out.retainsGrad()) {
                    finish(out, g, createGraph, listener, claimed);
                } else if (listener != null) {
                    listener.adjoint(out, g);
                }
                Var[] in = node.inputs();
                Var[] grads = Rules.vjp(node, g);
                for (int i = 0; i < in.length; i++) {
                    if (!in[i].requiresGrad() || grads[i] == null) {
                        continue;
                    }
                    if (listener != null) {
                        listener.contribution(node, i, grads[i]);
                    }
                    if (in[i].isLeaf()) {
                        finish(in[i], grads[i], createGraph, listener, claimed);
                    } else {
                        adjoints.merge(in[i], grads[i], Var::add);
                    }
                }
                if (!retainGraph) {
                    node.free();
                }
            }
        } finally {
            // the leaves stay claimed until the step's scope closes (the optimizer reads them), else until now
            if (!claimed.isEmpty() && !Scope.runAtClose(() -> claimed.forEach(Var::releaseGrad))) {
                claimed.forEach(Var::releaseGrad);
            }
        }
    }

    /** The cotangent that starts a sweep: ones for a one-element output, else the checked {@code cotangent}. */
    private static Var seed(String fn, Var root, Tensor cotangent) {
        if (cotangent == null) {
            if (root.value().numel() != 1) {
                throw new IllegalArgumentException(fn + ": the output " + root.value().describe()
                        + " is not a scalar; pass a cotangent of shape " + Arrays.toString(root.shape())
                        + " to " + fn + "(cotangent), or reduce the output first (sum(), mean())");
            }
            return Var.constant(Tensor.on(root.value().device()).ones(root.dtype(), root.shape()));
        }
        Tensor.checkCompatible(fn, root.value(), cotangent);
        if (!Arrays.equals(cotangent.shape(), root.shape())) {
            throw new IllegalArgumentException(fn + ": cotangent " + cotangent.describe() + " must have the output's shape "
                    + Arrays.toString(root.shape()));
        }
        return Var.constant(cotangent);
    }

    /**
     * Functional reverse mode (torch.autograd.grad): the adjoints of {@code wrt} for the output
     * {@code output} seeded with {@code cotangent} (null: ones, for a one-element output), returned instead
     * of accumulated. Modifies nothing: no {@link Var#grad()} changes and the graph is kept, so it can be
     * called again (one call per Jacobian row). With {@code createGraph} the sweep is itself recorded and
     * the results can be differentiated again (grad of grad, Hessians); without it they are constants.
     *
     * <p>An input the output does not depend on gets a zero adjoint. {@code wrt} may hold leaves and
     * non-leaves; each must require grad.
     *
     * @throws IllegalArgumentException when an input does not require grad, or the cotangent does not fit
     */
    public static Var[] grad(Var output, Tensor cotangent, boolean createGraph, Var... wrt) {
        for (int i = 0; i < wrt.length; i++) {
            if (!wrt[i].requiresGrad()) {
                throw new IllegalArgumentException("grad: input " + i + " " + wrt[i].value().describe()
                        + " does not require grad; create it with Var.param (or compute it from one while recording)");
            }
        }
        Var[] result = new Var[wrt.length];
        if (output.requiresGrad()) {
            Var seed = seed("grad", output, cotangent);
            Map<Var, Var> adjoints = new IdentityHashMap<>();
            adjoints.put(output, seed);
            try (Grad.Mode mode = Grad.set(createGraph)) {
                for (Node node : topologicalOrder(output)) {
                    Var out = node.output();
                    Var g = adjoints.remove(out);
                    if (g == null) {
                        continue;
                    }
                    collect(out, g, wrt, result);       // final: every consumer of out was created later
                    Var[] in = node.inputs();
                    Var[] grads = Rules.vjp(node, g);
                    for (int i = 0; i < in.length; i++) {
                        if (in[i].requiresGrad() && grads[i] != null) {
                            adjoints.merge(in[i], grads[i], Var::add);
                        }
                    }
                }
                for (Map.Entry<Var, Var> leaf : adjoints.entrySet()) {   // only leaves are left
                    collect(leaf.getKey(), leaf.getValue(), wrt, result);
                }
            }
        }
        for (int i = 0; i < wrt.length; i++) {
            if (result[i] == null) {
                result[i] = Rules.zerosLike(wrt[i]);
            }
        }
        return result;
    }

    private static void collect(Var v, Var adjoint, Var[] wrt, Var[] result) {
        for (int i = 0; i < wrt.length; i++) {
            if (wrt[i] == v) {
                result[i] = adjoint;
            }
        }
    }

    private static void finish(Var v, Var g, boolean createGraph, Listener listener, List<Var> claimed) {
        if (v.claimGrad()) {
            claimed.add(v);
        }
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
