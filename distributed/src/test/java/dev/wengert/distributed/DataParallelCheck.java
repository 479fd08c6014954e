package dev.wengert.distributed;

import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The program {@link DataParallelEquivalenceTest} runs under mpirun: trains each {@link Scenario} with
 * {@link DataParallelTrainer} and, on rank 0, writes every parameter after every step to {@code <dir>/<name>.bin}
 * (float64, big-endian). Arguments: the output folder, the collective timeout in seconds, then scenario names,
 * or {@code die@K} (rank 1 halts at its K-th step) or {@code hang@K} (rank 1 stops calling collectives at its
 * K-th step).
 */
public final class DataParallelCheck {

    /** A small training problem: synthetic data, a zoo model, an optimizer; two epochs. */
    record Scenario(String name, String model, DType dtype, int count, int batch, boolean adam) {
        static Scenario named(String name) {
            return switch (name) {
                // batch 8: even shares, last batch 5 (odd); batch 7: odd shares, last batch 1 (rank 1's share empty)
                case "logreg64" -> new Scenario(name, "logreg", DType.FLOAT64, 45, 8, false);
                case "logreg64odd" -> new Scenario(name, "logreg", DType.FLOAT64, 43, 7, false);
                case "mlp64" -> new Scenario(name, "mlp", DType.FLOAT64, 45, 8, true);
                case "mlp64odd" -> new Scenario(name, "mlp", DType.FLOAT64, 43, 7, false);
                case "logreg32" -> new Scenario(name, "logreg", DType.FLOAT32, 45, 8, false);
                case "mlp32odd" -> new Scenario(name, "mlp", DType.FLOAT32, 43, 7, true);
                default -> throw new IllegalArgumentException("unknown scenario " + name);
            };
        }

        static final int WIDTH = 20;
        static final int CLASSES = 10;
        static final int EPOCHS = 2;
        static final long SEED = 11;

        BatchLoader loader() {
            SplittableRandom r = new SplittableRandom(5);
            float[] x = new float[count * WIDTH];
            long[] y = new long[count];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextDouble(-1, 1);
            }
            for (int i = 0; i < count; i++) {
                y[i] = r.nextInt(CLASSES);
            }
            return new BatchLoader(x, y, WIDTH, batch, true, SEED, Device.CPU);
        }

        Sequential build() {
            try (Scope s = Scope.open()) {
                ModelSpec spec = model.equals("mlp") ? ModelSpec.mlp(WIDTH, new int[] {16, 12}, CLASSES) : ModelSpec.logreg(WIDTH, CLASSES);
                return spec.build(SEED, dtype, Device.CPU);
            }
        }

        Optimizer optimizer(Sequential net) {
            return adam ? new Adam(net.parameters(), 0.01, 0.9, 0.999, 1e-8, 0.01, true)
                    : new Sgd(net.parameters(), 0.1, 0.9, false, 1e-3);
        }
    }

    /** All parameters, flattened in order, as float64. */
    static double[] flat(Sequential net) {
        int n = 0;
        for (Var p : net.parameters()) {
            n += p.value().numel();
        }
        double[] out = new double[n];
        int at = 0;
        for (Var p : net.parameters()) {
            double[] v = p.value().toDoubleArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Duration timeout = Duration.ofSeconds(Long.parseLong(args[1]));
        int code = 0;
        try (MpiCommunicator comm = MpiCommunicator.init(timeout)) {
            for (int a = 2; a < args.length; a++) {
                String name = args[a];
                if (name.startsWith("die@") || name.startsWith("hang@")) {
                    failing(comm, name);
                } else {
                    run(comm, Scenario.named(name), dir);
                }
            }
            System.out.println("rank " + comm.rank() + ": finished");
        } catch (CollectiveTimeoutException e) {
            System.err.println("wengert: " + e.getMessage());
            code = 1;
        }
        System.exit(code);
    }

    private static void run(Communicator comm, Scenario s, Path dir) throws IOException {
        BatchLoader loader = s.loader();
        try (Sequential net = s.build(); Optimizer opt = s.optimizer(net);
                DataOutputStream out = comm.isRoot() ? new DataOutputStream(Files.newOutputStream(dir.resolve(s.name() + ".bin"))) : null) {
            if (comm.rank() > 0) {
                // a different start on the other ranks: the broadcast must replace it
                for (Var p : net.parameters()) {
                    p.value().applyInPlace(dev.wengert.tensor.BinaryOp.ADD, 1.0);
                }
            }
            DataParallelTrainer t = new DataParallelTrainer(comm, net, opt, null, null, 256);
            t.broadcastParameters();
            for (int e = 0; e < Scenario.EPOCHS; e++) {
                BatchLoader.Epoch epoch = loader.epoch(e);
                for (int i = 0; i < epoch.batches(); i++) {
                    t.step(epoch, i);
                    if (out != null) {
                        for (double v : flat(net)) {
                            out.writeDouble(v);
                        }
                    }
                }
            }
        }
    }

    private static void failing(Communicator comm, String how) {
        int at = Integer.parseInt(how.substring(how.indexOf('@') + 1));
        Scenario s = Scenario.named("logreg32");
        BatchLoader loader = s.loader();
        try (Sequential net = s.build(); Optimizer opt = s.optimizer(net)) {
            DataParallelTrainer t = new DataParallelTrainer(comm, net, opt, null, null, 256);
            t.broadcastParameters();
            BatchLoader.Epoch epoch = loader.epoch(0);
            for (int i = 0; i < epoch.batches(); i++) {
                if (comm.rank() == 1 && i == at) {
                    if (how.startsWith("die@")) {
                        System.err.println("rank 1: dying at step " + at);
                        Runtime.getRuntime().halt(3);
                    }
                    System.err.println("rank 1: hanging at step " + at);
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                t.step(epoch, i);
            }
        }
    }
}
