// Shared definitions for every Wengert kernel. The Java side (dev.wengert.tensor.cuda) reads the op
// codes by name (OpCodes) and mirrors the Geo layout and the error codes below; change those together.
#pragma once
#include <stdint.h>
#include <math.h>

typedef long long i64;
typedef unsigned long long u64;

#define MAX_DIMS 8
#define BLOCK 256

// Broadcast/strided geometry passed by value: the iteration shape (row-major) and, for up to four
// operands, their element strides along it (0 on broadcast dimensions). All ints: 41 x 4 bytes.
struct Geo {
    int rank;
    int shape[MAX_DIMS];
    int st[4][MAX_DIMS];
};

// The first error a kernel hits (an out-of-range index, an integer division by zero). The host
// reads it at the next synchronising read and throws; kernels never stop early.
struct Err {
    int code;
    int pad;
    i64 a, b, c;
};
enum { ERR_NONE = 0, ERR_GATHER = 1, ERR_SCATTER = 2, ERR_ONEHOT = 3, ERR_INT_DIV = 4, ERR_INT_POW = 5, ERR_LABEL = 6 };

__device__ inline void report(Err* e, int code, i64 a, i64 b, i64 c) {
    if (atomicCAS(&e->code, 0, code) == 0) {
        e->a = a;
        e->b = b;
        e->c = c;
    }
}

// Offsets of NOPS operands for the flat (row-major) index i of g's shape.
template <int NOPS>
__device__ inline void geo_offsets(const Geo& g, unsigned i, i64* off) {
#pragma unroll
    for (int k = 0; k < NOPS; k++) off[k] = 0;
#pragma unroll
    for (int d = MAX_DIMS - 1; d >= 0; d--) {
        if (d < g.rank) {
            unsigned s = (unsigned)g.shape[d];
            unsigned q = i / s;
            unsigned r = i - q * s;
            i = q;
#pragma unroll
            for (int k = 0; k < NOPS; k++) off[k] += (i64)r * g.st[k][d];
        }
    }
}

#define GRID_STRIDE(i, n) _Pragma("unroll 1") \
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

// 16-byte vector of T for the contiguous fast paths (float4 / double2 / longlong2 loads).
template <typename T>
struct alignas(16) Vec {
    T v[16 / sizeof(T)];
};

__device__ inline bool aligned16(const void* p) { return ((uintptr_t)p & 15) == 0; }

// NaN-propagating max and min, as Java's Math.max / Math.min: also max(+0, -0) = +0 and min(+0, -0) = -0.
template <typename T> __device__ inline T max_nan(T a, T b) {
    return a != a ? a : (b != b ? b : (a > b ? a : (a < b ? b : (signbit(a) ? b : a))));
}
template <> __device__ inline i64 max_nan<i64>(i64 a, i64 b) { return a > b ? a : b; }
template <typename T> __device__ inline T min_nan(T a, T b) {
    return a != a ? a : (b != b ? b : (a < b ? a : (a > b ? b : (signbit(a) ? a : b))));
}
template <> __device__ inline i64 min_nan<i64>(i64 a, i64 b) { return a < b ? a : b; }

template <typename T> __device__ inline T lowest();
template <> __device__ inline float lowest<float>() { return -INFINITY; }
template <> __device__ inline double lowest<double>() { return -INFINITY; }
template <> __device__ inline i64 lowest<i64>() { return (i64)0x8000000000000000ULL; }

// Float and double overloads under one name, so templates pick the single-precision functions.
// The long ones are not inlined: every elementwise loop would otherwise carry its own copy.
__device__ inline float f_exp(float x) { return expf(x); }
__device__ inline double f_exp(double x) { return exp(x); }
__device__ __noinline__ float f_log(float x) { return logf(x); }
__device__ __noinline__ double f_log(double x) { return log(x); }
__device__ inline float f_sqrt(float x) { return sqrtf(x); }
__device__ inline double f_sqrt(double x) { return sqrt(x); }
__device__ inline float f_abs(float x) { return fabsf(x); }
__device__ inline double f_abs(double x) { return fabs(x); }
__device__ __noinline__ float f_sin(float x) { return sinf(x); }
__device__ __noinline__ double f_sin(double x) { return sin(x); }
__device__ __noinline__ float f_cos(float x) { return cosf(x); }
__device__ __noinline__ double f_cos(double x) { return cos(x); }
__device__ __noinline__ float f_tanh(float x) { return tanhf(x); }
__device__ __noinline__ double f_tanh(double x) { return tanh(x); }
__device__ __noinline__ float f_pow(float a, float b) { return powf(a, b); }
__device__ __noinline__ double f_pow(double a, double b) { return pow(a, b); }

// Block-wide reductions (blockDim.x == BLOCK). Every thread gets the result.
template <typename T, typename F>
__device__ inline T block_reduce(T v, T identity, F combine) {
    __shared__ T shared[32];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = combine(v, __shfl_down_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();  // shared may still be read by a previous call
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    int nw = (blockDim.x + 31) >> 5;
    v = threadIdx.x < nw ? shared[threadIdx.x] : identity;
    if (warp == 0) {
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v = combine(v, __shfl_down_sync(0xffffffffu, v, o));
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    return shared[0];
}

// Sum and maximum over a warp, every lane getting the same value (butterfly: both partners combine the same pair,
// so the bits do not depend on the lane).
template <typename T>
__device__ inline T warp_sum_all(T v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T>
__device__ inline T warp_max_all(T v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// row_max_logsum by one warp (a short row: one warp per row instead of a mostly idle block); every lane gets both.
template <typename T>
__device__ inline void warp_row_max_logsum(const T* row, i64 len, T* m_out, T* logsum_out) {
    int lane = threadIdx.x & 31;
    T m = lowest<T>();
    for (i64 j = lane; j < len; j += 32) m = max_nan(m, row[j]);
    m = warp_max_all(m);
    T s = 0;
    for (i64 j = lane; j < len; j += 32) s += f_exp(row[j] - m);
    *m_out = m;
    *logsum_out = f_log(warp_sum_all(s));
}

// Rows handled one per warp: for (i64 r = WARP_ROW_FIRST; r < rows; r += WARP_ROW_STEP). Uniform per warp.
#define WARP_ROW_FIRST ((i64)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5))
#define WARP_ROW_STEP ((i64)gridDim.x * (blockDim.x >> 5))

// Over one row of len elements, by the whole block (blockDim.x == BLOCK): the maximum m and
// log(sum(exp(row - m))). Callers form log-softmax as (x - m) - logsum, never x - (m + logsum), which
// would lose |m| * eps (e.g. 0.0007 for float32 logits near 1e5).
template <typename T>
__device__ inline void row_max_logsum(const T* row, i64 len, T* m_out, T* logsum_out) {
    T m = lowest<T>();
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) m = max_nan(m, row[j]);
    m = block_reduce(m, lowest<T>(), [](T a, T b) { return max_nan(a, b); });
    T s = 0;
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) s += f_exp(row[j] - m);
    s = block_reduce(s, (T)0, [](T a, T b) { return a + b; });
    *m_out = m;
    *logsum_out = f_log(s);
}
