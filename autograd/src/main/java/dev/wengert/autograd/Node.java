package dev.wengert.autograd;

/**
 * One entry of the Wengert list: the primitive, its inputs, its attributes and its output. Nodes are
 * numbered in creation order, which is a topological order of the graph.
 */
public final class Node {
    private static final java.util.concurrent.atomic.AtomicLong COUNTER = new java.util.concurrent.atomic.AtomicLong();

    final long id = COUNTER.incrementAndGet();
    final Prim<?> prim;
    final Object attrs;
    private Var[] inputs;
    private Var output;

    Node(Prim<?> prim, Object attrs, Var[] inputs, Var output) {
        this.prim = prim;
        this.attrs = attrs;
        this.inputs = inputs;
        this.output = output;
    }

    public Prim<?> prim() {
        return prim;
    }

    /** The primitive's attributes: a record of its {@link Prim#attributeType()} (axes, flags, index tensors), or null. */
    public Object attrs() {
        return attrs;
    }

    /** Creation number: a larger id was recorded later. */
    public long id() {
        return id;
    }

    /** The inputs; throws when a backward pass has freed this node. */
    public Var[] inputs() {
        ensureLive();
        return inputs;
    }

    public Var output() {
        ensureLive();
        return output;
    }

    public boolean isFreed() {
        return inputs == null;
    }

    /** Drops the references to inputs and output so their memory can go (backward without retainGraph). */
    void free() {
        inputs = null;
        output = null;
    }

    private void ensureLive() {
        if (inputs == null) {
            throw new IllegalStateException("backward: the graph through '" + prim + "' (node " + id
                    + ") was freed by an earlier backward(); pass retainGraph=true to the first backward "
                    + "to go through the graph more than once");
        }
    }
}
