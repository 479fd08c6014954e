package dev.wengert.models.cli;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.io.MetricsCsv;
import dev.wengert.models.io.TensorBoardWriter;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code wengert train}: trains logistic regression or an MLP on MNIST into a run folder, writing the
 * checkpoint, metrics.json, metrics.csv, training.png and TensorBoard's event file after every epoch, so that a
 * run stopped at any point (Ctrl-C, SIGTERM, a crash) keeps every finished epoch.
 */
@Command(name = "train", header = "Train logistic regression or an MLP on MNIST.", mixinStandardHelpOptions = true, versionProvider = BuildInfo.Provider.class, sortOptions = false,
        description = "Train a classifier on MNIST into a run folder. Ctrl-C or SIGTERM stops after the current step and "
            + "keeps the last finished epoch (exit code 130 or 143).",
        footer = {"", "After every epoch the run folder holds, each file written whole:",
            "  model.safetensors  the model so far",
            "  metrics.json       the whole run: version, command line, data and its SHA-256,",
            "                     device, options, status and each epoch's figures",
            "  metrics.csv        one row per epoch",
            "  training.png       loss and accuracy curves",
            "  tensorboard/       the same scalars for tensorboard --logdir",
            "", "Examples:", "  wengert train --model mlp --epochs 5", "  wengert train --optimizer adam --output runs/adam --force"})
final class TrainCommand implements Callable<Integer> {

    static final String CHECKPOINT = "model.safetensors";
    static final String METRICS_JSON = "metrics.json";
    static final String METRICS_CSV = "metrics.csv";
    static final String PLOT = "training.png";
    static final String TENSORBOARD_DIR = "tensorboard";
    /** metrics.csv's columns, one row per epoch. */
    static final List<String> CSV_COLUMNS = List.of("epoch", "train_loss", "test_accuracy", "lr", "train_seconds",
            "eval_seconds", "wall_seconds", "samples_per_second");

    enum Model { logreg, mlp }

    enum OptimizerName { sgd, adam }

    enum Schedule { none, step, cosine }

    @ParentCommand
    Main parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "logreg|mlp", defaultValue = Defaults.MODEL,
            description = "model to train (default: ${DEFAULT-VALUE})")
    Model model;

    @Option(names = "--hidden", paramLabel = "N,N,...", description = "hidden layer sizes of the mlp (default: " + Defaults.HIDDEN + ")")
    String hidden;

    @Mixin
    CommonOptions.DeviceOption device;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + Defaults.EPOCHS,
            description = "passes over the training set (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + Defaults.BATCH_SIZE,
            description = "samples per step (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--lr", paramLabel = "X", description = "learning rate (default: " + Defaults.LR_LOGREG + " for logreg, "
            + Defaults.LR_MLP + " for mlp; " + Defaults.LR_ADAM + " with adam)")
    Double lr;

    @Option(names = "--optimizer", paramLabel = "sgd|adam", defaultValue = Defaults.OPTIMIZER,
            description = "optimizer (default: ${DEFAULT-VALUE})")
    OptimizerName optimizer;

    @Option(names = "--momentum", paramLabel = "X", description = "sgd momentum (default: " + Defaults.MOMENTUM_MLP
            + " for mlp, 0 for logreg)")
    Double momentum;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "" + Defaults.WEIGHT_DECAY,
            description = "L2 penalty for sgd, decoupled (AdamW) for adam (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--schedule", paramLabel = "none|step|cosine", defaultValue = Defaults.SCHEDULE,
            description = "learning rate over epochs: step divides it by 10 every third of the run, cosine decays it"
                    + " to 0 (default: ${DEFAULT-VALUE})")
    Schedule schedule;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + Defaults.SEED,
            description = "seed for initialisation and shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    CommonOptions.DataOption data;

    @Option(names = "--output", paramLabel = "DIR", description = "run folder, new or empty (default: a new folder "
            + Defaults.RUNS_DIR + "/<model>-<date>-<time>)")
    Path output;

    @Option(names = "--force", description = "write into a --output folder that is not empty, replacing an earlier run's files")
    boolean force;

    /** The options after validation, with every default filled in. */
    record Settings(String model, int[] hidden, String device, int epochs, int batchSize, double lr, String optimizer,
            double momentum, double weightDecay, String schedule, long seed, Path data, Path output, boolean force) {
    }

    /** Validates the options (a usage error, exit code 2, for anything wrong) and fills in the defaults. */
    Settings settings() {
        String m = model.name();
        boolean mlp = model == Model.mlp;
        int[] sizes = new int[0];
        if (mlp) {
            String text = hidden == null ? Defaults.HIDDEN : hidden;
            try {
                sizes = ModelSpec.parseSizes(text);
            } catch (NumberFormatException e) {
                throw usage("--hidden must be sizes separated by commas, e.g. 512,256; got '" + text + "'");
            }
            if (sizes.length == 0) {
                throw usage("--hidden must be sizes separated by commas, e.g. 512,256; got '" + text + "'");
            }
            for (int h : sizes) {
                if (h <= 0 || h > Defaults.MAX_HIDDEN) {
                    throw usage("--hidden sizes must be between 1 and " + Defaults.MAX_HIDDEN + ", got " + h);
                }
            }
        } else if (hidden != null) {
            throw usage("--hidden applies to --model mlp only");
        }
        String dev = device.checked();
        String opt = optimizer.name();
        CommonOptions.Checks.intIn(spec, "--epochs", epochs, 1, Defaults.MAX_EPOCHS);
        CommonOptions.Checks.intIn(spec, "--batch-size", batchSize, 1, Defaults.MAX_BATCH_SIZE);
        double rate = lr == null ? Defaults.lr(m, opt) : CommonOptions.Checks.numberIn(spec, "--lr", lr, 0, Defaults.MAX_LR);
        if (rate == 0) {
            throw usage("--lr must be > 0");
        }
        if (optimizer == OptimizerName.adam && momentum != null) {
            throw usage("--momentum applies to --optimizer sgd only");
        }
        double mom = momentum == null ? Defaults.momentum(m, opt)
                : CommonOptions.Checks.numberIn(spec, "--momentum", momentum, 0, Defaults.MAX_MOMENTUM);
        CommonOptions.Checks.numberIn(spec, "--weight-decay", weightDecay, 0, Defaults.MAX_WEIGHT_DECAY);
        if (force && output == null) {
            throw usage("--force applies to --output only (without --output every run gets a new folder)");
        }
        return new Settings(m, sizes, dev, epochs, batchSize, rate, opt, mom, weightDecay, schedule.name(), seed, data.data,
                output, force);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Stops training from inside the Trainer's listener (see {@link #fit}). */
    private static final class StopTraining extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StopTraining() {
            super("stop requested", null, false, false);
        }
    }

    @Override
    public Integer call() throws Exception {
        Settings o = settings();
        Main.Context ctx = parent.context();
        // from here on SIGINT/SIGTERM only ask to stop: at the latest after the current step, with metrics.json saying so
        try (StopRequest.Installed signals = ctx.osSignals() ? ctx.stop().installSignalHandlers(ctx.err()) : () -> { }) {
            return train(o, ctx);
        }
    }

    private int train(Settings o, Main.Context ctx) throws Exception {
        PrintStream out = ctx.out();
        if (o.output() != null) {
            try {
                RunFolder.check(o.output(), o.force());
            } catch (RunFolder.Refused r) {
                throw usage(r.getMessage());
            }
        }
        DeviceChoice dc = DeviceChoice.choose(o.device());
        out.println("device: " + dc.reason());
        DataFiles files = DataFiles.of(o.data());
        MnistData mnist = o.data() == null ? MnistData.embedded() : MnistData.load(o.data());
        Map<String, String> sha256 = files.sha256();
        out.println("data: " + files.source() + " (" + Text.count(mnist.train().count(), "training image") + ", "
                + Text.count(mnist.test().count(), "test image") + ")");

        StopRequest.Reason early = ctx.stop().reason();
        if (early != null) {
            out.println(early.word + " by " + early.name() + " before training started; nothing was written");
            return early.exitCode;
        }
        Path dir;
        List<String> replaced = List.of();
        if (o.output() == null) {
            dir = RunFolder.createUnique(Path.of(Defaults.RUNS_DIR), o.model(), Clock.systemDefaultZone());
        } else {
            dir = o.output();
            try {
                replaced = RunFolder.prepare(dir, o.force());
            } catch (RunFolder.Refused r) {
                throw usage(r.getMessage());
            }
        }
        out.println("output: " + dir + (replaced.isEmpty() ? "" : " (--force: replaced " + String.join(", ", replaced) + ")"));

        int inputs = mnist.train().rows() * mnist.train().cols();
        ModelSpec spec = o.model().equals(ModelSpec.MLP) ? ModelSpec.mlp(inputs, o.hidden(), 10) : ModelSpec.logreg(inputs, 10);
        BatchLoader train = BatchLoader.of(mnist.train(), o.batchSize(), true, o.seed(), dc.device());
        BatchLoader test = BatchLoader.of(mnist.test(), Defaults.EVAL_BATCH_SIZE, false, 0, dc.device());
        LrSchedule lrSchedule = switch (o.schedule()) {
            case "step" -> LrSchedule.step(o.lr(), Math.max(1, o.epochs() / 3), 0.1);
            case "cosine" -> LrSchedule.cosine(o.lr(), o.epochs(), 0);
            default -> LrSchedule.constant(o.lr());
        };
        Sequential net;
        try (Scope s = Scope.open()) {
            net = spec.build(o.seed(), DType.FLOAT32, dc.device());
        }
        try (net; Optimizer opt = o.optimizer().equals("adam")
                ? new Adam(net.parameters(), o.lr(), 0.9, 0.999, 1e-8, o.weightDecay(), true)
                : new Sgd(net.parameters(), o.lr(), o.momentum(), false, o.weightDecay())) {
            out.println("model: " + spec + " (" + String.format(Locale.ROOT, "%,d", net.parameterCount()) + " parameters), "
                    + o.optimizer() + " lr " + o.lr() + (o.momentum() > 0 ? " momentum " + o.momentum() : "")
                    + ", batch " + o.batchSize() + ", " + Text.count(o.epochs(), "epoch") + ", seed " + o.seed());
            RunRecord record = new RunRecord(dir.resolve(METRICS_JSON), fixedRecord(o, spec, net.parameterCount(), dc, files,
                    mnist, sha256, ctx.commandLine()), o.epochs(), train.batchCount(), Instant.now(), System.nanoTime());
            record.write();
            return run(o, dir, spec, dc, net, opt, lrSchedule, train, test, record, ctx);
        }
    }

    private int run(Settings o, Path dir, ModelSpec spec, DeviceChoice dc, Sequential net, Optimizer opt, LrSchedule lrSchedule,
            BatchLoader train, BatchLoader test, RunRecord record, Main.Context ctx) throws IOException {
        PrintStream out = ctx.out();
        ConsoleListener console = new ConsoleListener(out, o.epochs());
        PlotWriter plot = new PlotWriter(dir.resolve(PLOT), spec + " on " + dc.device(), out);
        StopRequest stop = ctx.stop();
        try (MetricsCsv csv = MetricsCsv.open(dir.resolve(METRICS_CSV), CSV_COLUMNS);
                TensorBoardWriter board = new TensorBoardWriter(dir.resolve(TENSORBOARD_DIR))) {
            record.file("metrics_csv", METRICS_CSV);
            record.file("tensorboard", dir.relativize(board.file()).toString());
            Trainer.Listener listener = new Trainer.Listener() {
                private long epochStart;

                @Override
                public void epochStart(int epoch, int steps) {
                    if (stop.requested()) {
                        throw new StopTraining();
                    }
                    epochStart = System.nanoTime();
                    console.epochStart(epoch, steps);
                }

                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    console.step(epoch, step, steps, loss, samples, elapsedNanos);
                    stop.onStep();
                    if (stop.requested()) {
                        throw new StopTraining();
                    }
                }

                @Override
                public void epochEnd(Trainer.EpochResult r) {
                    double wall = (System.nanoTime() - epochStart) / 1e9;
                    console.epochEnd(r);
                    try {
                        saveEpoch(r, wall, dir, net, spec, o, record, csv, board, plot);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
            try {
                fit(new Trainer(net, opt, lrSchedule, listener), train, test, o.epochs());
            } catch (StopTraining s) {
                console.abandon();
                StopRequest.Reason why = stop.reason();
                record.finish(RunRecord.Status.INTERRUPTED, why.name(), null);
                record.write();
                int done = record.results().size();
                out.println(why.word + " by " + why.name() + " after " + Text.count(done, "epoch") + "; wrote "
                        + written(dir, record, plot));
                return why.exitCode;
            } catch (RuntimeException e) {
                Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
                String problem = cause instanceof IOException io ? Main.ioMessage(io) : String.valueOf(cause.getMessage());
                record.finish(RunRecord.Status.FAILED, null, problem);
                try {
                    record.write();
                    ctx.err().println("wengert train: kept " + Text.count(record.results().size(), "finished epoch")
                            + " in " + dir);
                } catch (IOException again) {
                    ctx.err().println("wengert train: could not record the failure in " + dir.resolve(METRICS_JSON) + ": "
                            + Main.ioMessage(again));
                }
                if (cause instanceof IOException io) {
                    throw io;
                }
                throw e;
            }
        }
        record.finish(RunRecord.Status.FINISHED, null, null);
        record.write();
        List<Trainer.EpochResult> results = record.results();
        Trainer.EpochResult last = results.get(results.size() - 1);
        out.printf(Locale.ROOT, "final test accuracy %s after %s in %.1f s%n", Text.percent(last.testAccuracy()),
                Text.count(results.size(), "epoch"), record.totalSeconds());
        out.println("wrote " + written(dir, record, plot));
        return Main.OK;
    }

    /**
     * Runs the Trainer; a stop request ends it after the current step by {@link StopTraining}, thrown from the
     * listener. SEAM: once the library's Trainer has requestStop(), resume state, a validation split and
     * divergence detection, they are wired here (and in the listener above) instead.
     */
    private static void fit(Trainer trainer, BatchLoader train, BatchLoader test, int epochs) {
        trainer.fit(train, test, epochs);
    }

    /** After an epoch: checkpoint, metrics.json, metrics.csv row, TensorBoard scalars, plot; each written whole. */
    private static void saveEpoch(Trainer.EpochResult r, double wall, Path dir, Sequential net, ModelSpec spec, Settings o,
            RunRecord record, MetricsCsv csv, TensorBoardWriter board, PlotWriter plot) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("test_accuracy", Double.toString(r.testAccuracy()));
        meta.put("epochs", Integer.toString(o.epochs()));
        meta.put("epochs_completed", Integer.toString(r.epoch()));
        meta.put("optimizer", o.optimizer());
        meta.put("seed", Long.toString(o.seed()));
        meta.put("wengert_version", BuildInfo.CURRENT.version());
        Checkpoint.save(dir.resolve(CHECKPOINT), net, spec, meta);
        record.file("checkpoint", CHECKPOINT);
        record.addEpoch(r, wall);
        csv.writeRow(r.epoch(), r.trainLoss(), r.testAccuracy(), r.lr(), r.trainSeconds(), r.evalSeconds(), wall,
                r.samplesPerSecond());
        board.addScalar("train/loss", r.epoch(), r.trainLoss());
        board.addScalar("test/accuracy", r.epoch(), r.testAccuracy());
        board.addScalar("train/lr", r.epoch(), r.lr());
        board.addScalar("train/samples_per_second", r.epoch(), r.samplesPerSecond());
        board.addScalar("time/epoch_seconds", r.epoch(), wall);
        board.flush();
        if (plot.draw(record.results())) {
            record.file("plot", PLOT);
        }
        record.write();
    }

    /** "runs/x/model.safetensors, metrics.json, metrics.csv, training.png, tensorboard/": what holds the run. */
    private static String written(Path dir, RunRecord record, PlotWriter plot) {
        List<String> names = new ArrayList<>();
        boolean any = !record.results().isEmpty();
        if (any) {
            names.add(CHECKPOINT);
        }
        names.add(METRICS_JSON);
        if (any) {
            names.add(METRICS_CSV);
            if (plot.written()) {
                names.add(PLOT);
            }
            names.add(TENSORBOARD_DIR + "/");
        }
        return dir.resolve(names.get(0)) + (names.size() > 1 ? ", " + String.join(", ", names.subList(1, names.size())) : "");
    }

    private static Map<String, Object> fixedRecord(Settings o, ModelSpec spec, long parameters, DeviceChoice dc, DataFiles files,
            MnistData mnist, Map<String, String> sha256, List<String> commandLine) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command_line", commandLine);
        m.put("model", spec.kind());
        m.put("layers", spec.layout());
        m.put("parameters", parameters);
        m.put("device", dc.device().toString());
        m.put("device_reason", dc.reason());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("source", files.bundled() ? "bundled" : "path");
        data.put("path", files.bundled() ? null : files.source());
        data.put("description", mnist.source());
        data.put("train_samples", mnist.train().count());
        data.put("test_samples", mnist.test().count());
        Map<String, String> perFile = new LinkedHashMap<>(sha256);
        data.put("sha256", perFile.remove("all"));
        data.put("sha256_files", perFile);
        m.put("data", data);
        m.put("seed", o.seed());
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("model", o.model());
        opts.put("hidden", o.hidden());
        opts.put("optimizer", o.optimizer());
        opts.put("lr", o.lr());
        opts.put("momentum", o.momentum());
        opts.put("weight_decay", o.weightDecay());
        opts.put("schedule", o.schedule());
        opts.put("batch_size", o.batchSize());
        opts.put("epochs", o.epochs());
        opts.put("seed", o.seed());
        opts.put("device", o.device());
        opts.put("output", o.output() == null ? null : o.output().toString());
        opts.put("force", o.force());
        m.put("options", opts);
        return m;
    }
}
