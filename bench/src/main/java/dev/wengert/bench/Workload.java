package dev.wengert.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One training workload: an MLP with the given layer widths (two widths = logistic regression), ReLU
 * between layers, softmax cross-entropy over integer labels, plain SGD, float32, a fixed batch.
 *
 * @param name   short name used on the command line and in tables
 * @param widths input width, hidden widths..., number of classes
 * @param batch  samples per step
 */
public record Workload(String name, int[] widths, int batch) {

    /** The workloads of the benchmark issue, in table order. */
    public static final List<Workload> ALL = List.of(
            new Workload("logreg-b512", new int[] {784, 10}, 512),
            new Workload("logreg-b65536", new int[] {784, 10}, 65_536),
            new Workload("mlp-b512", new int[] {784, 1024, 1024, 10}, 512),
            new Workload("mlp-b8192", new int[] {784, 1024, 1024, 10}, 8192),
            new Workload("mlp4096-b4096", new int[] {4096, 4096, 4096, 4096}, 4096));

    public static Workload named(String name) {
        for (Workload w : ALL) {
            if (w.name.equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name + "'; known: "
                + ALL.stream().map(Workload::name).toList());
    }

    public int inputs() {
        return widths[0];
    }

    public int classes() {
        return widths[widths.length - 1];
    }

    /** Multiply-adds of one forward pass per sample (the backward pass costs about twice as much). */
    public long macsPerSample() {
        long m = 0;
        for (int i = 0; i + 1 < widths.length; i++) {
            m += (long) widths[i] * widths[i + 1];
        }
        return m;
    }

    /** "784-1024-1024-10, batch 512". */
    public String describe() {
        return String.join("-", Arrays.stream(widths).mapToObj(Integer::toString).toList())
                + String.format(Locale.ROOT, ", batch %,d", batch);
    }

    /** Deterministic inputs in [0, 1) and labels for the benchmark (throughput does not depend on them). */
    public float[] inputData(long seed) {
        float[] x = new float[batch * inputs()];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        return x;
    }

    public long[] labels(long seed) {
        long[] y = new long[batch];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed + 1);
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(classes());
        }
        return y;
    }

    /** Initial weights of layer i, [out, in], uniform(-1/sqrt(in), 1/sqrt(in)) like PyTorch's Linear. */
    public float[] initialWeights(int layer, long seed) {
        int in = widths[layer];
        int out = widths[layer + 1];
        float[] w = new float[in * out];
        double bound = 1 / Math.sqrt(in);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed * 31 + layer);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return w;
    }
}
