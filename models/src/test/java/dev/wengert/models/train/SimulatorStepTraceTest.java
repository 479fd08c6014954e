package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What one training step costs a GPU, counted by the CUDA simulator's stand-in driver: kernels, GEMMs,
 * copies, host synchronisations and driver allocations per Trainer step (forward, backward, SGD update,
 * the batch upload and the loss read-back), from the third step on. They are deterministic: every step
 * counts the same, and the caching allocator makes no driver allocation after the first steps. The
 * figures are printed for bench/RESULTS.md; the launches issue holds them with upper bounds. Runs only in
 * the simulator execution. Also a soak: 300 steps of a narrow MLP with no driver allocation and no leaked buffer,
 * and what Trainer.fit's loss watch adds to a step.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SimulatorStepTraceTest {

    /** Trainer.step's counts for logreg, from logisticRegressionStep (a second measurement would find the allocator warm). */
    private static SimulatorTrace.Counts logregStep;

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorStepTraceTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorStepTraceTest");
    }

    /**
     * Counts of Trainer.step's third step (batch 64, SGD at {@code lr}), and asserts that steps 4 to {@code steps}
     * count the same, leak nothing and allocate nothing from the driver. Shared with {@link SimulatorCnnStepTraceTest}.
     */
    static SimulatorTrace.Counts perStep(ModelSpec spec, double lr, int steps) throws IOException {
        dev.wengert.tensor.Backends.of(CudaTestDevice.DEVICE).releaseCache(); // cold, whatever ran before in this JVM
        BatchLoader train = BatchLoader.of(MnistData.embedded().train(), 64, true, 42, CudaTestDevice.DEVICE);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(42, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), lr)) {
            Trainer trainer = new Trainer(model, opt, null, null);
            BatchLoader.Epoch epoch = train.epoch(0);
            SimulatorTrace.Counts first = null;
            SimulatorTrace.Counts before = null;
            LeakCheck leak = null;
            for (int i = 0; i < steps; i++) {
                if (i == 2) {
                    before = SimulatorTrace.read();
                    SimulatorTrace.reset();
                    leak = LeakCheck.start();
                }
                try (Scope step = Scope.open()) {
                    trainer.step(epoch.batch(i % epoch.batches()));
                }
                if (i == 2) {
                    first = SimulatorTrace.read();
                    SimulatorTrace.reset();
                }
            }
            SimulatorTrace.Counts rest = SimulatorTrace.read();
            leak.assertNoLeak(spec + ", steps 3 to " + steps);
            Map<String, Long> kernels = SimulatorTrace.kernelCounts();
            System.out.printf("SimulatorStepTraceTest: %s, one step (batch 64, SGD): %d kernels, %d GEMMs, %d H2D, %d D2H, %d D2D copies,"
                    + " %d memsets, %d host syncs, %d driver allocations; kernels over steps 4-%d: %s%n", spec, first.kernels(),
                    first.gemms(), first.copiesToDevice(), first.copiesToHost(), first.copiesOnDevice(), first.memsets(),
                    first.hostSyncs(), first.allocations(), steps, kernels);
            long later = steps - 3;
            assertEquals(first.copiesOnDevice() * later, rest.copiesOnDevice(), "every step copies the same on the device");
            assertEquals(first.kernels() * later, rest.kernels(), "every step launches the same kernels");
            assertEquals(later, kernels.get("optim_sgd_f32"), "the SGD update of every parameter: one launch per step");
            assertEquals(first.gemms() * later, rest.gemms(), "every step runs the same GEMMs");
            assertEquals(first.hostSyncs() * later, rest.hostSyncs(), "every step synchronises the same");
            assertEquals(0, first.allocations() + rest.allocations(), "no driver allocation after two steps: the caching allocator serves all");
            assertTrue(before.allocations() > 0, "the first steps did allocate");
            return first;
        }
    }

    @Test
    @Order(1)
    void logisticRegressionStep() throws IOException {
        SimulatorTrace.Counts c = perStep(ModelSpec.logreg(784, 10), 0.5, 6);
        logregStep = c;
        assertEquals(2, c.gemms(), "forward x W^T and the weight gradient (the input needs none)");
        assertEquals(1, c.hostSyncs(), "only the loss read: uploads are asynchronous and the error record comes with the read");
        assertEquals(2, c.copiesToDevice(), "features and labels, asynchronous from pinned memory (a pageable copy would be a host sync)");
        assertEquals(2, c.copiesToHost(), "the loss and the error record (queued before the loss's copy, no sync of its own)");
        assertEquals(0, c.copiesOnDevice(), "gradients are adopted, not copied into .grad");
        SimulatorTrace.Counts own = forwardLossBackward(ModelSpec.logreg(784, 10));
        assertEquals(3, own.kernels(), "bias (GEMM epilogue), mean cross-entropy with its gradient, bias gradient");
        assertEquals(2, own.gemms(), "x W^T and the weight gradient");
        assertTrue(own.kernels() + own.gemms() <= 5, "forward + loss + backward: at most 5 launches");
        assertEquals(0, own.copiesOnDevice() + own.memsets(), "no device copy, no memset");
    }

    @Test
    @Order(2)
    void mlpSoakAndStep() throws IOException {
        SimulatorTrace.Counts c = perStep(ModelSpec.mlp(784, new int[] {64, 32}, 10), 0.05, 300); // narrow: the soak counts steps, not FLOPs
        assertEquals(8, c.gemms(), "3 forward GEMMs, 3 weight gradients, 2 input gradients");
        assertEquals(0, c.copiesOnDevice(), "gradients are adopted, not copied into .grad");
        assertEquals(0, forwardLossBackward(ModelSpec.mlp(784, new int[] {64, 32}, 10)).copiesOnDevice());
    }

    /** The MLP at its real size, 784-1024-1024-10: forward, loss and backward in at most 16 launches, no device copy. */
    @Test
    @Order(2)
    void mlpStepAtRealSize() throws IOException {
        SimulatorTrace.Counts c = perStep(ModelSpec.mlp(784, new int[] {1024, 1024}, 10), 0.05, 4);
        assertEquals(8, c.gemms(), "3 forward GEMMs, 3 weight gradients, 2 input gradients");
        assertEquals(0, c.copiesOnDevice(), "gradients are adopted, not copied into .grad");
        SimulatorTrace.Counts own = forwardLossBackward(ModelSpec.mlp(784, new int[] {1024, 1024}, 10));
        assertEquals(7, own.kernels(), "per layer one bias(+relu) kernel and one kernel for its activation's and bias's "
                + "gradients; one for the loss with its gradient");
        assertEquals(8, own.gemms(), "3 forward GEMMs, 3 weight gradients, 2 input gradients");
        assertTrue(own.kernels() + own.gemms() <= 16, "forward + loss + backward: at most 16 launches");
        assertEquals(0, own.copiesOnDevice() + own.memsets(), "no device copy, no memset");
    }

    /**
     * What forward, loss and backward alone cost (no optimizer, no loss read-back): Losses.crossEntropy(model(x)),
     * backward(), counted on the third batch after zeroGrad, with the kernels by name printed; the next batch must
     * count the same and allocate nothing from the driver.
     */
    private static SimulatorTrace.Counts forwardLossBackward(ModelSpec spec) throws IOException {
        BatchLoader train = BatchLoader.of(MnistData.embedded().train(), 64, true, 42, CudaTestDevice.DEVICE);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(42, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
        try (model) {
            BatchLoader.Epoch epoch = train.epoch(0);
            SimulatorTrace.Counts[] counts = new SimulatorTrace.Counts[4];
            Map<String, Long> kernels = null;
            for (int i = 0; i < 4; i++) {
                model.zeroGrad();
                SimulatorTrace.reset();
                try (Scope step = Scope.open()) {
                    BatchLoader.Batch b = epoch.batch(i);
                    dev.wengert.models.loss.Losses.crossEntropy(model.forward(dev.wengert.autograd.Var.constant(b.features())),
                            b.labels()).backward();
                }
                counts[i] = SimulatorTrace.read();
                if (i == 2) {
                    kernels = SimulatorTrace.kernelCounts();
                }
            }
            model.zeroGrad();
            SimulatorTrace.Counts c = counts[2];
            System.out.printf("SimulatorStepTraceTest: %s, forward + loss + backward (batch 64): %d kernels %s, %d GEMMs, %d D2D copies,"
                    + " %d memsets%n", spec, c.kernels(), kernels, c.gemms(), c.copiesOnDevice(), c.memsets());
            assertEquals(c.kernels(), counts[3].kernels(), "every batch launches the same kernels");
            assertEquals(c.gemms(), counts[3].gemms());
            assertEquals(0, c.allocations() + counts[3].allocations(), "no driver allocation after two batches");
            return c;
        }
    }

    /** Counts between consecutive listener calls of fit, every {@code interval} steps: windows 3 and 4 (from the 3rd call). */
    static SimulatorTrace.Counts[] fitWindows(ModelSpec spec, double lr, int interval) throws IOException {
        return fitWindows(spec, lr, interval, false);
    }

    /** {@link #fitWindows(ModelSpec, double, int)} with fit's steps captured as a CUDA graph or not ({@link Trainer#cudaGraphs}). */
    static SimulatorTrace.Counts[] fitWindows(ModelSpec spec, double lr, int interval, boolean graphs) throws IOException {
        BatchLoader train = BatchLoader.of(MnistData.embedded().train(), 64, true, 42, CudaTestDevice.DEVICE);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = spec.build(42, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
        try (model; Sgd opt = new Sgd(model.parameters(), lr)) {
            List<SimulatorTrace.Counts> windows = new ArrayList<>();
            Trainer[] t = new Trainer[1];
            t[0] = new Trainer(model, opt, null, new Trainer.Listener() {
                @Override
                public int stepInterval() {
                    return interval;
                }

                @Override
                public void step(int epoch, int step, int steps, double loss, long samples, long elapsedNanos) {
                    windows.add(SimulatorTrace.read());
                    SimulatorTrace.reset();
                    if (windows.size() == 5) {
                        t[0].requestStop();    // the rest of the epoch would count the same
                    }
                }
            }).cudaGraphs(graphs);
            t[0].fit(train, null, 0, 1);
            opt.zeroGrad();
            assertEquals(windows.get(3), windows.get(4), "every window of " + interval + " steps costs the same");
            return new SimulatorTrace.Counts[] {windows.get(3), windows.get(4)};
        }
    }

    /**
     * Issue 15's budget for a `wengert train` step (Trainer.fit, batch 64, plain SGD, from the third step on,
     * a step that reports nothing): at most 7 launches (kernels + GEMMs) for logreg and 18 for the
     * 784-1024-1024-10 MLP, no device-to-device copy, no host synchronisation, no driver allocation; the
     * next batch's two uploads are asynchronous copies.
     */
    @Test
    @Order(5)
    void aTrainStepMeetsTheLaunchBudget() throws IOException {
        Map<ModelSpec, Integer> budget = new java.util.LinkedHashMap<>();
        budget.put(ModelSpec.logreg(784, 10), 7);
        budget.put(ModelSpec.mlp(784, new int[] {1024, 1024}, 10), 18);
        budget.forEach((spec, most) -> {
            try {
                SimulatorTrace.Counts one = fitWindows(spec, 0.05, 1)[0];
                SimulatorTrace.Counts step = fitWindows(spec, 0.05, 2)[0].minus(one);
                System.out.printf("SimulatorStepTraceTest: %s, one fit step (batch 64, SGD): %d launches (%d kernels, %d GEMMs), %d H2D,"
                        + " %d D2H, %d D2D, %d memsets, %d host syncs, %d driver allocations; kernels %s%n", spec, step.launches(),
                        step.kernels(), step.gemms(), step.copiesToDevice(), step.copiesToHost(), step.copiesOnDevice(), step.memsets(),
                        step.hostSyncs(), step.allocations(), SimulatorTrace.kernelCounts());
                assertTrue(step.launches() <= most, spec + ": at most " + most + " launches, got " + step);
                assertEquals(0, step.copiesOnDevice() + step.memsets(), spec + ": no device-to-device copy");
                assertEquals(0, step.hostSyncs(), spec + ": no host synchronisation");
                assertEquals(0, step.copiesToHost(), spec + ": nothing read back");
                assertEquals(2, step.copiesToDevice(), spec + ": the next batch, uploaded asynchronously");
                assertEquals(0, step.allocations(), spec + ": no driver allocation");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /**
     * What fit adds to Trainer.step's work: the device-side loss watch (sum, finite-step count and the
     * current loss: one in-place kernel per step, no copy, no synchronisation) and, only where the listener
     * asks for the loss, one read-back (2 device copies to pack the loss with the finite-step count, then one
     * download, which costs what Trainer.step's loss.item() costs every step). So the divergence check adds
     * no synchronisation, and a step that reports nothing synchronises less than Trainer.step. Runs last:
     * its steps warm the caching allocator, which the other tests expect cold.
     */
    @Test
    @Order(3)
    void fitWatchesTheLossWithoutSynchronising() throws IOException {
        SimulatorTrace.Counts step = logregStep != null ? logregStep : perStep(ModelSpec.logreg(784, 10), 0.5, 6);
        SimulatorTrace.Counts every = fitWindows(ModelSpec.logreg(784, 10), 0.5, 1)[0];
        SimulatorTrace.Counts everyOther = fitWindows(ModelSpec.logreg(784, 10), 0.5, 2)[0];
        SimulatorTrace.Counts unread = everyOther.minus(every);
        SimulatorTrace.Counts read = every.minus(unread);
        System.out.printf("SimulatorStepTraceTest: fit, logreg, per step without a read-back: %d kernels, %d GEMMs, %d H2D, %d D2H,"
                + " %d D2D copies, %d host syncs (Trainer.step: %d kernels, %d D2H, %d D2D, %d host syncs); one read-back adds %d kernels,"
                + " %d D2H, %d D2D copies, %d host syncs%n", unread.kernels(), unread.gemms(), unread.copiesToDevice(),
                unread.copiesToHost(), unread.copiesOnDevice(), unread.hostSyncs(), step.kernels(), step.copiesToHost(),
                step.copiesOnDevice(), step.hostSyncs(), read.kernels(), read.copiesToHost(), read.copiesOnDevice(), read.hostSyncs());
        assertEquals(step.kernels() + 1, unread.kernels(), "the loss watch: one in-place launch");
        assertEquals(step.gemms(), unread.gemms());
        assertEquals(step.copiesToDevice(), unread.copiesToDevice());
        assertEquals(2, unread.copiesToDevice(), "the next batch's features and labels, prefetched asynchronously");
        assertEquals(0, unread.hostSyncs(), "a fit step that reports nothing never synchronises with the host");
        assertEquals(step.copiesOnDevice(), unread.copiesOnDevice(), "the watch copies nothing");
        assertEquals(0, unread.copiesToHost(), "a step that reports nothing reads nothing back");
        assertEquals(step.hostSyncs() - read.hostSyncs(), unread.hostSyncs(), "its synchronisations are Trainer.step's but the loss read");
        assertTrue(unread.hostSyncs() < step.hostSyncs());
        assertEquals(0, read.kernels() + read.gemms());
        assertEquals(2, read.copiesOnDevice(), "loss and finite-step count packed into one tensor");
        assertEquals(step.hostSyncs(), every.hostSyncs(), "reading every step synchronises exactly as often as Trainer.step");
        assertEquals(step.copiesToHost(), every.copiesToHost(), "and copies as much to the host");
        assertEquals(0, unread.allocations() + read.allocations(), "no driver allocation");
    }

    /**
     * Optimizer.step alone, for every optimizer setting on the MLP's 6 parameters: one launch (the whole-step
     * kernel; lr and Adam's step count are read on the device, so nothing is uploaded), no copy, no
     * synchronisation, no driver allocation and no tensor allocated (the peak of allocated bytes stays put);
     * an lr change adds one small launch (the device scalars' write), not a copy. Runs after the others: it
     * warms the caching allocator.
     */
    @Test
    @Order(4)
    void anOptimizerStepIsOneLaunchAndAllocatesNothing() {
        Sequential model;
        try (Scope s = Scope.open()) {
            model = ModelSpec.mlp(784, new int[] {64, 32}, 10).build(42, DType.FLOAT32, CudaTestDevice.DEVICE);
        }
        dev.wengert.tensor.Backend be = dev.wengert.tensor.Backends.of(CudaTestDevice.DEVICE);
        List<java.util.function.Supplier<dev.wengert.models.optim.Optimizer>> makers = List.of(
                () -> new Sgd(model.parameters(), 0.1), () -> new Sgd(model.parameters(), 0.1, 0.9, true, 1e-4),
                () -> new dev.wengert.models.optim.Adam(model.parameters(), 1e-3),
                () -> dev.wengert.models.optim.Adam.adamW(model.parameters(), 1e-3, 0.01));
        try (model) {
            for (var make : makers) {
                try (dev.wengert.models.optim.Optimizer opt = make.get()) {
                    try (Scope s = Scope.open()) {
                        model.forward(dev.wengert.autograd.Var.constant(dev.wengert.tensor.Tensor.on(CudaTestDevice.DEVICE)
                                .uniform(-1, 1, 7, DType.FLOAT32, 4, 784))).sum().backward();
                    }
                    opt.step(); // the first step (the device scalars exist since the constructor)
                    for (int i = 0; i < 3; i++) {
                        SimulatorTrace.reset();
                        be.resetPeak();
                        long allocated = be.memoryStats().allocatedBytes();
                        opt.step();
                        SimulatorTrace.Counts c = SimulatorTrace.read();
                        String what = opt.getClass().getSimpleName() + " step " + (opt.steps());
                        assertEquals(1, c.kernels(), what + ": " + SimulatorTrace.kernelCounts());
                        assertEquals(0, c.copiesToDevice() + c.copiesToHost() + c.copiesOnDevice() + c.memsets() + c.gemms(), what);
                        assertEquals(0, c.hostSyncs() + c.allocations(), what + ": no synchronisation, no driver allocation");
                        assertEquals(allocated, be.memoryStats().peakAllocatedBytes(), what + ": no tensor allocated");
                    }
                    SimulatorTrace.reset();
                    opt.setLr(opt.lr() / 2);
                    opt.setLr(opt.lr());
                    SimulatorTrace.Counts c = SimulatorTrace.read();
                    assertEquals(1, c.kernels(), "an lr change: one write of the device scalars, " + SimulatorTrace.kernelCounts());
                    assertEquals(0, c.copiesToDevice() + c.hostSyncs(), "an lr change uploads nothing and does not synchronise");
                    opt.zeroGrad();
                }
            }
        }
    }
}
