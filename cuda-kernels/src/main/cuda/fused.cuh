// Fused kernels for the models: bias + activation and its backward (with the bias gradient), softmax-cross-entropy
// forward and backward, the mean cross-entropy with its gradient in one pass, training-mode batch normalisation
// and its backward, SGD-momentum and Adam updates (PyTorch semantics). Each replaces 3-10 separate elementwise launches.
#pragma once
#include "common.cuh"

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_TANH = 2, ACT_SIGMOID = 3 };

template <typename T>
__device__ inline T activate(int act, T v) {
    switch (act) {
        case ACT_RELU: return v > 0 ? v : (T)0;
        case ACT_TANH: return f_tanh(v);
        case ACT_SIGMOID: {
            if (v >= 0) return (T)1 / ((T)1 + f_exp(-v));
            T e = f_exp(v);
            return e / ((T)1 + e);
        }
        default: return v;
    }
}

// out[r, c] = act(x[r, c] + bias[c]) for a contiguous [rows, cols] x. out may alias x.
template <typename T>
__device__ void bias_act_t(const T* x, const T* bias, T* out, i64 rows, i64 cols, int act) {
    GRID_STRIDE(i, rows * cols) out[i] = activate(act, x[i] + bias[i % cols]);
}

// d act(z) / dz from the output y = act(z): relu 1 where y > 0 (relu'(0) = 0), tanh 1 - y^2, sigmoid y (1 - y), none 1.
template <typename T>
__device__ inline T activation_grad(int act, T y) {
    switch (act) {
        case ACT_RELU: return y > 0 ? (T)1 : (T)0;
        case ACT_TANH: return (T)1 - y * y;
        case ACT_SIGMOID: return y * ((T)1 - y);
        default: return (T)1;
    }
}

// The first-order backward of y = act(x W^T + b) up to the GEMMs, in one pass: dz[r, c] = dy[r, c] act'(y[r, c])
// (written only when writeDz; with ACT_NONE dz is dy itself and the caller passes writeDz = 0) and
// db[c] = sum over r of dz[r, c]. Block (32, BIAS_ACT_BWD_ROWS): threadIdx.x picks a column of a 32-column
// tile, threadIdx.y a residue class of rows, summed in row order; the BIAS_ACT_BWD_ROWS partial sums of a
// column are then added in threadIdx.y order. No atomics: the order of every sum is fixed by the geometry, so
// the bits do not depend on scheduling. dz may alias dy.
#define BIAS_ACT_BWD_ROWS 8
template <typename T>
__device__ void bias_act_bwd_t(const T* dy, const T* y, T* dz, T* db, i64 rows, i64 cols, int act, int writeDz) {
    __shared__ T part[BIAS_ACT_BWD_ROWS][33];
    for (i64 tile = blockIdx.x; tile * 32 < cols; tile += gridDim.x) {
        i64 c = tile * 32 + threadIdx.x;
        T acc = 0;
        if (c < cols) {
            for (i64 r = threadIdx.y; r < rows; r += blockDim.y) {
                i64 i = r * cols + c;
                T g = act == ACT_NONE ? dy[i] : dy[i] * activation_grad(act, y[i]);
                if (writeDz) dz[i] = g;
                acc += g;
            }
        }
        __syncthreads();  // part may still be read for the previous tile
        part[threadIdx.y][threadIdx.x] = acc;
        __syncthreads();
        if (threadIdx.y == 0 && c < cols) {
            T s = part[0][threadIdx.x];
            for (int k = 1; k < (int)blockDim.y; k++) s += part[k][threadIdx.x];
            db[c] = s;
        }
    }
}

// One row's cross-entropy from its max m and logsum = log(sum exp(row - m)): (m - row[label]) + logsum; NaN when the
// label is outside [0, classes) (the caller reports it, from one thread).
template <typename T>
__device__ inline T xent_row_loss(const T* row, i64 y, int classes, T m, T logsum) {
    return y < 0 || y >= classes ? (T)NAN : (m - row[y]) + logsum;
}

// One element's cross-entropy gradient, (softmax - oneHot(label)) * g, from the row's m and logsum; NaN for a bad label.
template <typename T>
__device__ inline T xent_grad(T x, int j, i64 y, bool bad, T m, T logsum, T g) {
    return bad ? (T)NAN : (f_exp((x - m) - logsum) - (j == y ? (T)1 : (T)0)) * g;
}

// Mean softmax cross-entropy and its gradient in one pass. Block b takes rows [b * rowsPerBlock, ...), its warps
// take every (blockDim.x / 32)-th row of them, a row's lanes its classes: per row the loss
// (max - logits[label]) + log(sum exp(logits - max)) and grad[r, :] = (softmax - oneHot(label)) * invRows.
// A warp adds its rows' losses in row order, thread 0 the warps' sums in warp order, then
// partial[b] = sum / rows: with one block (rows up to a few thousand) partial[0] is the mean loss; with more the
// caller adds the partial sums (in a fixed order). A label outside [0, classes) is reported; its row's loss and
// gradient are NaN.
template <typename T>
__device__ void softmax_xent_mean_t(const T* logits, const i64* labels, T* partial, T* grad, i64 rows, int classes,
                                    i64 rowsPerBlock, double invRows, Err* err) {
    __shared__ T warpSums[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (int)(blockDim.x >> 5);
    for (i64 b = blockIdx.x; b * rowsPerBlock < rows || (b == 0 && rows == 0); b += gridDim.x) {
        i64 lo = b * rowsPerBlock, hi = min(rows, lo + rowsPerBlock);
        T acc = 0;
        for (i64 r = lo + warp; r < hi; r += warps) {
            const T* row = logits + r * classes;
            T m, logsum;
            warp_row_max_logsum(row, (i64)classes, &m, &logsum);
            i64 y = labels[r];
            bool bad = y < 0 || y >= classes;
            if (bad && lane == 0) report(err, ERR_LABEL, y, r, classes);
            acc += xent_row_loss(row, y, classes, m, logsum);
            for (int j = lane; j < classes; j += 32) {
                grad[r * classes + j] = xent_grad(row[j], j, y, bad, m, logsum, (T)invRows);
            }
        }
        __syncthreads();  // warpSums may still be read for the previous group of rows
        if (lane == 0) warpSums[warp] = acc;
        __syncthreads();
        if (threadIdx.x == 0) {
            T s = warpSums[0];
            for (int w = 1; w < warps; w++) s += warpSums[w];
            partial[b] = rows == 0 ? (T)NAN : s / (T)rows;  // the mean of no rows is NaN, as PyTorch
        }
    }
}

// loss[r] = logsumexp(logits[r, :]) - logits[r, label[r]], as (max - logits[r, label]) + log(sum); a block per row,
// or with WARP a warp per row (short rows: classes up to about a thousand).
template <typename T, bool WARP>
__device__ void softmax_xent_fwd_t(const T* logits, const i64* labels, T* loss, i64 rows, int classes, Err* err) {
    int lane = WARP ? (int)(threadIdx.x & 31) : (int)threadIdx.x;
    for (i64 r = WARP ? WARP_ROW_FIRST : blockIdx.x; r < rows; r += WARP ? WARP_ROW_STEP : gridDim.x) {
        const T* row = logits + r * classes;
        T m, logsum;
        if (WARP) {
            warp_row_max_logsum(row, (i64)classes, &m, &logsum);
        } else {
            row_max_logsum(row, (i64)classes, &m, &logsum);
        }
        if (lane == 0) {
            i64 y = labels[r];
            if (y < 0 || y >= classes) report(err, ERR_LABEL, y, r, classes);
            loss[r] = xent_row_loss(row, y, classes, m, logsum);
        }
    }
}

// grad[r, c] = (softmax(logits[r])[c] - (c == label[r])) * gradLoss[gradStride * r] * scale; a block or (WARP) a
// warp per row. gradStride 0 broadcasts a scalar upstream gradient (a mean loss: scale = 1 / rows). A label outside
// [0, classes) is reported (as the forward does) and its row's gradient is NaN.
template <typename T, bool WARP>
__device__ void softmax_xent_bwd_t(const T* logits, const i64* labels, const T* gradLoss, int gradStride, double scale,
                                   T* grad, i64 rows, int classes, Err* err) {
    int lane = WARP ? (int)(threadIdx.x & 31) : (int)threadIdx.x;
    int lanes = WARP ? 32 : (int)blockDim.x;
    for (i64 r = WARP ? WARP_ROW_FIRST : blockIdx.x; r < rows; r += WARP ? WARP_ROW_STEP : gridDim.x) {
        const T* row = logits + r * classes;
        T m, logsum;
        if (WARP) {
            warp_row_max_logsum(row, (i64)classes, &m, &logsum);
        } else {
            row_max_logsum(row, (i64)classes, &m, &logsum);
        }
        T g = gradLoss[(i64)gradStride * r] * (T)scale;
        i64 y = labels[r];
        bool bad = y < 0 || y >= classes;
        if (bad && lane == 0) report(err, ERR_LABEL, y, r, classes);
        for (int j = lane; j < classes; j += lanes) {
            grad[r * classes + j] = xent_grad(row[j], j, y, bad, m, logsum, g);
        }
    }
}

// Training-mode batch normalisation of a contiguous x [N, C, L] per channel c over its M = N * L values; value k of
// channel c is x[(k / L) * C * L + c * L + k % L]. One block per channel (grid-stride over channels, blockDim.x a
// multiple of 32): thread t takes the values k = t, t + blockDim.x, ... in index order into a per-thread partial
// sum, and block_reduce adds the partial sums in a fixed tree (shuffles within each warp, then the warps' sums), so
// every sum has one order, fixed by the geometry: the same bits on every run, no atomics. The sums accumulate in
// double for float32 too (one add per value; the elementwise arithmetic stays in T): a channel's M reaches 200,704
// (256 x 28 x 28), about 800 values per thread, and the backward's sum of dy * xhat cancels; in double the
// statistics are those of the exact sums rounded once to T, whatever M and the block size are.

// The values k = first, first + step, ... of channel c of a contiguous [N, C, L] tensor, walked without a division
// per value: at() is the current value's offset, next() moves on by step.
struct BnWalk {
    i64 k, n, l, dn, dl, len, rowStride, base;
    __device__ BnWalk(i64 first, i64 step, i64 c, i64 C, i64 L)
        : k(first), n(first / L), l(first % L), dn(step / L), dl(step % L), len(L), rowStride(C * L), base(c * L) {}
    __device__ i64 at() const { return n * rowStride + base + l; }
    __device__ void next(i64 step) {
        k += step;
        n += dn;
        l += dl;
        if (l >= len) {
            l -= len;
            n++;
        }
    }
};
#define BN_FOR(it, c, C, L, M) for (BnWalk it(threadIdx.x, blockDim.x, c, C, L); it.k < (M); it.next(blockDim.x))

__device__ inline double block_sum(double v) {
    return block_reduce(v, 0.0, [](double a, double b) { return a + b; });
}

// mean[c] = the mean of channel c's values, var[c] = the mean of (x - mean)^2 (biased, a second pass as the composed
// version), y = (x - mean) * (1 / sqrt(var + eps)) * weight[c] + bias[c]. mean and var are rounded to T before they
// are used, as the composed version's tensors are. M = 0 gives NaN statistics and no y. y may be x.
template <typename T>
__device__ void batch_norm_t(const T* x, const T* weight, const T* bias, double eps, T* y, T* mean, T* var, i64 N,
                             i64 C, i64 L) {
    i64 M = N * L;
    for (i64 c = blockIdx.x; c < C; c += gridDim.x) {
        double s = 0;
        BN_FOR(it, c, C, L, M) s += (double)x[it.at()];
        T mu = (T)(block_sum(s) / (double)M);
        s = 0;
        BN_FOR(it, c, C, L, M) {
            T d = x[it.at()] - mu;
            s += (double)(d * d);
        }
        T v = (T)(block_sum(s) / (double)M);
        T invStd = (T)(1.0 / sqrt((double)v + eps));
        T w = weight[c], b = bias[c];
        BN_FOR(it, c, C, L, M) {
            i64 i = it.at();
            y[i] = (x[i] - mu) * invStd * w + b;
        }
        if (threadIdx.x == 0) {
            mean[c] = mu;
            var[c] = v;
        }
    }
}

// Which of batch_norm_bwd's outputs to write (the others are null on the Java side and get a stand-in pointer).
enum { BN_DX = 1, BN_DWEIGHT = 2, BN_DBIAS = 4 };

// The adjoints of batch_norm_t's y for dy, from x and its mean and var: with invStd = 1 / sqrt(var + eps) and
// xhat = (x - mean) invStd, per channel sumDy = sum dy and sumDyXhat = sum dy xhat (one pass, both in double);
// dbias[c] = sumDy, dweight[c] = sumDyXhat, dx = weight[c] invStd (dy - sumDy / M - xhat sumDyXhat / M) (a second
// pass), each written only when its bit is in `write`. dx may be dy or x.
template <typename T>
__device__ void batch_norm_bwd_t(const T* dy, const T* x, const T* mean, const T* var, const T* weight, double eps, T* dx,
                                 T* dweight, T* dbias, i64 N, i64 C, i64 L, int write) {
    i64 M = N * L;
    for (i64 c = blockIdx.x; c < C; c += gridDim.x) {
        T mu = mean[c];
        T invStd = (T)(1.0 / sqrt((double)var[c] + eps));
        T w = weight[c];
        double sDy = 0, sDyXhat = 0;
        BN_FOR(it, c, C, L, M) {
            i64 i = it.at();
            T g = dy[i];
            sDy += (double)g;
            sDyXhat += (double)(g * ((x[i] - mu) * invStd));
        }
        sDy = block_sum(sDy);
        sDyXhat = block_sum(sDyXhat);
        if (threadIdx.x == 0) {
            if (write & BN_DBIAS) dbias[c] = (T)sDy;
            if (write & BN_DWEIGHT) dweight[c] = (T)sDyXhat;
        }
        if (write & BN_DX) {
            T k = w * invStd, meanDy = (T)(sDy / (double)M), meanDyXhat = (T)(sDyXhat / (double)M);
            BN_FOR(it, c, C, L, M) {
                i64 i = it.at();
                dx[i] = k * (dy[i] - meanDy - ((x[i] - mu) * invStd) * meanDyXhat);
            }
        }
    }
}

// Batch normalisation's running statistics after a training batch, in place over [C]:
// rm = rm * (1 - momentum) + mean * momentum, rv = rv * (1 - momentum) + var * (momentum * varFactor), each product and
// the sum rounded to T as the composed update (scalar multiplies, then an add) rounds them.
template <typename T>
__device__ void batch_norm_running_t(T* rm, T* rv, const T* mean, const T* var, double momentum, double varFactor, i64 c) {
    T keep = (T)(1 - momentum), m = (T)momentum, mv = (T)(momentum * varFactor);
    GRID_STRIDE(i, c) {
        T a = rm[i] * keep, b = mean[i] * m;
        rm[i] = a + b;
        T p = rv[i] * keep, q = var[i] * mv;
        rv[i] = p + q;
    }
}

// PyTorch SGD (dampening 0): g += wd * p (only when wd != 0, so that a non-finite p does not poison g);
// v = mu * v + g; p -= lr * (nesterov ? g + mu * v : v).
template <typename T>
__device__ void sgd_momentum_t(T* p, const T* grad, T* vel, double lr, double mu, double wd, int nesterov, i64 n) {
    GRID_STRIDE(i, n) {
        T g = wd != 0 ? grad[i] + (T)wd * p[i] : grad[i];
        T v = (T)mu * vel[i] + g;
        vel[i] = v;
        p[i] -= (T)lr * (nesterov ? g + (T)mu * v : v);
    }
}

// PyTorch Adam / AdamW; bc1 = 1 - beta1^step and bc2 = 1 - beta2^step come from the host. Weight decay
// touches p only when wd != 0, as PyTorch.
template <typename T>
__device__ void adam_t(T* p, const T* grad, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                       double bc1, double bc2, int decoupled, i64 n) {
    GRID_STRIDE(i, n) {
        T pi = p[i];
        T g = grad[i];
        if (wd != 0 && decoupled) {
            pi *= (T)1 - (T)(lr * wd);
        } else if (wd != 0) {
            g += (T)wd * pi;
        }
        T mi = (T)b1 * m[i] + (T)(1 - b1) * g;
        T vi = (T)b2 * v[i] + (T)(1 - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        T denom = f_sqrt(vi) / (T)sqrt(bc2) + (T)eps;
        p[i] = pi - (T)(lr / bc1) * mi / denom;
    }
}

#define FUSED_ENTRIES(T, S)                                                                                   \
    extern "C" __global__ void bias_act_##S(const T* x, const T* bias, T* out, i64 rows, i64 cols, int act) { \
        bias_act_t(x, bias, out, rows, cols, act);                                                            \
    }                                                                                                         \
    extern "C" __global__ void softmax_xent_fwd_##S(const T* logits, const i64* labels, T* loss, i64 rows, int classes, Err* err) { \
        softmax_xent_fwd_t<T, false>(logits, labels, loss, rows, classes, err);                               \
    }                                                                                                         \
    extern "C" __global__ void softmax_xent_bwd_##S(const T* logits, const i64* labels, const T* gradLoss, int gradStride, \
                                                    double scale, T* grad, i64 rows, int classes, Err* err) { \
        softmax_xent_bwd_t<T, false>(logits, labels, gradLoss, gradStride, scale, grad, rows, classes, err);  \
    }                                                                                                         \
    extern "C" __global__ void bias_act_bwd_##S(const T* dy, const T* y, T* dz, T* db, i64 rows, i64 cols, int act, int writeDz) { \
        bias_act_bwd_t(dy, y, dz, db, rows, cols, act, writeDz);                                              \
    }                                                                                                         \
    extern "C" __global__ void softmax_xent_mean_##S(const T* logits, const i64* labels, T* partial, T* grad, i64 rows, \
                                                     int classes, i64 rowsPerBlock, double invRows, Err* err) { \
        softmax_xent_mean_t(logits, labels, partial, grad, rows, classes, rowsPerBlock, invRows, err);        \
    }                                                                                                         \
    extern "C" __global__ void softmax_xent_fwd_warp_##S(const T* logits, const i64* labels, T* loss, i64 rows, int classes, \
                                                         Err* err) {                                          \
        softmax_xent_fwd_t<T, true>(logits, labels, loss, rows, classes, err);                                \
    }                                                                                                         \
    extern "C" __global__ void softmax_xent_bwd_warp_##S(const T* logits, const i64* labels, const T* gradLoss, \
                                                         int gradStride, double scale, T* grad, i64 rows, int classes, \
                                                         Err* err) {                                          \
        softmax_xent_bwd_t<T, true>(logits, labels, gradLoss, gradStride, scale, grad, rows, classes, err);   \
    }                                                                                                         \
    extern "C" __global__ void batch_norm_##S(const T* x, const T* weight, const T* bias, double eps, T* y, T* mean, \
                                              T* var, i64 n, i64 c, i64 l) {                                  \
        batch_norm_t(x, weight, bias, eps, y, mean, var, n, c, l);                                            \
    }                                                                                                         \
    extern "C" __global__ void batch_norm_bwd_##S(const T* dy, const T* x, const T* mean, const T* var, const T* weight, \
                                                  double eps, T* dx, T* dweight, T* dbias, i64 n, i64 c, i64 l, \
                                                  int write) {                                                \
        batch_norm_bwd_t(dy, x, mean, var, weight, eps, dx, dweight, dbias, n, c, l, write);                  \
    }                                                                                                         \
    extern "C" __global__ void batch_norm_running_##S(T* rm, T* rv, const T* mean, const T* var, double momentum, \
                                                      double varFactor, i64 c) {                              \
        batch_norm_running_t(rm, rv, mean, var, momentum, varFactor, c);                                      \
    }                                                                                                         \
    extern "C" __global__ void sgd_momentum_##S(T* p, const T* grad, T* vel, double lr, double mu, double wd, int nesterov, i64 n) { \
        sgd_momentum_t(p, grad, vel, lr, mu, wd, nesterov, n);                                                \
    }                                                                                                         \
    extern "C" __global__ void adam_##S(T* p, const T* grad, T* m, T* v, double lr, double b1, double b2, double eps, \
                                        double wd, double bc1, double bc2, int decoupled, i64 n) {            \
        adam_t(p, grad, m, v, lr, b1, b2, eps, wd, bc1, bc2, decoupled, n);                                   \
    }
FUSED_ENTRIES(float, f32)
FUSED_ENTRIES(double, f64)
