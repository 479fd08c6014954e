package dev.wengert.models.cli;

import dev.wengert.models.data.MnistData;
import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.io.Json;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.zoo.Checkpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code wengert evaluate}: the test loss, accuracy, per-class accuracy and confusion matrix of a checkpoint,
 * printed and written as JSON. Reads only the test files of the data.
 */
@Command(name = "evaluate", header = "Measure a checkpoint on the test images.", mixinStandardHelpOptions = true, versionProvider = BuildInfo.Provider.class, sortOptions = false,
        description = "Measure a checkpoint written by 'wengert train' on the test images (only the test files are "
            + "read): loss, accuracy, per-class accuracy and the confusion matrix, printed and written as JSON.")
final class EvaluateCommand implements Callable<Integer> {

    static final String EVALUATION_JSON = "evaluation.json";

    @ParentCommand
    Main parent;

    @Mixin
    CheckpointOption checkpoint;

    @Mixin
    CommonOptions.DataOption data;

    @Mixin
    CommonOptions.DeviceOption device;

    @Mixin
    CommonOptions.EvalBatchOption batch;

    @Option(names = "--json", paramLabel = "FILE", description = "where to write the results as JSON (default: "
            + EVALUATION_JSON + " in the checkpoint's folder, skipped with a warning when that is not writable)")
    Path json;

    @Override
    public Integer call() throws IOException {
        String dev = device.checked();
        int batchSize = batch.checked();
        PrintStream out = parent.context().out();
        DeviceChoice dc = DeviceChoice.choose(dev);
        out.println("device: " + dc.reason());
        Checkpoint.Loaded loaded = checkpoint.load(dc.device());
        try (Sequential model = loaded.model()) {
            out.println("model: " + loaded.spec() + " from " + checkpoint.checkpoint);
            DataFiles files = DataFiles.of(data.data);
            MnistData.Split test = files.readTest();
            int inputs = test.rows() * test.cols();
            if (inputs != loaded.spec().inputs()) {
                int want = loaded.spec().inputs();
                int side = Inference.imageSide(want);
                throw new IllegalArgumentException("the checkpoint expects " + want + " input features"
                        + (side > 0 ? " (" + side + "x" + side + " images)" : "") + "; the test images of " + files.source()
                        + " have " + inputs + " (" + test.rows() + "x" + test.cols() + ")");
            }
            long start = System.nanoTime();
            float[][] logits = Inference.logits(model, test.imagesAsFloats(), test.count(), inputs, dc.device(), batchSize);
            double seconds = (System.nanoTime() - start) / 1e9;
            int classes = loaded.spec().classes();
            long[] labels = test.labelsAsLongs();
            long[][] confusion = new long[classes][classes];
            double lossSum = 0;
            long correct = 0;
            for (int i = 0; i < logits.length; i++) {
                int label = (int) labels[i];
                int predicted = Inference.argmax(logits[i]);
                confusion[label][predicted]++;
                correct += predicted == label ? 1 : 0;
                lossSum += Inference.crossEntropy(logits[i], label);
            }
            int n = test.count();
            double accuracy = n == 0 ? Double.NaN : (double) correct / n;
            double loss = n == 0 ? Double.NaN : lossSum / n;
            out.printf(Locale.ROOT, "test accuracy %s (%,d/%,d images), loss %.4f, on %s in %.2f s%n", Text.percent(accuracy),
                    correct, n, loss, files.source(), seconds);
            printPerClass(out, confusion);
            printConfusion(out, confusion);

            Map<String, Object> m = new LinkedHashMap<>();
            m.put("wengert_version", BuildInfo.CURRENT.version());
            m.put("git_commit", BuildInfo.CURRENT.commit());
            m.put("command_line", parent.context().commandLine());
            m.put("evaluated", Instant.now().toString());
            m.put("checkpoint", checkpoint.checkpoint.toAbsolutePath().normalize().toString());
            m.put("model", loaded.spec().kind());
            m.put("layers", loaded.spec().layout());
            m.put("device", dc.device().toString());
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("source", files.bundled() ? "bundled" : "path");
            d.put("path", files.bundled() ? null : files.source());
            d.put("test_samples", n);
            m.put("data", d);
            m.put("loss", loss);
            m.put("accuracy", accuracy);
            m.put("correct", correct);
            m.put("count", n);
            List<Object> perClass = new ArrayList<>();
            for (int c = 0; c < classes; c++) {
                long count = rowSum(confusion[c]);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("class", c);
                e.put("count", count);
                e.put("correct", confusion[c][c]);
                e.put("accuracy", count == 0 ? null : (double) confusion[c][c] / count);
                perClass.add(e);
            }
            m.put("per_class", perClass);
            m.put("confusion_matrix", confusion);
            m.put("confusion_matrix_layout", "rows: true class, columns: predicted class");
            writeJson(m, out);
        }
        return Main.OK;
    }

    private void writeJson(Map<String, Object> m, PrintStream out) throws IOException {
        byte[] bytes = Json.write(m, true).getBytes(StandardCharsets.UTF_8);
        if (json != null) {
            try {
                AtomicFiles.write(json, bytes);
            } catch (IOException e) {
                throw new IOException("cannot write --json " + json + ": " + dev.wengert.models.io.IoErrors.reason(e), e);
            }
            out.println("wrote " + json);
            return;
        }
        Path parentDir = checkpoint.checkpoint.toAbsolutePath().getParent();
        Path target = parentDir.resolve(EVALUATION_JSON);
        try {
            AtomicFiles.write(target, bytes);
            out.println("wrote " + (checkpoint.checkpoint.getParent() == null ? Path.of(EVALUATION_JSON)
                    : checkpoint.checkpoint.getParent().resolve(EVALUATION_JSON)));
        } catch (IOException e) {
            out.println("warning: did not write " + target + " (" + dev.wengert.models.io.IoErrors.reason(e)
                    + "); use --json FILE to write the results elsewhere");
        }
    }

    private static long rowSum(long[] row) {
        long s = 0;
        for (long v : row) {
            s += v;
        }
        return s;
    }

    private static void printPerClass(PrintStream out, long[][] confusion) {
        out.println("per class:  class  images  correct  accuracy");
        for (int c = 0; c < confusion.length; c++) {
            long count = rowSum(confusion[c]);
            out.printf(Locale.ROOT, "            %5d  %6d  %7d  %8s%n", c, count, confusion[c][c],
                    count == 0 ? "-" : Text.percent((double) confusion[c][c] / count));
        }
    }

    private static void printConfusion(PrintStream out, long[][] confusion) {
        long max = 0;
        for (long[] row : confusion) {
            for (long v : row) {
                max = Math.max(max, v);
            }
        }
        int w = Math.max(3, Long.toString(max).length());
        out.println("confusion matrix (rows: true class, columns: predicted class):");
        StringBuilder head = new StringBuilder("      ");
        for (int c = 0; c < confusion.length; c++) {
            head.append(String.format(Locale.ROOT, " %" + w + "d", c));
        }
        out.println(head);
        for (int r = 0; r < confusion.length; r++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %3d ", r));
            for (long v : confusion[r]) {
                line.append(String.format(Locale.ROOT, " %" + w + "d", v));
            }
            out.println(line);
        }
    }
}
