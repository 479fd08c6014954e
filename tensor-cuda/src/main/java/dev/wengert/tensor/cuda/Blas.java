package dev.wengert.tensor.cuda;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDgemm;
import static jcuda.jcublas.JCublas2.cublasDgemmStridedBatched;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetStream;
import static jcuda.jcublas.JCublas2.cublasSetWorkspace;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.JCublas2.cublasSgemmStridedBatched;

import dev.wengert.tensor.DType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

/**
 * Row-major GEMMs through column-major cuBLAS. A row-major [r, c] matrix is a column-major [c, r] one,
 * its transpose; so C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T, i.e. cuBLAS with the operands
 * swapped, m and n swapped, and each operand's transpose flag kept. TF32 tensor-core math is used only
 * when the backend allows it ({@link CudaBackend#setTf32Enabled}, or -Dwengert.cuda.tf32=true at its creation).
 */
final class Blas {
    /** The workspace a capture-safe handle gets: NVIDIA's recommendation for Hopper (32 MiB), more than enough before. */
    static final long WORKSPACE_BYTES = 32L << 20;

    private final cublasHandle handle = new cublasHandle();
    private int mathMode = -1;
    private CUdeviceptr workspace;

    /** A handle bound to {@code stream}; the current context must be the backend's. */
    Blas(CUstream stream) {
        status(cublasCreate(handle), "cublasCreate (is the cuBLAS library working with this driver?)");
        status(cublasSetStream(handle, new cudaStream_t(stream)), "cublasSetStream");
    }

    /**
     * Gives the handle its own workspace (cublasSetWorkspace), once, before the first graph capture: without
     * one, cuBLAS allocates its workspace inside a captured graph (memory nodes). A driver allocation that
     * lives as long as the backend; must not be called during a capture.
     */
    synchronized void ensureWorkspace() {
        if (workspace != null) {
            return;
        }
        CUdeviceptr p = new CUdeviceptr();
        Cu.check(cuMemAlloc(p, WORKSPACE_BYTES), "allocating the " + (WORKSPACE_BYTES >> 20) + " MiB cuBLAS workspace");
        status(cublasSetWorkspace(handle, p, WORKSPACE_BYTES), "cublasSetWorkspace");
        workspace = p;
    }

    private static void status(int s, String what) {
        if (s != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException(what + " failed: " + cublasStatus.stringFor(s));
        }
    }

    /**
     * The column-major cuBLAS call for a row-major {@code out[m,n] = op(a) op(b)}: cuBLAS's A is our b and
     * its B is our a (so {@code strideA} is b's batch stride), its (m, n) is our (n, m), and each operand
     * keeps its own transpose flag. Strides are in elements; 0 shares an operand across the batch.
     */
    record Gemm(int opA, int opB, int m, int n, int k, int lda, int ldb, int ldc, long strideA, long strideB, long strideC) {
    }

    /** The pure parameter mapping used by {@link #gemm} (tested against a column-major GEMM emulation). */
    static Gemm rowMajor(boolean ta, long aStride, boolean tb, long bStride, int m, int n, int k) {
        int opA = tb ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N; // cuBLAS's A is our b
        int opB = ta ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N; // cuBLAS's B is our a
        return new Gemm(opA, opB, n, m, k, tb ? k : n, ta ? m : k, n, bStride, aStride, (long) m * n);
    }

    /**
     * out[q] (+)= op(a[q]) op(b[q]) for q < batch, row-major; aStride / bStride are 0 for an operand
     * shared by every batch. Modifies only out. Synchronized: the handle and its math mode are shared by
     * every thread that uses this backend, and cuBLAS handles must not be used concurrently.
     */
    synchronized void gemm(DType dtype, boolean tf32, CUdeviceptr a, boolean ta, long aStride, CUdeviceptr b, boolean tb, long bStride,
              CUdeviceptr out, int batch, int m, int n, int k, boolean accumulate, String shapes) {
        int mode = tf32 && dtype == DType.FLOAT32
                ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH;
        if (mode != mathMode) {
            status(cublasSetMathMode(handle, mode), "cublasSetMathMode");
            mathMode = mode;
        }
        Gemm g = rowMajor(ta, aStride, tb, bStride, m, n, k);
        int s;
        if (dtype == DType.FLOAT32) {
            Pointer one = Pointer.to(new float[] {1f});
            Pointer beta = Pointer.to(new float[] {accumulate ? 1f : 0f});
            s = batch == 1
                    ? cublasSgemm(handle, g.opA, g.opB, g.m, g.n, g.k, one, b, g.lda, a, g.ldb, beta, out, g.ldc)
                    : cublasSgemmStridedBatched(handle, g.opA, g.opB, g.m, g.n, g.k, one, b, g.lda, g.strideA, a, g.ldb,
                            g.strideB, beta, out, g.ldc, g.strideC, batch);
        } else {
            Pointer one = Pointer.to(new double[] {1});
            Pointer beta = Pointer.to(new double[] {accumulate ? 1 : 0});
            s = batch == 1
                    ? cublasDgemm(handle, g.opA, g.opB, g.m, g.n, g.k, one, b, g.lda, a, g.ldb, beta, out, g.ldc)
                    : cublasDgemmStridedBatched(handle, g.opA, g.opB, g.m, g.n, g.k, one, b, g.lda, g.strideA, a, g.ldb,
                            g.strideB, beta, out, g.ldc, g.strideC, batch);
        }
        status(s, "matmul " + shapes + " (cuBLAS " + (dtype == DType.FLOAT32 ? "S" : "D") + "gemm)");
    }
}
