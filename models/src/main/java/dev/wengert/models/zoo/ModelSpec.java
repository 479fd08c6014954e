package dev.wengert.models.zoo;

import dev.wengert.models.nn.Init;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.Module;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a zoo model is: enough to rebuild it from a checkpoint's metadata.
 *
 * @param kind {@code logreg} (one Linear layer) or {@code mlp} (Linear+ReLU per hidden size, then Linear)
 * @param inputs input features (784 for MNIST)
 * @param hidden hidden layer sizes (empty for logreg)
 * @param classes output classes
 */
public record ModelSpec(String kind, int inputs, int[] hidden, int classes) {
    public static final String LOGREG = "logreg";
    public static final String MLP = "mlp";

    public ModelSpec {
        hidden = hidden.clone();
        if (!kind.equals(LOGREG) && !kind.equals(MLP)) {
            throw new IllegalArgumentException("unknown model '" + kind + "': use logreg or mlp");
        }
        if (kind.equals(LOGREG) && hidden.length > 0) {
            throw new IllegalArgumentException("logreg has no hidden layers, got " + Arrays.toString(hidden));
        }
        if (kind.equals(MLP) && hidden.length == 0) {
            throw new IllegalArgumentException("mlp needs at least one hidden layer");
        }
        if (inputs <= 0 || classes <= 0 || Arrays.stream(hidden).anyMatch(h -> h <= 0)) {
            throw new IllegalArgumentException("layer sizes must be > 0: " + inputs + ", " + Arrays.toString(hidden) + ", " + classes);
        }
    }

    public static ModelSpec logreg(int inputs, int classes) {
        return new ModelSpec(LOGREG, inputs, new int[0], classes);
    }

    public static ModelSpec mlp(int inputs, int[] hidden, int classes) {
        return new ModelSpec(MLP, inputs, hidden, classes);
    }

    @Override
    public int[] hidden() {
        return hidden.clone();
    }

    /**
     * A new network with parameters from {@code seed}: layer i's weight uses seed + i; ReLU layers use
     * Kaiming-uniform weights, the output layer Xavier-uniform; biases start at zero. Parameter names:
     * {@code 0.weight}, {@code 0.bias}, {@code 2.weight}, ... (ReLUs take the odd indices).
     */
    public Sequential build(long seed, DType dtype, Device device) {
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

    /** "784-1024-1024-10". */
    public String layout() {
        StringBuilder sb = new StringBuilder().append(inputs);
        for (int h : hidden) {
            sb.append('-').append(h);
        }
        return sb.append('-').append(classes).toString();
    }

    /** Checkpoint metadata entries: model, inputs, hidden (comma separated), classes. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", kind);
        m.put("inputs", Integer.toString(inputs));
        m.put("hidden", String.join(",", Arrays.stream(hidden).mapToObj(Integer::toString).toList()));
        m.put("classes", Integer.toString(classes));
        return m;
    }

    /** The inverse of {@link #toMetadata()}; throws naming the missing or bad entry. */
    public static ModelSpec fromMetadata(Map<String, String> m) {
        String kind = require(m, "model").toLowerCase(Locale.ROOT);
        try {
            String hiddenText = m.getOrDefault("hidden", "").trim();
            int[] hidden = hiddenText.isEmpty() ? new int[0] : parseSizes(hiddenText);
            return new ModelSpec(kind, Integer.parseInt(require(m, "inputs")), hidden, Integer.parseInt(require(m, "classes")));
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
                && s.classes == classes;
    }

    @Override
    public int hashCode() {
        return (kind.hashCode() * 31 + inputs) * 31 + Arrays.hashCode(hidden) * 31 + classes;
    }

    @Override
    public String toString() {
        return kind + " " + layout();
    }
}
