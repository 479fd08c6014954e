package dev.wengert.tensor.cpu;

import java.lang.invoke.MethodHandles;

/**
 * The loop of every row reduction, written once: a template that {@link Loops#fold} copies as a hidden
 * class per kernel, whose {@link #K} is then that kernel and {@link #IN} its element size (constants the
 * JIT inlines and folds). The accumulator stays in a register. Never used itself.
 */
final class FoldLoop implements Loops.FoldRun {
    private static final MethodHandles.Lookup SELF = MethodHandles.lookup();
    private static final Loops.Fold K = Loops.kernel(SELF, Loops.Fold.class);
    private static final long IN = Loops.elementBytes(SELF, 1);

    @Override
    public double run(long in, int n, double acc) {
        for (int i = 0; i < n; i++) {
            acc = K.at(acc, in + IN * i);
        }
        return acc;
    }
}
