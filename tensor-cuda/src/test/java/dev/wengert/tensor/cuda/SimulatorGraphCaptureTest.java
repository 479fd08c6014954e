package dev.wengert.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Backend;
import dev.wengert.tensor.Backends;
import dev.wengert.tensor.BinaryOp;
import dev.wengert.tensor.CapturedWork;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Device;
import dev.wengert.tensor.GraphCaptureException;
import dev.wengert.tensor.MemoryStats;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CUDA graph capture ({@link dev.wengert.tensor.Backend#capture}) on the CUDA simulator, which emulates
 * capture, instantiation and replay: a captured step replayed N times equals the same step run eagerly N
 * times bit for bit, one graph launch per replay and no driver allocation in it; a capture that
 * synchronises fails clearly and leaves the backend usable; closing frees the private pool.
 */
class SimulatorGraphCaptureTest {
    private static final int ROWS = 37; // not a multiple of 32
    private static final int IN = 19;
    private static final int OUT = 23;
    private Scope scope;

    @BeforeEach
    void open() {
        CudaTestDevice.assumeUsable("SimulatorGraphCaptureTest");
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        if (scope != null) {
            scope.close();
        }
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorGraphCaptureTest");
    }

    private static Backend backend() {
        return Backends.of(CudaTestDevice.DEVICE);
    }

    private static Tensor on(long seed, int... shape) {
        return Tensor.on(CudaTestDevice.DEVICE).randn(seed, DType.FLOAT32, shape);
    }

    /** The host data of step t's input batch. */
    private static float[] batch(int t) {
        float[] a = new float[ROWS * IN];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(0.37 * i + 1.3 * t);
        }
        return a;
    }

    /**
     * A small training-like step: matmul (cuBLAS), broadcast add, relu, a reduction, a transposed matmul
     * and an in-place update of the persistent weight w. Returns the loss (kept past the step's scope).
     */
    private static Tensor step(Tensor x, Tensor w, Tensor b) {
        try (Scope s = Scope.open()) {
            Tensor h = x.matmul(w).add(b).relu();
            Tensor loss = h.mul(h).mean().keep();
            Tensor grad = x.matmul(true, h, false).mul(0.01);
            w.applyInPlace(BinaryOp.SUB, grad);
            return loss;
        }
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    @Test
    void aReplayedStepEqualsTheEagerStepBitForBit() {
        int steps = 4;
        Tensor b = on(3, OUT);
        Tensor w0 = on(2, IN, OUT);
        // eager
        Tensor wEager = w0.copy();
        Tensor xEager = Tensor.on(CudaTestDevice.DEVICE).zeros(DType.FLOAT32, ROWS, IN);
        List<float[]> eagerLosses = new ArrayList<>();
        for (int t = 0; t < steps; t++) {
            xEager.assign(Tensor.on(CudaTestDevice.DEVICE).of(batch(t), ROWS, IN));
            eagerLosses.add(step(xEager, wEager, b).toFloatArray());
        }
        // captured once, replayed with the fixed input buffer x refilled before each replay
        Tensor w = w0.copy();
        Tensor x = Tensor.on(CudaTestDevice.DEVICE).zeros(DType.FLOAT32, ROWS, IN);
        Tensor[] loss = new Tensor[1];
        float[] wBefore = w.toFloatArray();
        SimulatorTrace.Counts beforeCapture = SimulatorTrace.read();
        try (CapturedWork graph = backend().capture(() -> loss[0] = step(x, w, b)).orElseThrow()) {
            SimulatorTrace.Counts captured = SimulatorTrace.read().minus(beforeCapture);
            assertEquals(0, captured.launches(), "a capture runs nothing: " + captured);
            assertArrayEquals(bits(wBefore), bits(w.toFloatArray()), "the capture did not update w");
            long nodes = ((CudaGraph) graph).nodes();
            assertEquals(captured.capturedNodes(), nodes, graph.describe());
            for (int t = 0; t < steps; t++) {
                x.assign(Tensor.on(CudaTestDevice.DEVICE).of(batch(t), ROWS, IN)); // outside the graph
                SimulatorTrace.Counts before = SimulatorTrace.read();
                graph.replay();
                SimulatorTrace.Counts replay = SimulatorTrace.read().minus(before);
                assertEquals(1, replay.graphLaunches(), replay.toString());
                assertEquals(0, replay.launches(), "nothing host-issued: " + replay);
                assertEquals(2, replay.graphGemms(), "the forward and the weight-gradient matmul: " + replay);
                assertEquals(nodes, replay.graphKernels() + replay.graphGemms() + replay.graphCopies() + replay.graphMemsets(),
                        "every node ran once: " + replay);
                assertEquals(0, replay.allocations(), "no driver allocation in a replay: " + replay);
                assertEquals(0, replay.hostSyncs(), "a replay is asynchronous: " + replay);
                if (t == 0) {
                    System.out.println(graph.describe() + "; one replay: " + replay);
                }
                float[] l = loss[0].toFloatArray();
                assertArrayEquals(bits(eagerLosses.get(t)), bits(l), "step " + t + ": replayed loss " + l[0]
                        + " vs eager " + eagerLosses.get(t)[0]);
            }
            assertArrayEquals(bits(wEager.toFloatArray()), bits(w.toFloatArray()), "w after " + steps + " steps");
            assertFalse(eagerLosses.get(0)[0] == eagerLosses.get(1)[0], "the refilled input changed the loss");
        }
    }

    @Test
    void aCaptureThatReadsAValueFailsClearlyAndTheBackendKeepsWorking() {
        Tensor x = on(5, 8, 8);
        float[] expected = x.mul(2).toFloatArray();
        GraphCaptureException e = assertThrows(GraphCaptureException.class, () -> backend().capture(() -> {
            Tensor y = x.mul(2);
            y.sum().item(); // a host synchronisation
        }));
        assertTrue(e.getMessage().contains("download of float32[] on " + CudaTestDevice.DEVICE + " inside a graph capture")
                && e.getMessage().contains("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED")
                && e.getMessage().contains("is usable"), e.getMessage());
        assertTrue(SimulatorTrace.lastNote().contains("cuStreamEndCapture returned CUDA_ERROR_STREAM_CAPTURE_INVALIDATED: "
                + "cuMemcpyDtoH_v2 returned CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"), SimulatorTrace.lastNote());
        assertArrayEquals(expected, x.mul(2).toFloatArray(), "the backend works after the failed capture");

        GraphCaptureException sync = assertThrows(GraphCaptureException.class, () -> backend().capture(() -> {
            x.mul(2);
            backend().synchronize();
        }));
        assertTrue(sync.getMessage().contains("synchronize() of " + CudaTestDevice.DEVICE + " inside a graph capture"), sync.getMessage());

        GraphCaptureException upload = assertThrows(GraphCaptureException.class,
                () -> backend().capture(() -> Tensor.on(CudaTestDevice.DEVICE).of(new float[] {1, 2}, 2)));
        assertTrue(upload.getMessage().contains("upload of"), upload.getMessage());
        assertArrayEquals(expected, x.mul(2).toFloatArray());
    }

    @Test
    void theWorksOwnErrorIsRethrownAsItIs() {
        Tensor x = on(6, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend().capture(() -> x.matmul(x)));
        assertEquals(3 * 4, x.mul(1).toFloatArray().length, "still usable");
    }

    @Test
    void closingTheGraphFreesItsPoolAndReplaysNeverAllocate() {
        Tensor x = on(7, ROWS, IN);
        Tensor w = on(8, IN, OUT);
        Tensor b = on(9, OUT);
        backend().synchronize();
        backend().releaseCache();
        MemoryStats start = backend().memoryStats();
        Tensor[] loss = new Tensor[1];
        SimulatorTrace.Counts t0 = SimulatorTrace.read();
        CapturedWork graph = backend().capture(() -> loss[0] = step(x, w, b)).orElseThrow();
        SimulatorTrace.Counts capture = SimulatorTrace.read().minus(t0);
        assertTrue(capture.allocations() > 0, "the pool's blocks came from the driver (relaxed mode): " + capture);
        assertEquals(0, capture.captureViolations(), "the allocations did not break the capture: " + SimulatorTrace.lastNote());
        MemoryStats captured = backend().memoryStats();
        assertTrue(captured.reservedBytes() > start.reservedBytes(), captured.toString());
        SimulatorTrace.Counts t1 = SimulatorTrace.read();
        for (int i = 0; i < 3; i++) {
            graph.replay();
        }
        float l = loss[0].toFloatArray()[0];
        assertEquals(0, SimulatorTrace.read().minus(t1).allocations(), "no driver allocation after the capture");
        assertEquals(captured, backend().memoryStats(), "replays allocate nothing");
        // the eager path after the capture does not get the pool's blocks
        Tensor eager = x.matmul(w);
        assertTrue(backend().memoryStats().reservedBytes() > captured.reservedBytes(),
                "an eager allocation is not served from the graph's pool");
        eager.close();
        long beforeClose = backend().memoryStats().reservedBytes();
        graph.close();
        graph.close(); // idempotent
        MemoryStats closed = backend().memoryStats();
        assertEquals(beforeClose - (captured.reservedBytes() - start.reservedBytes()) + CachingAllocator.sizeClass(4),
                closed.reservedBytes(), "only the block of the live loss tensor stays reserved: " + closed);
        assertEquals(l, loss[0].toFloatArray()[0], "tensors made in the capture outlive the graph");
        assertThrows(IllegalStateException.class, graph::replay);
        assertTrue(graph.describe().contains("closed"), graph.describe());
    }

    @Test
    void aReplayReportsTheIndexErrorsOfItsKernels() {
        Tensor x = on(10, 4, 3);
        Tensor index = Tensor.on(CudaTestDevice.DEVICE).of(new long[] {0, 1, 2, 3}, 4, 1);
        Tensor[] out = new Tensor[1];
        try (CapturedWork graph = backend().capture(() -> out[0] = x.gather(1, index.mul(0)).keep()).orElseThrow()) {
            graph.replay();
            assertEquals(4, out[0].toFloatArray().length);
            index.assign(Tensor.on(CudaTestDevice.DEVICE).of(new long[] {0, 0, 0, 0}, 4, 1));
            graph.replay();
            out[0].toFloatArray(); // no error pending
        }
        Tensor[] bad = new Tensor[1];
        Tensor idx = Tensor.on(CudaTestDevice.DEVICE).of(new long[] {0, 1, 2, 0}, 4, 1);
        try (CapturedWork graph = backend().capture(() -> bad[0] = x.gather(1, idx).keep()).orElseThrow()) {
            graph.replay();
            bad[0].toFloatArray();
            idx.assign(Tensor.on(CudaTestDevice.DEVICE).of(new long[] {0, 1, 7, 0}, 4, 1)); // 7 is out of range
            graph.replay();
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> bad[0].toFloatArray());
            assertTrue(e.getMessage().contains("gather: index 7"), e.getMessage());
        }
    }

    @Test
    void theCpuBackendCannotCaptureAndDoesNotRunTheWork() {
        boolean[] ran = {false};
        assertTrue(Backends.of(Device.CPU).capture(() -> ran[0] = true).isEmpty());
        assertFalse(ran[0], "the caller runs its work eagerly itself");
    }
}
