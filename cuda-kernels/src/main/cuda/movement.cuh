// Movement and indexing: strided copy (permute, slice, concat, broadcastTo), tiled transpose,
// gather, scatter-add, one-hot. Copies move bits, so they come in 4- and 8-byte element versions.
#pragma once
#include "common.cuh"

// dst[dstBase + off1] = src[srcBase + off0] over g.shape; g.st[0] / g.st[1] are src / dst strides.
template <typename T>
__device__ void copy_strided_t(const T* src, i64 srcBase, T* dst, i64 dstBase, i64 n, const Geo& g) {
    GRID_STRIDE(i, n) {
        i64 off[2];
        geo_offsets<2>(g, (unsigned)i, off);
        dst[dstBase + off[1]] = src[srcBase + off[0]];
    }
}

// [batch, rows, cols] -> [batch, cols, rows] through a 32x33 shared tile: both sides coalesced.
template <typename T>
__device__ void transpose_t(const T* src, T* dst, int batch, int rows, int cols) {
    __shared__ T tile[32][33];
    int tilesX = (cols + 31) / 32, tilesY = (rows + 31) / 32;
    for (int b = blockIdx.z; b < batch; b += gridDim.z) {
        const T* s = src + (i64)b * rows * cols;
        T* d = dst + (i64)b * rows * cols;
        for (int ty = blockIdx.y; ty < tilesY; ty += gridDim.y) {
            for (int tx = blockIdx.x; tx < tilesX; tx += gridDim.x) {
                int c = tx * 32 + threadIdx.x;
                for (int k = threadIdx.y; k < 32; k += blockDim.y) {
                    int r = ty * 32 + k;
                    if (r < rows && c < cols) tile[k][threadIdx.x] = s[(i64)r * cols + c];
                }
                __syncthreads();
                int r2 = ty * 32 + threadIdx.x;
                for (int k = threadIdx.y; k < 32; k += blockDim.y) {
                    int c2 = tx * 32 + k;
                    if (r2 < rows && c2 < cols) d[(i64)c2 * rows + r2] = tile[threadIdx.x][k];
                }
                __syncthreads();
            }
        }
    }
}

// g.shape is the index's shape, g.st[0] the data strides with 0 along axis.
template <typename T>
__device__ void gather_t(const T* x, const i64* index, T* out, i64 n, const Geo& g, int axis, int axisLen, i64 axisStride, Err* err) {
    GRID_STRIDE(i, n) {
        i64 off[1];
        geo_offsets<1>(g, (unsigned)i, off);
        i64 v = index[i];
        if (v < 0 || v >= axisLen) {
            report(err, ERR_GATHER, v, axis, axisLen);
            out[i] = (T)0;
        } else {
            out[i] = x[off[0] + v * axisStride];
        }
    }
}

__device__ inline void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ inline void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ inline void atomic_add(i64* p, i64 v) { atomicAdd((u64*)p, (u64)v); }

template <typename T>
__device__ void scatter_add_t(T* out, const i64* index, const T* src, i64 n, const Geo& g, int axis, int axisLen, i64 axisStride, Err* err) {
    GRID_STRIDE(i, n) {
        i64 off[1];
        geo_offsets<1>(g, (unsigned)i, off);
        i64 v = index[i];
        if (v < 0 || v >= axisLen) {
            report(err, ERR_SCATTER, v, axis, axisLen);
        } else {
            atomic_add(out + off[0] + v * axisStride, src[i]);
        }
    }
}

// out[r, c] = index[r] == c, for rows * classes outputs; one pass, no separate zero fill.
template <typename T>
__device__ void one_hot_t(const i64* index, T* out, i64 rows, int classes, Err* err) {
    GRID_STRIDE(i, rows * classes) {
        i64 r = i / classes;
        int c = (int)(i - r * classes);
        i64 v = index[r];
        if (c == 0 && (v < 0 || v >= classes)) report(err, ERR_ONEHOT, v, r, classes);
        out[i] = v == c ? (T)1 : (T)0;
    }
}

#define COPY_ENTRIES(T, S)                                                                                    \
    extern "C" __global__ void copy_strided_##S(const T* src, i64 srcBase, T* dst, i64 dstBase, i64 n, Geo g) { \
        copy_strided_t(src, srcBase, dst, dstBase, n, g);                                                     \
    }                                                                                                         \
    extern "C" __global__ void transpose_##S(const T* src, T* dst, int batch, int rows, int cols) {           \
        transpose_t(src, dst, batch, rows, cols);                                                             \
    }
COPY_ENTRIES(unsigned, b32)
COPY_ENTRIES(u64, b64)

#define INDEX_ENTRIES(T, S)                                                                                   \
    extern "C" __global__ void gather_##S(const T* x, const i64* index, T* out, i64 n, Geo g, int axis, int axisLen, i64 axisStride, Err* err) { \
        gather_t(x, index, out, n, g, axis, axisLen, axisStride, err);                                        \
    }                                                                                                         \
    extern "C" __global__ void scatter_add_##S(T* out, const i64* index, const T* src, i64 n, Geo g, int axis, int axisLen, i64 axisStride, Err* err) { \
        scatter_add_t(out, index, src, n, g, axis, axisLen, axisStride, err);                                 \
    }                                                                                                         \
    extern "C" __global__ void one_hot_##S(const i64* index, T* out, i64 rows, int classes, Err* err) {       \
        one_hot_t(index, out, rows, classes, err);                                                            \
    }
INDEX_ENTRIES(float, f32)
INDEX_ENTRIES(double, f64)
INDEX_ENTRIES(i64, i64)
