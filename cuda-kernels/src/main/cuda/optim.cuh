// Whole-step kernels for the optimizers and the trainer's loss watch: one launch updates every parameter
// (PyTorch's multi_tensor_apply pattern: the tensors' pointers and sizes travel by value in an MtList),
// and one launch watches the loss. Written for CUDA-graph replay: a replay re-runs a launch with the same
// parameter values and addresses, so nothing that changes from step to step is passed by value. The
// learning rate and Adam's step count live in a persistent OptimScalars buffer on the device; the host
// writes it (optim_scalars_set, an ordinary launch) only when its own value changes, and an Adam launch
// advances the step count itself. The Java side (CudaFused) mirrors MtList's and OptimScalars' layouts.
#pragma once
#include "common.cuh"

// Tensors per launch; more are chunked into several launches. 4 lists x 32 pointers + 33 offsets + count = 1296
// bytes of parameters, well inside CUDA's 4 KiB.
#define MT_MAX 32

// Up to four lists of MT_MAX tensors (Adam: param, grad, exp_avg, exp_avg_sq; SGD: param, grad,
// momentum buffer), one dtype. Tensor k has start[k + 1] - start[k] elements and its flat elements are
// [start[k], start[k + 1]) of the launch's index space.
struct MtList {
    int count;
    int pad;
    i64 start[MT_MAX + 1];
    void* ptr[4][MT_MAX];
};

// The optimizer's device scalars (a float64 [4] tensor on the Java side): t = the 1-based step the next
// launch runs (Adam's bias corrections 1 - beta^t come from it), lr, and the ticket counter with which
// the last block of an advancing launch finds itself (0 between launches).
struct OptimScalars {
    double t;
    double lr;
    unsigned ticket;
    unsigned pad;
    double spare;
};

// Calls f(k, j) for element j of tensor k, for every element of every tensor of l (grid-stride; the
// flat index only grows, so k only moves forward).
template <typename F>
__device__ inline void mt_for_each(const MtList& l, F f) {
    i64 total = l.start[l.count];
    int k = 0;
    GRID_STRIDE(i, total) {
        while (i >= l.start[k + 1]) k++;
        f(k, i - l.start[k]);
    }
}

// After every thread of every block has read s->t, the last block to finish adds one to it and resets
// the ticket: a deterministic device-side step count, with no host write per step.
__device__ inline void mt_advance(OptimScalars* s) {
    __syncthreads();  // every thread of this block has read s->t
    if (threadIdx.x == 0) {
        __threadfence();
        unsigned done = atomicAdd(&s->ticket, 1u);
        if (done == gridDim.x - 1) {
            volatile OptimScalars* vs = s;
            vs->t = vs->t + 1;
            vs->ticket = 0;
            __threadfence();
        }
    }
}

// PyTorch SGD (dampening 0) over every tensor of l (lists: param, grad, and with has_vel the momentum
// buffer), lr from s: d = g (+ wd p when wd != 0); with a buffer v = mu v + d and d = nesterov ? d + mu v : v;
// p -= lr d. The same arithmetic, in the same order, as fused.cuh's sgd_momentum_t and Sgd.applyComposed.
template <typename T>
__device__ void optim_sgd_t(const MtList& l, const OptimScalars* s, double mu, double wd, int nesterov, int has_vel) {
    T lr = (T)((volatile const OptimScalars*)s)->lr;
    mt_for_each(l, [&](int k, i64 j) {
        T* p = (T*)l.ptr[0][k];
        const T* grad = (const T*)l.ptr[1][k];
        T g = wd != 0 ? grad[j] + (T)wd * p[j] : grad[j];
        if (has_vel) {
            T* vel = (T*)l.ptr[2][k];
            T v = (T)mu * vel[j] + g;
            vel[j] = v;
            g = nesterov ? g + (T)mu * v : v;
        }
        p[j] -= lr * g;
    });
}

// PyTorch Adam (decoupled 0) / AdamW (1) over every tensor of l (lists: param, grad, exp_avg, exp_avg_sq)
// at step t = s->t with lr = s->lr; the arithmetic of fused.cuh's adam_t, with the bias corrections
// 1 - b^t computed here from t. With advance, the launch then adds one to s->t (the last launch of a
// chunked step).
template <typename T>
__device__ void optim_adam_t(const MtList& l, OptimScalars* s, double b1, double b2, double eps, double wd,
                             int decoupled, int advance) {
    double t = ((volatile OptimScalars*)s)->t;
    double lr = ((volatile OptimScalars*)s)->lr;
    double bc1 = 1 - pow(b1, t);
    double bc2 = 1 - pow(b2, t);
    T sqrt_bc2 = (T)sqrt(bc2);
    T step = (T)(lr / bc1);
    T shrink = (T)1 - (T)(lr * wd);
    mt_for_each(l, [&](int k, i64 j) {
        T* p = (T*)l.ptr[0][k];
        const T* grad = (const T*)l.ptr[1][k];
        T* m = (T*)l.ptr[2][k];
        T* v = (T*)l.ptr[3][k];
        T pi = p[j];
        T g = grad[j];
        if (wd != 0 && decoupled) {
            pi *= shrink;
        } else if (wd != 0) {
            g += (T)wd * pi;
        }
        T mi = (T)b1 * m[j] + (T)(1 - b1) * g;
        T vi = (T)b2 * v[j] + (T)(1 - b2) * g * g;
        m[j] = mi;
        v[j] = vi;
        T denom = f_sqrt(vi) / sqrt_bc2 + (T)eps;
        p[j] = pi - step * mi / denom;
    });
    if (advance) mt_advance(s);
}

// The trainer's loss watch, one thread, in place on persistent scalars (see Trainer's LossWatch):
// while the sum is finite (< +inf, so NaN is not) current = loss; sum += loss (times weight unless it is
// 1: the short last batch); if the sum is still finite, finite_steps += 1. A sum never returns to finite,
// so the first non-finite step is finite_steps + 1 and current holds its loss.
template <typename T>
__device__ void loss_watch_t(T* sum, T* finite_steps, T* current, const T* loss, double weight) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    T l = *loss;
    T s = *sum;
    if (s < (T)INFINITY) *current = l;
    s = s + (weight == 1 ? l : l * (T)weight);
    *sum = s;
    if (s < (T)INFINITY) *finite_steps = *finite_steps + (T)1;
}

// Writes the optimizer's device scalars (when the host's learning rate or step count changed).
extern "C" __global__ void optim_scalars_set(OptimScalars* s, double t, double lr) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        s->t = t;
        s->lr = lr;
        s->ticket = 0;
        s->pad = 0;
        s->spare = 0;
    }
}

#define OPTIM_ENTRIES(T, S)                                                                                   \
    extern "C" __global__ void optim_sgd_##S(MtList l, const OptimScalars* s, double mu, double wd, int nesterov, \
                                             int has_vel) {                                                   \
        optim_sgd_t<T>(l, s, mu, wd, nesterov, has_vel);                                                      \
    }                                                                                                         \
    extern "C" __global__ void optim_adam_##S(MtList l, OptimScalars* s, double b1, double b2, double eps, double wd, \
                                              int decoupled, int advance) {                                   \
        optim_adam_t<T>(l, s, b1, b2, eps, wd, decoupled, advance);                                           \
    }                                                                                                         \
    extern "C" __global__ void loss_watch_##S(T* sum, T* finite_steps, T* current, const T* loss, double weight) { \
        loss_watch_t(sum, finite_steps, current, loss, weight);                                               \
    }
OPTIM_ENTRIES(float, f32)
OPTIM_ENTRIES(double, f64)
