package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.MemoryWatch;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    /**
     * Two epochs of the command's logreg defaults (SGD lr 0.5, batch 64) on the bundled data: >= 88%
     * (typically ~90.8%); epoch 2 leaves no buffer behind. Tensors forgotten before (as an earlier test
     * class in this JVM might) are collected by the Cleaner during epoch 2: the leak check must not see
     * them (it did when it read the process-wide live-buffer count, and failed now and then).
     */
    @Test
    void logisticRegressionLearnsTheBundledDigits() throws Exception {
        MemoryWatch earlierLeak = MemoryWatch.start();
        List<Tensor> leak = new ArrayList<>(); // unreachable from epoch 2 on, never closed
        for (int i = 0; i < 32; i++) {
            leak.add(Tensor.zeros(DType.FLOAT32, 10));
        }
        earlierLeak.close();
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 64, true, 42, Device.CPU);
        BatchLoader test = BatchLoader.of(m.test(), 1000, false, 0, Device.CPU);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = ModelSpec.logreg(784, 10).build(42, DType.FLOAT32, Device.CPU);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.5)) {
            double before = Trainer.accuracy(model, test);
            LeakCheck[] epoch2 = new LeakCheck[1];
            List<Trainer.EpochResult> r = new Trainer(model, opt, null, new Trainer.Listener() {
                @Override
                public void epochStart(int epoch, int steps) {
                    if (epoch == 2) {
                        epoch2[0] = LeakCheck.start();
                        leak.clear();
                        collectGarbageUntilFreed(earlierLeak);
                    }
                }

                @Override
                public void epochEnd(Trainer.EpochResult result) {
                    if (result.epoch() == 2) {
                        epoch2[0].assertNoLeak("epoch 2");
                    }
                }
            }).fit(train, test, 0, 2).epochs();
            assertEquals(2, r.size());
            assertTrue(before < 0.3, "untrained accuracy " + before);
            assertTrue(r.get(1).trainLoss() < r.get(0).trainLoss(), "loss must fall: " + r);
            assertTrue(r.get(1).valAccuracy() >= 0.88, "accuracy after 2 epochs: " + r.get(1).valAccuracy());
            assertEquals(r.get(1).valAccuracy(), Trainer.accuracy(model, test));
            Trainer.Evaluation eval = Trainer.evaluate(model, test);
            assertEquals(r.get(1).valAccuracy(), eval.accuracy());
            assertEquals(r.get(1).valLoss(), eval.loss());
            assertTrue(eval.loss() > 0 && eval.loss() < 0.5, "validation loss " + eval.loss());
        }
        assertEquals(32, earlierLeak.forgottenTensors(), "the planted leak was collected during epoch 2");
    }

    /**
     * Trainer.step opens its own scope: called without any scope open it leaves nothing alive and forgets no
     * tensor, and called inside a caller's scope it leaves nothing in that scope (the caller's batch stays).
     */
    @Test
    void stepOwnsItsScope() throws Exception {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 32, false, 0, Device.CPU);
        Sequential model;
        BatchLoader.Batch b;
        try (Scope s = Scope.open()) {
            model = ModelSpec.mlp(784, new int[] {16}, 10).build(5, DType.FLOAT32, Device.CPU);
            BatchLoader.Batch inScope = train.epoch(0).batch(0);
            b = new BatchLoader.Batch(inScope.features().keepForever(), inScope.labels().keepForever());
        }
        try (model; Sgd opt = new Sgd(model.parameters(), 0.1, 0.9, false, 0);
                Tensor features = b.features(); Tensor labels = b.labels()) {
            Trainer trainer = new Trainer(model, opt, null, null);
            double first = trainer.step(b);              // allocates the gradients and the momentum buffers
            LeakCheck noScope = LeakCheck.start();
            double second = trainer.step(b);             // no scope open on this thread
            noScope.assertNoLeak("Trainer.step without a caller's scope");
            assertTrue(second < first, first + " -> " + second);
            LeakCheck inScope = LeakCheck.start();
            try (Scope caller = Scope.open()) {
                Tensor mine = Tensor.zeros(DType.FLOAT32, 3);
                int owned = caller.ownedCount();
                double third = trainer.step(b);
                assertEquals(owned, caller.ownedCount(), "the step left tensors in the caller's scope");
                assertTrue(third < second, second + " -> " + third);
                assertEquals(0.0, mine.sum().item(), "the caller's tensors are untouched");
            }
            inScope.assertNoLeak("Trainer.step inside a caller's scope");
            model.zeroGrad();
        }
    }

    /** A fresh model from {@code spec} (seed 42) on the CPU. */
    private static Sequential build(ModelSpec spec) {
        try (Scope s = Scope.open()) {
            return spec.build(42, DType.FLOAT32, Device.CPU);
        }
    }

    /** A listener that calls step() every {@code interval} steps and records (epoch, step) of each call. */
    private static class Recorder implements Trainer.Listener {
        final int interval;
        final List<String> calls = new ArrayList<>();
        final List<Trainer.EpochResult> ends = new ArrayList<>();

        Recorder(int interval) {
            this.interval = interval;
        }

        @Override
        public int stepInterval() {
            return interval;
        }

        @Override
        public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
            calls.add(epoch + "/" + step);
        }

        @Override
        public void epochEnd(Trainer.EpochResult result) {
            ends.add(result);
        }
    }

    /**
     * SGD with lr 1e5 on a small MLP sends the loss to infinity within the first steps (lr 50 does not:
     * those losses stay large but finite). fit stops with the first non-finite step, found on the device:
     * the same step that Trainer.step's read-backs find, whether the listener reads every step, every
     * third, or never (then at the epoch's end).
     */
    @Test
    void aDivergingRunStopsNamingTheFirstNonFiniteStep() throws IOException {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 64, true, 42, Device.CPU);
        ModelSpec spec = ModelSpec.mlp(784, new int[] {32, 32}, 10);
        double lr = 1e5;
        int firstBad = 0;
        double badLoss = 0;
        try (Sequential model = build(spec); Sgd opt = new Sgd(model.parameters(), lr)) {
            Trainer t = new Trainer(model, opt, null, null);
            BatchLoader.Epoch epoch = train.epoch(0);
            for (int i = 0; i < epoch.batches() && firstBad == 0; i++) {
                try (Scope s = Scope.open()) {
                    double loss = t.step(epoch.batch(i));
                    if (!Double.isFinite(loss)) {
                        firstBad = i + 1;
                        badLoss = loss;
                    }
                }
            }
            model.zeroGrad();
        }
        assertTrue(firstBad >= 2, "the first step is finite: " + firstBad);
        for (int interval : new int[] {0, 1, 3}) {
            Recorder rec = new Recorder(interval);
            try (Sequential model = build(spec); Sgd opt = new Sgd(model.parameters(), lr)) {
                TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                        () -> new Trainer(model, opt, null, interval == 0 ? null : rec).fit(train, null, 0, 3));
                assertEquals(1, e.epoch());
                assertEquals(firstBad, e.step(), "interval " + interval);
                assertEquals(train.batchCount(), e.steps());
                assertEquals(badLoss, e.loss());
                assertEquals(lr, e.lr());
                assertEquals(List.of(), e.finished());
                assertTrue(e.getMessage().contains("the loss became " + badLoss + " at epoch 1, step " + firstBad + " of 125"
                        + " (learning rate 100000)"), e.getMessage());
                assertTrue(e.getMessage().contains("Try a smaller learning rate, e.g. --lr 10000 (a tenth of 100000)"), e.getMessage());
                assertEquals("try a smaller learning rate, e.g. --lr 10000 (a tenth of 100000)", e.hint());
                assertTrue(rec.ends.isEmpty(), "a diverged epoch is not reported finished");
                if (interval > 0) {
                    int lastRead = (firstBad - 1) / interval * interval;
                    assertEquals(lastRead / interval, rec.calls.size(), "listener calls before the divergence: " + rec.calls);
                }
                model.zeroGrad();
            }
        }
    }

    /**
     * requestStop from the listener (as a signal handler would, from any thread) ends fit after the current
     * step: the epoch is abandoned, not reported, and fit says how many epochs finished and how many steps
     * of the next it took. A stop requested before fit ends it before its first step. A stop during the
     * validation of a middle epoch lets that epoch finish.
     */
    @Test
    void requestStopEndsFitAfterTheCurrentStep() throws IOException {
        MnistData m = MnistData.embedded();
        BatchLoader train = BatchLoader.of(m.train(), 256, true, 42, Device.CPU);
        BatchLoader val = BatchLoader.of(m.test(), 1000, false, 0, Device.CPU);
        try (Sequential model = build(ModelSpec.logreg(784, 10)); Sgd opt = new Sgd(model.parameters(), 0.5)) {
            Trainer[] trainer = new Trainer[1];
            Recorder rec = new Recorder(1) {
                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    super.step(epoch, step, steps, loss, samples, elapsedNanos);
                    if (epoch == 3 && step == 5) {
                        Thread signal = new Thread(trainer[0]::requestStop);
                        signal.start();
                        try {
                            signal.join();
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    }
                }
            };
            trainer[0] = new Trainer(model, opt, null, rec);
            Trainer.FitResult r = trainer[0].fit(train, val, 1, 5);
            assertTrue(r.interrupted());
            assertEquals(2, r.epochsFinished(), "epoch index 1 finished, index 2 abandoned");
            assertEquals(5, r.abandonedSteps());
            assertEquals(1, r.epochs().size());
            assertEquals(2, r.epochs().get(0).epoch());
            assertEquals(List.of(r.epochs().get(0)), rec.ends);
            assertEquals("3/5", rec.calls.get(rec.calls.size() - 1), "no step after the one that asked");
            assertFalse(trainer[0].stopRequested(), "cleared by the interrupted return");

            trainer[0].requestStop();
            rec.calls.clear();
            Trainer.FitResult none = trainer[0].fit(train, val, 2, 5);
            assertTrue(none.interrupted());
            assertEquals(2, none.epochsFinished());
            assertEquals(0, none.abandonedSteps());
            assertEquals(List.of(), rec.calls);

            Trainer stopInValidation = new Trainer(model, opt, null, new Trainer.Listener() {
                @Override
                public int stepInterval() {
                    return 0;
                }

                @Override
                public void epochEnd(Trainer.EpochResult result) {
                    trainer[0].requestStop();
                }
            });
            trainer[0] = stopInValidation;
            Trainer.FitResult two = stopInValidation.fit(train, val, 2, 5);
            assertTrue(two.interrupted());
            assertEquals(3, two.epochsFinished(), "the epoch whose end asked finished");
            assertEquals(0, two.abandonedSteps());
            model.zeroGrad();
        }
    }

    @Test
    void fitChecksItsEpochRangeAndMayHaveNothingToDo() throws IOException {
        BatchLoader train = BatchLoader.of(MnistData.embedded().train(), 256, true, 42, Device.CPU);
        try (Sequential model = build(ModelSpec.logreg(784, 10)); Sgd opt = new Sgd(model.parameters(), 0.5)) {
            Trainer t = new Trainer(model, opt, null, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(train, null, 5, 3));
            assertTrue(e.getMessage().contains("the run has finished 5 epochs already"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.fit(train, null, -1, 3));
            Trainer.FitResult done = t.fit(train, null, 3, 3);
            assertEquals(new Trainer.FitResult(List.of(), 3, false, 0), done);
            Trainer.FitResult one = t.fit(train, null, 0, 1);
            assertTrue(Double.isNaN(one.epochs().get(0).valAccuracy()) && Double.isNaN(one.epochs().get(0).valLoss()), "no validation set");
            assertTrue(one.epochs().get(0).trainLoss() > 0.2 && one.epochs().get(0).trainLoss() < 2, one.toString());
            model.zeroGrad();
        }
    }

    private static void collectGarbageUntilFreed(MemoryWatch leak) {
        for (int i = 0; i < 200 && leak.netBuffers() > 0; i++) {
            System.gc();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
