package dev.wengert.models.cli;

import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.io.IoErrors;
import dev.wengert.models.io.Json;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.zoo.Checkpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code wengert predict}: the class and its probability for each image of IDX image files or PNGs. */
@Command(name = "predict", header = "Classify images with a checkpoint.", mixinStandardHelpOptions = true, versionProvider = BuildInfo.Provider.class, sortOptions = false,
        description = "Classify images with a checkpoint written by 'wengert train': the class and its probability "
            + "for each image.",
        footer = {"", "IMAGE is an IDX image file (like MNIST's t10k-images-idx3-ubyte, raw or .gz)",
            "or a PNG. A PNG should be a gray 28x28 digit, light on dark as in MNIST; other",
            "PNGs are converted to gray, inverted when dark on light, and resized, each with",
            "a note.", "", "Example:", "  wengert predict --checkpoint runs/<run>/model.safetensors digit.png"})
final class PredictCommand implements Callable<Integer> {

    @ParentCommand
    Main parent;

    @Mixin
    CheckpointOption checkpoint;

    @Mixin
    CommonOptions.DeviceOption device;

    @Mixin
    CommonOptions.EvalBatchOption batch;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the predictions as JSON to FILE")
    Path json;

    @Parameters(paramLabel = "IMAGE", arity = "1..*", description = "IDX image files or PNG images")
    List<Path> inputs;

    @Override
    public Integer call() throws IOException {
        String dev = device.checked();
        int batchSize = batch.checked();
        PrintStream out = parent.context().out();
        DeviceChoice dc = DeviceChoice.choose(dev);
        Checkpoint.Loaded loaded = checkpoint.load(dc.device());
        try (Sequential model = loaded.model()) {
            int inputsPerImage = loaded.spec().inputs();
            int side = Inference.imageSide(inputsPerImage);
            if (side == 0) {
                throw new IllegalArgumentException("the model takes " + inputsPerImage + " inputs, not a square image");
            }
            List<ImageInputs.Image> images = new ArrayList<>();
            for (Path p : inputs) {
                images.addAll(ImageInputs.read(p, side));
            }
            float[] features = new float[images.size() * inputsPerImage];
            for (int i = 0; i < images.size(); i++) {
                System.arraycopy(images.get(i).pixels(), 0, features, i * inputsPerImage, inputsPerImage);
            }
            float[][] logits = Inference.logits(model, features, images.size(), inputsPerImage, dc.device(), batchSize);
            List<Object> rows = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                ImageInputs.Image img = images.get(i);
                double[] p = Inference.softmax(logits[i]);
                int cls = Inference.argmax(logits[i]);
                out.printf(Locale.ROOT, "%s: %d (probability %.3f)%s%n", img.name(), cls, p[cls],
                        img.notes().isEmpty() ? "" : "  [" + String.join("; ", img.notes()) + "]");
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("input", img.file().toString());
                r.put("index", img.index());
                r.put("class", cls);
                r.put("probability", p[cls]);
                r.put("probabilities", p);
                r.put("notes", img.notes());
                rows.add(r);
            }
            if (json != null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("wengert_version", BuildInfo.CURRENT.version());
                m.put("checkpoint", checkpoint.checkpoint.toAbsolutePath().normalize().toString());
                m.put("model", loaded.spec().toString());
                m.put("device", dc.device().toString());
                m.put("predictions", rows);
                try {
                    AtomicFiles.write(json, Json.write(m, true).getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new IOException("cannot write --json " + json + ": " + IoErrors.reason(e), e);
                }
                out.println("wrote " + json);
            }
        }
        return Main.OK;
    }
}
