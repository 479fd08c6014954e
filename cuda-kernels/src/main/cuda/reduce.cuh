// Reductions along axes, argmax and log-softmax. The Java side reshapes every request into one of
// two layouts: rows [rows, len] (the reduced elements are contiguous) or [outer, len, inner]. Long
// reductions are split into chunks (pass 1 writes partial results, pass 2 reduces them) so that a
// few long rows still fill the GPU.
#pragma once
#include "common.cuh"

enum { R_SUM = 0, R_MAX = 1 };

template <typename T> __device__ inline T r_identity(int op) { return op == R_SUM ? (T)0 : lowest<T>(); }
template <typename T> __device__ inline T r_combine(int op, T a, T b) { return op == R_SUM ? a + b : max_nan(a, b); }
template <> __device__ inline i64 r_combine<i64>(int op, i64 a, i64 b) { return op == R_SUM ? (i64)((u64)a + (u64)b) : (a > b ? a : b); }

// out[r * nchunks + c] = reduce(x[r, c*chunk .. min(len, (c+1)*chunk))); one block per output.
template <typename T>
__device__ void reduce_rows_t(int op, const T* x, T* out, i64 rows, i64 len, i64 chunk) {
    i64 nchunks = len == 0 ? 1 : (len + chunk - 1) / chunk;
    for (i64 o = blockIdx.x; o < rows * nchunks; o += gridDim.x) {
        i64 r = o / nchunks, c = o - r * nchunks;
        i64 lo = c * chunk, hi = min(len, lo + chunk);
        const T* row = x + r * len;
        T acc = r_identity<T>(op);
        for (i64 j = lo + threadIdx.x; j < hi; j += blockDim.x) acc = r_combine(op, acc, row[j]);
        acc = block_reduce(acc, r_identity<T>(op), [op](T a, T b) { return r_combine(op, a, b); });
        if (threadIdx.x == 0) out[o] = acc;
    }
}

// out[o, c, i] = reduce(x[o, c*chunk .. , i]); one thread per output, consecutive threads along i.
template <typename T>
__device__ void reduce_oli_t(int op, const T* x, T* out, i64 outer, i64 len, i64 inner, i64 chunk) {
    i64 nchunks = len == 0 ? 1 : (len + chunk - 1) / chunk;
    GRID_STRIDE(idx, outer * nchunks * inner) {
        i64 i = idx % inner;
        i64 rest = idx / inner;
        i64 c = rest % nchunks, o = rest / nchunks;
        i64 lo = c * chunk, hi = min(len, lo + chunk);
        const T* p = x + o * len * inner + i;
        T acc = r_identity<T>(op);
        for (i64 j = lo; j < hi; j++) acc = r_combine(op, acc, p[j * inner]);
        out[idx] = acc;
    }
}

// Index of the first maximum (a NaN counts as the maximum), as the CPU backend.
template <typename T>
__device__ void argmax_t(const T* x, i64* out, i64 outer, i64 len, i64 inner) {
    GRID_STRIDE(idx, outer * inner) {
        i64 i = idx % inner, o = idx / inner;
        const T* p = x + o * len * inner + i;
        i64 best = 0;
        T bv = p[0];
        for (i64 j = 1; j < len && bv == bv; j++) {
            T v = p[j * inner];
            if (v > bv || v != v) {
                bv = v;
                best = j;
            }
        }
        out[idx] = best;
    }
}

// Whether candidate (v, j) beats (bv, best) for argmax: a NaN beats every number, a larger value a smaller one,
// and among equals (or two NaNs) the smaller index wins (the first maximum). best < 0 is no candidate yet.
template <typename T>
__device__ inline bool argmax_better(T v, i64 j, T bv, i64 best) {
    if (best < 0) return j >= 0;
    if (j < 0) return false;
    bool vn = v != v, bn = bv != bv;
    if (vn || bn) return vn && (!bn || j < best);
    return v > bv || (v == bv && j < best);
}

// argmax along contiguous rows [rows, len], one warp per row: lanes scan a stride each, then a butterfly picks the
// first maximum (the same answer as argmax_t, in parallel over the row).
template <typename T>
__device__ void argmax_warp_rows_t(const T* x, i64* out, i64 rows, i64 len) {
    int lane = threadIdx.x & 31;
    for (i64 r = WARP_ROW_FIRST; r < rows; r += WARP_ROW_STEP) {
        const T* row = x + r * len;
        T bv = lowest<T>();
        i64 best = -1;
        for (i64 j = lane; j < len; j += 32) {
            T v = row[j];
            if (argmax_better(v, j, bv, best)) {
                bv = v;
                best = j;
            }
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            T ov = __shfl_xor_sync(0xffffffffu, bv, o);
            i64 oj = __shfl_xor_sync(0xffffffffu, best, o);
            if (argmax_better(ov, oj, bv, best)) {
                bv = ov;
                best = oj;
            }
        }
        if (lane == 0) out[r] = best < 0 ? 0 : best;
    }
}

// log-softmax of contiguous short rows: one warp per row.
template <typename T>
__device__ void log_softmax_warp_rows_t(const T* x, T* out, i64 rows, i64 len) {
    int lane = threadIdx.x & 31;
    for (i64 r = WARP_ROW_FIRST; r < rows; r += WARP_ROW_STEP) {
        const T* row = x + r * len;
        T m, logsum;
        warp_row_max_logsum(row, len, &m, &logsum);
        for (i64 j = lane; j < len; j += 32) out[r * len + j] = (row[j] - m) - logsum;
    }
}

// log-softmax of contiguous rows: one block per row, three passes over the row (max, sum, write).
template <typename T>
__device__ void log_softmax_rows_t(const T* x, T* out, i64 rows, i64 len) {
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* row = x + r * len;
        T m, logsum;
        row_max_logsum(row, len, &m, &logsum);
        for (i64 j = threadIdx.x; j < len; j += blockDim.x) out[r * len + j] = (row[j] - m) - logsum;
    }
}

// log-softmax along the middle axis of [outer, len, inner]: one thread per (o, i).
template <typename T>
__device__ void log_softmax_oli_t(const T* x, T* out, i64 outer, i64 len, i64 inner) {
    GRID_STRIDE(idx, outer * inner) {
        i64 i = idx % inner, o = idx / inner;
        i64 base = o * len * inner + i;
        T m = lowest<T>();
        for (i64 j = 0; j < len; j++) m = max_nan(m, x[base + j * inner]);
        T s = 0;
        for (i64 j = 0; j < len; j++) s += f_exp(x[base + j * inner] - m);
        T logsum = f_log(s);
        for (i64 j = 0; j < len; j++) out[base + j * inner] = (x[base + j * inner] - m) - logsum;
    }
}

#define REDUCE_ENTRIES(T, S)                                                                                  \
    extern "C" __global__ void reduce_rows_##S(int op, const T* x, T* out, i64 rows, i64 len, i64 chunk) {    \
        reduce_rows_t(op, x, out, rows, len, chunk);                                                          \
    }                                                                                                         \
    extern "C" __global__ void reduce_oli_##S(int op, const T* x, T* out, i64 outer, i64 len, i64 inner, i64 chunk) { \
        reduce_oli_t(op, x, out, outer, len, inner, chunk);                                                   \
    }                                                                                                         \
    extern "C" __global__ void argmax_##S(const T* x, i64* out, i64 outer, i64 len, i64 inner) {              \
        argmax_t(x, out, outer, len, inner);                                                                  \
    }                                                                                                         \
    extern "C" __global__ void argmax_warp_rows_##S(const T* x, i64* out, i64 rows, i64 len) {                \
        argmax_warp_rows_t(x, out, rows, len);                                                                \
    }

REDUCE_ENTRIES(float, f32)
REDUCE_ENTRIES(double, f64)
REDUCE_ENTRIES(i64, i64)

#define SOFTMAX_ENTRIES(T, S)                                                                                 \
    extern "C" __global__ void log_softmax_rows_##S(const T* x, T* out, i64 rows, i64 len) {                  \
        log_softmax_rows_t(x, out, rows, len);                                                                \
    }                                                                                                         \
    extern "C" __global__ void log_softmax_oli_##S(const T* x, T* out, i64 outer, i64 len, i64 inner) {       \
        log_softmax_oli_t(x, out, outer, len, inner);                                                         \
    }                                                                                                         \
    extern "C" __global__ void log_softmax_warp_rows_##S(const T* x, T* out, i64 rows, i64 len) {             \
        log_softmax_warp_rows_t(x, out, rows, len);                                                           \
    }

SOFTMAX_ENTRIES(float, f32)
SOFTMAX_ENTRIES(double, f64)
