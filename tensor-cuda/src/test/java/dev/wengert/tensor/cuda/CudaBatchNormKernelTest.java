package dev.wengert.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.BatchNormRef;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.CapturedWork;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.FusedKernel;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import dev.wengert.tensor.spi.Tensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's batch-normalisation kernels ({@link FusedKernel#BATCH_NORM}, {@link FusedKernel#BATCH_NORM_BACKWARD},
 * fused.cuh's batch_norm and batch_norm_bwd), called through the backend's registry, against a plain Java double
 * reference of their Javadoc formulas for [N, C, L] shapes: M = N * L = 1 (variance 0: y = bias exactly), one
 * channel, M not a multiple of the 256-thread block and larger than it, the CNN's 32 channels; float32 and float64;
 * each subset of dx, dweight and dbias (an output passed as null is not written, the others have the bits of a full
 * run); the same bits on a second run and in a CUDA graph's replays; a NaN only in its channel; one launch per call (none when the backward writes nothing); bad operands
 * refused naming them. Runs on a GPU and, in every build, on the CUDA simulator, whose memory and stream checkers
 * must report no fault.
 */
class CudaBatchNormKernelTest {
    private static final Device DEVICE = CudaTestDevice.DEVICE;
    private static final double EPS = 1e-5;
    private static final int[][] SHAPES = {{4, 3, 5}, {1, 2, 1}, {2, 1, 7}, {3, 2, 300}, {64, 32, 49}};

    @BeforeEach
    void requireCuda() {
        CudaTestDevice.assumeUsable("CudaBatchNormKernelTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("CudaBatchNormKernelTest");
    }

    private static TensorFactory on() {
        return Tensor.on(DEVICE);
    }

    private static Backend backend() {
        return Backends.of(DEVICE);
    }

    /** Host kernels launched since {@code before}, or -1 off the simulator (where there is no trace). */
    private static long kernelsSince(SimulatorTrace.Counts before) {
        return before == null ? -1 : SimulatorTrace.read().minus(before).kernels();
    }

    private static SimulatorTrace.Counts traceNow() {
        return CudaTestDevice.SIMULATOR_RUN ? SimulatorTrace.read() : null;
    }

    private static void assertClose(double want, double got, double tol, double scale, String what) {
        assertTrue(Math.abs(got - want) <= tol * scale, what + ": expected " + want + ", got " + got + " (tolerance "
                + tol * scale + ")");
    }

    @Test
    void matchTheDoubleReferenceWithTheSameBitsOnEveryRun() {
        FusedKernel.BatchNormForward forward = backend().fused(FusedKernel.BATCH_NORM).orElseThrow();
        FusedKernel.BatchNormBackward backward = backend().fused(FusedKernel.BATCH_NORM_BACKWARD).orElseThrow();
        long seed = 1;
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double tol = dt == DType.FLOAT64 ? 1e-11 : 2e-5;
            for (int[] s : SHAPES) {
                int n = s[0];
                int c = s[1];
                int l = s[2];
                String where = dt + " [" + n + ", " + c + ", " + l + "]";
                // channels with their own offsets and spreads: x = offset[c] + spread[c] * u
                Tensor offset = on().uniform(-3, 3, seed++, dt, 1, c, 1);
                Tensor spread = on().uniform(0.1, 3, seed++, dt, 1, c, 1);
                Tensor x = on().uniform(-1, 1, seed++, dt, n, c, l).mul(spread).add(offset);
                Tensor w = on().uniform(-0.5, 1.5, seed++, dt, c);
                Tensor b = on().uniform(-1, 1, seed++, dt, c);
                Tensor dy = on().uniform(-0.7, 1.3, seed++, dt, n, c, l);
                Tensor y = on().full(77, dt, n, c, l);
                Tensor mean = on().full(77, dt, c);
                Tensor var = on().full(77, dt, c);

                SimulatorTrace.Counts before = traceNow();
                forward.run(x, w, b, EPS, y, mean, var);
                long launches = kernelsSince(before);
                assertTrue(launches == -1 || launches == 1, where + ": the forward is one launch, got " + launches);

                double[] xs = x.toDoubleArray();
                double[] kMean = mean.toDoubleArray();
                double[] kVar = var.toDoubleArray();
                BatchNormRef ref = new BatchNormRef(n, c, l, EPS, xs, w.toDoubleArray(), b.toDoubleArray(), dy.toDoubleArray(), kMean,
                        kVar);
                double[] ys = y.toDoubleArray();
                for (int ch = 0; ch < c; ch++) {
                    assertClose(ref.mean[ch], kMean[ch], tol, 1 + Math.abs(ref.mean[ch]), where + " mean[" + ch + "]");
                    assertClose(ref.var[ch], kVar[ch], tol, 1 + ref.var[ch] + ref.mean[ch] * ref.mean[ch],
                            where + " var[" + ch + "]");
                }
                for (int i = 0; i < ys.length; i++) {
                    assertClose(ref.y[i], ys[i], tol, ref.yScale[i], where + " y[" + i + "]");
                }
                if (n * l == 1) {
                    assertArrayEquals(b.toDoubleArray(), ys, where + ": one value per channel: variance 0 and y = bias");
                    assertArrayEquals(new double[c], kVar, where + ": one value per channel has variance 0");
                }

                Tensor dx = on().full(77, dt, n, c, l);
                Tensor dweight = on().full(77, dt, c);
                Tensor dbias = on().full(77, dt, c);
                before = traceNow();
                backward.run(dy, x, mean, var, w, EPS, dx, dweight, dbias);
                launches = kernelsSince(before);
                assertTrue(launches == -1 || launches == 1, where + ": the backward is one launch, got " + launches);
                double[] dxs = dx.toDoubleArray();
                double[] dws = dweight.toDoubleArray();
                double[] dbs = dbias.toDoubleArray();
                for (int ch = 0; ch < c; ch++) {
                    assertClose(ref.dbias[ch], dbs[ch], tol, ref.dbiasScale[ch], where + " dbias[" + ch + "]");
                    assertClose(ref.dweight[ch], dws[ch], tol, ref.dweightScale[ch], where + " dweight[" + ch + "]");
                }
                for (int i = 0; i < dxs.length; i++) {
                    assertClose(ref.dx[i], dxs[i], tol, ref.dxScale[i], where + " dx[" + i + "]");
                }

                // A second run: the same bits.
                Tensor y2 = Tensors.empty(x.backend(), dt, n, c, l);
                Tensor mean2 = Tensors.empty(x.backend(), dt, c);
                Tensor var2 = Tensors.empty(x.backend(), dt, c);
                forward.run(x, w, b, EPS, y2, mean2, var2);
                assertArrayEquals(ys, y2.toDoubleArray(), where + ": y on a second run");
                assertArrayEquals(kMean, mean2.toDoubleArray(), where + ": mean on a second run");
                assertArrayEquals(kVar, var2.toDoubleArray(), where + ": var on a second run");
                Tensor dx2 = Tensors.empty(x.backend(), dt, n, c, l);
                Tensor dw2 = Tensors.empty(x.backend(), dt, c);
                Tensor db2 = Tensors.empty(x.backend(), dt, c);
                backward.run(dy, x, mean, var, w, EPS, dx2, dw2, db2);
                assertArrayEquals(dxs, dx2.toDoubleArray(), where + ": dx on a second run");
                assertArrayEquals(dws, dw2.toDoubleArray(), where + ": dweight on a second run");
                assertArrayEquals(dbs, db2.toDoubleArray(), where + ": dbias on a second run");

                // Null outputs are skipped; the written ones have the full run's bits.
                for (int write = 0; write < 7; write++) {
                    Tensor dx3 = (write & 1) != 0 ? on().full(77, dt, n, c, l) : null;
                    Tensor dw3 = (write & 2) != 0 ? on().full(77, dt, c) : null;
                    Tensor db3 = (write & 4) != 0 ? on().full(77, dt, c) : null;
                    before = traceNow();
                    backward.run(dy, x, mean, var, w, EPS, dx3, dw3, db3);
                    launches = kernelsSince(before);
                    long want = write == 0 ? 0 : 1;
                    assertTrue(launches == -1 || launches == want, where + " outputs " + write + ": " + launches + " launches");
                    if (dx3 != null) {
                        assertArrayEquals(dxs, dx3.toDoubleArray(), where + " outputs " + write + ": dx");
                    }
                    if (dw3 != null) {
                        assertArrayEquals(dws, dw3.toDoubleArray(), where + " outputs " + write + ": dweight");
                    }
                    if (db3 != null) {
                        assertArrayEquals(dbs, db3.toDoubleArray(), where + " outputs " + write + ": dbias");
                    }
                }
                // dx into dy itself: the same bits (the kernel reads a value's dy before it writes its dx).
                Tensor inPlace = dy.copy();
                backward.run(inPlace, x, mean, var, w, EPS, inPlace, null, null);
                assertArrayEquals(dxs, inPlace.toDoubleArray(), where + ": dx written into dy");
            }
        }
    }

    /**
     * Forward and backward captured into one CUDA graph (preallocated outputs) give the eager bits on every replay,
     * also after the input buffers were refilled between replays (the kernels read x and dy when they run).
     */
    @Test
    void aCapturedGraphReplaysTheEagerBits() {
        FusedKernel.BatchNormForward forward = backend().fused(FusedKernel.BATCH_NORM).orElseThrow();
        FusedKernel.BatchNormBackward backward = backend().fused(FusedKernel.BATCH_NORM_BACKWARD).orElseThrow();
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            int n = 8;
            int c = 4;
            int l = 37;
            Tensor w = on().uniform(-0.5, 1.5, 31, dt, c);
            Tensor b = on().uniform(-1, 1, 32, dt, c);
            Tensor x = on().zeros(dt, n, c, l);
            Tensor dy = on().zeros(dt, n, c, l);
            Tensor[] out = {Tensors.empty(x.backend(), dt, n, c, l), Tensors.empty(x.backend(), dt, c),
                    Tensors.empty(x.backend(), dt, c), Tensors.empty(x.backend(), dt, n, c, l),
                    Tensors.empty(x.backend(), dt, c), Tensors.empty(x.backend(), dt, c)};
            Runnable step = () -> {
                forward.run(x, w, b, EPS, out[0], out[1], out[2]);
                backward.run(dy, x, out[1], out[2], w, EPS, out[3], out[4], out[5]);
            };
            try (CapturedWork graph = backend().capture(step).orElseThrow()) {
                for (int replay = 0; replay < 3; replay++) {
                    x.assign(on().uniform(-2, 4, 40 + replay, dt, n, c, l));
                    dy.assign(on().uniform(-1, 1, 50 + replay, dt, n, c, l));
                    graph.replay();
                    double[][] replayed = new double[out.length][];
                    for (int k = 0; k < out.length; k++) {
                        replayed[k] = out[k].toDoubleArray();
                    }
                    step.run();  // eagerly, on the same inputs
                    for (int k = 0; k < out.length; k++) {
                        assertArrayEquals(out[k].toDoubleArray(), replayed[k], dt + " replay " + replay + ": output " + k
                                + " (y, mean, var, dx, dweight, dbias)");
                    }
                }
            }
        }
    }

    @Test
    void aNanStaysInItsChannel() {
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            Tensor x = on().uniform(-1, 1, 21, dt, 5, 3, 4);
            Tensor dy = on().uniform(-1, 1, 22, dt, 5, 3, 4);
            double[] xs = x.toDoubleArray();
            double[] dys = dy.toDoubleArray();
            xs[BatchNormRef.at(1, 7, 3, 4)] = Double.NaN;  // channel 1
            dys[BatchNormRef.at(2, 19, 3, 4)] = Double.NaN;  // channel 2
            x = on().of(xs, 5, 3, 4).cast(dt);
            dy = on().of(dys, 5, 3, 4).cast(dt);
            Tensor w = on().ones(dt, 3);
            Tensor b = on().zeros(dt, 3);
            Tensor y = Tensors.empty(x.backend(), dt, 5, 3, 4);
            Tensor mean = Tensors.empty(x.backend(), dt, 3);
            Tensor var = Tensors.empty(x.backend(), dt, 3);
            CudaFused.batchNorm(x, w, b, EPS, y, mean, var);
            double[] m = mean.toDoubleArray();
            double[] v = var.toDoubleArray();
            double[] ys = y.toDoubleArray();
            for (int ch = 0; ch < 3; ch++) {
                boolean nan = ch == 1;
                assertEquals(nan, Double.isNaN(m[ch]), dt + " mean[" + ch + "]");
                assertEquals(nan, Double.isNaN(v[ch]), dt + " var[" + ch + "]");
                for (int k = 0; k < 20; k++) {
                    assertEquals(nan, Double.isNaN(ys[BatchNormRef.at(ch, k, 3, 4)]), dt + " y of channel " + ch + ", value " + k);
                }
            }
            // The backward from channel 1's NaN statistics and channel 2's NaN dy: both channels NaN, channel 0 not.
            Tensor dx = Tensors.empty(x.backend(), dt, 5, 3, 4);
            Tensor dw = Tensors.empty(x.backend(), dt, 3);
            Tensor db = Tensors.empty(x.backend(), dt, 3);
            CudaFused.batchNormBackward(dy, x, mean, var, w, EPS, dx, dw, db);
            double[] dxs = dx.toDoubleArray();
            double[] dws = dw.toDoubleArray();
            double[] dbs = db.toDoubleArray();
            for (int ch = 0; ch < 3; ch++) {
                boolean nan = ch != 0;
                assertEquals(nan, Double.isNaN(dws[ch]), dt + " dweight[" + ch + "]");
                assertEquals(ch == 2, Double.isNaN(dbs[ch]), dt + " dbias[" + ch + "] (sum dy: NaN only where dy is)");
                for (int k = 0; k < 20; k++) {
                    assertEquals(nan, Double.isNaN(dxs[BatchNormRef.at(ch, k, 3, 4)]), dt + " dx of channel " + ch + ", value " + k);
                }
            }
        }
    }

    @Test
    void refusesOperandsItWouldIndexOutOfBounds() {
        Tensor x = on().zeros(DType.FLOAT32, 2, 3, 4);
        Tensor c3 = on().zeros(DType.FLOAT32, 3);
        Tensor y = on().zeros(DType.FLOAT32, 2, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaFused.batchNorm(x, c3, c3, EPS, y, on().zeros(DType.FLOAT32, 4), c3));
        assertTrue(e.getMessage().startsWith("batchNorm: ") && e.getMessage().contains("[4]")
                && e.getMessage().contains("[3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.batchNorm(x.reshape(6, 4), c3, c3, EPS, y, c3, c3));
        assertTrue(e.getMessage().contains("[N, C, L]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CudaFused.batchNorm(x, c3.cast(DType.FLOAT64), c3, EPS, y, c3, c3));
        assertTrue(e.getMessage().contains(DType.FLOAT64.toString()), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.batchNormBackward(x, x, c3, c3, c3, EPS,
                on().zeros(DType.FLOAT32, 2, 3, 5), null, null));
        assertTrue(e.getMessage().startsWith("batchNormBackward: ") && e.getMessage().contains("[2, 3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.batchNormBackward(x, on().zeros(DType.FLOAT32, 2, 3),
                c3, c3, c3, EPS, null, c3, c3));
        assertTrue(e.getMessage().startsWith("batchNormBackward: "), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.batchNormBackward(x, x, c3, c3, c3, EPS, null,
                on().zeros(DType.FLOAT32, 1), null));
        assertTrue(e.getMessage().contains("[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaFused.batchNorm(x, c3, null, EPS, y, c3, c3));
        assertTrue(e.getMessage().startsWith("batchNorm: bias is null"), e.getMessage());
    }
}
