package dev.wengert.models.zoo;

import dev.wengert.autograd.Var;
import dev.wengert.models.io.SafeTensors;
import dev.wengert.models.nn.Module;
import dev.wengert.models.nn.Sequential;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Saves and loads zoo models as safetensors: one float32 tensor per parameter and per buffer under its
 * PyTorch-style {@code state_dict} name ({@code 0.weight}, {@code 0.bias}, {@code 1.running_mean}, ...; int64
 * buffers such as {@code num_batches_tracked} as int64) and the {@link ModelSpec} plus free-form entries as
 * metadata.
 * Reading checks that names and shapes match the model the metadata describes; the safetensors reader
 * refuses corrupt files.
 */
public final class Checkpoint {
    /** Metadata key and value identifying the format. */
    public static final String FORMAT_KEY = "format";
    public static final String FORMAT = "wengert-checkpoint-1";
    /**
     * The format of a resumable training checkpoint ({@code dev.wengert.models.train.TrainingCheckpoint}):
     * the same parameters and metadata plus the optimizer's state under {@link #OPTIMIZER_PREFIX}, which
     * {@link #load} ignores, so a run's {@code best.safetensors} evaluates like a model checkpoint.
     */
    public static final String TRAINING_FORMAT = "wengert-training-checkpoint-1";
    /** Name prefix of the optimizer's tensors in a training checkpoint. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    private Checkpoint() {
    }

    /** A model read back, with its description and all metadata. Close the model when done. */
    public record Loaded(Sequential model, ModelSpec spec, Map<String, String> metadata) {
    }

    /**
     * Writes every parameter and buffer of {@code model} (built from {@code spec}) and the metadata (spec entries,
     * the format, then {@code extra}) atomically to {@code file}. Does not modify the model.
     */
    public static void save(Path file, Sequential model, ModelSpec spec, Map<String, String> extra) throws IOException {
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state(model).entrySet()) {
            Tensor t = e.getValue();
            long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
            tensors.put(e.getKey(), t.dtype() == DType.INT64 ? SafeTensors.Entry.ofLongs(shape, t.toLongArray())
                    : SafeTensors.Entry.ofFloats(shape, t.toFloatArray()));
        }
        Map<String, String> meta = new LinkedHashMap<>(spec.toMetadata());
        meta.put(FORMAT_KEY, FORMAT);
        if (extra != null) {
            extra.forEach(meta::putIfAbsent);
        }
        SafeTensors.write(file, tensors, meta);
    }

    /**
     * Reads {@code file} (a model checkpoint, or a training checkpoint whose optimizer state it skips) and
     * rebuilds the model on {@code device} (float32).
     */
    public static Loaded load(Path file, Device device) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        boolean training = TRAINING_FORMAT.equals(meta.get(FORMAT_KEY));
        if (!FORMAT.equals(meta.get(FORMAT_KEY)) && !training) {
            throw new IllegalArgumentException(file + " is not a wengert checkpoint (metadata format is "
                    + meta.get(FORMAT_KEY) + ", expected " + FORMAT + " or " + TRAINING_FORMAT + ")");
        }
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>(c.tensors());
        if (training) {
            tensors.keySet().removeIf(name -> name.startsWith(OPTIMIZER_PREFIX));
        }
        ModelSpec spec = ModelSpec.fromMetadata(meta);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(0, DType.FLOAT32, device);
        }
        try {
            Map<String, Tensor> params = state(model);
            if (!params.keySet().equals(tensors.keySet())) {
                throw new IllegalArgumentException(file + ": tensors " + new TreeSet<>(tensors.keySet())
                        + " do not match the parameters and buffers of " + spec + ": " + new TreeSet<>(params.keySet()));
            }
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                SafeTensors.Entry entry = tensors.get(e.getKey());
                Tensor p = e.getValue();
                boolean integer = p.dtype() == DType.INT64;
                String dtype = integer ? "I64" : "F32";
                long[] expected = Arrays.stream(p.shape()).asLongStream().toArray();
                if (!dtype.equals(entry.dtype()) || !Arrays.equals(entry.shape(), expected)) {
                    throw new IllegalArgumentException(file + ": tensor '" + e.getKey() + "' is " + entry.dtype()
                            + Arrays.toString(entry.shape()) + ", expected " + dtype + Arrays.toString(expected));
                }
                try (Scope s = Scope.open()) {
                    // reshaped, not given the shape: of(values) with no shape is a vector, and a buffer may be a scalar
                    p.assign((integer ? Tensor.on(device).of(entry.asLongs()) : Tensor.on(device).of(entry.asFloats()))
                            .reshape(p.shape()));
                }
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new Loaded(model, spec, Collections.unmodifiableMap(meta));
    }

    /** The model's state_dict: its parameters' tensors, then its buffers, by name. */
    private static Map<String, Tensor> state(Module model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> out.put(n, p.value()));
        out.putAll(model.namedBuffers());
        return out;
    }
}
