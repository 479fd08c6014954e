package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Dropout;
import dev.wengert.models.nn.Init;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.LrSchedule;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.Checkpoint;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs that never lose work: a run trained 10 epochs equals, bit for bit on the CPU, the same run trained 5
 * epochs (or stopped in its 6th), checkpointed, restored into fresh objects and resumed to 10: with
 * shuffling, dropout, a step schedule, and SGD with momentum or Adam. Plus the last/best files, and the
 * reasons a checkpoint is refused.
 */
class TrainingCheckpointTest {
    private static final int EPOCHS = 10;

    @TempDir
    Path dir;

    private static BatchLoader train;
    private static BatchLoader val;
    private static TrainingCheckpoint.DataSpec data;

    @BeforeAll
    static void data() throws IOException {
        MnistData.HoldOut parts = MnistData.embedded().train().holdOut(0.1, 42);
        train = BatchLoader.of(parts.train(), 64, true, 42, Device.CPU);
        val = BatchLoader.of(parts.validation(), 1000, false, 0, Device.CPU);
        data = TrainingCheckpoint.DataSpec.of(train, val, 28, 28);
    }

    /** 784-32-10 with dropout 0.25 between the layers; the seeds make a fresh model differ everywhere. */
    private static Sequential model(long seed) {
        try (Scope s = Scope.open()) {
            return new Sequential(new Linear(784, 32, Init.KAIMING_UNIFORM, seed, DType.FLOAT32, Device.CPU), new ReLU(),
                    new Dropout(0.25, seed + 100), new Linear(32, 10, Init.XAVIER_UNIFORM, seed + 1, DType.FLOAT32, Device.CPU));
        }
    }

    private static LrSchedule schedule(double lr) {
        return LrSchedule.step(lr, 3, 0.5);
    }

    /** Writes the run's checkpoints from epochEnd, as the command line does; records the results. */
    private static final class Checkpointing implements Trainer.Listener {
        final RunCheckpoints run;
        final List<Trainer.EpochResult> results = new ArrayList<>();
        Trainer trainer;
        int stopAtEpoch;
        int stopAtStep;

        Checkpointing(RunCheckpoints run) {
            this.run = run;
        }

        @Override
        public int stepInterval() {
            return stopAtEpoch == 0 ? 0 : 1;
        }

        @Override
        public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
            if (epoch == stopAtEpoch && step == stopAtStep) {
                trainer.requestStop();
            }
        }

        @Override
        public void epochEnd(Trainer.EpochResult result) {
            results.add(result);
            try {
                run.epochFinished(result);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Everything the run's future depends on: the float bits of the parameters and the optimizer state,
     * the step count and the random state.
     */
    private static Map<String, int[]> fingerprint(Sequential model, Optimizer opt) {
        Map<String, int[]> out = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> out.put(n, bits(p.value())));
        opt.state().forEach((n, t) -> out.put("optimizer " + n, bits(t)));
        out.put("optimizer steps", new int[] {(int) opt.steps()});
        model.randomState().forEach((n, v) -> out.put("random " + n, new int[] {(int) (long) v, (int) (v >>> 32)}));
        return out;
    }

    private static int[] bits(Tensor t) {
        float[] f = t.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    /** Names the first element that differs (the arrays are too long for a readable message). */
    private static void assertSameBits(Map<String, int[]> expected, Map<String, int[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((name, e) -> {
            int[] a = actual.get(name);
            assertEquals(e.length, a.length, name);
            for (int i = 0; i < e.length; i++) {
                if (e[i] != a[i]) {
                    fail(name + " differs first at element " + i + " of " + e.length + ": bits " + Integer.toHexString(e[i])
                            + " (" + Float.intBitsToFloat(e[i]) + ") in one go, " + Integer.toHexString(a[i]) + " ("
                            + Float.intBitsToFloat(a[i]) + ") resumed");
                }
            }
        });
    }

    private record Run(Map<String, int[]> fingerprint, List<Trainer.EpochResult> results, RunCheckpoints checkpoints) {
    }

    /** EPOCHS epochs in one go, with checkpoints in {@code out}. */
    private static Run straight(Function<List<Var>, Optimizer> optimizer, double lr, Path out) {
        try (Sequential model = model(1); Optimizer opt = optimizer.apply(model.parameters())) {
            Checkpointing c = new Checkpointing(new RunCheckpoints(out, model, opt, null, data, Map.of("note", "straight")));
            Trainer.FitResult r = new Trainer(model, opt, schedule(lr), c).fit(train, val, 0, EPOCHS);
            assertFalse(r.interrupted());
            assertEquals(EPOCHS, r.epochsFinished());
            assertEquals(c.results, r.epochs());
            model.zeroGrad();
            return new Run(fingerprint(model, opt), r.epochs(), c.run);
        }
    }

    /**
     * The same run in two processes' worth of objects: the first trains until epoch {@code stopEpoch}, step
     * {@code stopStep} (0: trains 5 epochs and ends), the second reads last.safetensors into a model and an
     * optimizer built from other seeds and fits on to EPOCHS.
     */
    private static Run resumed(Function<List<Var>, Optimizer> optimizer, double lr, Path out, int stopEpoch, int stopStep)
            throws IOException {
        List<Trainer.EpochResult> results = new ArrayList<>();
        try (Sequential model = model(1); Optimizer opt = optimizer.apply(model.parameters())) {
            Checkpointing c = new Checkpointing(new RunCheckpoints(out, model, opt, null, data, Map.of("note", "first half")));
            c.stopAtEpoch = stopEpoch;
            c.stopAtStep = stopStep;
            Trainer t = new Trainer(model, opt, schedule(lr), c);   // reads c.stepInterval()
            c.trainer = t;
            Trainer.FitResult r = t.fit(train, val, 0, stopEpoch == 0 ? 5 : EPOCHS);
            assertEquals(5, r.epochsFinished());
            assertEquals(stopEpoch != 0, r.interrupted());
            assertEquals(stopStep, r.abandonedSteps());
            results.addAll(r.epochs());
            model.zeroGrad();
        }
        TrainingCheckpoint.Loaded last = TrainingCheckpoint.read(out.resolve(RunCheckpoints.LAST));
        last.requireCompatible(null, TrainingCheckpoint.DataSpec.of(train, val, 28, 28));
        assertEquals(5, last.progress().epochsFinished());
        assertEquals(results.get(4).withoutTimes(), last.progress().last().withoutTimes(), "the checkpoint holds epoch 5's figures");
        try (Sequential model = model(77); Optimizer opt = optimizer.apply(model.parameters())) {
            last.restore(model, opt);
            RunCheckpoints run = new RunCheckpoints(out, model, opt, null, data, Map.of("note", "second half")).resumedFrom(last);
            Checkpointing c = new Checkpointing(run);
            Trainer.FitResult r = new Trainer(model, opt, schedule(lr), c).fit(train, val, last.progress().epochsFinished(), EPOCHS);
            assertFalse(r.interrupted());
            assertEquals(EPOCHS, r.epochsFinished());
            results.addAll(r.epochs());
            model.zeroGrad();
            return new Run(fingerprint(model, opt), results, run);
        }
    }

    private static void sameRun(Run expected, Run actual) {
        assertSameBits(expected.fingerprint(), actual.fingerprint());
        assertEquals(EPOCHS, actual.results().size());
        for (int i = 0; i < EPOCHS; i++) {
            assertEquals(expected.results().get(i).withoutTimes(), actual.results().get(i).withoutTimes(), "epoch " + (i + 1));
        }
        assertEquals(expected.checkpoints().bestEpoch(), actual.checkpoints().bestEpoch());
    }

    @Test
    void sgdWithMomentumResumedAfterFiveEpochsEqualsTenInOneGo() throws IOException {
        Function<List<Var>, Optimizer> sgd = p -> new Sgd(p, 0.05, 0.9, false, 1e-4);
        Run straight = straight(sgd, 0.05, dir.resolve("straight"));
        Run resumed = resumed(sgd, 0.05, dir.resolve("resumed"), 0, 0);
        sameRun(straight, resumed);
        assertTrue(straight.results().get(EPOCHS - 1).valAccuracy() > 0.85, straight.results().toString());
        lastAndBestFiles(straight, dir.resolve("straight"));
    }

    /** Adam, stopped (as by SIGINT) at step 17 of epoch 6: last.safetensors holds epoch 5, and resuming from it repeats epoch 6. */
    @Test
    void adamStoppedInItsSixthEpochAndResumedEqualsTenInOneGo() throws IOException {
        Function<List<Var>, Optimizer> adam = p -> new Adam(p, 0.002);
        Run straight = straight(adam, 0.002, dir.resolve("straight"));
        Run resumed = resumed(adam, 0.002, dir.resolve("resumed"), 6, 17);
        sameRun(straight, resumed);
    }

    /**
     * last.safetensors holds the last epoch, best.safetensors the first epoch with the highest validation
     * accuracy, and nothing else is left in the folder.
     */
    private static void lastAndBestFiles(Run run, Path out) throws IOException {
        int best = 0;
        for (Trainer.EpochResult r : run.results()) {
            if (best == 0 || r.valAccuracy() > run.results().get(best - 1).valAccuracy()) {
                best = r.epoch();
            }
        }
        assertEquals(best, run.checkpoints().bestEpoch());
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of(RunCheckpoints.BEST, RunCheckpoints.LAST),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
        TrainingCheckpoint.Loaded last = TrainingCheckpoint.read(out.resolve(RunCheckpoints.LAST));
        TrainingCheckpoint.Loaded bestFile = TrainingCheckpoint.read(out.resolve(RunCheckpoints.BEST));
        assertEquals(EPOCHS, last.progress().epochsFinished());
        assertEquals(best, last.progress().bestEpoch());
        assertEquals(best, bestFile.progress().epochsFinished());
        assertEquals(run.results().get(best - 1).valAccuracy(), bestFile.progress().bestValAccuracy());
        assertEquals("straight", last.metadata().get("note"));
        assertEquals("Sgd", last.optimizer());
        assertEquals((long) EPOCHS * train.batchCount(), last.optimizerSteps());
        assertEquals(Map.of("2.seed", 101L, "2.calls", (long) EPOCHS * train.batchCount()), last.randomState());
        assertNull(last.spec());
    }

    /** A zoo model's training checkpoints load as model checkpoints (what wengert evaluate reads). */
    @Test
    void aZooModelsTrainingCheckpointIsAModelCheckpoint() throws IOException {
        ModelSpec spec = ModelSpec.mlp(784, new int[] {16}, 10);
        Sequential zoo;
        try (Scope s = Scope.open()) {
            zoo = spec.build(3, DType.FLOAT32, Device.CPU);
        }
        try (zoo; Sgd opt = new Sgd(zoo.parameters(), 0.1, 0.9, false, 0)) {
            RunCheckpoints rc = new RunCheckpoints(dir.resolve("zoo"), zoo, opt, spec, data, null);
            Trainer.FitResult r = new Trainer(zoo, opt, null, new Trainer.Listener() {
                @Override
                public void epochEnd(Trainer.EpochResult result) {
                    try {
                        assertTrue(rc.epochFinished(result));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }).fit(train, val, 0, 1);
            Checkpoint.Loaded loaded = Checkpoint.load(rc.best(), Device.CPU);
            try (Sequential back = loaded.model()) {
                assertEquals(spec, loaded.spec());
                assertEquals(r.epochs().get(0).valAccuracy(), Trainer.accuracy(back, val));
            }
            assertEquals(spec, TrainingCheckpoint.read(rc.last()).spec());
            zoo.zeroGrad();
        }
    }

    /** Without validation there is no best: only last.safetensors is written. */
    @Test
    void noValidationNoBest() throws IOException {
        try (Sequential model = model(1); Sgd opt = new Sgd(model.parameters(), 0.05)) {
            RunCheckpoints rc = new RunCheckpoints(dir, model, opt, null, TrainingCheckpoint.DataSpec.of(train, null), null);
            Trainer.EpochResult r = new Trainer(model, opt, null, null).fit(train, null, 0, 1).epochs().get(0);
            assertFalse(rc.epochFinished(r));
            assertTrue(Files.isRegularFile(rc.last()));
            assertFalse(Files.exists(rc.best()));
            assertEquals(0, rc.bestEpoch());
            model.zeroGrad();
        }
    }

    /** A checkpoint of a 14x14 logreg, untrained, in {@code file}. */
    private static TrainingCheckpoint.DataSpec smallImages(Path file) throws IOException {
        float[] x = new float[20 * 196];
        long[] y = new long[20];
        BatchLoader small = new BatchLoader(x, y, 196, 4, true, 42, Device.CPU);
        TrainingCheckpoint.DataSpec spec14 = TrainingCheckpoint.DataSpec.of(small, null, 14, 14);
        ModelSpec logreg = ModelSpec.logreg(196, 10);
        Sequential m;
        try (Scope s = Scope.open()) {
            m = logreg.build(0, DType.FLOAT32, Device.CPU);
        }
        try (m; Adam opt = new Adam(m.parameters(), 0.01)) {
            TrainingCheckpoint.save(file, m, opt, logreg, spec14, new TrainingCheckpoint.Progress(0, null, 0, Double.NaN), null);
        }
        return spec14;
    }

    private static void assertReason(IllegalArgumentException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message \"" + e.getMessage() + "\" lacks \"" + p + "\"");
        }
    }

    @Test
    void anotherModelOrOtherDataIsRefusedWithTheReason() throws IOException {
        Path file = dir.resolve("small.safetensors");
        TrainingCheckpoint.DataSpec spec14 = smallImages(file);
        TrainingCheckpoint.Loaded ck = TrainingCheckpoint.read(file);
        assertEquals(ModelSpec.logreg(196, 10), ck.spec());
        ck.requireCompatible(ModelSpec.logreg(196, 10), spec14);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ck.requireCompatible(ModelSpec.logreg(784, 10), data));
        assertEquals("cannot resume from " + file + ": the checkpoint expects 196 input features (14x14 images); the data has 784 (28x28)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ck.requireCompatible(ModelSpec.mlp(196, new int[] {8}, 10), spec14));
        assertReason(e, "the checkpoint holds logreg 196-10; this run describes mlp 196-8-10");

        TrainingCheckpoint.DataSpec d = spec14;
        List<String> why = d.differences(new TrainingCheckpoint.DataSpec(196, 14, 14, 30, 5, 8, true, 7, "00000000", "11111111"));
        assertEquals(List.of(
                "the run trained on 20 samples and validated on 0; the data now gives 30 and 5 (another data set or validation fraction)",
                "the run's batch size was 4, not 8: another would change every later step",
                "the run's data seed was 42, not 7: the epochs would visit the samples in other orders"), why);
        why = d.differences(new TrainingCheckpoint.DataSpec(196, 14, 14, 20, 0, 4, false, 42, "00000000", ""));
        assertEquals(List.of("the run shuffled the training samples; this one does not",
                "the training samples differ from the run's (fingerprint 00000000, the run's " + d.trainFingerprint()
                        + "): another data set, or another validation split seed"), why);

        try (Sequential other = ModelSpec.logreg(784, 10).build(0, DType.FLOAT32, Device.CPU);
                Sequential same = ModelSpec.logreg(196, 10).build(0, DType.FLOAT32, Device.CPU);
                Sequential dropout = new Sequential(new Linear(196, 10, Init.ZEROS, 0, DType.FLOAT32, Device.CPU), new Dropout(0.5, 1));
                Adam adamOther = new Adam(other.parameters(), 0.1); Sgd sgd = new Sgd(same.parameters(), 0.1);
                Adam adam = new Adam(same.parameters(), 0.1); Adam adamDropout = new Adam(dropout.parameters(), 0.1)) {
            e = assertThrows(IllegalArgumentException.class, () -> ck.restore(other, adamOther));
            assertReason(e, "cannot restore " + file + ": parameter '0.weight' is F32[10, 196], this run's is F32[10, 784]");
            e = assertThrows(IllegalArgumentException.class, () -> ck.restore(same, sgd));
            assertReason(e, "the run trained with Adam, this optimizer is Sgd");
            e = assertThrows(IllegalArgumentException.class, () -> ck.restore(dropout, adamDropout));
            assertReason(e, "its random state [] does not match the model's [1.calls, 1.seed]");
            float[] before = same.namedParameters().get("0.weight").value().toFloatArray();
            ck.restore(same, adam);
            assertEquals(new TreeSet<>(List.of("0.exp_avg", "0.exp_avg_sq", "1.exp_avg", "1.exp_avg_sq")), adam.state().keySet());
            assertArrayEquals(before, same.namedParameters().get("0.weight").value().toFloatArray(), "logreg(0) into logreg(0)");
        }
        try (Sequential m = ModelSpec.logreg(196, 10).build(0, DType.FLOAT32, Device.CPU); Sgd plain = new Sgd(m.parameters(), 0.1);
                Sgd momentum = new Sgd(m.parameters(), 0.1, 0.9, false, 0)) {
            Path sgdFile = dir.resolve("sgd.safetensors");
            TrainingCheckpoint.save(sgdFile, m, momentum, null, spec14, new TrainingCheckpoint.Progress(0, null, 0, Double.NaN), null);
            assertEquals(new TreeSet<>(List.of("0.weight", "0.bias", "optimizer.0.weight.momentum_buffer", "optimizer.0.bias.momentum_buffer")),
                    TrainingCheckpoint.read(sgdFile).contents().tensors().keySet());
            e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.read(sgdFile).restore(m, plain));
            assertReason(e, "its optimizer state [optimizer.0.bias.momentum_buffer, optimizer.0.weight.momentum_buffer] does not fit this Sgd's []",
                    "momentum on or off");
            Path modelOnly = dir.resolve("model.safetensors");
            Checkpoint.save(modelOnly, m, ModelSpec.logreg(196, 10), null);
            e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.read(modelOnly));
            assertReason(e, "is not a training checkpoint", "a model checkpoint holds no optimizer state to resume from");
        }
    }
}
