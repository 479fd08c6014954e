// The Wengert CUDA simulator's stand-in cuBLAS (libcublas.so.12): handles, streams, math and pointer
// modes, and reference column-major GEMMs (S/D, plain and strided batched, 32- and 64-bit index
// variants) with cuBLAS's argument validation, run synchronously on the host. Every GEMM passes its
// operands' exact byte extents through wsim_check_access (memory checker and stream-hazard checker of
// the stand-in libcuda.so.1) and counts WSIM_T_GEMMS. Every other symbol JCublas imports is a
// generated stub (build-simulator.sh) that reports its name and returns CUBLAS_STATUS_NOT_SUPPORTED.
// The exported names carry the symbol version libcublas.so.12 (linker version script), as JCublas's
// libJCublas2 imports them.
//
// Arithmetic: float32 accumulates in float, float64 in double, each in k order; the result is
// alpha * sum + beta * C, and with beta == 0 C is not read (NaN there is ignored, as cuBLAS does).
// CUBLAS_TF32_TENSOR_OP_MATH rounds the float32 elements of A and B to TF32 (10 explicit mantissa
// bits, round to nearest even) first, unless NVIDIA_TF32_OVERRIDE=0 (as the real library).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>
#include <unordered_set>
#include <vector>

#include "../sim.h"

#define CUBLASAPI extern "C" __attribute__((visibility("default")))

// cublas_api.h (cuBLAS 12) values; this file builds without the CUDA headers.
typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16
} cublasStatus_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2, CUBLAS_OP_CONJG = 3 } cublasOperation_t;
typedef enum { CUBLAS_POINTER_MODE_HOST = 0, CUBLAS_POINTER_MODE_DEVICE = 1 } cublasPointerMode_t;
typedef enum {
    CUBLAS_DEFAULT_MATH = 0,
    CUBLAS_TENSOR_OP_MATH = 1,
    CUBLAS_PEDANTIC_MATH = 2,
    CUBLAS_TF32_TENSOR_OP_MATH = 3,
    CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16
} cublasMath_t;
typedef enum { MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2 } libraryPropertyType;

enum { SIM_CUBLAS_MAJOR = 12, SIM_CUBLAS_MINOR = 6, SIM_CUBLAS_PATCH = 0 };  // the JCublas 12.6 it stands in for

struct cublasContext {
    uint64_t stream = 0;  // a CUstream (cudaStream_t) value; 0: the legacy default stream
    int math = CUBLAS_DEFAULT_MATH;
    int pointer_mode = CUBLAS_POINTER_MODE_HOST;
    void* workspace = nullptr;  // cublasSetWorkspace_v2's buffer (the reference GEMMs do not use it)
    size_t workspace_bytes = 0;
};
typedef cublasContext* cublasHandle_t;

namespace {

std::mutex g_mu;
std::unordered_set<cublasContext*> g_handles;

bool valid(cublasHandle_t h) {
    std::lock_guard<std::mutex> g(g_mu);
    return h != nullptr && g_handles.count(h) != 0;
}

float tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) {  // finite: round to nearest even at mantissa bit 13
        u += 0x0fffu + ((u >> 13) & 1u);
        u &= ~0x1fffu;
    }
    memcpy(&x, &u, 4);
    return x;
}

bool tf32_enabled(const cublasContext* h) {
    if ((h->math & 0xf) != CUBLAS_TF32_TENSOR_OP_MATH) return false;
    const char* o = getenv("NVIDIA_TF32_OVERRIDE");
    return !(o != nullptr && strcmp(o, "0") == 0);
}

// The bytes [lo, hi) a column-major rows x cols operand with leading dimension ld spans over `batch`
// matrices `stride` elements apart. Returns false when it is empty.
bool extent(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride, size_t es, int64_t* lo,
            int64_t* hi) {
    if (rows <= 0 || cols <= 0 || batch <= 0) return false;
    int64_t span = (cols - 1) * ld + rows;
    int64_t last = (batch - 1) * stride;
    int64_t mn = last < 0 ? last : 0, mx = last > 0 ? last : 0;
    *lo = mn * (int64_t)es;
    *hi = (mx + span) * (int64_t)es;
    return true;
}

template <typename T>
struct Names;
template <>
struct Names<float> {
    static constexpr const char* A = "cublasSgemm matrix A";
    static constexpr const char* B = "cublasSgemm matrix B";
    static constexpr const char* C = "cublasSgemm matrix C";
};
template <>
struct Names<double> {
    static constexpr const char* A = "cublasDgemm matrix A";
    static constexpr const char* B = "cublasDgemm matrix B";
    static constexpr const char* C = "cublasDgemm matrix C";
};

// One GEMM's arguments, by value: what a capture records (host-mode alpha and beta are read at the
// call, as cuBLAS does; the operands are pointers, read and written when the GEMM runs).
template <typename T>
struct GemmArgs {
    int ta, tb;
    int64_t m, n, k;
    T al, be;
    const T* A;
    int64_t lda, sa;
    const T* B;
    int64_t ldb, sb;
    T* C;
    int64_t ldc, sc, batch;
    bool tf32;
};

template <typename T>
cublasStatus_t run_gemm(const GemmArgs<T>& g, uint64_t stream);

template <typename T>
int replay_gemm(void* data, uint64_t stream) {
    return run_gemm(*(const GemmArgs<T>*)data, stream) == CUBLAS_STATUS_SUCCESS ? 0 : 1;
}

template <typename T>
void free_gemm(void* data) {
    delete (GemmArgs<T>*)data;
}

// C[q] = alpha op(A[q]) op(B[q]) + beta C[q] for q < batch, column-major. On a capturing stream the
// GEMM is recorded (a graph node that runs it at each replay), not run.
template <typename T>
cublasStatus_t gemm(cublasHandle_t h, int ta, int tb, int64_t m, int64_t n, int64_t k, const T* alpha, const T* A,
                    int64_t lda, int64_t sa, const T* B, int64_t ldb, int64_t sb, const T* beta, T* C, int64_t ldc,
                    int64_t sc, int64_t batch) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (ta < CUBLAS_OP_N || ta > CUBLAS_OP_C || tb < CUBLAS_OP_N || tb > CUBLAS_OP_C) return CUBLAS_STATUS_INVALID_VALUE;
    if (m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
    bool na = ta == CUBLAS_OP_N, nb = tb == CUBLAS_OP_N;
    int64_t ar = na ? m : k;  // rows of A as stored
    int64_t br = nb ? k : n;  // rows of B as stored
    if (lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) || ldc < (m > 1 ? m : 1)) return CUBLAS_STATUS_INVALID_VALUE;
    if (alpha == nullptr || beta == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    if (h->pointer_mode != CUBLAS_POINTER_MODE_HOST) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (wsim_sticky_error() != 0) return CUBLAS_STATUS_EXECUTION_FAILED;  // the context is broken
    GemmArgs<T> g = {ta, tb, m, n, k, *alpha, *beta, A, lda, sa, B, ldb, sb, C, ldc, sc, batch,
                     sizeof(T) == 4 && tf32_enabled(h)};
    const char* name = sizeof(T) == 4 ? "cublasSgemm" : "cublasDgemm";
    GemmArgs<T>* node = new GemmArgs<T>(g);
    int captured = wsim_capture_node(h->stream, name, WSIM_T_GRAPH_GEMMS, replay_gemm<T>, node, free_gemm<T>);
    if (captured != 1) delete node;  // not taken by a graph
    if (captured < 0) return CUBLAS_STATUS_EXECUTION_FAILED;  // refused by the capture (a wsim_note says why)
    if (captured == 1) {
        if (h->workspace == nullptr)
            wsim_note(WSIM_T_WARNINGS,
                      "%s captured on a cuBLAS handle without a user workspace: real cuBLAS then allocates its "
                      "workspace inside the graph (memory nodes), which cannot be captured into child graphs or "
                      "device-launched graphs; call cublasSetWorkspace_v2 before the capture",
                      name);
        return CUBLAS_STATUS_SUCCESS;
    }
    wsim_trace_count(WSIM_T_GEMMS);
    return run_gemm(g, h->stream);
}

template <typename T>
cublasStatus_t run_gemm(const GemmArgs<T>& g, uint64_t stream) {
    if (wsim_sticky_error() != 0) return CUBLAS_STATUS_EXECUTION_FAILED;
    const int ta = g.ta, tb = g.tb;
    const int64_t m = g.m, n = g.n, k = g.k, lda = g.lda, sa = g.sa, ldb = g.ldb, sb = g.sb, ldc = g.ldc, sc = g.sc,
                  batch = g.batch;
    const T *A = g.A, *B = g.B;
    T* C = g.C;
    bool na = ta == CUBLAS_OP_N, nb = tb == CUBLAS_OP_N;
    int64_t ar = na ? m : k, ac = na ? k : m;
    int64_t br = nb ? k : n, bc = nb ? n : k;
    if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
    T al = g.al, be = g.be;
    bool read_ab = al != (T)0 && k > 0;
    if (!read_ab && be == (T)1) return CUBLAS_STATUS_SUCCESS;  // C unchanged: nothing is accessed

    const size_t es = sizeof(T);
    int64_t lo, hi;
    if (read_ab) {
        if (extent(ar, ac, lda, batch, sa, es, &lo, &hi) &&
            wsim_check_access(stream, (const char*)A + lo, (size_t)(hi - lo), 0, Names<T>::A))
            return CUBLAS_STATUS_EXECUTION_FAILED;
        if (extent(br, bc, ldb, batch, sb, es, &lo, &hi) &&
            wsim_check_access(stream, (const char*)B + lo, (size_t)(hi - lo), 0, Names<T>::B))
            return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    if (extent(m, n, ldc, batch, sc, es, &lo, &hi) &&
        wsim_check_access(stream, (const char*)C + lo, (size_t)(hi - lo), 1, Names<T>::C))
        return CUBLAS_STATUS_EXECUTION_FAILED;

    bool round = g.tf32;
    std::vector<T> a(read_ab ? (size_t)(m * k) : 0), b(read_ab ? (size_t)(k * n) : 0), acc(4);
    for (int64_t q = 0; q < batch; q++) {
        const T* Aq = A + q * sa;
        const T* Bq = B + q * sb;
        T* Cq = C + q * sc;
        if (read_ab) {
            // op(A) row-major (a[i*k + l]) and op(B) column-major (b[j*k + l]): both contiguous in l.
            for (int64_t i = 0; i < m; i++)
                for (int64_t l = 0; l < k; l++) {
                    T v = na ? Aq[i + l * lda] : Aq[l + i * lda];
                    a[(size_t)(i * k + l)] = round ? (T)tf32((float)v) : v;
                }
            for (int64_t j = 0; j < n; j++)
                for (int64_t l = 0; l < k; l++) {
                    T v = nb ? Bq[l + j * ldb] : Bq[j + l * ldb];
                    b[(size_t)(j * k + l)] = round ? (T)tf32((float)v) : v;
                }
        }
        for (int64_t j0 = 0; j0 < n; j0 += 4) {
            int64_t nj = n - j0 < 4 ? n - j0 : 4;
            for (int64_t i = 0; i < m; i++) {
                T s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four independent sums, each in k order
                if (read_ab) {
                    const T* ai = &a[(size_t)(i * k)];
                    const T* b0 = &b[(size_t)(j0 * k)];
                    if (nj == 4) {
                        const T *b1 = b0 + k, *b2 = b1 + k, *b3 = b2 + k;
                        for (int64_t l = 0; l < k; l++) {
                            T x = ai[l];
                            s0 += x * b0[l];
                            s1 += x * b1[l];
                            s2 += x * b2[l];
                            s3 += x * b3[l];
                        }
                    } else {
                        T* s[4] = {&s0, &s1, &s2, &s3};
                        for (int64_t jj = 0; jj < nj; jj++) {
                            const T* bj = b0 + jj * k;
                            T t = 0;
                            for (int64_t l = 0; l < k; l++) t += ai[l] * bj[l];
                            *s[jj] = t;
                        }
                    }
                }
                T sums[4] = {s0, s1, s2, s3};
                for (int64_t jj = 0; jj < nj; jj++) {
                    T& c = Cq[i + (j0 + jj) * ldc];
                    T r = read_ab ? al * sums[jj] : (T)0;
                    c = be == (T)0 ? r : r + be * c;
                }
            }
        }
    }
    return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

// ------------------------------------------------------------------ handles and modes

CUBLASAPI cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    cublasContext* h = new cublasContext();
    std::lock_guard<std::mutex> g(g_mu);
    g_handles.insert(h);
    *handle = h;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
    std::lock_guard<std::mutex> g(g_mu);
    if (h == nullptr || g_handles.erase(h) == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetStream_v2(cublasHandle_t h, void* stream) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->stream = (uint64_t)(uintptr_t)stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetStream_v2(cublasHandle_t h, void** stream) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (stream == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *stream = (void*)(uintptr_t)h->stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    int base = (int)mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_TF32_TENSOR_OP_MATH) return CUBLAS_STATUS_INVALID_VALUE;
    h->math = (int)mode;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetMathMode(cublasHandle_t h, cublasMath_t* mode) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = (cublasMath_t)h->math;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t h, cublasPointerMode_t mode) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode == CUBLAS_POINTER_MODE_HOST) {
        h->pointer_mode = mode;
        return CUBLAS_STATUS_SUCCESS;
    }
    if (mode == CUBLAS_POINTER_MODE_DEVICE) {
        wsim_report(WSIM_FAULT_API,
                    "cublasSetPointerMode_v2(CUBLAS_POINTER_MODE_DEVICE): the Wengert CUDA simulator supports host "
                    "scalars only");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

CUBLASAPI cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t h, cublasPointerMode_t* mode) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = (cublasPointerMode_t)h->pointer_mode;
    return CUBLAS_STATUS_SUCCESS;
}

// A user workspace, as capture-safe cuBLAS wants (see gemm): checked to be device memory of at least
// `bytes`, 256-byte aligned (cuBLAS's requirement); NULL with 0 bytes returns to the library's own.
// The reference GEMMs never use it.
CUBLASAPI cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t h, void* workspace, size_t bytes) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (workspace == nullptr && bytes == 0) {
        h->workspace = nullptr;
        h->workspace_bytes = 0;
        return CUBLAS_STATUS_SUCCESS;
    }
    if (workspace == nullptr || (uintptr_t)workspace % 256 != 0 || !wsim_is_device_range(workspace, bytes)) {
        wsim_report(WSIM_FAULT_API,
                    "cublasSetWorkspace_v2: %p (%zu bytes) is not a 256-byte aligned range of one live device "
                    "allocation",
                    workspace, bytes);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    h->workspace = workspace;
    h->workspace_bytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetVersion_v2(cublasHandle_t h, int* version) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (version == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *version = SIM_CUBLAS_MAJOR * 10000 + SIM_CUBLAS_MINOR * 100 + SIM_CUBLAS_PATCH;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLASAPI cublasStatus_t cublasGetProperty(libraryPropertyType type, int* value) {
    if (value == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    switch (type) {
        case MAJOR_VERSION: *value = SIM_CUBLAS_MAJOR; return CUBLAS_STATUS_SUCCESS;
        case MINOR_VERSION: *value = SIM_CUBLAS_MINOR; return CUBLAS_STATUS_SUCCESS;
        case PATCH_LEVEL: *value = SIM_CUBLAS_PATCH; return CUBLAS_STATUS_SUCCESS;
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

CUBLASAPI size_t cublasGetCudartVersion(void) { return 12060; }

CUBLASAPI const char* cublasGetStatusName(cublasStatus_t s) {
    switch (s) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

CUBLASAPI const char* cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
        case CUBLAS_STATUS_SUCCESS: return "success";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
        case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
        case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
        case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
        case CUBLAS_STATUS_LICENSE_ERROR: return "error detected trying to check the license";
    }
    return "unknown error";
}

// ------------------------------------------------------------------ GEMMs

CUBLASAPI cublasStatus_t cublasSgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                        int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                                        const float* beta, float* C, int ldc) {
    return gemm<float>(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

CUBLASAPI cublasStatus_t cublasDgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                        int k, const double* alpha, const double* A, int lda, const double* B, int ldb,
                                        const double* beta, double* C, int ldc) {
    return gemm<double>(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

CUBLASAPI cublasStatus_t cublasSgemm_v2_64(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int64_t m,
                                           int64_t n, int64_t k, const float* alpha, const float* A, int64_t lda,
                                           const float* B, int64_t ldb, const float* beta, float* C, int64_t ldc) {
    return gemm<float>(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

CUBLASAPI cublasStatus_t cublasDgemm_v2_64(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int64_t m,
                                           int64_t n, int64_t k, const double* alpha, const double* A, int64_t lda,
                                           const double* B, int64_t ldb, const double* beta, double* C, int64_t ldc) {
    return gemm<double>(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

CUBLASAPI cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                                                   int n, int k, const float* alpha, const float* A, int lda,
                                                   long long sa, const float* B, int ldb, long long sb,
                                                   const float* beta, float* C, int ldc, long long sc, int batch) {
    return gemm<float>(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

CUBLASAPI cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                                                   int n, int k, const double* alpha, const double* A, int lda,
                                                   long long sa, const double* B, int ldb, long long sb,
                                                   const double* beta, double* C, int ldc, long long sc, int batch) {
    return gemm<double>(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

CUBLASAPI cublasStatus_t cublasSgemmStridedBatched_64(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                      int64_t m, int64_t n, int64_t k, const float* alpha,
                                                      const float* A, int64_t lda, long long sa, const float* B,
                                                      int64_t ldb, long long sb, const float* beta, float* C,
                                                      int64_t ldc, long long sc, int64_t batch) {
    return gemm<float>(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

CUBLASAPI cublasStatus_t cublasDgemmStridedBatched_64(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                                      int64_t m, int64_t n, int64_t k, const double* alpha,
                                                      const double* A, int64_t lda, long long sa, const double* B,
                                                      int64_t ldb, long long sb, const double* beta, double* C,
                                                      int64_t ldc, long long sc, int64_t batch) {
    return gemm<double>(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}
