// Random kernels whose state lives in device memory, for CUDA-graph replay: a replay re-runs a launch with
// the same by-value arguments, so a seed passed by value would draw the same numbers every replay. The
// dropout mask reads its draw number from a persistent DropoutState and advances it itself (once per
// launch), so each replay draws the next mask. The Java side (CudaFused.dropoutMask) mirrors the layout.
#pragma once
#include "common.cuh"
#include "elementwise.cuh"

// A dropout layer's random state (an int64 [3] tensor on the Java side): the seed, how many masks were
// drawn, and the ticket counter with which the last block of a launch finds itself (0 between launches).
struct DropoutState {
    i64 seed;
    i64 calls;
    unsigned long long ticket;
};

// mask[i] = (u_i >= p) ? scale : 0 in T, with u_i = (T) CounterRandom.uniform(seed + GOLDEN * (calls + 1), i):
// the numbers Tensor.rand(seed', T) draws, compared and scaled as Dropout's composed path does (u >= (T) p,
// then 1 * (T) scale), so masks are identical on every backend. Afterwards the last block to finish adds
// one to calls and resets the ticket: one advance per launch, also for an empty mask (grid of one block).
template <typename T>
__device__ void dropout_mask_t(T* mask, DropoutState* s, double p, double scale, i64 n) {
    volatile DropoutState* vs = s;
    u64 seed = (u64)vs->seed + 0x9E3779B97F4A7C15ULL * ((u64)vs->calls + 1);
    T tp = (T)p;
    T keep = (T)scale;
    GRID_STRIDE(i, n) {
        T u = (T)uniform01(seed, (u64)i);
        mask[i] = u >= tp ? keep : (T)0;
    }
    __syncthreads();  // every thread of this block has read calls
    if (threadIdx.x == 0) {
        __threadfence();
        unsigned long long done = atomicAdd(&s->ticket, 1ULL);
        if (done == (unsigned long long)gridDim.x - 1) {
            vs->calls = vs->calls + 1;
            vs->ticket = 0;
            __threadfence();
        }
    }
}

extern "C" __global__ void dropout_mask_f32(float* mask, DropoutState* s, double p, double scale, i64 n) {
    dropout_mask_t(mask, s, p, scale, n);
}
extern "C" __global__ void dropout_mask_f64(double* mask, DropoutState* s, double p, double scale, i64 n) {
    dropout_mask_t(mask, s, p, scale, n);
}
