package dev.wengert.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.BackendContractTest;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.CounterRandom;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.LeakCheck;
import dev.wengert.tensor.MemoryStats;
import dev.wengert.tensor.RandomKind;
import dev.wengert.tensor.ReduceOp;
import dev.wengert.tensor.Ref;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.UnaryOp;
import dev.wengert.tensor.spi.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backend contract on a CUDA device (system property wengert.test.cuda, default 0), plus what only
 * CUDA has: two-pass reductions, device-side error reporting, the caching allocator, TF32 and the fused
 * kernels against their composed references. Every comparison is with plain Java ({@link Ref},
 * {@link CounterRandom}), so it runs with no ND4J on the class path. Runs on a GPU and, in every build, on
 * the CUDA simulator ({@link CudaTestDevice}); there the simulator's memory and stream checkers must
 * report no fault over the whole suite.
 */
class CudaBackendTest extends BackendContractTest {
    private static final Device DEVICE = CudaTestDevice.DEVICE;

    @BeforeEach
    void requireCuda() {
        CudaTestDevice.assumeUsable("CudaBackendTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("CudaBackendTest");
    }

    @Override
    protected Device device() {
        return DEVICE;
    }

    private static void close(Ref expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape, actual.shape(), "shape");
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            double e = expected.v[i];
            double err = Math.abs(e - a[i]) / Math.max(1, Math.abs(e));
            assertTrue(err <= tol || (Double.isNaN(e) && Double.isNaN(a[i])), "element " + i + ": expected " + e + ", got " + a[i]);
        }
    }

    @Test
    void randomMatchesCounterRandom() {
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double[] n = on().normal(0.5, 2, 11, dt, 5000).toDoubleArray();
            double[] u = on().uniform(-1, 3, 12, dt, 5000).toDoubleArray();
            for (int i = 0; i < n.length; i++) {
                double en = CounterRandom.sample(RandomKind.NORMAL, 0.5, 2, 11, i);
                double eu = CounterRandom.sample(RandomKind.UNIFORM, -1, 3, 12, i);
                if (dt == DType.FLOAT32) {
                    en = (float) en;
                    eu = (float) eu;
                }
                assertEquals(en, n[i], Math.max(1, Math.abs(en)) * 1e-12, "normal " + i + " " + dt);
                assertEquals(eu, u[i], Math.max(1, Math.abs(eu)) * 1e-12, "uniform " + i + " " + dt);
            }
        }
    }

    @Test
    void longReductionsUseTwoPassesAndStayAccurate() {
        int n = 1 << 22;
        Tensor x = on().uniform(-1, 1, 5, DType.FLOAT64, n);
        double[] v = x.toDoubleArray();
        double sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (double d : v) {
            sum += d;
            max = Math.max(max, d);
        }
        assertEquals(sum, x.sum().item(), 1e-9);
        assertEquals(max, x.max().item(), 0);
        Tensor cols = x.reshape(65536, 64);
        close(new Ref(v, 65536, 64).reduce(ReduceOp.SUM, 0), cols.sum(true, 0), 1e-12);
        Tensor mid = x.reshape(4, 16384, 64);
        close(new Ref(v, 4, 16384, 64).reduce(ReduceOp.MAX, 1), mid.max(true, 1), 0);
        close(new Ref(v, 4, 16384, 64).reduce(ReduceOp.SUM, 0, 2), mid.sum(true, 0, 2), 1e-12);
        Tensor f = x.cast(DType.FLOAT32);
        assertEquals(sum, f.sum().item(), 1e-1, "float32 sum of 4M uniforms");
        Tensor withNan = on().of(new double[] {1, Double.NaN, 3, 2}, 2, 2);
        assertTrue(Double.isNaN(withNan.max().item()), "max propagates NaN");
        Tensor longs = on().of(new long[] {(1L << 60), 5, -7, 1L << 40});
        assertEquals((1L << 60) + 5 - 7 + (1L << 40), longs.sum().cast(DType.INT64).toLongArray()[0], "int64 sums are exact");
    }

    @Test
    void deviceErrorsSurfaceAtTheNextRead() {
        Tensor x = on().of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor bad = x.gather(1, on().of(new long[] {7, 0}, 2, 1)); // queued: no exception yet
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, bad::toDoubleArray);
        assertTrue(e.getMessage().contains("gather") && e.getMessage().contains("7"), e.getMessage());
        assertArrayEquals(new double[] {3, 4}, x.gather(1, on().of(new long[] {2, 0}, 2, 1)).toDoubleArray(), "error cleared");
        Tensor i = on().of(new long[] {1, 2});
        ArithmeticException div = assertThrows(ArithmeticException.class, () -> i.div(on().of(new long[] {1, 0})).toLongArray());
        assertTrue(div.getMessage().contains("division by zero"), div.getMessage());
    }

    @Test
    void cachingAllocatorReusesBlocksAndReportsOutOfMemory() {
        CudaBackend be = (CudaBackend) Backends.of(DEVICE);
        for (int step = 0; step < 3; step++) {
            try (Scope s = Scope.open()) {
                on().zeros(DType.FLOAT32, 1000, 1000).add(1).sum().item();
            }
        }
        MemoryStats warm = be.memoryStats();
        LeakCheck steps = LeakCheck.start();
        for (int step = 0; step < 50; step++) {
            try (Scope s = Scope.open()) {
                on().zeros(DType.FLOAT32, 1000, 1000).add(1).sum().item();
            }
        }
        MemoryStats after = be.memoryStats();
        assertEquals(warm.reservedBytes(), after.reservedBytes(), "steady state makes no new driver allocations");
        steps.assertNoLeak("50 scoped steps");
        assertTrue(after.peakAllocatedBytes() >= 4_000_000);
        be.releaseCache();
        assertTrue(be.memoryStats().reservedBytes() < after.reservedBytes(), "releaseCache returns cached blocks");
        List<Tensor> held = new ArrayList<>(); // 17 GB each until the device is full
        try {
            DeviceOutOfMemoryException oom = assertThrows(DeviceOutOfMemoryException.class, () -> {
                for (int i = 0; i < 64; i++) {
                    held.add(Tensors.empty(be, DType.FLOAT64, Integer.MAX_VALUE - 7));
                }
            });
            assertTrue(oom.getMessage().contains("requested") && oom.getMessage().contains(DEVICE.toString()), oom.getMessage());
        } finally {
            held.forEach(Tensor::close);
            be.releaseCache();
        }
        assertEquals(1.0, on().ones(DType.FLOAT32, 4).max().item(), "usable after an out-of-memory error");
    }

    @Test
    void tf32IsOptInPerBackend() {
        CudaBackend be = (CudaBackend) Backends.of(DEVICE);
        assertTrue(!be.isTf32Enabled() || Boolean.getBoolean("wengert.cuda.tf32"), "off by default");
        boolean initially = be.isTf32Enabled();
        be.setTf32Enabled(false);
        Tensor a = on().uniform(-1, 1, 1, DType.FLOAT32, 256, 256);
        Tensor b = on().uniform(-1, 1, 2, DType.FLOAT32, 256, 256);
        Ref exact = Ref.matmul(Ref.of(a), false, Ref.of(b), false);
        try {
            Tensor full = a.matmul(b);
            close(exact, full, 1e-4);
            be.setTf32Enabled(true);
            assertTrue(be.isTf32Enabled());
            Tensor tf32 = a.matmul(b);
            close(exact, tf32, 5e-2); // about 10 mantissa bits
            double[] f = full.toDoubleArray();
            double[] t = tf32.toDoubleArray();
            double worst = 0;
            for (int i = 0; i < f.length; i++) {
                worst = Math.max(worst, Math.abs(f[i] - t[i]));
            }
            assertTrue(worst > 1e-5, "TF32 rounds the inputs (largest difference from float32 " + worst + ")");
            close(exact, a.cast(DType.FLOAT64).matmul(b.cast(DType.FLOAT64)), 1e-12);   // float64 never uses TF32
        } finally {
            be.setTf32Enabled(initially);
        }
    }

    @Test
    void batchedTransposeAndAccumulatingMatmul() {
        Tensor x = on().uniform(-1, 1, 3, DType.FLOAT64, 3, 65, 33);
        close(Ref.of(x).permute(0, 2, 1), x.transpose(), 0);
        close(Ref.of(x).permute(1, 0, 2), x.permute(1, 0, 2), 0);
        Tensor a = on().uniform(-1, 1, 4, DType.FLOAT64, 5, 7);
        Tensor b = on().uniform(-1, 1, 5, DType.FLOAT64, 7, 3);
        Tensor out = a.matmul(b);
        Ref once = Ref.matmul(Ref.of(a), false, Ref.of(b), false);
        out.backend().matmul(a, false, b, false, out, true);
        close(Ref.binary(dev.wengert.tensor.BinaryOp.ADD, once, once), out, 1e-12);
    }

    /** CUDA registers a kernel for every fused kernel key: its users never fall back to a composed version. */
    @Test
    void registersEveryFusedKernel() {
        assertEquals(List.of(FusedKernel.SOFTMAX_XENT_FWD, FusedKernel.SOFTMAX_XENT_BWD, FusedKernel.SOFTMAX_XENT_MEAN,
                FusedKernel.BIAS_ACT, FusedKernel.BIAS_ACT_BACKWARD, FusedKernel.SGD_MOMENTUM, FusedKernel.ADAM,
                FusedKernel.OPTIMIZER_SCALARS, FusedKernel.SGD_ALL, FusedKernel.ADAM_ALL, FusedKernel.LOSS_WATCH,
                FusedKernel.BATCH_NORM, FusedKernel.BATCH_NORM_BACKWARD, FusedKernel.BATCH_NORM_RUNNING_STATS, FusedKernel.DROPOUT_MASK), List.copyOf(Backends.of(DEVICE).fusedKernels().keys()));
    }

    /**
     * The dropout mask drawn from device state {seed, calls, ticket} is, bit for bit, the composed draw of
     * nn.Dropout (rand of seed + golden * draw, >= p, times 1/(1-p)) for float32 and float64, empty, one
     * element, sizes that are no multiple of the block and beyond the grid, and a matrix; each draw advances
     * calls by one (an empty one too) without a read of the state on the host; a state the host rewrites (a
     * resumed checkpoint) continues from there; bad operands are refused naming them.
     */
    @Test
    void dropoutMaskDrawsTheComposedMasksFromDeviceState() {
        long golden = 0x9E3779B97F4A7C15L;
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            long seed = dt == DType.FLOAT32 ? 7 : -3;
            double p = dt == DType.FLOAT32 ? 0.5 : 0.3;
            Tensor state = on().of(new long[] {seed, 0, 0});
            long draws = 0;
            for (int[] shape : new int[][] {{0}, {1}, {257}, {1003}, {9000}, {37, 19}}) {
                Tensor mask = Tensors.empty(state.backend(), dt, shape);
                CudaFused.dropoutMask(state, p, mask);
                draws++;
                Tensor composed = on().rand(seed + golden * draws, dt, shape).apply(dev.wengert.tensor.BinaryOp.GE, p)
                        .applyInPlace(dev.wengert.tensor.BinaryOp.MUL, 1 / (1 - p));
                assertArrayEquals(composed.toDoubleArray(), mask.toDoubleArray(), dt + " " + java.util.Arrays.toString(shape)
                        + ": the composed mask of draw " + draws);
                assertArrayEquals(new long[] {seed, draws, 0}, state.toLongArray(), "one advance per draw");
                if (mask.numel() == 9000) {
                    long dropped = java.util.Arrays.stream(mask.toDoubleArray()).filter(v -> v == 0).count();
                    assertTrue(Math.abs(dropped / 9000.0 - p) < 0.03, dropped + " of 9000 dropped at p = " + p);
                }
            }
            state.backend().upload(new long[] {seed, 41, 0}, state);  // a resumed checkpoint's state
            Tensor mask = Tensors.empty(state.backend(), dt, 300);
            CudaFused.dropoutMask(state, p, mask);
            Tensor composed = on().rand(seed + golden * 42, dt, 300).apply(dev.wengert.tensor.BinaryOp.GE, p)
                    .applyInPlace(dev.wengert.tensor.BinaryOp.MUL, 1 / (1 - p));
            assertArrayEquals(composed.toDoubleArray(), mask.toDoubleArray(), "after calls = 41 the next mask is number 42");
            assertEquals(42, state.toLongArray()[1]);
        }
        Tensor state = on().of(new long[] {1, 0, 0});
        Tensor mask = Tensors.empty(state.backend(), DType.FLOAT32, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaFused.dropoutMask(state, 0, mask));
        assertTrue(e.getMessage().contains("p must be in (0, 1), got 0.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.dropoutMask(on().of(new long[] {1, 0}), 0.5, mask));
        assertTrue(e.getMessage().startsWith("dropoutMask: needs a float mask and the int64[3] state {seed, calls, ticket}")
                && e.getMessage().contains("int64[2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.dropoutMask(state, 0.5, on().of(new long[] {1, 2})));
        assertTrue(e.getMessage().contains("int64[2] on cuda:0 and"), e.getMessage());
    }

    @Test
    void fusedKernelsMatchTheirComposedReferences() {
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double tol = dt == DType.FLOAT64 ? 1e-12 : 1e-5;
            Tensor x = on().uniform(-2, 2, 1, dt, 37, 19);
            Tensor bias = on().uniform(-1, 1, 2, dt, 19);
            Tensor out = Tensors.empty(x.backend(), dt, 37, 19);
            CudaFused.biasActivation(x, bias, dev.wengert.tensor.Activation.RELU, out);
            close(Ref.of(x.add(bias).relu()), out, tol);
            CudaFused.biasActivation(x, bias, dev.wengert.tensor.Activation.SIGMOID, out);
            close(Ref.of(x.add(bias).apply(UnaryOp.SIGMOID)), out, tol);

            Tensor labels = on().of(new long[37]).add(on().arange(37, DType.INT64)).apply(dev.wengert.tensor.BinaryOp.MINIMUM,
                    on().full(18, DType.INT64));
            Tensor loss = Tensors.empty(x.backend(), dt, 37);
            CudaFused.softmaxCrossEntropy(x, labels, loss);
            Tensor composed = x.logSoftmax(1).neg().gather(1, labels.reshape(37, 1)).reshape(37);
            close(Ref.of(composed), loss, tol);

            Tensor grad = Tensors.empty(x.backend(), dt, 37, 19);
            CudaFused.softmaxCrossEntropyBackward(x, labels, on().full(1, dt), 1.0 / 37, grad);
            Tensor expected = x.softmax(1).sub(labels.oneHot(19, dt)).mul(1.0 / 37);
            close(Ref.of(expected), grad, tol);

            Tensor p = on().uniform(-1, 1, 3, dt, 1000);
            Tensor g = on().uniform(-1, 1, 4, dt, 1000);
            Tensor vel = on().zeros(dt, 1000);
            Tensor pRef = p.copy();
            Tensor vRef = vel.copy();
            for (int step = 0; step < 3; step++) {
                CudaFused.sgdMomentum(p, g, vel, 0.1, 0.9, 0.01, false);
                Tensor gg = g.add(pRef.mul(0.01));
                vRef.assign(vRef.mul(0.9).add(gg));
                pRef.assign(pRef.sub(vRef.mul(0.1)));
            }
            close(Ref.of(pRef), p, tol * 10);

            Tensor q = on().uniform(-1, 1, 5, dt, 1000);
            Tensor m = on().zeros(dt, 1000);
            Tensor v = on().zeros(dt, 1000);
            Tensor qRef = q.copy();
            Tensor mRef = m.copy();
            Tensor vRef2 = v.copy();
            for (int step = 1; step <= 3; step++) {
                CudaFused.adam(q, g, m, v, 1e-2, 0.9, 0.999, 1e-8, 0, step, false);
                mRef.assign(mRef.mul(0.9).add(g.mul(0.1)));
                vRef2.assign(vRef2.mul(0.999).add(g.mul(g).mul(0.001)));
                Tensor denom = vRef2.div(1 - Math.pow(0.999, step)).sqrt().add(1e-8);
                qRef.assign(qRef.sub(mRef.div(1 - Math.pow(0.9, step)).div(denom).mul(1e-2)));
            }
            close(Ref.of(qRef), q, dt == DType.FLOAT64 ? 1e-10 : 1e-4);
        }
    }
}
