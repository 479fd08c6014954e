package dev.wengert.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.loss.Losses;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.train.Trainer;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes under mpirun against one: {@link DataParallelCheck} trains each scenario with 2 ranks and writes
 * the parameters after every step; here one process trains the same scenario on whole batches (float32 with
 * {@link Trainer#step}, float64 with the same forward, loss, backward and update) and every step must agree.
 *
 * <p>Tolerances: float64 1e-12 absolute. float32 2e-6 absolute: the two runs sum each batch's gradient in a
 * different order (two shares of at most 4 rows, each scaled by its share, then added), which changes a
 * gradient entry by a few float32 ulps (about 1e-7 relative); with learning rates 0.1 (SGD, momentum 0.9) and
 * 0.01 (Adam) on parameters below 1, over at most 14 steps, the parameters drift by well under 1e-6 (measured:
 * the largest float32 difference is printed), while a wrong share, weight or missing all-reduce moves them by
 * 1e-3 or more.
 *
 * <p>Skipped, saying why, where mpirun is not installed. Every launch has a deadline.
 */
class DataParallelEquivalenceTest {
    static final List<String> SCENARIOS = List.of("logreg64", "logreg64odd", "mlp64", "mlp64odd", "logreg32", "mlp32odd");

    @TempDir
    Path dir;

    @BeforeAll
    static void needsMpirun() {
        assumeTrue(MpiRun.mpirun() != null, "mpirun is not on the PATH: the 2-process tests need Open MPI ("
                + MpiRun.installHint() + ")");
    }

    /** Runs DataParallelCheck with 2 ranks; returns {exit code, output}, or fails after {@code deadlineSeconds}. */
    static Object[] launch(Path dir, long deadlineSeconds, List<String> args) throws IOException, InterruptedException {
        List<String> program = new ArrayList<>(MpiRun.thisJava());
        program.add(DataParallelCheck.class.getName());
        program.add(dir.toString());
        program.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(MpiRun.command(MpiRun.mpirun(), 2, program)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.txt").toFile());
        MpiRun.environment(pb.environment(), 2);
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(deadlineSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("mpirun did not finish within " + deadlineSeconds + " s; output:\n"
                    + Files.readString(dir.resolve("output.txt"), StandardCharsets.UTF_8));
        }
        String out = Files.readString(dir.resolve("output.txt"), StandardCharsets.UTF_8);
        System.out.printf("mpirun %s: exit %d after %.1f s%n", args, p.exitValue(), (System.nanoTime() - start) / 1e9);
        return new Object[] {p.exitValue(), out};
    }

    @Test
    void twoProcessesTakeTheStepsOfOne() throws Exception {
        List<String> args = new ArrayList<>(List.of("60"));
        args.addAll(SCENARIOS);
        Object[] r = launch(dir, 150, args);
        assertEquals(0, r[0], () -> "mpirun failed:\n" + r[1]);
        for (String name : SCENARIOS) {
            DataParallelCheck.Scenario s = DataParallelCheck.Scenario.named(name);
            double tol = s.dtype() == DType.FLOAT64 ? 1e-12 : 2e-6;
            double worst = compare(s, dir.resolve(name + ".bin"), tol);
            System.out.printf("%s: largest difference from one process %.3g (tolerance %.0e)%n", name, worst, tol);
        }
    }

    /** Steps the one-process reference and compares with each recorded step; returns the largest difference. */
    private static double compare(DataParallelCheck.Scenario s, Path recorded, double tol) throws IOException {
        BatchLoader loader = s.loader();
        double worst = 0;
        try (Sequential net = s.build(); Optimizer opt = s.optimizer(net);
                DataInputStream in = new DataInputStream(Files.newInputStream(recorded))) {
            Trainer trainer = new Trainer(net, opt, null, null);
            double[] before = DataParallelCheck.flat(net);
            int step = 0;
            for (int e = 0; e < DataParallelCheck.Scenario.EPOCHS; e++) {
                BatchLoader.Epoch epoch = loader.epoch(e);
                for (int i = 0; i < epoch.batches(); i++, step++) {
                    try (Scope sc = Scope.open()) {
                        BatchLoader.Batch b = epoch.batch(i);
                        if (s.dtype() == DType.FLOAT32) {
                            trainer.step(b);
                        } else {
                            opt.zeroGrad();
                            Tensor x = b.features().cast(DType.FLOAT64);
                            Losses.crossEntropy(net.forward(Var.constant(x)), b.labels()).backward();
                            opt.step();
                        }
                    }
                    double[] want = DataParallelCheck.flat(net);
                    for (int k = 0; k < want.length; k++) {
                        double got = in.readDouble();
                        double d = Math.abs(got - want[k]);
                        worst = Math.max(worst, d);
                        if (!(d <= tol)) {
                            throw new AssertionError(s.name() + ": step " + (step + 1) + " (epoch " + (e + 1) + ", batch " + (i + 1)
                                    + " of " + epoch.batches() + ", " + epoch.batchRows(i) + " rows), parameter element " + k
                                    + ": 2 processes " + got + ", 1 process " + want[k] + " (tolerance " + tol + ")");
                        }
                    }
                }
            }
            assertEquals(-1, in.read(), s.name() + ": the 2-process run recorded more steps than one process took");
            assertNotEquals(before[0], DataParallelCheck.flat(net)[0], s.name() + ": training did not change the parameters");
        }
        return worst;
    }

    @Test
    void aRankThatDiesEndsTheJob() throws Exception {
        Object[] r = launch(dir, 90, List.of("60", "die@2"));
        String out = (String) r[1];
        assertNotEquals(0, r[0], () -> "mpirun succeeded although rank 1 died:\n" + out);
        assertTrue(out.contains("rank 1: dying at step 2"), out);
        assertFalse(out.contains("rank 0: finished"), out);
        // Open MPI's own report names the rank that died and its exit code
        assertTrue(out.contains("exited on signal") || out.contains("non-zero status") || out.contains("without calling \"finalize\""),
                () -> "mpirun's output does not say that a rank died:\n" + out);
    }

    @Test
    void aRankThatHangsTimesTheOthersOut() throws Exception {
        Object[] r = launch(dir, 90, List.of("5", "hang@2"));
        String out = (String) r[1];
        assertNotEquals(0, r[0], () -> "mpirun succeeded although rank 1 hung:\n" + out);
        assertTrue(out.contains("rank 1: hanging at step 2"), out);
        assertTrue(out.contains("wengert: rank 0 of 2: all-reduce of gradient bucket") && out.contains("waited more than 5 s for the other ranks"),
                () -> "rank 0 did not report the timeout:\n" + out);
    }
}
