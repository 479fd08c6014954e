// Fused kernels for the models: bias + activation, softmax-cross-entropy forward and backward,
// SGD-momentum and Adam updates (PyTorch semantics). Each replaces 3-10 separate elementwise launches.
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

// loss[r] = logsumexp(logits[r, :]) - logits[r, label[r]], as (max - logits[r, label]) + log(sum); one block per row.
template <typename T>
__device__ void softmax_xent_fwd_t(const T* logits, const i64* labels, T* loss, i64 rows, int classes, Err* err) {
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* row = logits + r * classes;
        T m, logsum;
        row_max_logsum(row, (i64)classes, &m, &logsum);
        if (threadIdx.x == 0) {
            i64 y = labels[r];
            if (y < 0 || y >= classes) {
                report(err, ERR_LABEL, y, r, classes);
                loss[r] = (T)NAN;
            } else {
                loss[r] = (m - row[y]) + logsum;
            }
        }
    }
}

// grad[r, c] = (softmax(logits[r])[c] - (c == label[r])) * gradLoss[gradStride * r] * scale.
// gradStride 0 broadcasts a scalar upstream gradient (a mean loss: scale = 1 / rows). A label outside
// [0, classes) is reported (as the forward does) and its row's gradient is NaN.
template <typename T>
__device__ void softmax_xent_bwd_t(const T* logits, const i64* labels, const T* gradLoss, int gradStride, double scale,
                                   T* grad, i64 rows, int classes, Err* err) {
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* row = logits + r * classes;
        T m, logsum;
        row_max_logsum(row, (i64)classes, &m, &logsum);
        T g = gradLoss[(i64)gradStride * r] * (T)scale;
        i64 y = labels[r];
        bool bad = y < 0 || y >= classes;
        if (bad && threadIdx.x == 0) report(err, ERR_LABEL, y, r, classes);
        for (int j = threadIdx.x; j < classes; j += blockDim.x) {
            grad[r * classes + j] = bad ? (T)NAN : (f_exp((row[j] - m) - logsum) - (j == y ? (T)1 : (T)0)) * g;
        }
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
        softmax_xent_fwd_t(logits, labels, loss, rows, classes, err);                                         \
    }                                                                                                         \
    extern "C" __global__ void softmax_xent_bwd_##S(const T* logits, const i64* labels, const T* gradLoss, int gradStride, \
                                                    double scale, T* grad, i64 rows, int classes, Err* err) { \
        softmax_xent_bwd_t(logits, labels, gradLoss, gradStride, scale, grad, rows, classes, err);            \
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
