package dev.wengert.models.zoo;

import dev.wengert.models.nn.BatchNorm1d;
import dev.wengert.models.nn.BatchNorm2d;
import dev.wengert.models.nn.Conv2d;
import dev.wengert.models.nn.Dropout;
import dev.wengert.models.nn.Flatten;
import dev.wengert.models.nn.Init;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.MaxPool2d;
import dev.wengert.models.nn.Module;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.nn.Unflatten;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a zoo model is: enough to rebuild it from a checkpoint's metadata.
 *
 * <p>The convolutional networks take the same flat input as the others ({@code [B, side*side]}, a square
 * single-channel image row by row) and start with an {@link Unflatten} to {@code [B, 1, side, side]}, so the
 * trainer, the data and evaluate/predict treat every zoo model alike. Their layers follow PyTorch's
 * {@code nn.Sequential} of the same architecture index for index, with PyTorch's default initialisation, so a
 * checkpoint's names ({@code 1.weight}, {@code 2.running_mean}, ...) are that {@code state_dict}'s
 * (bench/reference/pytorch_cnn_reference.py builds it).
 *
 * @param kind {@code logreg} (one Linear layer), {@code mlp} (Linear+ReLU per hidden size, then Linear),
 *     {@code lenet5} (conv 6@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, 120-84-classes) or
 *     {@code convnet} (conv 32@3x3 pad 1, ReLU, max-pool 2, conv 64@3x3 pad 1, ReLU, max-pool 2, 128-classes)
 * @param inputs input features (784 for MNIST; a square number for the convolutional networks)
 * @param hidden hidden layer sizes (empty for logreg and the convolutional networks, whose sizes are fixed)
 * @param classes output classes
 * @param batchNorm convnet only: batch normalisation after each convolution and after the 128-wide layer
 * @param dropout convnet only: dropout probability before the last layer (0 for none)
 */
public record ModelSpec(String kind, int inputs, int[] hidden, int classes, boolean batchNorm, double dropout) {
    public static final String LOGREG = "logreg";
    public static final String MLP = "mlp";
    public static final String LENET5 = "lenet5";
    public static final String CONVNET = "convnet";
    /** Every kind, in the order the command line lists them. */
    public static final List<String> KINDS = List.of(LOGREG, MLP, LENET5, CONVNET);

    public ModelSpec {
        hidden = hidden.clone();
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("unknown model '" + kind + "': use " + String.join(", ", KINDS));
        }
        if ((kind.equals(LOGREG) || isConvolutional(kind)) && hidden.length > 0) {
            throw new IllegalArgumentException(kind + " has no hidden sizes to choose, got " + Arrays.toString(hidden));
        }
        if (kind.equals(MLP) && hidden.length == 0) {
            throw new IllegalArgumentException("mlp needs at least one hidden layer");
        }
        if (inputs <= 0 || classes <= 0 || Arrays.stream(hidden).anyMatch(h -> h <= 0)) {
            throw new IllegalArgumentException("layer sizes must be > 0: " + inputs + ", " + Arrays.toString(hidden) + ", " + classes);
        }
        if (!kind.equals(CONVNET) && (batchNorm || dropout != 0)) {
            throw new IllegalArgumentException("batch normalisation and dropout are options of convnet, not of " + kind);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
        if (isConvolutional(kind)) {
            int side = (int) Math.round(Math.sqrt(inputs));
            int smallest = kind.equals(LENET5) ? 12 : 4;
            if (side * side != inputs || side < smallest) {
                throw new IllegalArgumentException(kind + " needs square single-channel images of at least " + smallest + "x" + smallest
                        + " pixels, given as " + smallest * smallest + " or more features (a square number); got " + inputs + " features");
            }
        }
    }

    /** A spec without the convnet options (logreg, mlp, lenet5, or a plain convnet). */
    public ModelSpec(String kind, int inputs, int[] hidden, int classes) {
        this(kind, inputs, hidden, classes, false, 0);
    }

    public static ModelSpec logreg(int inputs, int classes) {
        return new ModelSpec(LOGREG, inputs, new int[0], classes);
    }

    public static ModelSpec mlp(int inputs, int[] hidden, int classes) {
        return new ModelSpec(MLP, inputs, hidden, classes);
    }

    /** LeNet-5 for {@code inputs = side*side} images (784 for MNIST's 28x28). */
    public static ModelSpec lenet5(int inputs, int classes) {
        return new ModelSpec(LENET5, inputs, new int[0], classes);
    }

    /** The convnet, with batch normalisation or not and a dropout probability (0 for none). */
    public static ModelSpec convnet(int inputs, int classes, boolean batchNorm, double dropout) {
        return new ModelSpec(CONVNET, inputs, new int[0], classes, batchNorm, dropout);
    }

    /** True for lenet5 and convnet. */
    public static boolean isConvolutional(String kind) {
        return kind.equals(LENET5) || kind.equals(CONVNET);
    }

    /** True for lenet5 and convnet. */
    public boolean convolutional() {
        return isConvolutional(kind);
    }

    /** The side of the square input images of a convolutional network. */
    private int side() {
        return (int) Math.round(Math.sqrt(inputs));
    }

    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    /**
     * A new network with parameters from {@code seed}: layer i's parameters use seed + i. The MLP and logreg
     * use Kaiming-uniform weights in ReLU layers, Xavier-uniform in the output layer and zero biases;
     * parameter names {@code 0.weight}, {@code 0.bias}, {@code 2.weight}, ... (ReLUs take the odd indices).
     * The convolutional networks use PyTorch's default initialisation (weights and biases uniform in
     * +/-1/sqrt(fan_in)) and the layer order of the class comment.
     */
    public Sequential build(long seed, DType dtype, Device device) {
        if (convolutional()) {
            return buildConvolutional(seed, dtype, device);
        }
        List<Module> layers = new ArrayList<>();
        int in = inputs;
        for (int h : hidden) {
            layers.add(new Linear(in, h, Init.KAIMING_UNIFORM, seed + layers.size(), dtype, device));
            layers.add(new ReLU());
            in = h;
        }
        layers.add(new Linear(in, classes, Init.XAVIER_UNIFORM, seed + layers.size(), dtype, device));
        return new Sequential(layers.toArray(new Module[0]));
    }

    private Sequential buildConvolutional(long seed, DType dtype, Device device) {
        List<Module> layers = new ArrayList<>();
        int side = side();
        layers.add(new Unflatten(1, side, side));
        int features;
        if (kind.equals(LENET5)) {
            layers.add(new Conv2d(1, 6, 5, 1, 2, Init.PYTORCH_DEFAULT, seed + layers.size(), dtype, device));
            layers.add(new ReLU());
            layers.add(new MaxPool2d(2, 2, 0));
            layers.add(new Conv2d(6, 16, 5, 1, 0, Init.PYTORCH_DEFAULT, seed + layers.size(), dtype, device));
            layers.add(new ReLU());
            layers.add(new MaxPool2d(2, 2, 0));
            layers.add(new Flatten());
            int s = (side / 2 - 4) / 2;
            layers.add(torchLinear(16 * s * s, 120, seed + layers.size(), dtype, device));
            layers.add(new ReLU());
            layers.add(torchLinear(120, 84, seed + layers.size(), dtype, device));
            layers.add(new ReLU());
            features = 84;
        } else {
            layers.add(new Conv2d(1, 32, 3, 1, 1, Init.PYTORCH_DEFAULT, seed + layers.size(), dtype, device));
            if (batchNorm) {
                layers.add(new BatchNorm2d(32, dtype, device));
            }
            layers.add(new ReLU());
            layers.add(new MaxPool2d(2, 2, 0));
            layers.add(new Conv2d(32, 64, 3, 1, 1, Init.PYTORCH_DEFAULT, seed + layers.size(), dtype, device));
            if (batchNorm) {
                layers.add(new BatchNorm2d(64, dtype, device));
            }
            layers.add(new ReLU());
            layers.add(new MaxPool2d(2, 2, 0));
            layers.add(new Flatten());
            int s = side / 2 / 2;
            layers.add(torchLinear(64 * s * s, 128, seed + layers.size(), dtype, device));
            if (batchNorm) {
                layers.add(new BatchNorm1d(128, dtype, device));
            }
            layers.add(new ReLU());
            if (dropout > 0) {
                layers.add(new Dropout(dropout, seed + layers.size(), device));
            }
            features = 128;
        }
        layers.add(torchLinear(features, classes, seed + layers.size(), dtype, device));
        return new Sequential(layers.toArray(new Module[0]));
    }

    /**
     * A Linear layer initialised as PyTorch's {@code nn.Linear}: the weight {@link Init#PYTORCH_DEFAULT}
     * (kaiming_uniform with a = sqrt(5): uniform in +/-1/sqrt(in)) from {@code seed}, the bias uniform in
     * +/-1/sqrt(in) from a seed of its own.
     */
    private static Linear torchLinear(int in, int out, long seed, DType dtype, Device device) {
        double bound = 1 / Math.sqrt(in);
        try (Scope s = Scope.open()) {
            return new Linear(Init.PYTORCH_DEFAULT.create(in, out, seed, dtype, device, out, in),
                    Tensor.on(device).uniform(-bound, bound, ~seed, dtype, out));
        }
    }

    /**
     * "784-1024-1024-10"; for the convolutional networks the input image, the convolutions (channels@kernel),
     * the pooling and the dense widths, e.g. "1x28x28-6@5x5-pool2-16@5x5-pool2-400-120-84-10".
     */
    public String layout() {
        if (convolutional()) {
            int side = side();
            String image = "1x" + side + "x" + side;
            if (kind.equals(LENET5)) {
                int s = (side / 2 - 4) / 2;
                return image + "-6@5x5-pool2-16@5x5-pool2-" + 16 * s * s + "-120-84-" + classes;
            }
            int s = side / 4;
            return image + "-32@3x3-pool2-64@3x3-pool2-" + 64 * s * s + "-128-" + classes
                    + (batchNorm ? ", batch norm" : "") + (dropout > 0 ? ", dropout " + dropout : "");
        }
        StringBuilder sb = new StringBuilder().append(inputs);
        for (int h : hidden) {
            sb.append('-').append(h);
        }
        return sb.append('-').append(classes).toString();
    }

    /**
     * Checkpoint metadata entries: model, inputs, hidden (comma separated), classes; for convnet also
     * batch_norm (true/false) and dropout.
     */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", kind);
        m.put("inputs", Integer.toString(inputs));
        m.put("hidden", String.join(",", Arrays.stream(hidden).mapToObj(Integer::toString).toList()));
        m.put("classes", Integer.toString(classes));
        if (kind.equals(CONVNET)) {
            m.put("batch_norm", Boolean.toString(batchNorm));
            m.put("dropout", Double.toString(dropout));
        }
        return m;
    }

    /** The inverse of {@link #toMetadata()}; throws naming the missing or bad entry. */
    public static ModelSpec fromMetadata(Map<String, String> m) {
        String kind = require(m, "model").toLowerCase(Locale.ROOT);
        try {
            String hiddenText = m.getOrDefault("hidden", "").trim();
            int[] hidden = hiddenText.isEmpty() ? new int[0] : parseSizes(hiddenText);
            boolean bn = Boolean.parseBoolean(m.getOrDefault("batch_norm", "false"));
            double dropout = Double.parseDouble(m.getOrDefault("dropout", "0"));
            return new ModelSpec(kind, Integer.parseInt(require(m, "inputs")), hidden, Integer.parseInt(require(m, "classes")), bn, dropout);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("checkpoint metadata has a bad layer size: " + e.getMessage());
        }
    }

    /** "1024,1024" to {1024, 1024}. */
    public static int[] parseSizes(String text) {
        return Arrays.stream(text.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    private static String require(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("checkpoint metadata lacks '" + key + "' (not written by wengert train?)");
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && s.kind.equals(kind) && s.inputs == inputs && Arrays.equals(s.hidden, hidden)
                && s.classes == classes && s.batchNorm == batchNorm && Double.compare(s.dropout, dropout) == 0;
    }

    @Override
    public int hashCode() {
        return (((kind.hashCode() * 31 + inputs) * 31 + Arrays.hashCode(hidden)) * 31 + classes) * 31
                + Boolean.hashCode(batchNorm) * 7 + Double.hashCode(dropout);
    }

    @Override
    public String toString() {
        return kind + " " + layout();
    }
}
