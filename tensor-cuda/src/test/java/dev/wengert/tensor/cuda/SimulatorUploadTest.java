package dev.wengert.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wengert.tensor.Backends;
import dev.wengert.tensor.CudaTestDevice;
import dev.wengert.tensor.DType;
import dev.wengert.tensor.Scope;
import dev.wengert.tensor.Tensor;
import dev.wengert.tensor.TensorFactory;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's asynchronous uploads (pinned staging ring, copy stream, events) and its error record
 * read with the next synchronising read, counted by the simulator's trace: round trips of every dtype,
 * empty tensors, uploads larger than a staging buffer (chunked, more chunks than the ring has buffers),
 * many uploads in a row, reuse of the Java array right after upload, and no host synchronisation for an
 * upload. The simulator's stream-hazard checker must stay silent (the copy stream and the compute stream
 * are ordered by events only). Runs only in the simulator execution.
 */
class SimulatorUploadTest {
    private static final int STAGING_FLOATS = PinnedUploads.STAGING_BYTES / Float.BYTES;

    @BeforeEach
    void requireSimulator() {
        CudaTestDevice.assumeUsable("SimulatorUploadTest");
    }

    @AfterAll
    static void simulatorSawNoFault() {
        CudaTestDevice.assertNoSimulatorFaults("SimulatorUploadTest");
    }

    private static TensorFactory on() {
        return Tensor.on(CudaTestDevice.DEVICE);
    }

    private static CudaBackend backend() {
        return (CudaBackend) Backends.of(CudaTestDevice.DEVICE);
    }

    private static float[] floats(int n, float seed) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = seed + i * 0.25f;
        }
        return a;
    }

    @Test
    void everyDtypeRoundTripsWithoutAHostSynchronisation() {
        try (Scope s = Scope.open()) {
            float[] f = {1.5f, -2f, Float.NaN, Float.POSITIVE_INFINITY, -0f};
            double[] d = {Math.PI, -1e300, Double.NaN, Double.NEGATIVE_INFINITY, Double.MIN_VALUE};
            long[] l = {Long.MIN_VALUE, -1, 0, 1L << 40, Long.MAX_VALUE};
            backend().synchronize();
            SimulatorTrace.Counts before = SimulatorTrace.read();
            Tensor tf = on().of(f, 5);
            Tensor td = on().of(d, 5);
            Tensor tl = on().of(l, 5);
            SimulatorTrace.Counts uploads = SimulatorTrace.read().minus(before);
            assertEquals(3, uploads.copiesToDevice(), "one copy per upload");
            assertEquals(0, uploads.hostSyncs(), "asynchronous copies from pinned memory: no host synchronisation");
            assertArrayEquals(f, tf.toFloatArray());
            assertArrayEquals(d, td.toDoubleArray());
            assertArrayEquals(l, tl.toLongArray());
            assertEquals(DType.INT64, tl.dtype());
        }
    }

    @Test
    void emptyTensorsCopyNothing() {
        try (Scope s = Scope.open()) {
            backend().synchronize();
            SimulatorTrace.Counts before = SimulatorTrace.read();
            Tensor f = on().of(new float[0], 0, 3);
            Tensor d = on().of(new double[0]);
            Tensor l = on().of(new long[0], 2, 0);
            SimulatorTrace.Counts c = SimulatorTrace.read().minus(before);
            assertEquals(0, c.copiesToDevice() + c.hostSyncs());
            assertEquals(0, f.toFloatArray().length);
            assertEquals(0, d.toDoubleArray().length);
            assertEquals(0, l.toLongArray().length);
        }
    }

    @Test
    void uploadsLargerThanTheStagingBufferGoThroughTheRingInChunks() {
        try (Scope s = Scope.open()) {
            // 2.5 staging buffers of float32: three chunks, the last one partial
            int nf = 2 * STAGING_FLOATS + STAGING_FLOATS / 2 + 3;
            float[] f = floats(nf, -7f);
            // 6 staging buffers of int64: more chunks than the ring has buffers, so it reuses them within one upload
            int nl = (PinnedUploads.RING + 2) * (PinnedUploads.STAGING_BYTES / Long.BYTES) - 1;
            long[] l = new long[nl];
            for (int i = 0; i < nl; i++) {
                l[i] = (long) i * 0x9E3779B97L - (1L << 50);
            }
            double[] d = new double[PinnedUploads.STAGING_BYTES / Double.BYTES + 1];   // one element over: a 1-element chunk
            Arrays.setAll(d, i -> Math.sqrt(i) - 3);
            long waits = backend().uploadStagingWaits();
            backend().synchronize();
            SimulatorTrace.Counts before = SimulatorTrace.read();
            Tensor tf = on().of(f, nf);
            Tensor tl = on().of(l, nl);
            Tensor td = on().of(d, d.length);
            SimulatorTrace.Counts c = SimulatorTrace.read().minus(before);
            assertEquals(3 + (PinnedUploads.RING + 2) + 2, c.copiesToDevice(), "one copy per chunk");
            assertEquals(0, c.hostSyncs());
            assertTrue(backend().uploadStagingBuffers() <= PinnedUploads.RING, "the pinned memory is bounded by the ring");
            assertEquals(waits, backend().uploadStagingWaits(), "the simulator completes each copy at once: no buffer was busy");
            assertArrayEquals(f, tf.toFloatArray());
            assertArrayEquals(l, tl.toLongArray());
            assertArrayEquals(d, td.toDoubleArray());
        }
    }

    @Test
    void manyUploadsInARowReuseTheRingAndTheArrayMayBeReusedAtOnce() {
        try (Scope s = Scope.open()) {
            float[] host = new float[1000];
            Tensor[] ts = new Tensor[3 * PinnedUploads.RING + 1];
            for (int k = 0; k < ts.length; k++) {
                Arrays.fill(host, k);
                host[999] = -k;
                ts[k] = on().of(host, 10, 100);   // the same array, overwritten right after each upload returns
            }
            Arrays.fill(host, Float.NaN);
            assertTrue(backend().uploadStagingBuffers() <= PinnedUploads.RING);
            for (int k = 0; k < ts.length; k++) {
                float[] back = ts[k].toFloatArray();
                assertEquals(k, back[0], "upload " + k);
                assertEquals(k, back[998], "upload " + k);
                assertEquals(-k, back[999], "upload " + k);
            }
        }
    }

    @Test
    void uploadsAheadAreUsableAfterTheyAreAwaited() {
        CudaBackend be = backend();
        assertTrue(be.uploadsOverlapCompute());
        try (Scope s = Scope.open()) {
            Tensor a = on().of(floats(300, 1f), 300);
            Tensor sum = a.add(a);   // queued compute before the copy ahead
            Tensor ahead = on().empty(DType.FLOAT32, 300);
            float[] host = floats(300, 5f);
            SimulatorTrace.Counts before = SimulatorTrace.read();
            be.uploadAhead(host, ahead);
            Arrays.fill(host, 0f);
            be.awaitUploadsAhead();
            SimulatorTrace.Counts c = SimulatorTrace.read().minus(before);
            assertEquals(1, c.copiesToDevice());
            assertEquals(0, c.hostSyncs() + c.kernels());
            float[] expected = floats(300, 5f);
            float[] twice = floats(300, 1f);
            for (int i = 0; i < 300; i++) {
                expected[i] += 2 * twice[i];
            }
            assertArrayEquals(expected, ahead.add(sum).toFloatArray());
        }
    }

    @Test
    void theErrorRecordComesWithTheNextReadWithoutASynchronisationOfItsOwn() {
        try (Scope s = Scope.open()) {
            Tensor x = on().of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor good = x.gather(1, on().of(new long[] {2, 0}, 2, 1));
            SimulatorTrace.Counts before = SimulatorTrace.read();
            assertArrayEquals(new double[] {3, 4}, good.toDoubleArray());
            SimulatorTrace.Counts read = SimulatorTrace.read().minus(before);
            assertEquals(1, read.hostSyncs(), "one synchronisation for the read, none for the record");
            assertEquals(2, read.copiesToHost(), "the record (asynchronous, into pinned memory) and the values");

            Tensor bad = x.gather(1, on().of(new long[] {9, 0}, 2, 1));
            Tensor alsoBad = x.gather(1, on().of(new long[] {0, -4}, 2, 1));   // the record keeps the first error
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, alsoBad::toDoubleArray,
                    "the error surfaces at the next read, whichever tensor it reads");
            assertTrue(e.getMessage().contains("gather") && e.getMessage().contains("index 9"), e.getMessage());
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, x.toDoubleArray(), "reported once, then cleared");

            x.gather(1, on().of(new long[] {3, 0}, 2, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> backend().synchronize(), "synchronize reads it too");

            before = SimulatorTrace.read();
            assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, x.toDoubleArray());
            read = SimulatorTrace.read().minus(before);
            assertEquals(1, read.copiesToHost(), "no op that can fail ran since the last read: the record is not copied");
            assertEquals(1, read.hostSyncs());
            bad.close();
        }
    }

    @Test
    void releaseCacheFreesThePinnedBuffersAndUploadsAllocateThemAgain() {
        try (Scope s = Scope.open()) {
            on().of(floats(10, 0f), 10);
            assertTrue(backend().uploadStagingBuffers() >= 1);
        }
        backend().releaseCache();
        assertEquals(0, backend().uploadStagingBuffers());
        try (Scope s = Scope.open()) {
            assertArrayEquals(floats(10, 2f), on().of(floats(10, 2f), 10).toFloatArray());
            assertEquals(1, backend().uploadStagingBuffers());
        }
    }
}
