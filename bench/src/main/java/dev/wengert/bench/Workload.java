package dev.wengert.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One training workload: an MLP with the given layer widths (two widths = logistic regression), ReLU
 * between layers, or one of the zoo's convolutional networks on 28x28 images (each convolution followed by
 * ReLU and a 2x2 max-pool, then the dense layers of {@link #widths}); softmax cross-entropy over integer
 * labels, plain SGD, float32, a fixed batch.
 *
 * @param name   short name used on the command line and in tables
 * @param model  {@value #MLP}, {@value #LENET5} or {@value #CONVNET}
 * @param widths the dense layers: input width, hidden widths..., number of classes (for a CNN the input
 *               width is that of the flattened last pooling output)
 * @param batch  samples per step
 */
public record Workload(String name, String model, int[] widths, int batch) {
    public static final String MLP = "mlp";
    public static final String LENET5 = "lenet5";
    public static final String CONVNET = "convnet";
    /** Side of the CNNs' square single-channel input images (MNIST). */
    public static final int IMAGE_SIDE = 28;

    /**
     * One convolution of a CNN workload: {@code out} channels of {@code kernel x kernel} over {@code in}
     * channels, stride 1, zero padding {@code padding}, on {@code side x side} inputs; followed by ReLU and
     * a 2x2 max-pool with stride 2.
     */
    public record Conv(int in, int out, int kernel, int padding, int side) {
        /** Side of the convolution's output. */
        public int outSide() {
            return side + 2 * padding - kernel + 1;
        }

        /** Side after the 2x2 max-pool. */
        public int pooledSide() {
            return outSide() / 2;
        }
    }

    /** The workloads of the benchmark issues, in table order. */
    public static final List<Workload> ALL = List.of(
            new Workload("logreg-b512", new int[] {784, 10}, 512),
            new Workload("logreg-b65536", new int[] {784, 10}, 65_536),
            new Workload("mlp-b512", new int[] {784, 1024, 1024, 10}, 512),
            new Workload("mlp-b8192", new int[] {784, 1024, 1024, 10}, 8192),
            new Workload("mlp4096-b4096", new int[] {4096, 4096, 4096, 4096}, 4096),
            new Workload("lenet5-b64", LENET5, new int[] {400, 120, 84, 10}, 64),
            new Workload("convnet-b256", CONVNET, new int[] {3136, 128, 10}, 256));

    public Workload {
        if (!List.of(MLP, LENET5, CONVNET).contains(model)) {
            throw new IllegalArgumentException("unknown workload model '" + model + "': use mlp, lenet5 or convnet");
        }
        widths = widths.clone();
    }

    /** An MLP workload. */
    public Workload(String name, int[] widths, int batch) {
        this(name, MLP, widths, batch);
    }

    /** True for the convolutional workloads. */
    public boolean convolutional() {
        return !model.equals(MLP);
    }

    /** The convolutions of a CNN workload, in order (empty for an MLP). */
    public List<Conv> convs() {
        return switch (model) {
            case LENET5 -> List.of(new Conv(1, 6, 5, 2, IMAGE_SIDE), new Conv(6, 16, 5, 0, IMAGE_SIDE / 2));
            case CONVNET -> List.of(new Conv(1, 32, 3, 1, IMAGE_SIDE), new Conv(32, 64, 3, 1, IMAGE_SIDE / 2));
            default -> List.of();
        };
    }

    @Override
    public int[] widths() {
        return widths.clone();
    }

    public static Workload named(String name) {
        for (Workload w : ALL) {
            if (w.name.equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + name + "'; known: "
                + ALL.stream().map(Workload::name).toList());
    }

    /** Input features per sample: the flat image for a CNN, the first width for an MLP. */
    public int inputs() {
        return convolutional() ? IMAGE_SIDE * IMAGE_SIDE : widths[0];
    }

    public int classes() {
        return widths[widths.length - 1];
    }

    /** Multiply-adds of one forward pass per sample (the backward pass costs about twice as much). */
    public long macsPerSample() {
        long m = 0;
        for (Conv c : convs()) {
            m += (long) c.out() * c.in() * c.kernel() * c.kernel() * c.outSide() * c.outSide();
        }
        for (int i = 0; i + 1 < widths.length; i++) {
            m += (long) widths[i] * widths[i + 1];
        }
        return m;
    }

    /** "784-1024-1024-10, batch 512"; "lenet5: 6@5x5, 16@5x5, 400-120-84-10, batch 64". */
    public String describe() {
        if (convolutional()) {
            return model + ": " + String.join(", ", convs().stream().map(c -> c.out() + "@" + c.kernel() + "x" + c.kernel()).toList())
                    + ", " + String.join("-", Arrays.stream(widths).mapToObj(Integer::toString).toList())
                    + String.format(Locale.ROOT, ", batch %,d", batch);
        }
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

    /**
     * Initial weights of convolution i, [out, in, k, k], uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) like
     * PyTorch's Conv2d (fan_in = in * k * k).
     */
    public float[] initialConvWeights(int conv, long seed) {
        Conv c = convs().get(conv);
        int fanIn = c.in() * c.kernel() * c.kernel();
        float[] w = new float[c.out() * fanIn];
        double bound = 1 / Math.sqrt(fanIn);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed * 131 + 1000 + conv);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return w;
    }

    /** Initial weights of dense layer i, [out, in], uniform(-1/sqrt(in), 1/sqrt(in)) like PyTorch's Linear. */
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
