package dev.wengert.models.cli;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.io.AtomicFiles;
import dev.wengert.models.io.Json;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.plot.TrainingPlot;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The {@code wengert} command: {@code train} and {@code evaluate}. Exit codes: 0 ok, 1 failure, 2 bad usage. */
public final class Main {
    static final String USAGE = """
            usage: wengert <command> [options]

            commands:
              train      train logistic regression or an MLP on MNIST
              evaluate   report the test accuracy of a checkpoint

            Run 'wengert <command> --help' for the options of a command.
            """;

    static final String EVALUATE_USAGE = """
            usage: wengert evaluate --checkpoint FILE [options]

            Rebuilds the model stored in a checkpoint written by 'wengert train' and reports its test accuracy.

              --checkpoint FILE        model.safetensors from a training run (required)
              --data DIR               folder with the four MNIST IDX files (default: the bundled subset)
              --device auto|cpu|cuda   where to compute (default auto)
              --batch-size N           samples per forward pass (default 1000)
              -h, --help               show this help
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        String usage = switch (command) {
            case "train" -> TrainOptions.USAGE;
            case "evaluate" -> EVALUATE_USAGE;
            default -> null;
        };
        if (usage == null) {
            err.println("wengert: unknown command '" + command + "'");
            err.print(USAGE);
            return 2;
        }
        try {
            return command.equals("train") ? train(rest, out) : evaluate(rest, out);
        } catch (UsageException e) {
            err.println("wengert " + command + ": " + e.getMessage());
            err.print(usage);
            return 2;
        } catch (IOException | RuntimeException e) {
            err.println("wengert " + command + ": error: " + e.getMessage());
            return 1;
        }
    }

    private static MnistData data(Path dir) throws IOException {
        return dir == null ? MnistData.embedded() : MnistData.load(dir);
    }

    static int train(String[] args, PrintStream out) throws UsageException, IOException {
        TrainOptions o = TrainOptions.parse(args);
        if (o == null) {
            out.print(TrainOptions.USAGE);
            return 0;
        }
        DeviceChoice dc = DeviceChoice.choose(o.device());
        out.println("device: " + dc.reason());
        MnistData mnist = data(o.data());
        out.println("data: " + mnist.source() + " (" + mnist.train().count() + " train, " + mnist.test().count() + " test)");
        Files.createDirectories(o.output());
        ModelSpec spec = o.model().equals(ModelSpec.MLP)
                ? ModelSpec.mlp(mnist.train().rows() * mnist.train().cols(), o.hidden(), 10)
                : ModelSpec.logreg(mnist.train().rows() * mnist.train().cols(), 10);
        BatchLoader train = BatchLoader.of(mnist.train(), o.batchSize(), true, o.seed(), dc.device());
        BatchLoader test = BatchLoader.of(mnist.test(), 1000, false, 0, dc.device());
        LrSchedule schedule = switch (o.schedule()) {
            case "step" -> LrSchedule.step(o.lr(), Math.max(1, o.epochs() / 3), 0.1);
            case "cosine" -> LrSchedule.cosine(o.lr(), o.epochs(), 0);
            default -> LrSchedule.constant(o.lr());
        };
        long started = System.nanoTime();
        List<Trainer.EpochResult> results;
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(o.seed(), DType.FLOAT32, dc.device());
        }
        try (model; Optimizer opt = o.optimizer().equals("adam")
                ? new Adam(model.parameters(), o.lr(), 0.9, 0.999, 1e-8, o.weightDecay(), true)
                : new Sgd(model.parameters(), o.lr(), o.momentum(), false, o.weightDecay())) {
            out.println("model: " + spec + " (" + String.format(Locale.ROOT, "%,d", model.parameterCount()) + " parameters), "
                    + o.optimizer() + " lr " + o.lr() + (o.momentum() > 0 ? " momentum " + o.momentum() : "")
                    + ", batch " + o.batchSize() + ", " + o.epochs() + " epochs, seed " + o.seed());
            results = new Trainer(model, opt, schedule, new ConsoleListener(out, o.epochs(), o.batchSize())).fit(train, test, o.epochs());
            double totalSeconds = (System.nanoTime() - started) / 1e9;
            Trainer.EpochResult last = results.get(results.size() - 1);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("test_accuracy", Double.toString(last.testAccuracy()));
            meta.put("epochs", Integer.toString(o.epochs()));
            meta.put("optimizer", o.optimizer());
            meta.put("seed", Long.toString(o.seed()));
            Path checkpoint = o.output().resolve("model.safetensors");
            Checkpoint.save(checkpoint, model, spec, meta);
            Path metrics = o.output().resolve("metrics.json");
            AtomicFiles.write(metrics, Json.write(metrics(o, spec, dc, mnist, results, totalSeconds, train.batchCount()), true)
                    .getBytes(StandardCharsets.UTF_8));
            out.printf(Locale.ROOT, "final test accuracy %.2f%% after %d epoch%s in %.1f s%n", 100 * last.testAccuracy(), o.epochs(), o.epochs() == 1 ? "" : "s", totalSeconds);
            Path plot = o.output().resolve("training.png");
            String plotProblem = drawPlot(plot, spec + " on MNIST (" + dc.device() + ")", results);
            out.println("wrote " + checkpoint + ", " + metrics + (plotProblem == null ? ", " + plot : ""));
            if (plotProblem != null) {
                out.println("warning: the training plot was not drawn (" + plotProblem + "); the checkpoint and metrics.json are complete");
            }
        }
        return 0;
    }

    /**
     * Draws the loss/accuracy plot; null when it worked, else why not. A plot needs java.desktop, which a
     * trimmed runtime (the device check's jlink'd JRE) may lack: that must not lose the finished run.
     */
    private static String drawPlot(Path plot, String title, List<Trainer.EpochResult> results) {
        try {
            TrainingPlot.write(plot, title, results.stream().mapToDouble(Trainer.EpochResult::trainLoss).toArray(),
                    results.stream().mapToDouble(Trainer.EpochResult::testAccuracy).toArray());
            return null;
        } catch (LinkageError e) {
            return "this Java runtime has no java.desktop module: " + e;
        } catch (IOException | RuntimeException e) {
            return e.toString();
        }
    }

    private static Map<String, Object> metrics(TrainOptions o, ModelSpec spec, DeviceChoice dc, MnistData mnist,
            List<Trainer.EpochResult> results, double totalSeconds, int stepsPerEpoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", spec.kind());
        m.put("layers", spec.layout());
        m.put("device", dc.device().toString());
        m.put("device_reason", dc.reason());
        m.put("data", mnist.source());
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("optimizer", o.optimizer());
        opts.put("lr", o.lr());
        opts.put("momentum", o.momentum());
        opts.put("weight_decay", o.weightDecay());
        opts.put("schedule", o.schedule());
        opts.put("batch_size", o.batchSize());
        opts.put("epochs", o.epochs());
        opts.put("seed", o.seed());
        m.put("options", opts);
        List<Object> epochs = new ArrayList<>();
        double trainSeconds = 0;
        for (Trainer.EpochResult r : results) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", r.epoch());
            e.put("train_loss", r.trainLoss());
            e.put("test_accuracy", r.testAccuracy());
            e.put("lr", r.lr());
            e.put("train_seconds", r.trainSeconds());
            e.put("eval_seconds", r.evalSeconds());
            e.put("samples_per_second", r.samplesPerSecond());
            epochs.add(e);
            trainSeconds += r.trainSeconds();
        }
        m.put("epochs", epochs);
        m.put("train_loss", results.stream().mapToDouble(Trainer.EpochResult::trainLoss).toArray());
        m.put("test_accuracy", results.stream().mapToDouble(Trainer.EpochResult::testAccuracy).toArray());
        m.put("final_test_accuracy", results.get(results.size() - 1).testAccuracy());
        m.put("train_seconds", trainSeconds);
        m.put("ms_per_step", 1000 * trainSeconds / (stepsPerEpoch * (double) results.size()));
        m.put("total_seconds", totalSeconds);
        return m;
    }

    static int evaluate(String[] args, PrintStream out) throws UsageException, IOException {
        Options o = Options.parse(args, Set.of("checkpoint", "data", "device", "batch-size"));
        if (o.help()) {
            out.print(EVALUATE_USAGE);
            return 0;
        }
        if (!o.has("checkpoint")) {
            throw new UsageException("--checkpoint FILE is required");
        }
        int batch = o.integer("batch-size", 1000, 1, 1 << 20);
        String device = o.string("device", "auto");
        DeviceChoice dc;
        try {
            dc = DeviceChoice.choose(device);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Path file = Path.of(o.string("checkpoint", ""));
        if (!Files.isRegularFile(file)) {
            throw new IOException("checkpoint not found: " + file);
        }
        out.println("device: " + dc.reason());
        Checkpoint.Loaded loaded = Checkpoint.load(file, dc.device());
        try (Sequential model = loaded.model()) {
            MnistData mnist = data(o.has("data") ? Path.of(o.string("data", "")) : null);
            long start = System.nanoTime();
            double acc = Trainer.accuracy(model, BatchLoader.of(mnist.test(), batch, false, 0, dc.device()));
            out.printf(Locale.ROOT, "model: %s from %s%n", loaded.spec(), file);
            out.printf(Locale.ROOT, "test accuracy %.2f%% (%d/%d) on %s in %.2f s%n", 100 * acc,
                    Math.round(acc * mnist.test().count()), mnist.test().count(), mnist.source(), (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }

    /** Progress bar per epoch and one summary line at its end. */
    private static final class ConsoleListener implements Trainer.Listener {
        private final PrintStream out;
        private final int epochs;
        private ProgressBar bar;

        ConsoleListener(PrintStream out, int epochs, int batchSize) {
            this.out = out;
            this.epochs = epochs;
        }

        @Override
        public void epochStart(int epoch, int steps) {
            bar = new ProgressBar(out, "epoch " + epoch + "/" + epochs, steps, ProgressBar.isInteractive());
        }

        @Override
        public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
            bar.update(step, String.format(Locale.ROOT, "loss %.4f  %,.0f samples/s", loss, samples / (elapsedNanos / 1e9)));
        }

        @Override
        public void epochEnd(Trainer.EpochResult r) {
            bar.finish(String.format(Locale.ROOT, "train loss %.4f  test accuracy %.2f%%  %.1f s (%,.0f samples/s, eval %.2f s)",
                    r.trainLoss(), 100 * r.testAccuracy(), r.trainSeconds(), r.samplesPerSecond(), r.evalSeconds()));
        }
    }
}
