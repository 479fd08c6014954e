package dev.wengert.models.cli;

import dev.wengert.models.zoo.ModelSpec;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;

/**
 * The options of {@code wengert train}, with per-model defaults that reach the documented accuracy on the
 * bundled data (logreg: SGD lr 0.5, batch 64, 10 epochs; mlp: see {@link #USAGE}).
 */
public record TrainOptions(String model, int[] hidden, String device, int epochs, int batchSize, double lr, String optimizer,
        double momentum, double weightDecay, String schedule, long seed, Path data, Path output) {

    static final Set<String> NAMES = Set.of("model", "hidden", "device", "epochs", "batch-size", "lr", "optimizer",
            "momentum", "weight-decay", "schedule", "seed", "data", "output");

    /** MLP defaults. */
    public static final String MLP_HIDDEN = "512,256";
    public static final int MLP_EPOCHS = 10;
    public static final int MLP_BATCH = 64;
    public static final double MLP_LR = 0.05;
    public static final double MLP_MOMENTUM = 0.9;

    public static final String USAGE = """
            usage: wengert train [options]

            Trains a classifier on MNIST and writes model.safetensors, metrics.json and training.png.

              --model logreg|mlp       model to train (default logreg)
              --hidden N,N,...         mlp hidden sizes (default %s)
              --device auto|cpu|cuda   where to compute (default auto: CUDA when usable, else cpu)
              --epochs N               passes over the training set (default 10 for logreg, %d for mlp)
              --batch-size N           samples per step (default 64 for logreg, %d for mlp)
              --lr X                   learning rate (default 0.5 for logreg sgd, %s for mlp sgd, 0.001 for adam)
              --optimizer sgd|adam     optimizer (default sgd)
              --momentum X             sgd momentum (default 0 for logreg, %s for mlp)
              --weight-decay X         L2 penalty for sgd, decoupled (AdamW) for adam (default 0)
              --schedule none|step|cosine  learning-rate schedule over epochs (default none)
              --seed N                 seed for initialisation and shuffling (default 42)
              --data DIR               folder with the four MNIST IDX files (default: the bundled 8,000/2,000 subset)
              --output DIR             output folder (default runs/<model>-<yyyyMMdd-HHmmss>)
              -h, --help               show this help
            """.formatted(MLP_HIDDEN, MLP_EPOCHS, MLP_BATCH, MLP_LR, MLP_MOMENTUM);

    /** Parses {@code wengert train}'s arguments (after the word train); null when help was asked for. */
    public static TrainOptions parse(String[] args) throws UsageException {
        Options o = Options.parse(args, NAMES);
        if (o.help()) {
            return null;
        }
        String model = o.choice("model", "logreg", ModelSpec.LOGREG, ModelSpec.MLP);
        boolean mlp = model.equals(ModelSpec.MLP);
        int[] hidden = new int[0];
        if (mlp) {
            try {
                hidden = ModelSpec.parseSizes(o.string("hidden", MLP_HIDDEN));
            } catch (NumberFormatException e) {
                throw new UsageException("--hidden must be sizes separated by commas, e.g. 512,256; got '" + o.string("hidden", "") + "'");
            }
            for (int h : hidden) {
                if (h <= 0 || h > 1 << 16) {
                    throw new UsageException("--hidden sizes must be between 1 and 65536, got " + h);
                }
            }
        } else if (o.has("hidden")) {
            throw new UsageException("--hidden applies to --model mlp only");
        }
        String device = o.string("device", "auto").toLowerCase(java.util.Locale.ROOT);
        if (!device.equals("auto") && !device.equals("cpu") && !device.matches("cuda(:\\d+)?")) {
            throw new UsageException("--device must be auto, cpu, cuda or cuda:N, got '" + device + "'");
        }
        String optimizer = o.choice("optimizer", "sgd", "sgd", "adam");
        double defaultLr = optimizer.equals("adam") ? 0.001 : mlp ? MLP_LR : 0.5;
        int epochs = o.integer("epochs", mlp ? MLP_EPOCHS : 10, 1, 100_000);
        int batch = o.integer("batch-size", mlp ? MLP_BATCH : 64, 1, 1 << 20);
        double lr = o.number("lr", defaultLr, 0, 1e6);
        if (lr == 0) {
            throw new UsageException("--lr must be > 0");
        }
        double momentum = o.number("momentum", mlp && optimizer.equals("sgd") ? MLP_MOMENTUM : 0, 0, 0.9999);
        if (optimizer.equals("adam") && o.has("momentum")) {
            throw new UsageException("--momentum applies to --optimizer sgd only");
        }
        double wd = o.number("weight-decay", 0, 0, 1e3);
        String schedule = o.choice("schedule", "none", "none", "step", "cosine");
        long seed = o.longValue("seed", 42);
        Path data = o.has("data") ? Path.of(o.string("data", "")) : null;
        Path output = o.has("output") ? Path.of(o.string("output", ""))
                : Path.of("runs", model + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new TrainOptions(model, hidden, device, epochs, batch, lr, optimizer, momentum, wd, schedule, seed, data, output);
    }
}
