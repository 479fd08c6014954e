package dev.wengert.models.train;

import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.io.SafeTensors;
import dev.wengert.models.nn.Module;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A resumable training checkpoint: one safetensors file, written atomically (a temporary sibling renamed
 * over the target, so a crash leaves the previous file), holding everything a run needs to continue as if
 * it had never stopped:
 * <ul>
 * <li>the model's parameters and buffers under their names ({@code 0.weight}, {@code 1.running_mean}, ...),
 *     in their dtype;
 * <li>the optimizer's state under {@code optimizer.<parameter>.<kind>} (momentum buffers, Adam's moments)
 *     and its step count;
 * <li>metadata: the {@link ModelSpec} (when the zoo describes the model), the epochs finished (the
 *     schedule's position and the data order's: epoch e uses the loader's e-th order), the model's random
 *     state ({@link Module#randomState()}: dropout mask counters), the data the run trains on
 *     ({@link DataSpec}: sizes, batch size, seed, fingerprints), the finished epoch's figures and the best
 *     epoch so far, and the caller's own entries (options, ...).
 * </ul>
 * The file is also a model checkpoint: {@link Checkpoint#load} reads its parameters and skips the rest.
 * {@link #read} and {@link Loaded#restore} put everything back into freshly built objects, refusing a
 * checkpoint of another model, optimizer or data with the reason.
 */
public final class TrainingCheckpoint {
    private static final String RANDOM_PREFIX = "random.";
    private static final Pattern INDEXED_STATE = Pattern.compile("(\\d+)\\.(.+)");

    private TrainingCheckpoint() {
    }

    /**
     * What a run trains on; a resumed run must train on the same, or its steps would differ.
     *
     * @param features input features per sample
     * @param rows image height, or 0 when the samples are not images (only for messages)
     * @param cols image width, or 0
     * @param trainSamples size of the training set
     * @param validationSamples size of the validation set (0 for none)
     * @param batchSize training batch size
     * @param shuffle whether epochs visit the training samples in a drawn order
     * @param seed the seed of those orders
     * @param trainFingerprint {@link BatchLoader#fingerprint()} of the training set
     * @param validationFingerprint of the validation set ("" for none)
     */
    public record DataSpec(int features, int rows, int cols, int trainSamples, int validationSamples, int batchSize,
            boolean shuffle, long seed, String trainFingerprint, String validationFingerprint) {

        public DataSpec {
            Objects.requireNonNull(trainFingerprint, "trainFingerprint");
            Objects.requireNonNull(validationFingerprint, "validationFingerprint");
        }

        /** The spec of a training loader and a validation loader (null for none); not images. */
        public static DataSpec of(BatchLoader train, BatchLoader validation) {
            return of(train, validation, 0, 0);
        }

        /** The same, for images of {@code rows x cols} (messages then name the image size). */
        public static DataSpec of(BatchLoader train, BatchLoader validation, int rows, int cols) {
            return new DataSpec(train.width(), rows, cols, train.size(), validation == null ? 0 : validation.size(),
                    train.batchSize(), train.shuffles(), train.seed(), train.fingerprint(),
                    validation == null ? "" : validation.fingerprint());
        }

        Map<String, String> toMetadata() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("data_features", Integer.toString(features));
            m.put("data_rows", Integer.toString(rows));
            m.put("data_cols", Integer.toString(cols));
            m.put("train_samples", Integer.toString(trainSamples));
            m.put("validation_samples", Integer.toString(validationSamples));
            m.put("batch_size", Integer.toString(batchSize));
            m.put("shuffle", Boolean.toString(shuffle));
            m.put("data_seed", Long.toString(seed));
            m.put("train_fingerprint", trainFingerprint);
            m.put("validation_fingerprint", validationFingerprint);
            return m;
        }

        static DataSpec fromMetadata(Map<String, String> m, Path file) {
            return new DataSpec(integer(m, "data_features", file), integer(m, "data_rows", file), integer(m, "data_cols", file),
                    integer(m, "train_samples", file), integer(m, "validation_samples", file), integer(m, "batch_size", file),
                    Boolean.parseBoolean(require(m, "shuffle", file)), Long.parseLong(require(m, "data_seed", file)),
                    require(m, "train_fingerprint", file), require(m, "validation_fingerprint", file));
        }

        private String image(int n) {
            return rows > 0 && cols > 0 ? n + " (" + rows + "x" + cols + ")" : Integer.toString(n);
        }

        /**
         * Why a run saved with this spec cannot continue on {@code now}'s data, one reason per difference;
         * empty when it can.
         */
        public List<String> differences(DataSpec now) {
            List<String> why = new ArrayList<>();
            if (features != now.features) {
                String mine = rows > 0 && cols > 0 ? features + " input features (" + rows + "x" + cols + " images)" : features + " input features";
                why.add("the checkpoint expects " + mine + "; the data has " + now.image(now.features));
                return why;         // nothing else is comparable
            }
            boolean sameSizes = trainSamples == now.trainSamples && validationSamples == now.validationSamples;
            if (!sameSizes) {
                why.add("the run trained on " + trainSamples + " samples and validated on " + validationSamples
                        + "; the data now gives " + now.trainSamples + " and " + now.validationSamples
                        + " (another data set or validation fraction)");
            }
            if (batchSize != now.batchSize) {
                why.add("the run's batch size was " + batchSize + ", not " + now.batchSize
                        + ": another would change every later step");
            }
            if (shuffle != now.shuffle) {
                why.add("the run " + (shuffle ? "shuffled" : "did not shuffle") + " the training samples; this one "
                        + (now.shuffle ? "does" : "does not"));
            } else if (shuffle && seed != now.seed) {
                why.add("the run's data seed was " + seed + ", not " + now.seed
                        + ": the epochs would visit the samples in other orders");
            }
            if (sameSizes && !trainFingerprint.equals(now.trainFingerprint)) {
                why.add("the training samples differ from the run's (fingerprint " + now.trainFingerprint + ", the run's "
                        + trainFingerprint + "): another data set, or another validation split seed");
            }
            if (sameSizes && !validationFingerprint.equals(now.validationFingerprint)) {
                why.add("the validation samples differ from the run's (fingerprint " + now.validationFingerprint
                        + ", the run's " + validationFingerprint + ")");
            }
            return why;
        }
    }

    /**
     * Where a run stands after a finished epoch.
     *
     * @param epochsFinished epochs trained: the 0-based index of the epoch a resumed run starts with
     * @param last the figures of the epoch that finished last (null before the first)
     * @param bestEpoch 1-based epoch with the highest validation accuracy so far (0 for none yet)
     * @param bestValAccuracy its validation accuracy (NaN for none)
     */
    public record Progress(int epochsFinished, Trainer.EpochResult last, int bestEpoch, double bestValAccuracy) {
        public Progress {
            if (epochsFinished < 0 || bestEpoch < 0 || bestEpoch > epochsFinished) {
                throw new IllegalArgumentException("Progress: need 0 <= best epoch <= epochs finished, got " + bestEpoch
                        + " and " + epochsFinished);
            }
        }
    }

    /**
     * Writes {@code file} atomically: the model's parameters, the optimizer's state and step count, the
     * model's random state, {@code spec} (null when the zoo does not describe the model), {@code data},
     * {@code progress} and {@code extra} metadata (which cannot replace the entries above). Reads the
     * tensors back from their device; modifies nothing.
     *
     * @throws IllegalArgumentException when the optimizer updates a tensor that is not one of the model's
     *     parameters
     */
    public static void save(Path file, Module model, Optimizer optimizer, ModelSpec spec, DataSpec data, Progress progress,
                            Map<String, String> extra) throws IOException {
        Map<String, SafeTensors.Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state(model).entrySet()) {
            tensors.put(e.getKey(), entry(e.getValue()));
        }
        Map<String, String> names = stateNames(model, optimizer);
        optimizer.state().forEach((key, t) -> tensors.put(names.get(key), entry(t)));
        Map<String, String> meta = new LinkedHashMap<>();
        if (spec != null) {
            meta.putAll(spec.toMetadata());
        }
        meta.put(Checkpoint.FORMAT_KEY, Checkpoint.TRAINING_FORMAT);
        meta.put("epochs_finished", Integer.toString(progress.epochsFinished()));
        meta.put("optimizer", optimizer.getClass().getSimpleName());
        meta.put("optimizer_steps", Long.toString(optimizer.steps()));
        model.randomState().forEach((k, v) -> meta.put(RANDOM_PREFIX + k, Long.toString(v)));
        meta.putAll(data.toMetadata());
        Trainer.EpochResult r = progress.last();
        if (r != null) {
            meta.put("epoch", Integer.toString(r.epoch()));
            meta.put("train_loss", Double.toString(r.trainLoss()));
            meta.put("val_loss", Double.toString(r.valLoss()));
            meta.put("val_accuracy", Double.toString(r.valAccuracy()));
            meta.put("lr", Double.toString(r.lr()));
        }
        meta.put("best_epoch", Integer.toString(progress.bestEpoch()));
        meta.put("best_val_accuracy", Double.toString(progress.bestValAccuracy()));
        if (extra != null) {
            extra.forEach(meta::putIfAbsent);
        }
        SafeTensors.write(file, tensors, meta);
    }

    /** The model's state_dict: its parameters' tensors, then its buffers, by name. */
    private static Map<String, Tensor> state(Module model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> out.put(n, p.value()));
        out.putAll(model.namedBuffers());
        return out;
    }

    private static SafeTensors.Entry entry(Tensor t) {
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        return switch (t.dtype()) {
            case FLOAT32 -> SafeTensors.Entry.ofFloats(shape, t.toFloatArray());
            case FLOAT64 -> SafeTensors.Entry.ofDoubles(shape, t.toDoubleArray());
            case INT64 -> SafeTensors.Entry.ofLongs(shape, t.toLongArray());
        };
    }

    /**
     * The file name of each optimizer state key: {@code optimizer.<parameter name>.<kind>} for the
     * conventional {@code <i>.<kind>}, else {@code optimizer.<key>}.
     */
    private static Map<String, String> stateNames(Module model, Optimizer optimizer) {
        Map<Var, String> paramNames = new IdentityHashMap<>();
        model.namedParameters().forEach((n, p) -> paramNames.put(p, n));
        List<Var> params = optimizer.params();
        for (Var p : params) {
            if (!paramNames.containsKey(p)) {
                throw new IllegalArgumentException("TrainingCheckpoint: the optimizer updates " + p
                        + ", which is not a parameter of the model; build the optimizer over model.parameters()");
            }
        }
        Map<String, String> names = new LinkedHashMap<>();
        for (String key : optimizer.state().keySet()) {
            Matcher m = INDEXED_STATE.matcher(key);
            String name = m.matches() && Integer.parseInt(m.group(1)) < params.size()
                    ? paramNames.get(params.get(Integer.parseInt(m.group(1)))) + "." + m.group(2)
                    : key;
            names.put(key, Checkpoint.OPTIMIZER_PREFIX + name);
        }
        return names;
    }

    /**
     * A training checkpoint read back: its description, and its tensors for {@link #restore}.
     *
     * @param file where it came from (for messages)
     * @param spec the model it holds, or null when the zoo does not describe it
     * @param data what the run trained on
     * @param progress epochs finished, the last epoch's figures, the best epoch
     * @param optimizer the optimizer's class name (e.g. {@code Adam})
     * @param optimizerSteps the optimizer's step count
     * @param randomState the model's random state
     * @param metadata every metadata entry, the caller's extra ones included
     * @param contents the tensors
     */
    public record Loaded(Path file, ModelSpec spec, DataSpec data, Progress progress, String optimizer, long optimizerSteps,
            Map<String, Long> randomState, Map<String, String> metadata, SafeTensors.Contents contents) {

        /**
         * Refuses to continue the run with another model or other data, naming every difference: e.g. "the
         * checkpoint expects 196 input features (14x14 images); the data has 784 (28x28)". {@code spec} may
         * be null to compare the data only.
         *
         * @throws IllegalArgumentException with the reasons
         */
        public void requireCompatible(ModelSpec spec, DataSpec data) {
            List<String> why = new ArrayList<>(this.data.differences(data));
            if (spec != null && this.spec != null && !spec.equals(this.spec)) {
                boolean onlyInputs = this.data.features() != data.features() && spec.kind().equals(this.spec.kind())
                        && Arrays.equals(spec.hidden(), this.spec.hidden()) && spec.classes() == this.spec.classes();
                if (!onlyInputs) {
                    why.add("the checkpoint holds " + this.spec + "; this run describes " + spec);
                }
            }
            if (!why.isEmpty()) {
                throw new IllegalArgumentException("cannot resume from " + file + ": " + String.join("; ", why));
            }
        }

        /**
         * Puts the checkpoint into a freshly built model and optimizer (built as the run built them: same
         * architecture, same optimizer kind and settings): copies the parameters, the buffers and the optimizer's
         * state, and sets the step count and the model's random state. Modifies both; everything is checked
         * before anything is modified.
         *
         * @throws IllegalArgumentException when a parameter's name, dtype or shape, the optimizer's kind or
         *     state, or the random layers differ from the checkpoint's
         */
        public void restore(Module model, Optimizer optimizer) {
            String prefix = "cannot restore " + file + ": ";
            if (!optimizer.getClass().getSimpleName().equals(this.optimizer)) {
                throw new IllegalArgumentException(prefix + "the run trained with " + this.optimizer + ", this optimizer is "
                        + optimizer.getClass().getSimpleName());
            }
            Map<String, SafeTensors.Entry> params = new LinkedHashMap<>(contents.tensors());
            params.keySet().removeIf(n -> n.startsWith(Checkpoint.OPTIMIZER_PREFIX));
            Map<String, Tensor> mine = state(model);
            if (!mine.keySet().equals(params.keySet())) {
                throw new IllegalArgumentException(prefix + "its parameters and buffers " + new TreeSet<>(params.keySet())
                        + " do not match the model's " + new TreeSet<>(mine.keySet()) + " (another architecture)");
            }
            Map<String, Var> parameters = model.namedParameters();
            mine.forEach((n, p) -> check(prefix, (parameters.containsKey(n) ? "parameter '" : "buffer '") + n + "'",
                    params.get(n), p));
            Map<String, String> names = stateNames(model, optimizer);
            Map<String, SafeTensors.Entry> state = new LinkedHashMap<>(contents.tensors());
            state.keySet().removeIf(n -> !n.startsWith(Checkpoint.OPTIMIZER_PREFIX));
            if (!state.keySet().equals(new TreeSet<>(names.values()))) {
                throw new IllegalArgumentException(prefix + "its optimizer state " + new TreeSet<>(state.keySet())
                        + " does not fit this " + this.optimizer + "'s " + new TreeSet<>(names.values())
                        + " (other settings, such as momentum on or off?)");
            }
            optimizer.state().forEach((k, t) -> check(prefix, "optimizer state '" + names.get(k) + "'", state.get(names.get(k)), t));
            if (!model.randomState().keySet().equals(randomState.keySet())) {
                throw new IllegalArgumentException(prefix + "its random state " + new TreeSet<>(randomState.keySet())
                        + " does not match the model's " + new TreeSet<>(model.randomState().keySet())
                        + " (other random layers, e.g. Dropout)");
            }
            try (Scope s = Scope.open()) {
                mine.forEach((n, p) -> p.assign(tensor(params.get(n), p.device(), p.shape())));
                Map<String, Tensor> saved = new LinkedHashMap<>();
                optimizer.state().forEach((k, t) -> saved.put(k, tensor(state.get(names.get(k)), t.device(), t.shape())));
                optimizer.loadState(saved, optimizerSteps);
            }
            model.loadRandomState(randomState);
        }

        private static void check(String prefix, String what, SafeTensors.Entry entry, Tensor target) {
            long[] shape = Arrays.stream(target.shape()).asLongStream().toArray();
            if (!dtypeName(target.dtype()).equals(entry.dtype()) || !Arrays.equals(entry.shape(), shape)) {
                throw new IllegalArgumentException(prefix + what + " is " + entry.dtype() + Arrays.toString(entry.shape())
                        + ", this run's is " + dtypeName(target.dtype()) + Arrays.toString(shape));
            }
        }

        /** The entry's values on {@code device} in {@code shape} (a scalar's too: {@code of} reads no shape as a vector). */
        private static Tensor tensor(SafeTensors.Entry e, Device device, int[] shape) {
            Tensor flat = switch (e.dtype()) {
                case "F32" -> Tensor.on(device).of(e.asFloats());
                case "F64" -> Tensor.on(device).of(e.asDoubles());
                default -> Tensor.on(device).of(e.asLongs());
            };
            return flat.reshape(shape);
        }
    }

    private static String dtypeName(DType d) {
        return switch (d) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case INT64 -> "I64";
        };
    }

    /**
     * Reads a training checkpoint written by {@link #save}.
     *
     * @throws IllegalArgumentException when the file is not a training checkpoint (e.g. a model checkpoint,
     *     which has no optimizer state to resume from) or its metadata is incomplete
     */
    public static Loaded read(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        String format = meta.get(Checkpoint.FORMAT_KEY);
        if (!Checkpoint.TRAINING_FORMAT.equals(format)) {
            throw new IllegalArgumentException(file + " is not a training checkpoint (metadata format is " + format + ", expected "
                    + Checkpoint.TRAINING_FORMAT + (Checkpoint.FORMAT.equals(format)
                    ? "; a model checkpoint holds no optimizer state to resume from" : "") + ")");
        }
        try {
            ModelSpec spec = meta.containsKey("model") ? ModelSpec.fromMetadata(meta) : null;
            Map<String, Long> random = new LinkedHashMap<>();
            meta.forEach((k, v) -> {
                if (k.startsWith(RANDOM_PREFIX)) {
                    random.put(k.substring(RANDOM_PREFIX.length()), Long.parseLong(v));
                }
            });
            Trainer.EpochResult last = meta.containsKey("epoch")
                    ? new Trainer.EpochResult(integer(meta, "epoch", file), number(meta, "train_loss", file),
                    number(meta, "val_loss", file), number(meta, "val_accuracy", file), 0, 0, 0, number(meta, "lr", file))
                    : null;
            Progress progress = new Progress(integer(meta, "epochs_finished", file), last, integer(meta, "best_epoch", file),
                    number(meta, "best_val_accuracy", file));
            return new Loaded(file, spec, DataSpec.fromMetadata(meta, file), progress, require(meta, "optimizer", file),
                    Long.parseLong(require(meta, "optimizer_steps", file)), Collections.unmodifiableMap(random), meta, c);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": a training checkpoint's metadata has a bad number: " + e.getMessage(), e);
        }
    }

    private static String require(Map<String, String> m, String key, Path file) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException(file + ": the training checkpoint's metadata lacks '" + key + "'");
        }
        return v;
    }

    private static int integer(Map<String, String> m, String key, Path file) {
        return Integer.parseInt(require(m, key, file));
    }

    private static double number(Map<String, String> m, String key, Path file) {
        return Double.parseDouble(require(m, key, file));
    }
}
