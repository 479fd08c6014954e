package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.models.data.BatchLoader;
import dev.wengert.models.data.MnistData;
import dev.wengert.models.nn.BatchNorm1d;
import dev.wengert.models.nn.Dropout;
import dev.wengert.models.nn.Init;
import dev.wengert.models.nn.Linear;
import dev.wengert.models.nn.Module;
import dev.wengert.models.nn.ReLU;
import dev.wengert.models.nn.Sequential;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.models.zoo.ModelSpec;
import dev.wengert.tensor.CapturedWork;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Trainer.fit with CUDA graphs ({@link Trainer#cudaGraphs}) on the CUDA simulator, which emulates capture
 * and replay: the same run with and without graphs gives the same parameters, optimizer state, step count
 * and epoch figures bit for bit (SGD with momentum and Adam, whose bias correction needs the step count
 * on the device; a short last batch, which runs eagerly; two epochs with a learning-rate change between
 * them); a captured step is one graph launch, two small copies of the batch into the graph's inputs, no
 * host synchronisation and no allocation; dropout created for its device is captured, each replay drawing
 * the eager step's mask (the same parameters and random state bit for bit, also after a resume), while dropout
 * counting on the host, and the CPU, run eagerly saying why.
 * Runs only in the simulator execution.
 */
class SimulatorCudaGraphTrainingTest {
    /** 6 full batches of 64 and a short one of 17. */
    private static final int ROWS = 6 * 64 + 17;

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorCudaGraphTrainingTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorCudaGraphTrainingTest");
    }

    private static BatchLoader loader(Device device) throws IOException {
        MnistData.Split s = MnistData.embedded().train();
        float[] x = Arrays.copyOf(s.imagesAsFloats(), ROWS * 784);
        long[] y = Arrays.copyOf(s.labelsAsLongs(), ROWS);
        return new BatchLoader(x, y, 784, 64, true, 42, device);
    }

    /**
     * What a run leaves: every parameter and state tensor, the step count, the epochs' figures, the notices, the
     * model's random state.
     */
    private record Run(List<float[]> tensors, long steps, List<Trainer.EpochResult> epochs, List<String> notices,
                       Map<String, Long> random) {
    }

    private static Run fit(ModelSpec spec, BiFunction<List<Var>, Double, Optimizer> optimizer,
                           boolean graphs, Device device) throws IOException {
        return fit(spec.toString(), () -> spec.build(42, DType.FLOAT32, device), optimizer, graphs, device);
    }

    private static Run fit(String spec, Supplier<Sequential> build, BiFunction<List<Var>, Double, Optimizer> optimizer,
                           boolean graphs, Device device) throws IOException {
        BatchLoader train = loader(device);
        Sequential model;
        try (Scope s = Scope.open()) {
            model = build.get();
        }
        List<String> notices = new ArrayList<>();
        try (model; Optimizer opt = optimizer.apply(model.parameters(), 0.05)) {
            Trainer t = new Trainer(model, opt, e -> e == 0 ? 0.05 : 0.02, new Trainer.Listener() {
                @Override
                public int stepInterval() {
                    return 0;
                }

                @Override
                public void notice(String message) {
                    notices.add(message);
                }
            }).cudaGraphs(graphs);
            LeakCheck leak = LeakCheck.start();
            Trainer.FitResult r = t.fit(train, null, 0, 2);
            model.parameters().forEach(Var::zeroGrad);
            leak.assertNoLeak(spec + (graphs ? " with" : " without") + " graphs: fit leaves nothing behind (the graph's pool is freed)");
            List<float[]> tensors = new ArrayList<>();
            model.parameters().forEach(p -> tensors.add(p.value().toFloatArray()));
            for (Map.Entry<String, Tensor> e : opt.state().entrySet()) {
                tensors.add(e.getValue().toFloatArray());
            }
            for (Tensor buffer : model.namedBuffers().values()) { // batch norm's running statistics and batch count
                tensors.add(buffer.cast(DType.FLOAT32).toFloatArray());
            }
            return new Run(tensors, opt.steps(), r.epochs().stream().map(Trainer.EpochResult::withoutTimes).toList(), notices,
                    model.randomState());
        }
    }

    private static void assertSameRun(Run eager, Run graphed, String what) {
        assertEquals(eager.tensors().size(), graphed.tensors().size());
        for (int i = 0; i < eager.tensors().size(); i++) {
            assertArrayEquals(bits(eager.tensors().get(i)), bits(graphed.tensors().get(i)), what + ": tensor " + i + " bit for bit");
        }
        assertEquals(eager.steps(), graphed.steps(), what + ": the optimizer's step count (what a checkpoint saves)");
        assertEquals(eager.epochs(), graphed.epochs(), what + ": the epochs' losses");
        assertEquals(eager.random(), graphed.random(), what + ": the random state (what a checkpoint saves)");
        assertEquals(List.of(), eager.notices());
        assertEquals(1, graphed.notices().size(), graphed.notices().toString());
        assertTrue(graphed.notices().get(0).startsWith("CUDA graphs: the training step is CUDA graph of "), graphed.notices().get(0));
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    @Test
    void capturedStepsEqualEagerStepsBitForBit() throws IOException {
        ModelSpec mlp = ModelSpec.mlp(784, new int[] {64, 32}, 10);
        BiFunction<List<Var>, Double, Optimizer> momentum = (p, lr) -> new Sgd(p, lr, 0.9, true, 1e-4);
        BiFunction<List<Var>, Double, Optimizer> adam = Adam::new;
        assertSameRun(fit(mlp, momentum, false, CudaTestDevice.DEVICE), fit(mlp, momentum, true, CudaTestDevice.DEVICE),
                "mlp, Nesterov SGD with weight decay");
        assertSameRun(fit(mlp, adam, false, CudaTestDevice.DEVICE), fit(mlp, adam, true, CudaTestDevice.DEVICE), "mlp, Adam");
        assertSameRun(fit(ModelSpec.logreg(784, 10), Sgd::new, false, CudaTestDevice.DEVICE),
                fit(ModelSpec.logreg(784, 10), Sgd::new, true, CudaTestDevice.DEVICE), "logreg, SGD");
    }

    /**
     * A replayed step's cost, between two listener calls two steps apart minus one step apart (the read-back
     * cancels): one graph launch running the whole step, the batch copied into the graph's inputs, nothing
     * synchronised, nothing allocated.
     */
    @Test
    void aCapturedStepIsOneLaunchWithoutSynchronisation() throws IOException {
        for (ModelSpec spec : List.of(ModelSpec.logreg(784, 10), ModelSpec.mlp(784, new int[] {1024, 1024}, 10))) {
            SimulatorTrace.Counts one = SimulatorStepTraceTest.fitWindows(spec, 0.05, 1, true)[0];     // replays: captured at step 3
            SimulatorTrace.Counts step = SimulatorStepTraceTest.fitWindows(spec, 0.05, 2, true)[0].minus(one);
            System.out.printf("SimulatorCudaGraphTrainingTest: %s, one captured step (batch 64, SGD): %d graph launch running %d kernels"
                    + " and %d GEMMs; host-issued %d kernels, %d D2D, %d H2D, %d D2H, %d host syncs, %d allocations%n", spec,
                    step.graphLaunches(), step.graphKernels(), step.graphGemms(), step.kernels(), step.copiesOnDevice(),
                    step.copiesToDevice(), step.copiesToHost(), step.hostSyncs(), step.allocations());
            assertEquals(1, step.graphLaunches(), spec + ": the step is one launch");
            assertEquals(0, step.gemms(), spec + ": no host-issued GEMM");
            assertTrue(step.kernels() + step.copiesOnDevice() <= 2, spec + ": only the batch's copy into the graph's inputs: " + step);
            assertEquals(2, step.copiesToDevice(), spec + ": the next batch's upload (features, labels)");
            assertEquals(0, step.copiesToHost(), spec + ": nothing read back");
            assertEquals(0, step.hostSyncs(), spec + ": no host synchronisation");
            assertEquals(0, step.allocations(), spec + ": no driver allocation");
            assertTrue(step.graphReplayLaunches() > 0, spec + ": the replay runs the step");
        }
    }

    /** 784 -> 32, ReLU, dropout p = 0.25 (layer "2"), -> 10; the dropout draws on {@code device} when it can. */
    private static Sequential dropoutMlp(Device device) {
        return new Sequential(new Linear(784, 32, Init.XAVIER_UNIFORM, 1, DType.FLOAT32, device), new ReLU(),
                new Dropout(0.25, 7, device), new Linear(32, 10, Init.XAVIER_UNIFORM, 2, DType.FLOAT32, device));
    }

    /** 784 -> 32, batch norm (its fused kernels and the running statistics' update), ReLU, -> 10. */
    private static Sequential batchNormMlp(Device device) {
        return new Sequential(new Linear(784, 32, Init.XAVIER_UNIFORM, 1, DType.FLOAT32, device),
                new BatchNorm1d(32, DType.FLOAT32, device), new ReLU(), new Linear(32, 10, Init.XAVIER_UNIFORM, 2, DType.FLOAT32, device));
    }

    /**
     * Batch normalisation is captured too (its primitive's kernels, the running statistics' update and
     * num_batches_tracked's increment read nothing back): with and without graphs the same parameters, Adam's
     * moments, running statistics and batch count bit for bit, and the same epoch losses.
     */
    @Test
    void batchNormIsCapturedAndReplaysTheEagerSteps() throws IOException {
        BiFunction<List<Var>, Double, Optimizer> adam = Adam::new;
        Run eager = fit("batch-norm mlp", () -> batchNormMlp(CudaTestDevice.DEVICE), adam, false, CudaTestDevice.DEVICE);
        Run graphed = fit("batch-norm mlp", () -> batchNormMlp(CudaTestDevice.DEVICE), adam, true, CudaTestDevice.DEVICE);
        assertSameRun(eager, graphed, "mlp with batch norm, Adam");
        float[] batches = eager.tensors().get(eager.tensors().size() - 1);
        assertEquals(14f, batches[0], "num_batches_tracked: 2 epochs of 7 batches, replays included");
    }

    /**
     * Dropout created for its CUDA device keeps its mask counter in device memory, so the step is captured and
     * each replay draws the next mask: with and without graphs the same parameters, momentum buffers, step count,
     * epoch losses and random state bit for bit (2 epochs of 6 full batches and a short one: 14 masks).
     */
    @Test
    void dropoutOnItsDeviceIsCapturedAndReplaysDrawTheEagerMasks() throws IOException {
        BiFunction<List<Var>, Double, Optimizer> momentum = (p, lr) -> new Sgd(p, lr, 0.9, false, 0);
        Run eager = fit("dropout mlp", () -> dropoutMlp(CudaTestDevice.DEVICE), momentum, false, CudaTestDevice.DEVICE);
        Run graphed = fit("dropout mlp", () -> dropoutMlp(CudaTestDevice.DEVICE), momentum, true, CudaTestDevice.DEVICE);
        assertSameRun(eager, graphed, "mlp with dropout, SGD with momentum");
        assertEquals(Map.of("2.seed", 7L, "2.calls", 14L), graphed.random(), "one mask per training step, replays included");
        // The host-counter run on the CPU draws the same masks: the same random state, and the same epoch losses
        // to float32 rounding of a different matmul.
        Run cpu = fit("dropout mlp", () -> dropoutMlp(Device.CPU), momentum, false, Device.CPU);
        assertEquals(graphed.random(), cpu.random());
        for (int e = 0; e < 2; e++) {
            assertEquals(cpu.epochs().get(e).trainLoss(), graphed.epochs().get(e).trainLoss(), 1e-4, "epoch " + e + "'s loss");
        }
    }

    /**
     * A graph of one dropout forward, replayed: every replay draws the next mask (mask n + 1 after mask n,
     * each the host's composed mask of that number), and the counter the host reads back counts the replays.
     */
    @Test
    void replaysOfADropoutDrawNewMasks() {
        long golden = 0x9E3779B97F4A7C15L;
        LeakCheck leak = LeakCheck.start();
        try (Dropout d = new Dropout(0.5, 3, CudaTestDevice.DEVICE);
             Tensor x = Tensor.on(CudaTestDevice.DEVICE).ones(DType.FLOAT32, 40, 33).keepForever();
             Tensor out = Tensor.on(CudaTestDevice.DEVICE).empty(DType.FLOAT32, 40, 33).keepForever()) {
            assertTrue(d.drawsOnDevice());
            try (Scope s = Scope.open()) {
                d.forward(Var.constant(x)); // mask 1, eagerly
            }
            CapturedWork graph = x.backend().capture(() -> {
                try (Scope s = Scope.open()) {
                    out.assign(d.forward(Var.constant(x)).value());
                }
            }).orElseThrow();
            try (graph) {
                assertEquals(1L, d.randomState().get("calls"), "the capture itself draws nothing");
                List<float[]> masks = new ArrayList<>();
                for (int replay = 0; replay < 3; replay++) {
                    graph.replay();
                    masks.add(out.toFloatArray());
                }
                for (int n = 0; n < 3; n++) {
                    try (Scope s = Scope.open()) {
                        float[] host = Dropout.apply(Var.constant(Tensor.on(Device.CPU).ones(DType.FLOAT32, 40, 33)), 0.5,
                                3 + golden * (n + 2)).value().toFloatArray();
                        assertArrayEquals(bits(host), bits(masks.get(n)), "replay " + (n + 1) + " draws mask " + (n + 2));
                    }
                }
                assertTrue(!Arrays.equals(masks.get(0), masks.get(1)) && !Arrays.equals(masks.get(1), masks.get(2)),
                        "each replay a new mask");
                assertEquals(Map.of("seed", 3L, "calls", 4L), d.randomState(), "1 eager draw and 3 replays");
            }
        }
        leak.assertNoLeak("a dropout's device state and graph");
    }

    /**
     * A run resumed from its random state (and parameters and optimizer state) after epoch 0 into a fresh
     * model continues exactly as the uninterrupted run: loadRandomState writes the device counter that the
     * replays read.
     */
    @Test
    void aResumedDropoutRunContinuesIdentically() throws IOException {
        Run whole = fit("dropout mlp", () -> dropoutMlp(CudaTestDevice.DEVICE), Sgd::new, true, CudaTestDevice.DEVICE);
        List<Tensor> params = new ArrayList<>();
        Map<String, Long> random;
        try (Sequential first = build(() -> dropoutMlp(CudaTestDevice.DEVICE)); Sgd opt = new Sgd(first.parameters(), 0.05)) {
            new Trainer(first, opt, e -> e == 0 ? 0.05 : 0.02, null).cudaGraphs(true).fit(loader(CudaTestDevice.DEVICE), null, 0, 1);
            first.parameters().forEach(p -> params.add(p.value().copy().keepForever()));
            random = first.randomState();
            assertEquals(Map.of("2.seed", 7L, "2.calls", 7L), random, "after epoch 0");
        }
        List<float[]> resumed = new ArrayList<>();
        Map<String, Long> endRandom;
        try (Sequential second = build(() -> dropoutMlp(CudaTestDevice.DEVICE)); Sgd opt = new Sgd(second.parameters(), 0.05)) {
            for (int i = 0; i < params.size(); i++) {
                second.parameters().get(i).value().assign(params.get(i));
                params.get(i).close();
            }
            opt.overrideStepCount(7);
            second.loadRandomState(random);
            List<String> notices = new ArrayList<>();
            new Trainer(second, opt, e -> e == 0 ? 0.05 : 0.02, new Trainer.Listener() {
                @Override
                public void notice(String message) {
                    notices.add(message);
                }
            }).cudaGraphs(true).fit(loader(CudaTestDevice.DEVICE), null, 1, 2);
            assertTrue(notices.size() == 1 && notices.get(0).startsWith("CUDA graphs: the training step is CUDA graph of "), notices.toString());
            second.parameters().forEach(p -> resumed.add(p.value().toFloatArray()));
            endRandom = second.randomState();
            opt.zeroGrad();
        }
        assertEquals(whole.random(), endRandom, "the resumed run's random state");
        for (int i = 0; i < resumed.size(); i++) {
            assertArrayEquals(bits(whole.tensors().get(i)), bits(resumed.get(i)), "parameter " + i + " bit for bit");
        }
    }

    private static Sequential build(Supplier<Sequential> build) {
        try (Scope s = Scope.open()) {
            return build.get();
        }
    }

    /**
     * Dropout is captured when it draws on the device; dropout counting on the host, a read inside the step and
     * the CPU run eagerly, saying why.
     */
    @Test
    void dropoutIsCapturedWhileHostCountersReadsAndTheCpuRunEagerlySayingWhy() throws IOException {
        for (boolean onDevice : new boolean[] {true, false}) {
            Sequential withDropout;
            try (Scope s = Scope.open()) {
                withDropout = new Sequential(new Linear(784, 10, Init.XAVIER_UNIFORM, 1, DType.FLOAT32,
                        CudaTestDevice.DEVICE), onDevice ? new Dropout(0.25, 7, CudaTestDevice.DEVICE) : new Dropout(0.25, 7));
            }
            List<String> notices = new ArrayList<>();
            try (withDropout; Sgd opt = new Sgd(withDropout.parameters(), 0.05)) {
                assertEquals(onDevice, withDropout.drawsOnDevice());
                LeakCheck leak = LeakCheck.start();
                new Trainer(withDropout, opt, null, new Trainer.Listener() {
                    @Override
                    public void notice(String message) {
                        notices.add(message);
                    }
                }).cudaGraphs(true).fit(loader(CudaTestDevice.DEVICE), null, 0, 1);
                opt.zeroGrad();
                leak.assertNoLeak("a fit with dropout and graphs on");
                assertEquals(Map.of("1.seed", 7L, "1.calls", 7L), withDropout.randomState());
            }
            assertEquals(1, notices.size(), notices.toString());
            assertTrue(notices.get(0).startsWith(onDevice ? "CUDA graphs: the training step is CUDA graph of "
                    : "CUDA graphs: off, the steps run eagerly: the model draws random numbers on the host (1.seed, 1.calls):"
                    + " a graph would replay the same dropout masks every step (create Dropout with its device"), notices.get(0));
        }

        Sequential reads = new Sequential(new Linear(784, 10, Init.XAVIER_UNIFORM, 1, DType.FLOAT32, CudaTestDevice.DEVICE),
                new Module() {
                    @Override
                    public Var forward(Var x) {
                        if (Double.isNaN(x.value().sum().item())) { // a read inside the step: a host synchronisation
                            throw new IllegalStateException("NaN logits");
                        }
                        return x;
                    }
                });
        List<String> readNotices = new ArrayList<>();
        long eagerSteps;
        try (reads; Sgd opt = new Sgd(reads.parameters(), 0.05)) {
            new Trainer(reads, opt, null, new Trainer.Listener() {
                @Override
                public void notice(String message) {
                    readNotices.add(message);
                }
            }).cudaGraphs(true).fit(loader(CudaTestDevice.DEVICE), null, 0, 1);
            eagerSteps = opt.steps();
        }
        assertEquals(7, eagerSteps, "the failed capture's step is not counted, the eager step that follows is");
        assertEquals(1, readNotices.size(), readNotices.toString());
        assertTrue(readNotices.get(0).startsWith("CUDA graphs: off, the steps run eagerly: graph capture on cuda:0 failed")
                && readNotices.get(0).contains("download of float32[] on cuda:0 inside a graph capture"), readNotices.get(0));

        Run cpu = fit(ModelSpec.logreg(784, 10), Sgd::new, true, Device.CPU);
        assertEquals(List.of("CUDA graphs: off, the steps run eagerly: the cpu backend cannot capture graphs"), cpu.notices());
        Run cpuEager = fit(ModelSpec.logreg(784, 10), Sgd::new, false, Device.CPU);
        for (int i = 0; i < cpu.tensors().size(); i++) {
            assertArrayEquals(bits(cpuEager.tensors().get(i)), bits(cpu.tensors().get(i)));
        }
    }
}
