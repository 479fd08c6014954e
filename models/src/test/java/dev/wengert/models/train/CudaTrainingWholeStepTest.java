package dev.wengert.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.autograd.Var;
import dev.wengert.models.optim.Adam;
import dev.wengert.models.optim.Optimizer;
import dev.wengert.models.optim.Sgd;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.cuda.SimulatorTrace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole-step kernels on CUDA (optim.cuh: every parameter in one launch, lr and Adam's step count read
 * from device scalars that the launch advances; the loss watch in one in-place launch) against the composed
 * versions that the CPU runs: several steps of every optimizer setting in float32 and float64, with a
 * parameter that has no gradient, an lr change between steps, and a run resumed mid-way through
 * {@code loadState}, which must continue bit for bit. On a GPU and, in every build, on the CUDA simulator.
 */
class CudaTrainingWholeStepTest {
    private static final int[][] SHAPES = {{33}, {1}, {7, 5}, {40, 30}, {300}, {3, 1}};
    private static final int NO_GRAD = 2;

    @BeforeEach
    void requireCuda() {
        CudaTestDevice.assumeUsable("CudaTrainingWholeStepTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("CudaTrainingWholeStepTest");
    }

    private static List<Var> params(int[][] shapes, DType dt, Device device) {
        List<Var> ps = new ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
            try (Scope s = Scope.open()) {
                ps.add(Var.param(Tensor.on(Device.CPU).uniform(-1, 1, 100 + i, dt, shapes[i]).to(device).keepForever()));
            }
        }
        return ps;
    }

    /** Sets each parameter's gradient (but {@link #NO_GRAD}'s) to a seeded tensor of step {@code step}, then steps. */
    private static void step(Optimizer opt, int[][] shapes, DType dt, int step) {
        try (Scope s = Scope.open()) {
            opt.zeroGrad();
            for (int i = 0; i < shapes.length; i++) {
                if (i != NO_GRAD) {
                    Var p = opt.params().get(i);
                    Tensor g = Tensor.on(Device.CPU).uniform(-1, 1, 1000 * step + i, dt, shapes[i]).to(p.value().device());
                    p.mul(Var.constant(g)).sum().backward();
                }
            }
            opt.step();
            opt.zeroGrad();
        }
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i])), what + " element " + i + ": " + e[i] + " vs " + a[i]);
        }
    }

    /**
     * Five steps of {@code make}'s optimizer on the CPU (composed) and on CUDA (whole-step kernels), the lr
     * halved before step 3, and a third optimizer on CUDA resumed from the CUDA one's state after step 2.
     */
    private static void compare(String what, int[][] shapes, DType dt, double lr, Function<List<Var>, Optimizer> make) {
        double tol = dt == DType.FLOAT64 ? 1e-12 : 2e-5;
        Device cuda = CudaTestDevice.DEVICE;
        List<Var> cpuParams = params(shapes, dt, Device.CPU);
        List<Var> cudaParams = params(shapes, dt, cuda);
        List<Var> resumedParams = null;
        Optimizer resumed = null;
        try (Optimizer cpu = make.apply(cpuParams); Optimizer gpu = make.apply(cudaParams)) {
            cpu.setLr(lr);
            gpu.setLr(lr);
            for (int s = 1; s <= 5; s++) {
                if (s == 3) {
                    cpu.setLr(lr / 2);
                    gpu.setLr(lr / 2);
                    resumedParams = new ArrayList<>();
                    for (Var p : cudaParams) {
                        resumedParams.add(Var.param(p.value().copy().keepForever()));
                    }
                    resumed = make.apply(resumedParams);
                    Map<String, Tensor> saved = new HashMap<>();
                    try (Scope sc = Scope.open()) {
                        gpu.state().forEach((k, t) -> saved.put(k, t.to(Device.CPU).keepForever()));
                        resumed.loadState(saved, gpu.steps());
                    }
                    saved.values().forEach(Tensor::close);
                    resumed.setLr(gpu.lr());
                }
                step(cpu, shapes, dt, s);
                step(gpu, shapes, dt, s);
                if (resumed != null) {
                    step(resumed, shapes, dt, s);
                }
            }
            assertEquals(5, gpu.steps());
            assertEquals(5, resumed.steps());
            for (int i = 0; i < shapes.length; i++) {
                assertClose(cpuParams.get(i).value(), cudaParams.get(i).value(), tol, what + " " + dt + ", parameter " + i);
                assertArrayEquals(cudaParams.get(i).value().toDoubleArray(), resumedParams.get(i).value().toDoubleArray(),
                        what + " " + dt + ", parameter " + i + ": the run resumed after step 2 continues bit for bit");
            }
            assertArrayEquals(cpuParams.get(NO_GRAD).value().toDoubleArray(),
                    Tensor.on(Device.CPU).uniform(-1, 1, 100 + NO_GRAD, dt, shapes[NO_GRAD]).toDoubleArray(),
                    what + ": the parameter without a gradient is untouched");
            assertEquals(cpu.state().keySet(), gpu.state().keySet(), what + ": PyTorch's state names");
            for (String k : cpu.state().keySet()) {
                assertClose(cpu.state().get(k), gpu.state().get(k), tol, what + " " + dt + ", state " + k);
                assertArrayEquals(gpu.state().get(k).toDoubleArray(), resumed.state().get(k).toDoubleArray(), what + ", resumed " + k);
            }
        } finally {
            if (resumed != null) {
                resumed.close();
            }
            for (List<Var> l : new List[] {cpuParams, cudaParams, resumedParams}) {
                if (l != null) {
                    l.forEach(p -> p.value().close());
                }
            }
        }
    }

    @Test
    void sgdInEverySettingMatchesTheComposedCpuUpdate() {
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            compare("plain SGD", SHAPES, dt, 0.1, ps -> new Sgd(ps, 0.1));
            compare("SGD with weight decay", SHAPES, dt, 0.1, ps -> new Sgd(ps, 0.1, 0, false, 0.01));
            compare("SGD with momentum and weight decay", SHAPES, dt, 0.1, ps -> new Sgd(ps, 0.1, 0.9, false, 0.01));
            compare("Nesterov SGD", SHAPES, dt, 0.1, ps -> new Sgd(ps, 0.1, 0.9, true, 0));
        }
    }

    @Test
    void adamAndAdamWMatchTheComposedCpuUpdate() {
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            compare("Adam", SHAPES, dt, 0.01, ps -> new Adam(ps, 0.01));
            compare("Adam with L2", SHAPES, dt, 0.01, ps -> new Adam(ps, 0.01, 0.9, 0.999, 1e-8, 0.05, false));
            compare("AdamW", SHAPES, dt, 0.01, ps -> Adam.adamW(ps, 0.01, 0.05));
        }
    }

    /** 37 parameters: two launches per step (32 + 5), and Adam's device step count still advances once per step. */
    @Test
    void moreParametersThanOneLaunchTakesAreChunked() {
        int[][] shapes = new int[37][];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = new int[] {1 + (i * 7) % 19};
        }
        SimulatorTrace.reset();
        compare("Adam over 37 parameters", shapes, DType.FLOAT32, 0.01, ps -> new Adam(ps, 0.01));
        compare("momentum SGD over 37 parameters", shapes, DType.FLOAT64, 0.1, ps -> new Sgd(ps, 0.1, 0.9, false, 0));
        if (CudaTestDevice.SIMULATOR_RUN) {
            Map<String, Long> k = SimulatorTrace.kernelCounts();
            assertEquals(2L * (5 + 3), k.get("optim_adam_f32"),
                    "2 launches per step for 36 parameters with a gradient: 5 steps, and 3 of the resumed optimizer");
            assertEquals(2L * (5 + 3), k.get("optim_sgd_f64"));
        }
    }

    /** The CUDA loss watch (one in-place launch per step) against the composed one, through inf and NaN. */
    @Test
    void theLossWatchKernelMatchesTheComposedWatch() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double[][] steps = {{2.5, 1}, {1.25, 0.5}, {3, 1}, {Double.POSITIVE_INFINITY, 1}, {4, 1}, {Double.NaN, 0.25}};
            for (int startNaN = 0; startNaN < 2; startNaN++) {
                try (Trainer.LossWatch fused = new Trainer.LossWatch(Tensor.on(CudaTestDevice.DEVICE), dt);
                     Trainer.LossWatch composed = new Trainer.LossWatch(Tensor.on(CudaTestDevice.DEVICE), dt, false)) {
                    Tensor sum = fused.sum;
                    Tensor current = fused.current;
                    for (int i = startNaN == 1 ? 5 : 0; i < steps.length; i++) {
                        try (Scope s = Scope.open()) {
                            Tensor loss = Tensor.on(CudaTestDevice.DEVICE).full(steps[i][0], dt);
                            fused.add(loss, steps[i][1]);
                            composed.add(loss, steps[i][1]);
                        }
                        double[] f = fused.read(fused.sum, fused.finiteSteps, fused.current);
                        double[] c = composed.read(composed.sum, composed.finiteSteps, composed.current);
                        assertArrayEquals(c, f, dt + " step " + (i + 1) + ": sum, finite steps, current");
                    }
                    assertSame(sum, fused.sum);
                    assertSame(current, fused.current, "the kernel writes in place: a replayed graph reads the same tensors");
                    double[] end = fused.read(fused.finiteSteps, fused.current);
                    assertEquals(startNaN == 1 ? 0 : 3, end[0]);
                    assertTrue(startNaN == 1 ? Double.isNaN(end[1]) : end[1] == Double.POSITIVE_INFINITY, "frozen at the loss that ended the finite sum");
                }
            }
        }
        assertNull(dev.wengert.tensor.Backends.of(Device.CPU).fused(dev.wengert.tensor.FusedKernel.LOSS_WATCH).orElse(null),
                "the CPU runs the composed watch");
    }

    /**
     * fit on CUDA (the loss watch kernel, the whole-step SGD) stops a diverging run naming the first
     * non-finite step, the one that Trainer.step's read-backs find, whether the listener reads every step or never.
     */
    @Test
    void aDivergingRunOnCudaNamesTheFirstNonFiniteStep() throws java.io.IOException {
        Device cuda = CudaTestDevice.DEVICE;
        dev.wengert.models.data.BatchLoader train = dev.wengert.models.data.BatchLoader.of(
                dev.wengert.models.data.MnistData.embedded().train(), 64, true, 42, cuda);
        dev.wengert.models.zoo.ModelSpec spec = dev.wengert.models.zoo.ModelSpec.mlp(784, new int[] {32, 32}, 10);
        double lr = 1e5;
        int firstBad = 0;
        double badLoss = 0;
        try (dev.wengert.models.nn.Sequential model = build(spec, cuda); Sgd opt = new Sgd(model.parameters(), lr)) {
            Trainer t = new Trainer(model, opt, null, null);
            dev.wengert.models.data.BatchLoader.Epoch epoch = train.epoch(0);
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
        for (int interval : new int[] {0, 1}) {
            Trainer.Listener every = new Trainer.Listener() {
                @Override
                public int stepInterval() {
                    return 1;
                }
            };
            try (dev.wengert.models.nn.Sequential model = build(spec, cuda); Sgd opt = new Sgd(model.parameters(), lr)) {
                TrainingDivergedException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingDivergedException.class,
                        () -> new Trainer(model, opt, null, interval == 0 ? null : every).fit(train, null, 0, 1));
                assertEquals(firstBad, e.step(), "interval " + interval);
                assertEquals(badLoss, e.loss(), "interval " + interval);
                model.zeroGrad();
            }
        }
    }

    private static dev.wengert.models.nn.Sequential build(dev.wengert.models.zoo.ModelSpec spec, Device device) {
        try (Scope s = Scope.open()) {
            return spec.build(42, DType.FLOAT32, device);
        }
    }
}
