package dev.wengert.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.trace.WengertList;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.ScopePerTest;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The one reverse sweep behind {@link Var#backward()} and {@link Backward#adjoints}, its topological order (shared
 * with {@link WengertList}), and the per-leaf "gradient ready" callback.
 */
@ExtendWith(ScopePerTest.class)
class BackwardSweepTest {

    /** Three layers whose first weight is tied to the last, a bias used twice, and an unused parameter. */
    private static final class Net {
        final Var w1 = Var.param(Tensor.randn(1, DType.FLOAT64, 4, 4)).named("w1");
        final Var w2 = Var.param(Tensor.randn(2, DType.FLOAT64, 4, 4)).named("w2");
        final Var b = Var.param(Tensor.randn(3, DType.FLOAT64, 4)).named("b");
        final Var unused = Var.param(Tensor.randn(4, DType.FLOAT64, 4)).named("unused");

        Var[] params() {
            return new Var[] {w1, w2, b, unused};
        }

        Var loss(long dataSeed) {
            Var x = Var.constant(Tensor.randn(dataSeed, DType.FLOAT64, 5, 4));
            Var h = x.matmul(w1).add(b).tanh();           // w1 and b: first uses (their last consumers)
            h = h.matmul(w2).add(b).sigmoid();
            h = h.matmul(w1).sin();                        // w1 again, tied
            return h.mul(h).sum();
        }
    }

    private record Event(String kind, Var leaf, double[] grad) {
    }

    @Test
    void gradientReadyFiresOncePerLeafAfterItsLastContributionInReverseTopologicalOrder() {
        Net net = new Net();
        Var loss = net.loss(10);
        List<Node> order = Backward.topologicalOrder(loss);
        // expected: by last consumer (the earliest-created node using the leaf), latest first
        Map<Var, Integer> lastConsumer = new IdentityHashMap<>();
        for (int k = 0; k < order.size(); k++) {
            for (Var in : order.get(k).inputs()) {
                if (in.isLeaf() && in.requiresGrad()) {
                    lastConsumer.putIfAbsent(in, k);
                }
            }
        }
        List<Event> events = new ArrayList<>();
        loss.backward(null, false, false, new Backward.Listener() {
            @Override
            public void adjoint(Var v, Var adjoint) {
            }

            @Override
            public void contribution(Node node, int inputIndex, Var contribution) {
                Var target = node.inputs()[inputIndex];
                if (target.isLeaf()) {
                    events.add(new Event("contribution", target, null));
                }
            }

            @Override
            public void gradientReady(Var leaf) {
                events.add(new Event("ready", leaf, leaf.gradTensor().toDoubleArray()));
            }
        });
        List<Var> ready = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (!e.kind().equals("ready")) {
                continue;
            }
            assertTrue(!ready.contains(e.leaf()), e.leaf().name() + " reported twice");
            ready.add(e.leaf());
            for (int j = i + 1; j < events.size(); j++) {
                assertTrue(events.get(j).leaf() != e.leaf() || !events.get(j).kind().equals("contribution"),
                        e.leaf().name() + " received a contribution after it was reported ready");
            }
            assertArrayEquals(e.leaf().gradTensor().toDoubleArray(), e.grad(), 0, e.leaf().name() + ": final gradient when reported");
        }
        List<Var> expected = new ArrayList<>(List.of(net.w1, net.w2, net.b));
        expected.sort((p, q) -> Integer.compare(lastConsumer.get(q), lastConsumer.get(p)));
        assertEquals(names(expected), names(ready), "reverse topological order of the last consumers");
        assertEquals(List.of("w2", "b", "w1"), names(ready));   // last consumers: h @ w2, x @ w1 + b, x @ w1
        assertNull(net.unused.grad());
    }

    @Test
    void anAllReduceInTheCallbackSeesTheFinalGradient() {
        Net a = new Net();      // two replicas with the same weights and different data
        Net b = new Net();
        b.loss(11).backward();
        Var[] ga = Backward.adjoints(a.loss(10), null, false, a.w1, a.w2, a.b);
        Tensor[] expected = new Tensor[ga.length];
        for (int i = 0; i < ga.length; i++) {
            expected[i] = ga[i].value().add(b.params()[i].gradTensor()).mul(0.5);
        }
        Map<Var, Var> peer = new IdentityHashMap<>();
        for (int i = 0; i < 4; i++) {
            peer.put(a.params()[i], b.params()[i]);
        }
        List<String> reduced = new ArrayList<>();
        a.loss(10).backward(null, false, false, Backward.Listener.onGradientReady(leaf -> {
            Tensor g = leaf.gradTensor();       // the mean of the two replicas' gradients, in place
            g.applyInPlace(BinaryOp.ADD, peer.get(leaf).gradTensor()).applyInPlace(BinaryOp.MUL, 0.5);
            reduced.add(leaf.name());
        }));
        assertEquals(List.of("w2", "b", "w1"), reduced);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(expected[i].toDoubleArray(), a.params()[i].gradTensor().toDoubleArray(), 1e-12,
                    a.params()[i].name() + ": a contribution came after the all-reduce");
        }
        assertNull(a.unused.grad());
    }

    @Test
    void aLeafOutputAndRetainedGradients() {
        Var x = Var.param(Tensor.of(new double[] {1, 2}));
        List<Var> ready = new ArrayList<>();
        x.backward(Tensor.of(new double[] {3, 4}), false, false, Backward.Listener.onGradientReady(ready::add));
        assertEquals(List.of(x), ready);
        assertArrayEquals(new double[] {3, 4}, x.gradTensor().toDoubleArray(), 0);

        Var y = Var.param(Tensor.scalar(3, DType.FLOAT64));
        Var h = y.mul(y).retainGrad();
        ready.clear();
        h.exp().backward(null, false, false, Backward.Listener.onGradientReady(ready::add));
        assertEquals(List.of(y), ready, "only leaves are reported");
        assertEquals(Math.exp(9), h.gradTensor().item(), 1e-6);
        assertEquals(6 * Math.exp(9), y.gradTensor().item(), 1e-5);
    }

    @Test
    void backwardAndGradComputeTheSameAdjointsFromOneSweep() {
        Net a = new Net();
        Var[] g = Backward.adjoints(a.loss(10), null, false, a.params());
        for (Var p : a.params()) {
            assertNull(p.grad(), "grad accumulates nothing");
        }
        a.loss(10).backward();
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(a.params()[i].gradTensor().toDoubleArray(), g[i].value().toDoubleArray(), 1e-14);
        }
        assertArrayEquals(new double[4], g[3].value().toDoubleArray(), 0, "an input the output does not use: zeros");
    }

    @Test
    void wengertListNumbersTheNodesInTheSweepsOrder() {
        Net a = new Net();
        Var loss = a.loss(10);
        List<Node> order = Backward.topologicalOrder(loss);
        assertEquals(order, WengertList.of(loss).nodes());
        for (int k = 1; k < order.size(); k++) {
            assertTrue(order.get(k - 1).id() < order.get(k).id(), "creation order");
        }
        assertSame(loss.node(), order.get(order.size() - 1));
        assertTrue(Backward.topologicalOrder(a.w1).isEmpty(), "a leaf has no nodes");
        loss.backward();
        IllegalStateException freed = assertThrows(IllegalStateException.class, () -> Backward.topologicalOrder(loss));
        assertTrue(freed.getMessage().contains("retainGraph"), freed.getMessage());
    }

    private static List<String> names(List<Var> vars) {
        List<String> names = new ArrayList<>();
        for (Var v : vars) {
            names.add(v.name());
        }
        return names;
    }
}
