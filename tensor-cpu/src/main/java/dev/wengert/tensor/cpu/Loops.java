package dev.wengert.tensor.cpu;

import dev.wengert.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiFunction;

/**
 * The loops of the CPU backend's Java kernels, each written once per op shape: a map (one operand in, one
 * out: unary ops, casts, strided copies, accumulation into a reduction; {@link MapLoop}), a zip (two in,
 * one out: binary ops, broadcasting included; {@link ZipLoop}) and a fold (a floating reduction along a row
 * with the accumulator in a register; {@link FoldLoop}). What one element does, per dtype and op, is a
 * kernel at byte addresses ({@link Map}, or {@link ParamMap} with a unary op's scalar parameters; {@link Zip},
 * {@link Fold}; see {@link Elements}); the loop walks the addresses.
 *
 * <p>Every kernel gets its own copy of its loop's class: {@link #map}, {@link #zip} and {@link #fold}
 * define a hidden class from the template's bytes with the kernel and its element sizes as class data,
 * which the template reads into static finals. So the JIT compiles one loop per kernel with the kernel
 * inlined and the contiguous strides constant: no per-element call, no type guard, as a loop written out
 * per op. The alternatives measured worse: one loop method shared by every kernel calls the kernel through
 * a megamorphic interface call per element (2.5x slower than the former hand-copied float32 loops in a
 * standalone test), and a small shared loop method called from a switch over the ops is not reliably
 * inlined per case (C2 declines to inline a method it has already compiled: "already compiled into a
 * medium method"). Measured with the kernels of {@link Elements}: float32 add of two [64,256] tensors (the
 * Java path) 48 us before, 5 us now; a row sum of [512,1024] 1.0 ms before, 0.3 ms now.
 *
 * <p>A copy is a hidden class: the JVM leaves it out of stack traces (-XX:+ShowHiddenFrames shows it), and
 * a debugger stops in it only by its generated name.
 */
final class Loops {
    private Loops() {
    }

    /**
     * One element of a map with two scalar parameters, which the loop passes on unchanged: a unary op's
     * ({@link dev.wengert.tensor.UnaryOp#parameterCount()}: softplus's beta and threshold, clamp's bounds, ...;
     * 0 for the ops without, and for every other map).
     */
    interface ParamMap {
        void at(long in, long out, double p0, double p1);
    }

    /** One element of a map: reads the element at {@code in} and writes the one at {@code out} (an accumulator may read it too). */
    interface Map extends ParamMap {
        void at(long in, long out);

        @Override
        default void at(long in, long out, double p0, double p1) {
            at(in, out);
        }
    }

    /** One element of a zip: reads the elements at {@code a} and {@code b}, writes the one at {@code out}. */
    interface Zip {
        void at(long a, long b, long out);
    }

    /** One step of a floating reduction along a row: returns acc combined with the element at {@code in}. */
    interface Fold {
        double at(double acc, long in);
    }

    /** A fold's loop over n contiguous elements from {@code acc}. */
    interface FoldRun {
        double run(long in, int n, double acc);
    }

    /**
     * A map's loop over n elements; the addresses advance by the steps (bytes, 0 for a broadcast or an
     * accumulator); p0 and p1 go to every element ({@link ParamMap}).
     */
    interface MapRun {
        void run(long in, long inStep, long out, long outStep, int n, double p0, double p1);

        /** Without parameters (0, 0). */
        default void run(long in, long inStep, long out, long outStep, int n) {
            run(in, inStep, out, outStep, n, 0, 0);
        }

        /** Over n contiguous elements from the start of both buffers. */
        default void run(Buf in, Buf out, int n) {
            run(in, out, n, 0, 0);
        }

        /** Over n contiguous elements from the start of both buffers, with parameters; split over the cores when big. */
        default void run(Buf in, Buf out, int n, double p0, double p1) {
            Parallel.forRange(n, n, (from, to) -> run(in.at(from), in.step(1), out.at(from), out.step(1), to - from, p0, p1));
        }

        /**
         * Over a shape, each operand with its element strides (0 on broadcast dimensions of the input) and start
         * offset; split over the cores when big, so every output element must be written once.
         */
        default void walk(int[] shape, Buf in, int inBase, int[] inStrides, Buf out, int outBase, int[] outStrides) {
            Strided.walkSplit(shape, new int[][] {inStrides, outStrides}, new int[] {inBase, outBase},
                    (off, st, len) -> run(in.at(off[0]), in.step(st[0]), out.at(off[1]), out.step(st[1]), len));
        }
    }

    /** A zip's loop over n elements; the addresses advance by the steps (bytes, 0 for a broadcast operand). */
    interface ZipRun {
        void run(long a, long aStep, long b, long bStep, long out, long outStep, int n);

        /** Over a shape from the start of every buffer, each operand with its element strides (0 on broadcast dimensions of the inputs); split over the cores when big. */
        default void walk(int[] shape, Buf a, int[] aStrides, Buf b, int[] bStrides, Buf out, int[] outStrides) {
            Strided.walkSplit(shape, new int[][] {aStrides, bStrides, outStrides}, new int[3],
                    (off, st, len) -> run(a.at(off[0]), a.step(st[0]), b.at(off[1]), b.step(st[1]), out.at(off[2]), out.step(st[2]), len));
        }
    }

    /** The loop of a map kernel reading elements of dtype {@code in} and writing elements of dtype {@code out}. */
    static MapRun map(ParamMap kernel, DType in, DType out) {
        return copy(MapLoop.class, MapRun.class, List.of(kernel, in.bytes(), out.bytes()));
    }

    /** The loop of a zip kernel over elements of the given dtypes. */
    static ZipRun zip(Zip kernel, DType a, DType b, DType out) {
        return copy(ZipLoop.class, ZipRun.class, List.of(kernel, a.bytes(), b.bytes(), out.bytes()));
    }

    /** The loop of a fold kernel over elements of dtype {@code in}. */
    static FoldRun fold(Fold kernel, DType in) {
        return copy(FoldLoop.class, FoldRun.class, List.of(kernel, in.bytes()));
    }

    /** A new hidden class from the bytes of {@code template} with {@code data} (the kernel, its element sizes) as its class data; an instance of it. */
    private static <R> R copy(Class<? extends R> template, Class<R> type, List<Object> data) {
        try (InputStream in = template.getResourceAsStream(template.getSimpleName() + ".class")) {
            if (in == null) {
                throw new IllegalStateException("no class file for " + template.getName());
            }
            MethodHandles.Lookup copy = MethodHandles.lookup().defineHiddenClassWithClassData(in.readAllBytes(), data, true);
            return type.cast(copy.findConstructor(copy.lookupClass(), MethodType.methodType(void.class)).invoke());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the class file of " + template.getName(), e);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot define a copy of " + template.getName(), e);
        }
    }

    /** The kernel of a copy made by {@link #map} or {@link #zip}, from its class data; {@code copy} is the copy's own lookup. */
    static <T> T kernel(MethodHandles.Lookup copy, Class<T> type) {
        return classData(copy, 0, type);
    }

    /** The size of an operand's elements (operand 1, 2, ...) in a copy's class data. */
    static long elementBytes(MethodHandles.Lookup copy, int operand) {
        return classData(copy, operand, Integer.class);
    }

    private static <T> T classData(MethodHandles.Lookup copy, int index, Class<T> type) {
        try {
            return MethodHandles.classDataAt(copy, ConstantDescs.DEFAULT_NAME, type, index);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loops compiled on first use, one per (dtype, key): a kernel family's loops by dtype and op. */
    static final class Table<K extends Enum<K>, R> {
        private final int keys;
        private final BiFunction<DType, K, R> compile;
        private final AtomicReferenceArray<R> loops;

        Table(Class<K> keyType, BiFunction<DType, K, R> compile) {
            this.keys = keyType.getEnumConstants().length;
            this.compile = compile;
            this.loops = new AtomicReferenceArray<>(DType.values().length * keys);
        }

        R get(DType dtype, K key) {
            int i = dtype.ordinal() * keys + key.ordinal();
            R loop = loops.get(i);
            if (loop == null) {
                loops.compareAndSet(i, null, compile.apply(dtype, key));
                loop = loops.get(i);
            }
            return loop;
        }
    }
}
