package dev.wengert.autograd;

import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reverse sweep. It knows no primitive: it orders the nodes reachable from the output
 * ({@link #topologicalOrder}: creation order is topological), and for each node, latest first, asks
 * {@link Rules} for the inputs' adjoints and sums them over every use of a value (the multi-parent sum).
 * One sweep serves both entry points: {@link Var#backward()} accumulates the leaves' adjoints (and those of
 * retained variables) into {@link Var#grad()}, {@link #adjoints} returns the adjoints it is asked for. A leaf's
 * gradient is complete once the sweep has processed its last consumer (the earliest-created node that uses
 * it), and {@link Listener#gradientReady} says so then, before the sweep goes on.
 */
public final class Backward {

    /** Observes each adjoint as it is completed, for adjoint traces, and each leaf whose gradient is complete. */
    @FunctionalInterface
    public interface Listener {
        /**
         * An adjoint: a non-leaf's, complete, when the sweep reaches its node; a leaf's, one contribution at a
         * time, just before it is added into the leaf's gradient.
         */
        void adjoint(Var v, Var adjoint);

        /**
         * One term of the multi-parent sum: {@code node}'s VJP rule sent {@code contribution} to its input
         * number {@code inputIndex}. Called once per (node, input) edge, in the order the sweep adds them,
         * before the terms of one variable are summed. The default ignores it.
         */
        default void contribution(Node node, int inputIndex, Var contribution) {
        }

        /**
         * {@code leaf}'s gradient for this pass is complete: every contribution of the pass has been added into
         * {@link Var#grad()} and none will follow. Called once per pass for each leaf that received a
         * contribution, right after the sweep processed the leaf's last consumer (the earliest-created node
         * that uses it), so in reverse topological order of those consumers: the leaves nearest the output
         * first. This is where a data-parallel trainer starts a gradient's all-reduce while the sweep goes on
         * with the layers below; the action may read and overwrite the gradient in place (the sweep will not
         * touch it again in this pass). The default ignores it.
         */
        default void gradientReady(Var leaf) {
        }

        /** A listener that only runs {@code action} on each leaf whose gradient is complete ({@link #gradientReady}). */
        static Listener onGradientReady(java.util.function.Consumer<Var> action) {
            java.util.Objects.requireNonNull(action, "action");
            return new Listener() {
                @Override
                public void adjoint(Var v, Var adjoint) {
                }

                @Override
                public void gradientReady(Var leaf) {
                    action.accept(leaf);
                }
            };
        }
    }

    /** What a sweep does with the adjoints it computes: accumulate them ({@link #run}) or return some ({@link #grad}). */
    private interface Sink {
        /** A non-leaf's adjoint, complete: every consumer of {@code v} was created later and swept before. */
        void interior(Var v, Var adjoint);

        /**
         * One contribution to a leaf's adjoint; {@code owned} when nothing else can see its tensor (see
         * {@link Var#accumulate}), so that it may be adopted rather than copied.
         */
        void leafContribution(Var leaf, Var contribution, boolean owned);

        /** The leaf's last contribution of this sweep was given. */
        void leafDone(Var leaf);
    }

    private Backward() {
    }

    static void run(Var root, Tensor cotangent, boolean retainGraph, boolean createGraph, Listener listener) {
        if (!root.requiresGrad()) {
            if (root.cutBy() != null) {
                throw new IllegalStateException("backward: the output " + root.value().describe() + " does not require grad: it "
                        + "depends on the variables that do only through '" + root.cutBy() + "', whose result is a constant 0/1 mask "
                        + "with no gradient (comparisons, logical ops, isnan/isinf/isfinite; PyTorch's return bool tensors). "
                        + "Use the mask to select or weight values that are differentiated, e.g. Var.where(mask, a, b) or a.mul(mask)");
            }
            throw new IllegalStateException("backward: the output " + root.value().describe()
                    + " does not depend on any variable that requires grad (was it computed under Grad.noGrad(), or from constants only?)");
        }
        // backward() of a scalar whose primitive has a rule for the seed 1 (the mean cross-entropy) creates no seed:
        // the rule knows the adjoint is 1 without a tensor (which would cost a fill kernel on a GPU)
        boolean unitSeed = cotangent == null && !createGraph && listener == null && !root.isLeaf() && !root.retainsGrad()
                && root.value().numel() == 1 && root.node().prim().hasUnitSeedVjp();
        Var seed = unitSeed ? null : seed("backward", root, cotangent);
        List<Var> claimed = new ArrayList<>();   // gradients this pass holds (see Var's threads rule)
        try (Grad.Mode mode = Grad.set(createGraph)) {
            sweep(root, seed, retainGraph, listener, new Sink() {
                @Override
                public void interior(Var v, Var adjoint) {
                    if (v.retainsGrad()) {
                        finish(v, adjoint, createGraph, listener, claimed, false);
                    } else if (listener != null) {
                        listener.adjoint(v, adjoint);
                    }
                }

                @Override
                public void leafContribution(Var leaf, Var contribution, boolean owned) {
                    finish(leaf, contribution, createGraph, listener, claimed, owned);
                }

                @Override
                public void leafDone(Var leaf) {
                    if (listener != null) {
                        listener.gradientReady(leaf);
                    }
                }
            });
        } finally {
            // the leaves stay claimed until the step's scope closes (the optimizer reads them), else until now
            if (!claimed.isEmpty() && !Scope.runAtClose(() -> claimed.forEach(Var::releaseGrad))) {
                claimed.forEach(Var::releaseGrad);
            }
        }
    }

    /**
     * The one reverse sweep: seeds {@code root} with {@code seed}, then for each node, latest first, takes its
     * output's summed adjoint, runs the VJP rule and sends each input its contribution: a non-leaf's are summed
     * here until its own node comes, a leaf's go to the sink at once, and once a leaf's last consumer is done
     * the sink hears that the leaf is complete. Frees each processed node unless {@code retainGraph}. A null
     * {@code seed} is the seed 1 of a scalar root whose primitive has a rule for it ({@link Rules#unitSeedVjp}).
     */
    private static void sweep(Var root, Var seed, boolean retainGraph, Listener listener, Sink sink) {
        if (root.isLeaf()) {
            sink.leafContribution(root, seed, false);
            sink.leafDone(root);
            return;
        }
        List<Node> order = topologicalOrder(root);
        Map<Node, List<Var>> leavesDoneAt = lastConsumers(order);
        Map<Var, Var> adjoints = new IdentityHashMap<>();
        Map<Var, Boolean> pending = new IdentityHashMap<>();   // leaves with a contribution, not yet done
        if (seed != null) {
            adjoints.put(root, seed);
        }
        boolean adoptable = listener == null && !Grad.isEnabled();   // see Var.accumulate
        for (int k = order.size() - 1; k >= 0; k--) {
            Node node = order.get(k);
            List<Var> done = leavesDoneAt.get(node);   // read before the node may be freed
            Var out = node.output();
            Var g = adjoints.remove(out);
            boolean unit = seed == null && out == root;
            if (g != null || unit) {
                if (g != null) {
                    sink.interior(out, g);
                }
                Var[] in = node.inputs();
                long mark = Tensor.allocationMark();
                Var[] grads = unit ? Rules.unitSeedVjp(node) : Rules.vjp(node, g);
                boolean builtin = adoptable && node.prim().isBuiltin();
                for (int i = 0; i < in.length; i++) {
                    if (!in[i].requiresGrad() || grads[i] == null) {
                        continue;
                    }
                    if (listener != null) {
                        listener.contribution(node, i, grads[i]);
                    }
                    if (in[i].isLeaf()) {
                        sink.leafContribution(in[i], grads[i], builtin && ownedBy(grads, i, mark));
                        pending.put(in[i], Boolean.TRUE);
                    } else {
                        adjoints.merge(in[i], grads[i], Var::add);
                    }
                }
                if (!retainGraph) {
                    node.free();
                }
            }
            if (done != null) {
                for (Var leaf : done) {
                    if (pending.remove(leaf) != null) {
                        sink.leafDone(leaf);
                    }
                }
            }
        }
    }

    /**
     * For each node, the leaves (that require grad) whose last consumer in a sweep it is: the earliest-created
     * node that takes the leaf as an input, since the sweep goes latest first.
     */
    private static Map<Node, List<Var>> lastConsumers(List<Node> order) {
        Map<Var, Boolean> seen = new IdentityHashMap<>();
        Map<Node, List<Var>> doneAt = new IdentityHashMap<>();
        for (Node node : order) {                   // creation order: the first consumer met is the last swept
            for (Var in : node.inputs()) {
                if (in.isLeaf() && in.requiresGrad() && seen.put(in, Boolean.TRUE) == null) {
                    doneAt.computeIfAbsent(node, n -> new ArrayList<>(2)).add(in);
                }
            }
        }
        return doneAt;
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
    public static Var[] adjoints(Var output, Tensor cotangent, boolean createGraph, Var... wrt) {
        for (int i = 0; i < wrt.length; i++) {
            if (!wrt[i].requiresGrad()) {
                throw new IllegalArgumentException("Backward.adjoints: input " + i + " " + wrt[i].value().describe()
                        + " does not require grad; create it with Var.param (or compute it from one while recording)");
            }
        }
        Var[] result = new Var[wrt.length];
        if (output.requiresGrad()) {
            Var seed = seed("Backward.adjoints", output, cotangent);
            Map<Var, Var> leafSums = new IdentityHashMap<>();
            try (Grad.Mode mode = Grad.set(createGraph)) {
                sweep(output, seed, true, null, new Sink() {
                    @Override
                    public void interior(Var v, Var adjoint) {
                        collect(v, adjoint, wrt, result);
                    }

                    @Override
                    public void leafContribution(Var leaf, Var contribution, boolean owned) {
                        leafSums.merge(leaf, contribution, Var::add);
                    }

                    @Override
                    public void leafDone(Var leaf) {
                        collect(leaf, leafSums.remove(leaf), wrt, result);
                    }
                });
            }
        }
        for (int i = 0; i < wrt.length; i++) {
            if (result[i] == null) {
                result[i] = Rules.zerosLike(wrt[i]);
            }
        }
        return result;
    }

    /**
     * True when contribution {@code i} of a rule's results is memory allocated after {@code mark} that no view shares,
     * and no other result is the same tensor: nothing but this contribution can see it.
     */
    private static boolean ownedBy(Var[] grads, int i, long mark) {
        Tensor t = grads[i].value();
        if (!t.ownsMemoryAllocatedSince(mark)) {
            return false;
        }
        for (int j = 0; j < grads.length; j++) {
            if (j != i && grads[j] != null && grads[j].value() == t) {
                return false;
            }
        }
        return true;
    }

    private static void collect(Var v, Var adjoint, Var[] wrt, Var[] result) {
        for (int i = 0; i < wrt.length; i++) {
            if (wrt[i] == v) {
                result[i] = adjoint;
            }
        }
    }

    private static void finish(Var v, Var g, boolean createGraph, Listener listener, List<Var> claimed, boolean owned) {
        if (v.claimGrad()) {
            claimed.add(v);
        }
        if (listener != null) {
            listener.adjoint(v, g);
        }
        v.accumulate(g, createGraph, owned);
    }

    /**
     * The recorded nodes reachable from {@code output}, in creation order: a topological order (every node
     * comes after the nodes that produced its inputs). The reverse sweep walks it backwards, and
     * {@link dev.wengert.autograd.trace.WengertList} numbers its lines v_1, v_2, ... by it. Empty for a leaf.
     *
     * @throws IllegalStateException when a backward pass without retainGraph has freed part of the graph
     */
    public static List<Node> topologicalOrder(Var output) {
        List<Node> nodes = new ArrayList<>();
        Map<Node, Boolean> seen = new IdentityHashMap<>();
        Deque<Var> stack = new ArrayDeque<>();
        stack.push(output);
        while (!stack.isEmpty()) {
            Node n = stack.pop().node();
            if (n == null || seen.put(n, Boolean.TRUE) != null) {
                continue;
            }
            nodes.add(n);
            for (Var in : n.inputs()) {         // throws, naming the primitive, when a backward freed n
                if (!in.isLeaf()) {
                    stack.push(in);
                }
            }
        }
        nodes.sort(Comparator.comparingLong(Node::id));
        return nodes;
    }
}
