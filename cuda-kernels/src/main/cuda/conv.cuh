// Sliding-window kernels for 2-D convolution and pooling over NCHW tensors: im2col (unfold), col2im (fold,
// its adjoint) and max pooling with PyTorch's indices. The convolution itself is cuBLAS GEMMs on the columns
// (tensor-cuda's CudaBackend, through Tensor.conv2d). Window geometry: output (oy, ox) with kernel offset (i, j)
// reads input row oy*sh - ph + i*dh and column ox*sw - pw + j*dw.
#pragma once
#include "common.cuh"

// The window and image sizes, passed by value (16 ints).
struct Win {
    int n, c, h, w;     // input
    int oh, ow;         // output
    int kh, kw, sh, sw, ph, pw, dh, dw;
    int pad0, pad1;
};

// cols[n, (c*kh + i)*kw + j, oy*ow + ox] = x[n, c, iy, ix], or padValue outside x; one thread per column entry.
template <typename T>
__device__ void im2col_t(const T* x, T* cols, Win g, double padValue) {
    i64 l = (i64)g.oh * g.ow;
    i64 total = (i64)g.n * g.c * g.kh * g.kw * l;
    GRID_STRIDE(e, total) {
        i64 row = e / l;
        int pos = (int)(e - row * l);
        int oy = pos / g.ow, ox = pos - (pos / g.ow) * g.ow;
        int j = (int)(row % g.kw);
        i64 r2 = row / g.kw;
        int i = (int)(r2 % g.kh);
        i64 plane = r2 / g.kh;  // n * c + c
        int iy = oy * g.sh - g.ph + i * g.dh;
        int ix = ox * g.sw - g.pw + j * g.dw;
        cols[e] = (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) ? (T)padValue : x[(plane * g.h + iy) * g.w + ix];
    }
}

// out[n, c, iy, ix] = the sum of the column entries im2col reads from it; one thread per image element, the
// windows that cover it enumerated in a fixed order (no atomics: deterministic).
template <typename T>
__device__ void col2im_t(const T* cols, T* out, Win g) {
    i64 l = (i64)g.oh * g.ow;
    i64 total = (i64)g.n * g.c * g.h * g.w;
    GRID_STRIDE(e, total) {
        int ix = (int)(e % g.w);
        i64 r = e / g.w;
        int iy = (int)(r % g.h);
        i64 plane = r / g.h;
        T acc = (T)0;
        for (int i = 0; i < g.kh; i++) {
            int ty = iy + g.ph - i * g.dh;
            if (ty < 0 || ty % g.sh != 0) continue;
            int oy = ty / g.sh;
            if (oy >= g.oh) continue;
            for (int j = 0; j < g.kw; j++) {
                int tx = ix + g.pw - j * g.dw;
                if (tx < 0 || tx % g.sw != 0) continue;
                int ox = tx / g.sw;
                if (ox >= g.ow) continue;
                acc += cols[((plane * g.kh + i) * g.kw + j) * l + (i64)oy * g.ow + ox];
            }
        }
        out[e] = acc;
    }
}

// PyTorch's max-pooling loop: from the window's first in-range position with -inf, take an element that is
// greater or NaN (ties: the first maximum; NaN propagates). indices = iy * w + ix within the channel.
template <typename T>
__device__ void max_pool2d_t(const T* x, T* out, i64* indices, Win g) {
    i64 total = (i64)g.n * g.c * g.oh * g.ow;
    GRID_STRIDE(e, total) {
        int ox = (int)(e % g.ow);
        i64 r = e / g.ow;
        int oy = (int)(r % g.oh);
        i64 plane = r / g.oh;
        const T* p = x + plane * g.h * g.w;
        int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
        int fy = y0, fx = x0;
        while (fy < 0) fy += g.dh;
        while (fx < 0) fx += g.dw;
        i64 best = (i64)fy * g.w + fx;
        T bv = lowest<T>();
        for (int i = 0; i < g.kh; i++) {
            int iy = y0 + i * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (int j = 0; j < g.kw; j++) {
                int ix = x0 + j * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                T v = p[iy * g.w + ix];
                if (v > bv || v != v) {
                    bv = v;
                    best = (i64)iy * g.w + ix;
                }
            }
        }
        out[e] = bv;
        indices[e] = best;
    }
}

#define CONV_ENTRIES(T, S)                                                                                    \
    extern "C" __global__ void im2col_##S(const T* x, T* cols, Win g, double padValue) {                     \
        im2col_t(x, cols, g, padValue);                                                                       \
    }                                                                                                         \
    extern "C" __global__ void col2im_##S(const T* cols, T* out, Win g) { col2im_t(cols, out, g); }           \
    extern "C" __global__ void max_pool2d_##S(const T* x, T* out, i64* indices, Win g) {                     \
        max_pool2d_t(x, out, indices, g);                                                                     \
    }
CONV_ENTRIES(float, f32)
CONV_ENTRIES(double, f64)
