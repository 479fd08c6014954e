package dev.wengert.tensor.cpu;

import java.lang.invoke.MethodHandles;

/**
 * The loop of every zip, written once: a template that {@link Loops#zip} copies as a hidden class per
 * kernel, whose {@link #K} is then that kernel and {@link #A}, {@link #B} and {@link #OUT} its element
 * sizes (constants the JIT inlines and folds). Never used itself.
 */
final class ZipLoop implements Loops.ZipRun {
    private static final MethodHandles.Lookup SELF = MethodHandles.lookup();
    private static final Loops.Zip K = Loops.kernel(SELF, Loops.Zip.class);
    private static final long A = Loops.elementBytes(SELF, 1);
    private static final long B = Loops.elementBytes(SELF, 2);
    private static final long OUT = Loops.elementBytes(SELF, 3);

    @Override
    public void run(long a, long aStep, long b, long bStep, long out, long outStep, int n) {
        if (aStep == A && bStep == B && outStep == OUT) { // contiguous: constant strides, the JIT's best loop
            for (int i = 0; i < n; i++) {
                K.at(a + A * i, b + B * i, out + OUT * i);
            }
        } else {
            for (int i = 0; i < n; i++) {
                K.at(a, b, out);
                a += aStep;
                b += bStep;
                out += outStep;
            }
        }
    }
}
