package dev.wengert.models.cli;

import dev.wengert.distributed.Communicator;
import dev.wengert.distributed.DataParallelTrainer;
import dev.wengert.distributed.MpiCommunicator;
import dev.wengert.distributed.MpiRun;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.data.RandomShift;
import dev.wengert.models.io.MetricsCsv;
import dev.wengert.models.io.TensorBoardWriter;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.io.IoErrors;
import dev.wengert.models.train.RunCheckpoints;
import dev.wengert.models.train.Trainer;
import dev.wengert.models.train.TrainingCheckpoint;
import dev.wengert.models.train.TrainingDivergedException;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
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
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code wengert train}: trains logistic regression, an MLP or one of the CNNs (LeNet-5, the convnet) on MNIST
 * into a run folder. A share of the training images (--val-fraction) is held out and measured after every
 * epoch; the test images are measured once, at the end. After every epoch it writes the run's checkpoints
 * (last.safetensors, best.safetensors by validation accuracy, model.safetensors), metrics.json, metrics.csv,
 * training.png and TensorBoard's event file, so that a run stopped at any point (Ctrl-C, SIGTERM, a crash)
 * keeps every finished epoch, and {@code --resume DIR} continues it bit for bit. A loss that stops being
 * finite ends the run as diverged.
 */
@Command(name = "train", header = "Train logistic regression, an MLP or a CNN (LeNet-5, a convnet) on MNIST.", mixinStandardHelpOptions = true, versionProvider = BuildInfo.Provider.class, sortOptions = false,
        description = "Train a classifier on MNIST into a run folder, validating on a held-out share of the training images "
            + "after each epoch and measuring the test images once at the end. Ctrl-C or SIGTERM stops after the current "
            + "step and keeps the last finished epoch (exit code 130 or 143); --resume continues the run. A loss that "
            + "becomes NaN or infinite ends it with the epoch, the step and a hint (exit code 1).",
        footer = {"", "After every epoch the run folder holds, each file written whole:",
            "  last.safetensors   the run so far: model, optimizer and random state and the",
            "                     options, what --resume continues from",
            "  best.safetensors   the same for the epoch with the best validation accuracy",
            "  model.safetensors  the model so far alone (evaluate, predict, PyTorch)",
            "  metrics.json       the whole run: version, command line, data and its SHA-256,",
            "                     device, options, status, each epoch's figures, the test",
            "                     accuracy at the end and each resume",
            "  metrics.csv        one row per epoch",
            "  training.png       loss and validation accuracy curves",
            "  tensorboard/       the same scalars for tensorboard --logdir",
            "", "The convolutional networks (--model lenet5, --model convnet) default to Adam; the convnet also to",
            "batch normalisation, dropout, a cosine schedule and random shifts of the training images",
            "(see --batch-norm, --dropout, --shift and the per-model defaults below each option).",
            "", "Examples:", "  wengert train --model mlp --epochs 5", "  wengert train --model convnet",
            "  wengert train --model lenet5 --epochs 3 --output runs/lenet5", "  wengert train --optimizer adam --output runs/adam --force",
            "  wengert train --resume runs/adam --epochs 20"})
final class TrainCommand implements Callable<Integer> {

    static final String CHECKPOINT = "model.safetensors";
    static final String METRICS_JSON = "metrics.json";
    static final String METRICS_CSV = "metrics.csv";
    static final String PLOT = "training.png";
    static final String TENSORBOARD_DIR = "tensorboard";
    /** metrics.csv's columns, one row per epoch (val_loss and val_accuracy empty without validation). */
    static final List<String> CSV_COLUMNS = List.of("epoch", "train_loss", "val_loss", "val_accuracy", "lr", "train_seconds",
            "eval_seconds", "wall_seconds", "samples_per_second");

    enum Model { logreg, mlp, lenet5, convnet }

    enum OptimizerName { sgd, adam }

    enum Schedule { none, step, cosine }

    @ParentCommand
    Main parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "logreg|mlp|lenet5|convnet", defaultValue = Defaults.MODEL,
            description = "model to train: logistic regression, an MLP, LeNet-5 (conv 6@5x5, pool, conv 16@5x5, pool,"
                    + " 120-84-10) or a convnet (conv 32@3x3, pool, conv 64@3x3, pool, 128-10) (default: ${DEFAULT-VALUE})")
    Model model;

    @Option(names = "--hidden", paramLabel = "N,N,...", description = "hidden layer sizes of the mlp (default: " + Defaults.HIDDEN + ")")
    String hidden;

    @Mixin
    CommonOptions.DeviceOption device;

    @Option(names = "--batch-norm", negatable = true, description = "convnet: batch normalisation after each convolution and"
            + " after the 128-wide layer (default: on for convnet; --no-batch-norm for none)")
    Boolean batchNorm;

    @Option(names = "--dropout", paramLabel = "P", description = "convnet: dropout probability before the last layer"
            + " (default: " + Defaults.DROPOUT_CONVNET + " for convnet; 0 for none)")
    Double dropout;

    @Option(names = "--shift", paramLabel = "N", description = "augmentation: move each training image by a random offset of up"
            + " to N pixels along each axis, drawn anew each epoch (default: " + Defaults.SHIFT_CONVNET + " for convnet, 0 otherwise)")
    Integer shift;

    @Option(names = "--epochs", paramLabel = "N",
            description = "passes over the training set; with --resume the run's total (default: " + Defaults.EPOCHS_CONVNET
                    + " for convnet, " + Defaults.EPOCHS + " otherwise)")
    Integer epochs;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + Defaults.BATCH_SIZE,
            description = "samples per step (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--lr", paramLabel = "X", description = "learning rate (default: " + Defaults.LR_LOGREG + " for logreg, "
            + Defaults.LR_MLP + " for mlp with sgd; " + Defaults.LR_ADAM + " with adam)")
    Double lr;

    @Option(names = "--optimizer", paramLabel = "sgd|adam",
            description = "optimizer (default: adam for lenet5 and convnet, " + Defaults.OPTIMIZER + " otherwise)")
    OptimizerName optimizer;

    @Option(names = "--momentum", paramLabel = "X", description = "sgd momentum (default: " + Defaults.MOMENTUM_MLP
            + " for mlp, 0 for logreg)")
    Double momentum;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "" + Defaults.WEIGHT_DECAY,
            description = "L2 penalty for sgd, decoupled (AdamW) for adam (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--schedule", paramLabel = "none|step|cosine",
            description = "learning rate over epochs: step divides it by 10 every third of the run, cosine decays it"
                    + " to 0 (default: " + Defaults.SCHEDULE_CONVNET + " for convnet, " + Defaults.SCHEDULE + " otherwise)")
    Schedule schedule;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + Defaults.SEED,
            description = "seed for initialisation, the validation split and shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--val-fraction", paramLabel = "X", defaultValue = "" + Defaults.VAL_FRACTION,
            description = "share of the training images held out to validate on after each epoch, which picks"
                    + " best.safetensors; 0 for no validation and no best (default: ${DEFAULT-VALUE})")
    double valFraction;

    @Mixin
    CommonOptions.DataOption data;

    @Option(names = "--output", paramLabel = "DIR", description = "run folder, new or empty (default: a new folder "
            + Defaults.RUNS_DIR + "/<model>-<date>-<time>)")
    Path output;

    @Option(names = "--force", description = "write into a --output folder that is not empty, replacing an earlier run's files")
    boolean force;

    @Option(names = "--nproc", paramLabel = "N", description = "train data-parallel in N processes on this machine: starts"
            + " Open MPI's mpirun, which runs this command in each with --distributed; each global batch of --batch-size is"
            + " split between them and the result is that of one process (needs Open MPI: apt-get install openmpi-bin)")
    Integer nproc;

    @Option(names = "--distributed", description = "this process is one rank of a data-parallel run started by mpirun"
            + " (mpirun -np N --hostfile H ./wengert train --distributed ...): rank 0 writes the run folder")
    boolean distributed;

    @Option(names = "--collective-timeout", paramLabel = "S", defaultValue = "300",
            description = "with --distributed: how many seconds a rank waits for the others in an all-reduce before it stops with an"
                    + " error (a rank died or hangs) (default: ${DEFAULT-VALUE})")
    int collectiveTimeout;

    @Option(names = "--cuda-graphs", description = "on a CUDA device, capture the training step as a CUDA graph after two"
            + " steps and replay it for every full batch (one launch per step; the same results bit for bit); says why"
            + " when a step cannot be captured and runs it eagerly")
    boolean cudaGraphs;

    /** With --distributed: the ranks; null for one process. */
    private Communicator comm;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in folder DIR where its last epoch ended,"
            + " with its options (those given must agree; --epochs is the total), appending to its metrics")
    Path resume;

    /**
     * The options after validation, with every default filled in.
     *
     * @param scheduleEpochs the epochs the learning-rate schedule spans: --epochs of the run's first command line
     * @param resume the run folder to continue, or null for a new run
     */
    record Settings(String model, int[] hidden, String device, int epochs, int batchSize, double lr, String optimizer,
            double momentum, double weightDecay, String schedule, long seed, double valFraction, Path data, Path output,
            boolean force, Path resume, int scheduleEpochs, boolean batchNorm, double dropout, int shift) {
    }

    /** The settings of a new run (see {@link #settings(Resume)}). */
    Settings settings() {
        return settings(null);
    }

    /**
     * Validates the options (a usage error, exit code 2, for anything wrong) and fills in the defaults; for a
     * resumed run ({@code prior} not null) the options not given are the run's, and those given must agree with
     * the run's.
     */
    Settings settings(Resume prior) {
        if (prior != null) {
            takeTheRunsOptions(prior.options);
        }
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
        boolean convnet = model == Model.convnet;
        if (!convnet && batchNorm != null && batchNorm) {
            throw usage("--batch-norm applies to --model convnet only");
        }
        if (!convnet && dropout != null && dropout != 0) {
            throw usage("--dropout applies to --model convnet only");
        }
        boolean bn = convnet && (batchNorm == null ? Defaults.BATCH_NORM_CONVNET : batchNorm);
        double drop = !convnet ? 0 : dropout == null ? Defaults.DROPOUT_CONVNET : dropout;
        if (!(drop >= 0 && drop < 1)) {
            throw usage("--dropout must be at least 0 and below 1, got " + CommonOptions.Checks.plain(drop));
        }
        int shiftBy = shift == null ? Defaults.shift(m) : shift;
        CommonOptions.Checks.intIn(spec, "--shift", shiftBy, 0, Defaults.MAX_SHIFT);
        if (epochs == null) {
            epochs = Defaults.epochs(m);
        }
        if (optimizer == null) {
            optimizer = OptimizerName.valueOf(Defaults.optimizer(m));
        }
        if (schedule == null) {
            schedule = Schedule.valueOf(Defaults.schedule(m));
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
        if (!(valFraction >= 0 && valFraction <= Defaults.MAX_VAL_FRACTION)) {
            throw usage("--val-fraction must be between 0 and " + Defaults.MAX_VAL_FRACTION + " (0 for no validation), got "
                    + CommonOptions.Checks.plain(valFraction));
        }
        if (force && output == null) {
            throw usage("--force applies to --output only (without --output every run gets a new folder)");
        }
        if (resume != null && output != null) {
            throw usage("--resume continues the run in its own folder; leave out --output");
        }
        Settings s = new Settings(m, sizes, dev, epochs, batchSize, rate, opt, mom, weightDecay, schedule.name(), seed, valFraction,
                data.data, output, force, resume, prior == null ? epochs : prior.scheduleEpochs(), bn, drop, shiftBy);
        if (prior != null) {
            List<String> why = prior.contradictions(s, given("--epochs"));
            if (!why.isEmpty()) {
                throw usage("cannot resume: " + String.join("; ", why));
            }
        }
        return s;
    }

    private boolean given(String option) {
        ParseResult pr = spec.commandLine().getParseResult();
        return pr != null && pr.hasMatchedOption(option);
    }

    /**
     * For --resume: sets every option that the command line does not give to the run's value, so that the checks
     * and defaults above see the run's options and {@link Resume#contradictions} finds only those given.
     */
    private void takeTheRunsOptions(Map<String, String> run) {
        try {
            if (!given("--model")) {
                model = Model.valueOf(run.get("model"));
            }
            if (!given("--hidden")) {
                hidden = model == Model.mlp && !run.get("hidden").isEmpty() ? run.get("hidden") : null;
            }
            if (!given("--optimizer")) {
                optimizer = OptimizerName.valueOf(run.get("optimizer"));
            }
            if (!given("--lr")) {
                lr = Double.valueOf(run.get("lr"));
            }
            if (!given("--momentum")) {
                momentum = optimizer == OptimizerName.sgd ? Double.valueOf(run.get("momentum")) : null;
            }
            if (!given("--weight-decay")) {
                weightDecay = Double.parseDouble(run.get("weight_decay"));
            }
            if (!given("--schedule")) {
                schedule = Schedule.valueOf(run.get("schedule"));
            }
            if (!given("--batch-size")) {
                batchSize = Integer.parseInt(run.get("batch_size"));
            }
            if (!given("--seed")) {
                seed = Long.parseLong(run.get("seed"));
            }
            if (!given("--val-fraction")) {
                valFraction = Double.parseDouble(run.get("val_fraction"));
            }
            if (!given("--epochs")) {
                epochs = Integer.parseInt(run.get("epochs"));
            }
            if (!given("--data")) {
                data.data = run.get("data").isEmpty() ? null : Path.of(run.get("data"));
            }
            // runs of versions before the convolutional networks lack these: they had none of them
            if (!given("--batch-norm") && !given("--no-batch-norm")) {
                batchNorm = Boolean.parseBoolean(run.getOrDefault("batch_norm", "false"));
            }
            if (!given("--dropout")) {
                dropout = Double.valueOf(run.getOrDefault("dropout", "0"));
            }
            if (!given("--shift")) {
                shift = Integer.valueOf(run.getOrDefault("shift", "0"));
            }
        } catch (IllegalArgumentException e) {
            throw usage("cannot resume from " + resume.resolve(RunCheckpoints.LAST) + ": its options are not this version's: "
                    + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws Exception {
        if (nproc != null) {
            return launch();
        }
        if (!distributed) {
            return single();
        }
        if (!MpiCommunicator.launchedByMpirun()) {
            throw usage("--distributed is for the processes mpirun starts; on one machine use --nproc N instead");
        }
        CommonOptions.Checks.intIn(spec, "--collective-timeout", collectiveTimeout, 1, 86_400);
        try (MpiCommunicator c = MpiCommunicator.init(Duration.ofSeconds(collectiveTimeout))) {
            comm = c;
            return single();
        } catch (dev.wengert.distributed.CollectiveTimeoutException e) {
            parent.context().err().println("wengert train: " + e.getMessage());
            // a collective cannot be cancelled: leave without MPI_Finalize; mpirun then ends the other ranks
            parent.context().err().flush();
            Runtime.getRuntime().halt(Main.FAILED);
            return Main.FAILED;
        }
    }

    /**
     * --nproc N: runs {@code mpirun -np N java ... train <these options> --distributed} on this machine, the
     * OpenMP threads of the cores divided between the ranks, and returns its exit code.
     */
    private int launch() throws IOException, InterruptedException {
        CommonOptions.Checks.intIn(spec, "--nproc", nproc, 1, Defaults.MAX_NPROC);
        if (distributed) {
            throw usage("--nproc starts the --distributed processes itself; give one of the two");
        }
        Path mpirun = MpiRun.mpirun();
        if (mpirun == null) {
            throw usage("--nproc needs Open MPI's mpirun, which is not on the PATH: " + MpiRun.installHint()
                    + ", or leave out --nproc to train in this process");
        }
        List<String> program = new ArrayList<>(MpiRun.thisJava());
        program.add(Main.class.getName());
        List<String> words = parent.context().commandLine();
        for (int i = 1; i < words.size(); i++) {
            String w = words.get(i);
            if (w.equals("--nproc")) {
                i++;
            } else if (!w.startsWith("--nproc=")) {
                program.add(w);
            }
        }
        program.add("--distributed");
        ProcessBuilder pb = new ProcessBuilder(MpiRun.command(mpirun, nproc, program)).inheritIO();
        MpiRun.environment(pb.environment(), nproc);
        parent.context().out().println("wengert: starting " + Text.count(nproc, "process") + " with " + mpirun + " (OMP_NUM_THREADS="
                + pb.environment().get("OMP_NUM_THREADS") + " each)");
        parent.context().out().flush();
        Process p = pb.start();
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            p.destroy();
            throw e;
        }
    }

    private Integer single() throws Exception {
        Resume prior = null;
        if (resume != null) {
            if (output != null) {
                throw usage("--resume continues the run in its own folder; leave out --output");
            }
            if (force) {
                throw usage("--force applies to --output only (without --output every run gets a new folder)");
            }
            try {
                prior = Resume.open(resume);
            } catch (RunFolder.Refused r) {
                throw usage(r.getMessage());
            }
        }
        Settings o = settings(prior);
        Main.Context ctx = parent.context();
        // from here on SIGINT/SIGTERM only ask to stop: at the latest after the current step, with metrics.json saying so
        try (StopRequest.Installed signals = ctx.osSignals() ? ctx.stop().installSignalHandlers(ctx.err()) : () -> { }) {
            return train(o, prior, ctx);
        }
    }

    /** The model the settings describe, for {@code inputs} features (28 x 28 for MNIST). */
    static ModelSpec modelSpec(Settings o, int inputs) {
        return switch (o.model()) {
            case ModelSpec.MLP -> ModelSpec.mlp(inputs, o.hidden(), 10);
            case ModelSpec.LENET5 -> ModelSpec.lenet5(inputs, 10);
            case ModelSpec.CONVNET -> ModelSpec.convnet(inputs, 10, o.batchNorm(), o.dropout());
            default -> ModelSpec.logreg(inputs, 10);
        };
    }

    /** The data a run trains, validates and tests on, as loaders on the run's device. */
    private record Loaders(BatchLoader train, BatchLoader validation, BatchLoader test, TrainingCheckpoint.DataSpec spec) {
    }

    private int train(Settings o, Resume prior, Main.Context ctx) throws Exception {
        boolean root = comm == null || comm.isRoot();
        PrintStream out = root ? ctx.out() : new PrintStream(java.io.OutputStream.nullOutputStream());
        if (root && prior == null && o.output() != null) {
            try {
                RunFolder.check(o.output(), o.force());
            } catch (RunFolder.Refused r) {
                throw usage(r.getMessage());
            }
        }
        if (root && prior != null) {
            try {
                RunFolder.checkWritable(prior.dir);
            } catch (IOException e) {
                throw new IOException(IoErrors.describe("cannot write into --resume " + prior.dir, e), e);
            }
        }
        DeviceChoice dc = DeviceChoice.choose(o.device());
        out.println("device: " + dc.reason());
        DataFiles files = DataFiles.of(o.data());
        MnistData mnist = o.data() == null ? MnistData.embedded() : MnistData.load(o.data());
        Map<String, String> sha256 = files.sha256();
        out.println("data: " + files.source() + " (" + Text.count(mnist.train().count(), "training image") + ", "
                + Text.count(mnist.test().count(), "test image") + ")");
        MnistData.HoldOut parts;
        try {
            parts = mnist.train().holdOut(o.valFraction(), o.seed());
        } catch (IllegalArgumentException e) {
            throw usage("--val-fraction " + CommonOptions.Checks.plain(o.valFraction()) + ": " + e.getMessage());
        }
        int validating = parts.validation().count();
        out.println(validating == 0 ? "validation: none (--val-fraction 0): no best.safetensors; training on "
                + Text.count(parts.train().count(), "image")
                : "validation: " + Text.count(validating, "training image") + " held out (--val-fraction "
                + CommonOptions.Checks.plain(o.valFraction()) + "), training on " + Text.count(parts.train().count(), "image"));

        int inputs = mnist.train().rows() * mnist.train().cols();
        ModelSpec spec;
        try {
            spec = modelSpec(o, inputs);
        } catch (IllegalArgumentException e) {
            throw usage("--model " + o.model() + " on " + files.source() + ": " + e.getMessage());
        }
        BatchLoader train = BatchLoader.of(parts.train(), o.batchSize(), true, o.seed(), dc.device());
        if (o.shift() > 0) {
            try {
                train = train.withShifts(new RandomShift(mnist.train().rows(), mnist.train().cols(), o.shift()));
            } catch (IllegalArgumentException e) {
                throw usage("--shift " + o.shift() + ": " + e.getMessage());
            }
        }
        BatchLoader val = validating == 0 ? null : BatchLoader.of(parts.validation(), Defaults.EVAL_BATCH_SIZE, false, 0, dc.device());
        BatchLoader test = BatchLoader.of(mnist.test(), Defaults.EVAL_BATCH_SIZE, false, 0, dc.device());
        TrainingCheckpoint.DataSpec dataSpec = TrainingCheckpoint.DataSpec.of(train, val, mnist.train().rows(), mnist.train().cols());
        if (prior != null) {
            try {
                prior.last.requireCompatible(spec, dataSpec);
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }

        if (comm != null) {
            out.println("distributed: " + Text.count(comm.size(), "process") + ", each global batch of " + o.batchSize()
                    + " split between them; rank 0 writes the run folder");
        }
        if (!root) {
            return follow(o, prior, spec, dc, train, val, test, ctx);
        }
        StopRequest.Reason early = ctx.stop().reason();
        if (early != null) {
            out.println(early.word + " by " + early.name() + " before training started; nothing was written");
            return early.exitCode;
        }
        Path dir;
        List<String> replaced = List.of();
        if (prior != null) {
            dir = prior.dir;
        } else if (o.output() == null) {
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

        LrSchedule lrSchedule = schedule(o);
        Sequential net = build(spec, o, dc);
        try (net; Optimizer opt = optimizer(o, net)) {
            int start = 0;
            int csvEpochs = 0;
            if (prior != null) {
                try {
                    prior.last.restore(net, opt);
                    csvEpochs = Resume.trimCsv(dir.resolve(METRICS_CSV), CSV_COLUMNS, prior.finished());
                } catch (IllegalArgumentException e) {
                    throw usage(e.getMessage());
                } catch (RunFolder.Refused r) {
                    throw usage(r.getMessage());
                }
                start = prior.finished();
            }
            out.println("model: " + spec + " (" + String.format(Locale.ROOT, "%,d", net.parameterCount()) + " parameters), "
                    + o.optimizer() + " lr " + o.lr() + (o.momentum() > 0 ? " momentum " + o.momentum() : "")
                    + (o.schedule().equals("none") ? "" : ", " + o.schedule() + " schedule over " + Text.count(o.scheduleEpochs(), "epoch"))
                    + ", batch " + o.batchSize() + ", " + Text.count(o.epochs(), "epoch") + ", seed " + o.seed()
                    + (o.shift() > 0 ? ", random shifts of up to " + Text.count(o.shift(), "pixel") : ""));
            if (prior != null) {
                out.println("resuming after epoch " + start + " of " + o.epochs() + " from " + dir.resolve(RunCheckpoints.LAST));
            }
            Map<String, Object> fixed = fixedRecord(o, spec, net.parameterCount(), dc, files, mnist, parts, sha256, ctx.commandLine());
            RunRecord record;
            if (prior == null) {
                record = new RunRecord(dir.resolve(METRICS_JSON), fixed, o.epochs(), train.batchCount(), Instant.now(), System.nanoTime());
            } else {
                Map<String, Object> session = new LinkedHashMap<>();
                session.put("started", Instant.now().toString());
                session.put("command_line", ctx.commandLine());
                session.put("after_epoch", start);
                session.put("epochs_planned", o.epochs());
                session.put("device", dc.device().toString());
                session.put("device_reason", dc.reason());
                Map<String, Object> source = new LinkedHashMap<>();
                if (fixed.get("data") instanceof Map<?, ?> d) {
                    for (String k : List.of("source", "path", "sha256")) {
                        source.put(k, d.get(k));
                    }
                }
                session.put("data", source);
                session.put("wengert_version", BuildInfo.CURRENT.version());
                StringBuilder problem = new StringBuilder();
                record = RunRecord.resumed(dir.resolve(METRICS_JSON), fixed, o.epochs(), train.batchCount(), Instant.now(),
                        System.nanoTime(), prior.last.progress(), session, problem);
                if (problem.length() > 0) {
                    out.println("warning: " + problem + "; metrics.json starts anew with the checkpoint's epoch " + start);
                }
            }
            record.write();
            RunCheckpoints checkpoints = new RunCheckpoints(dir, net, opt, spec, dataSpec, Resume.metadata(o));
            if (prior != null) {
                checkpoints.resumedFrom(prior.last);
            }
            record.best(checkpoints.bestEpoch(), checkpoints.bestValAccuracy());
            return run(o, dir, spec, dc, net, opt, lrSchedule, new Loaders(train, val, test, dataSpec), start, csvEpochs, checkpoints,
                    record, ctx);
        }
    }

    private int run(Settings o, Path dir, ModelSpec spec, DeviceChoice dc, Sequential net, Optimizer opt, LrSchedule lrSchedule,
            Loaders data, int start, int csvEpochs, RunCheckpoints checkpoints, RunRecord record, Main.Context ctx) throws IOException {
        PrintStream out = ctx.out();
        ConsoleListener console = new ConsoleListener(out, o.epochs());
        PlotWriter plot = new PlotWriter(dir.resolve(PLOT), spec + " on " + dc.device(), out);
        StopRequest stop = ctx.stop();
        boolean validation = data.validation() != null;
        try (MetricsCsv csv = MetricsCsv.open(dir.resolve(METRICS_CSV), CSV_COLUMNS);
                TensorBoardWriter board = new TensorBoardWriter(dir.resolve(TENSORBOARD_DIR))) {
            record.file("metrics_csv", METRICS_CSV);
            record.file("tensorboard", dir.relativize(board.file()).toString());
            List<Trainer.EpochResult> earlier = record.results();
            if (start > 0 && csvEpochs < start && earlier.size() == start) {
                csvRow(csv, earlier.get(start - 1), Double.NaN);     // the run stopped between its checkpoint and its row
            }
            Trainer[] trainer = new Trainer[1];
            DataParallelTrainer[] parallel = new DataParallelTrainer[1];
            Runnable requestStop = () -> {
                if (parallel[0] != null) {
                    parallel[0].requestStop();
                } else {
                    trainer[0].requestStop();
                }
            };
            Trainer.Listener listener = new Trainer.Listener() {
                private long epochStart;

                @Override
                public void epochStart(int epoch, int steps) {
                    if (stop.requested()) {
                        requestStop.run();
                    }
                    epochStart = System.nanoTime();
                    console.epochStart(epoch, steps);
                }

                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    console.step(step, loss, samples, elapsedNanos);
                    stop.onStep();
                    if (stop.requested()) {
                        requestStop.run();
                    }
                }

                @Override
                public void epochEnd(Trainer.EpochResult r) {
                    double wall = (System.nanoTime() - epochStart) / 1e9;
                    try {
                        boolean best = saveEpoch(r, wall, dir, net, spec, o, checkpoints, record, csv, board, plot, validation);
                        console.epochEnd(r, best);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }

                @Override
                public void notice(String message) {
                    console.notice(message);
                }
            };
            trainer[0] = new Trainer(net, opt, lrSchedule, listener).cudaGraphs(cudaGraphs);
            if (cudaGraphs && comm != null) {
                out.println("CUDA graphs: off, the steps run eagerly: a data-parallel step all-reduces its gradients on the host");
            }
            if (comm != null) {
                parallel[0] = new DataParallelTrainer(comm, net, opt, lrSchedule, listener, DataParallelTrainer.DEFAULT_BUCKET_BYTES);
                parallel[0].broadcastParameters();
            }
            Trainer.Evaluation test;
            try {
                Trainer.FitResult fit = parallel[0] != null ? parallel[0].fit(data.train(), data.validation(), start, o.epochs())
                        : trainer[0].fit(data.train(), data.validation(), start, o.epochs());
                if (fit.interrupted()) {
                    console.abandon();
                    StopRequest.Reason why = stop.reason();
                    record.finish(RunRecord.Status.INTERRUPTED, why.name(), null);
                    record.write();
                    int done = record.results().size();
                    out.println(why.word + " by " + why.name() + " after " + Text.count(done, "epoch") + "; wrote "
                            + written(dir, record, plot, checkpoints));
                    if (Files.isRegularFile(checkpoints.last())) {
                        out.println("continue with: wengert train --resume " + dir);
                    }
                    return why.exitCode;
                }
                test = comm != null ? DataParallelTrainer.evaluate(comm, net, data.test()) : Trainer.evaluate(net, data.test());
                int last = fit.epochsFinished();
                board.addScalar("test/loss", last, test.loss());
                board.addScalar("test/accuracy", last, test.accuracy());
                board.flush();
            } catch (TrainingDivergedException d) {
                console.abandon();
                record.diverged(d);
                ctx.err().println("wengert train: " + d.getMessage());
                try {
                    record.write();
                    ctx.err().println("wengert train: kept " + Text.count(record.results().size(), "finished epoch") + " in " + dir);
                } catch (IOException again) {
                    ctx.err().println("wengert train: could not record the divergence in " + dir.resolve(METRICS_JSON) + ": "
                            + Main.ioMessage(again));
                }
                return Main.FAILED;
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
            record.test(test);
            record.finish(RunRecord.Status.FINISHED, null, null);
            record.write();
            List<Trainer.EpochResult> results = record.results();
            out.printf(Locale.ROOT, "final test accuracy %s (test loss %.4f, %s) after %s in %.1f s%n", Text.percent(test.accuracy()),
                    test.loss(), Text.count(test.samples(), "image"), Text.count(results.size(), "epoch"), record.totalSeconds());
            if (checkpoints.bestEpoch() > 0) {
                out.println("best validation accuracy " + Text.percent(checkpoints.bestValAccuracy()) + " at epoch "
                        + checkpoints.bestEpoch() + ": " + checkpoints.best());
            }
            out.println("wrote " + written(dir, record, plot, checkpoints));
            return Main.OK;
        }
    }

    /** The learning-rate schedule of the settings: step (x0.1 at each third of the schedule's epochs), cosine or constant. */
    private static LrSchedule schedule(Settings o) {
        return switch (o.schedule()) {
            case "step" -> LrSchedule.step(o.lr(), Math.max(1, o.scheduleEpochs() / 3), 0.1);
            case "cosine" -> LrSchedule.cosine(o.lr(), o.scheduleEpochs(), 0);
            default -> LrSchedule.constant(o.lr());
        };
    }

    /** The optimizer of the settings over {@code net}'s parameters: AdamW-style Adam or SGD with momentum. */
    private static Optimizer optimizer(Settings o, Sequential net) {
        return o.optimizer().equals("adam")
                ? new Adam(net.parameters(), o.lr(), 0.9, 0.999, 1e-8, o.weightDecay(), true)
                : new Sgd(net.parameters(), o.lr(), o.momentum(), false, o.weightDecay());
    }

    /** The run's model on its device, from the seed: its parameters kept, nothing else of the build left open. */
    private static Sequential build(ModelSpec spec, Settings o, DeviceChoice dc) {
        try (Scope s = Scope.open()) {
            return spec.build(o.seed(), DType.FLOAT32, dc.device());
        }
    }

    /**
     * A rank other than 0 of a --distributed run: the same model, data and steps as rank 0 (the same options, the
     * same checkpoint when resuming, then rank 0's parameters broadcast), taking its share of every batch and of
     * every evaluation, writing nothing. Returns rank 0's exit code for the same ending.
     */
    private int follow(Settings o, Resume prior, ModelSpec spec, DeviceChoice dc, BatchLoader train, BatchLoader val, BatchLoader test,
            Main.Context ctx) {
        LrSchedule lrSchedule = schedule(o);
        Sequential net = build(spec, o, dc);
        try (net; Optimizer opt = optimizer(o, net)) {
            int start = 0;
            if (prior != null) {
                prior.last.restore(net, opt);
                start = prior.finished();
            }
            StopRequest stop = ctx.stop();
            DataParallelTrainer[] t = new DataParallelTrainer[1];
            Trainer.Listener listener = new Trainer.Listener() {
                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    if (stop.requested()) {
                        t[0].requestStop();
                    }
                }
            };
            t[0] = new DataParallelTrainer(comm, net, opt, lrSchedule, listener, DataParallelTrainer.DEFAULT_BUCKET_BYTES);
            t[0].broadcastParameters();
            Trainer.FitResult fit;
            try {
                fit = t[0].fit(train, val, start, o.epochs());
            } catch (TrainingDivergedException d) {
                return Main.FAILED;
            }
            if (fit.interrupted()) {
                StopRequest.Reason why = stop.reason();
                return why == null ? Main.FAILED : why.exitCode;
            }
            DataParallelTrainer.evaluate(comm, net, test);
            return Main.OK;
        }
    }

    /**
     * After an epoch, each file written whole, the checkpoints first (so that metrics never name an epoch that no
     * checkpoint holds): model.safetensors, last.safetensors and best.safetensors, metrics.json, a metrics.csv row,
     * TensorBoard scalars, the plot. Returns whether the epoch is the best so far.
     */
    private static boolean saveEpoch(Trainer.EpochResult r, double wall, Path dir, Sequential net, ModelSpec spec, Settings o,
            RunCheckpoints checkpoints, RunRecord record, MetricsCsv csv, TensorBoardWriter board, PlotWriter plot,
            boolean validation) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("val_accuracy", Double.toString(r.valAccuracy()));
        meta.put("val_loss", Double.toString(r.valLoss()));
        meta.put("epochs", Integer.toString(o.epochs()));
        meta.put("epochs_completed", Integer.toString(r.epoch()));
        meta.put("optimizer", o.optimizer());
        meta.put("seed", Long.toString(o.seed()));
        meta.put("wengert_version", BuildInfo.CURRENT.version());
        Checkpoint.save(dir.resolve(CHECKPOINT), net, spec, meta);
        boolean best = checkpoints.epochFinished(r);
        record.file("checkpoint", CHECKPOINT);
        record.file("last", RunCheckpoints.LAST);
        if (checkpoints.bestEpoch() > 0) {
            record.file("best", RunCheckpoints.BEST);
        }
        record.best(checkpoints.bestEpoch(), checkpoints.bestValAccuracy());
        record.addEpoch(r, wall);
        record.write();
        csvRow(csv, r, wall);
        board.addScalar("train/loss", r.epoch(), r.trainLoss());
        if (validation) {
            board.addScalar("val/loss", r.epoch(), r.valLoss());
            board.addScalar("val/accuracy", r.epoch(), r.valAccuracy());
        }
        board.addScalar("train/lr", r.epoch(), r.lr());
        board.addScalar("train/samples_per_second", r.epoch(), r.samplesPerSecond());
        board.addScalar("time/epoch_seconds", r.epoch(), wall);
        board.flush();
        if (plot.draw(record.results(), validation)) {
            record.file("plot", PLOT);
            record.write();
        }
        return best;
    }

    /** One metrics.csv row; NaN (no validation, no time) as an empty field. */
    private static void csvRow(MetricsCsv csv, Trainer.EpochResult r, double wall) throws IOException {
        csv.writeRow(r.epoch(), r.trainLoss(), orNull(r.valLoss()), orNull(r.valAccuracy()), r.lr(), orNull(r.trainSeconds()),
                orNull(r.evalSeconds()), orNull(wall), orNull(r.samplesPerSecond()));
    }

    private static Double orNull(double x) {
        return Double.isNaN(x) ? null : x;
    }

    /**
     * "runs/x/model.safetensors, last.safetensors, best.safetensors, metrics.json, metrics.csv, training.png,
     * tensorboard/": what holds the run.
     */
    private static String written(Path dir, RunRecord record, PlotWriter plot, RunCheckpoints checkpoints) {
        List<String> names = new ArrayList<>();
        boolean any = !record.results().isEmpty();
        if (any) {
            names.add(CHECKPOINT);
            names.add(RunCheckpoints.LAST);
            if (checkpoints.bestEpoch() > 0) {
                names.add(RunCheckpoints.BEST);
            }
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
            MnistData mnist, MnistData.HoldOut parts, Map<String, String> sha256, List<String> commandLine) {
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
        data.put("trained_on", parts.train().count());
        data.put("validated_on", parts.validation().count());
        Map<String, String> perFile = new LinkedHashMap<>(sha256);
        data.put("sha256", perFile.remove("all"));
        data.put("sha256_files", perFile);
        m.put("data", data);
        m.put("seed", o.seed());
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("model", o.model());
        opts.put("hidden", o.hidden());
        opts.put("batch_norm", o.batchNorm());
        opts.put("dropout", o.dropout());
        opts.put("shift", o.shift());
        opts.put("optimizer", o.optimizer());
        opts.put("lr", o.lr());
        opts.put("momentum", o.momentum());
        opts.put("weight_decay", o.weightDecay());
        opts.put("schedule", o.schedule());
        opts.put("batch_size", o.batchSize());
        opts.put("epochs", o.epochs());
        opts.put("seed", o.seed());
        opts.put("val_fraction", o.valFraction());
        opts.put("device", o.device());
        opts.put("output", o.output() == null ? null : o.output().toString());
        opts.put("force", o.force());
        m.put("options", opts);
        return m;
    }
}
