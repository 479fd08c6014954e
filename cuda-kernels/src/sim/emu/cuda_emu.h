// CUDA device-code emulation for the Wengert simulator: force-included (g++ -include cuda_emu.h)
// before kernels.cu so that the real kernel sources compile for the host (x86-64, g++ >= 12, C++17).
//
// Model: a launch runs its blocks one after another on the calling OS thread; the threads of a block
// are fibers on that OS thread (fibers.cpp, context switch in ctx_x86_64.S) that run in ascending (or,
// with wsim_set_thread_order(1), descending) thread order until they reach a barrier or return.
// __syncthreads() waits for every thread of the block, a warp shuffle for every lane of its warp (in
// the mask); a barrier that can never complete is reported as WSIM_FAULT_BARRIER.
//
// What this header emulates (everything the sources under src/main/cuda use, plus close relatives):
//   __global__ __device__ __host__ __forceinline__ __noinline__ __restrict__ __shared__ __constant__
//   threadIdx blockIdx blockDim gridDim warpSize, uint3 / dim3
//   __syncthreads __threadfence __syncwarp __shfl_sync __shfl_up_sync __shfl_down_sync __shfl_xor_sync
//   atomicAdd atomicSub atomicExch atomicMin atomicMax atomicCAS (int, unsigned, unsigned long long,
//   long long, float, double as CUDA defines them; serial, since fibers never preempt)
//   __fadd_rn __fmul_rn __dadd_rn __dmul_rn (plain operations: build with -ffp-contract=off)
//   __float2ll_rz __double2ll_rz (hardware cvt.rzi.s64: NaN -> INT64_MIN, saturating)
//   host min / max for every arithmetic combination (the usual arithmetic conversions, as CUDA's
//   overload set for the mixed cases the kernels use); math from <math.h>.
// `#pragma unroll` / `_Pragma("unroll 1")` are unknown to g++ and ignored (-Wno-unknown-pragmas).
//
// WSIM_KERNEL(fn) makes a wsim_kernel (sim.h) for any `extern "C" __global__ void fn(...)` visible
// where it is used: name "fn", argument kinds and sizes from fn's C++ signature, and a launch thunk
// that reads each argument from void** params by its type, exactly as cuLaunchKernel passes them.
#pragma once
#ifndef __cplusplus
#error "cuda_emu.h is C++ only"
#endif

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tuple>
#include <type_traits>
#include <utility>

#include "../sim.h"

// ------------------------------------------------------------------ qualifiers

// Guarded so that gen-kernel-table.sh can turn __global__ into a marker with -D.
#ifndef __global__
#define __global__
#endif
#define __device__
#define __host__
#define __forceinline__ __inline__ __attribute__((always_inline))
// Erased, not __attribute__((noinline)): libstdc++ writes __attribute__((__noinline__)), which that
// would break in any file that includes a standard header after this one (it becomes `__attribute__(())`).
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __constant__
// Per-block shared memory: one copy per OS thread; a launch's blocks run one after another on it.
// (Contents persist from block to block and launch to launch, where real CUDA leaves them undefined.)
#define __shared__ static __thread

// ------------------------------------------------------------------ built-in variables

struct wsim_uint3 {
    unsigned x, y, z;
};
typedef wsim_uint3 uint3;
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(wsim_uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

// The running fiber's indices, set by the scheduler on every switch. The emulator's entry points are
// exported from libcuda.so.1 (WSIM_EMU_API), so kernels made with WSIM_KERNEL in another module (a
// test executable linked against it) work too. Code built into the emulator library itself
// (-DWSIM_EMU_LIBRARY: kernels.cu and fibers.cpp) reads the hidden TLS variable directly; anything
// else goes through wsim_regs_now() (the address of this OS thread's copy; fibers never migrate).
#define WSIM_EMU_API __attribute__((visibility("default")))
struct wsim_regs {
    wsim_uint3 tid, bid, bdim, gdim;
};
#ifdef WSIM_EMU_LIBRARY
// (Not initial-exec: one IE access puts the module's whole TLS segment, __shared__ arrays included,
// into static TLS, and dlopen() of libcuda.so.1 then fails with "cannot allocate memory in static TLS".)
extern __thread wsim_regs wsim_r __attribute__((visibility("hidden")));
#define WSIM_R wsim_r
#else
extern "C" WSIM_EMU_API const wsim_regs* wsim_regs_now(void) __attribute__((const));
#define WSIM_R (*wsim_regs_now())
#endif

#define threadIdx (static_cast<const wsim_uint3&>(WSIM_R.tid))
#define blockIdx (static_cast<const wsim_uint3&>(WSIM_R.bid))
#define blockDim (static_cast<const wsim_uint3&>(WSIM_R.bdim))
#define gridDim (static_cast<const wsim_uint3&>(WSIM_R.gdim))
static constexpr int warpSize = 32;

// ------------------------------------------------------------------ barriers and warp exchange (fibers.cpp)

enum { WSIM_SHFL_IDX = 0, WSIM_SHFL_UP = 1, WSIM_SHFL_DOWN = 2, WSIM_SHFL_XOR = 3, WSIM_SYNCWARP = 4 };
extern "C" WSIM_EMU_API void wsim_syncthreads(void);
// Waits until every lane of the caller's warp in `mask` is at a warp barrier, then returns the value
// the lane chosen by mode / arg / width deposited (its own value when that lane is out of range).
extern "C" WSIM_EMU_API uint64_t wsim_warp_exchange(int mode, unsigned mask, uint64_t bits, int arg, int width);

static inline void __syncthreads() { wsim_syncthreads(); }
// Blocks run one after another and fibers never preempt, so every write is visible to every later read:
// a memory fence has nothing to order (a compiler barrier keeps the emulated code's order).
static inline void __threadfence() { __asm__ __volatile__("" ::: "memory"); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { wsim_warp_exchange(WSIM_SYNCWARP, mask, 0, 0, 32); }

template <typename T>
static inline T wsim_shfl(int mode, unsigned mask, T v, int arg, int width) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type wider than 8 bytes");
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bits = wsim_warp_exchange(mode, mask, bits, arg, width);
    T r;
    memcpy(&r, &bits, sizeof(T));
    return r;
}
template <typename T>
static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) { return wsim_shfl(WSIM_SHFL_IDX, mask, v, src, width); }
template <typename T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) { return wsim_shfl(WSIM_SHFL_UP, mask, v, (int)d, width); }
template <typename T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) { return wsim_shfl(WSIM_SHFL_DOWN, mask, v, (int)d, width); }
template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T v, int m, int width = 32) { return wsim_shfl(WSIM_SHFL_XOR, mask, v, m, width); }

// ------------------------------------------------------------------ atomics (fibers never preempt: plain read-modify-write)

#define WSIM_ATOMIC_RMW(NAME, T, EXPR) \
    static inline T NAME(T* p, T v) {  \
        T old = *p;                    \
        *p = (EXPR);                   \
        return old;                    \
    }
#define WSIM_ATOMIC_ALL(T)                                     \
    WSIM_ATOMIC_RMW(atomicAdd, T, (T)(old + v))                \
    WSIM_ATOMIC_RMW(atomicSub, T, (T)(old - v))                \
    WSIM_ATOMIC_RMW(atomicExch, T, v)                          \
    WSIM_ATOMIC_RMW(atomicMin, T, (v < old ? v : old))         \
    WSIM_ATOMIC_RMW(atomicMax, T, (v > old ? v : old))         \
    static inline T atomicCAS(T* p, T compare, T v) {          \
        T old = *p;                                            \
        if (old == compare) *p = v;                            \
        return old;                                            \
    }
WSIM_ATOMIC_ALL(int)
WSIM_ATOMIC_ALL(unsigned)
WSIM_ATOMIC_ALL(unsigned long long)
WSIM_ATOMIC_ALL(long long)
WSIM_ATOMIC_RMW(atomicAdd, float, old + v)
WSIM_ATOMIC_RMW(atomicAdd, double, old + v)
WSIM_ATOMIC_RMW(atomicExch, float, v)
#undef WSIM_ATOMIC_ALL
#undef WSIM_ATOMIC_RMW

// ------------------------------------------------------------------ arithmetic intrinsics

static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dmul_rn(double a, double b) { return a * b; }

// cvt.rzi.s64.f32 / .f64: truncation toward zero, saturating; NaN gives 0x8000000000000000.
static inline long long __double2ll_rz(double x) {
    if (x != x) return (long long)0x8000000000000000ULL;
    if (x >= 9223372036854775808.0) return 0x7fffffffffffffffLL;
    if (x < -9223372036854775808.0) return (long long)0x8000000000000000ULL;
    return (long long)x;
}
static inline long long __float2ll_rz(float x) { return __double2ll_rz((double)x); }

// ------------------------------------------------------------------ host min / max (CUDA's overloads)

template <typename A, typename B,
          typename = typename std::enable_if<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>::type>
static inline typename std::common_type<A, B>::type min(A a, B b) {
    typedef typename std::common_type<A, B>::type C;
    return (C)b < (C)a ? (C)b : (C)a;
}
template <typename A, typename B,
          typename = typename std::enable_if<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>::type>
static inline typename std::common_type<A, B>::type max(A a, B b) {
    typedef typename std::common_type<A, B>::type C;
    return (C)a < (C)b ? (C)b : (C)a;
}

// ------------------------------------------------------------------ launching (fibers.cpp)

// Runs the grid: for each block (x fastest), each thread calls body(arg) on a fiber. `pretty` is the
// thunk's __PRETTY_FUNCTION__, from which the kernel's name is taken for reports.
extern "C" WSIM_EMU_API int wsim_run_grid(const wsim_dims* dims, void (*body)(void*), void* arg, const char* pretty);
// sim.h declares these without WSIM_EXPORT; the emulator exports them (for WSIM_KERNEL users elsewhere).
extern "C" WSIM_EMU_API const wsim_kernel* wsim_find_kernel(const char* name);
extern "C" WSIM_EMU_API void wsim_register_kernels(const wsim_kernel* table, int count);
extern "C" WSIM_EMU_API int wsim_current_thread(const char** kernel, unsigned block[3], unsigned thread[3]);
extern "C" WSIM_EMU_API void wsim_abort_kernel(void) __attribute__((noreturn));

namespace wsim {
template <typename T>
constexpr int arg_kind() {
    if constexpr (std::is_pointer<T>::value) {
        return std::is_const<typename std::remove_pointer<T>::type>::value ? WSIM_ARG_PTR_READ : WSIM_ARG_PTR_WRITE;
    } else {
        return WSIM_ARG_VALUE;
    }
}

template <typename T>
static inline T load_arg(void* p) {
    static_assert(std::is_trivially_copyable<T>::value, "kernel parameters must be trivially copyable");
    T v;
    memcpy((void*)&v, p, sizeof(T));
    return v;
}

template <auto F>
struct K;
template <typename... A, void (*F)(A...)>
struct K<F> {
    typedef std::tuple<typename std::decay<A>::type...> Args;
    static constexpr int nargs = (int)sizeof...(A);
    static constexpr int kinds[sizeof...(A) + 1] = {arg_kind<typename std::decay<A>::type>()..., 0};
    static constexpr size_t sizes[sizeof...(A) + 1] = {sizeof(typename std::decay<A>::type)..., 0};

    static void body(void* p) { std::apply(F, *static_cast<Args*>(p)); }

    template <size_t... I>
    static int launch_with(const wsim_dims* dims, void** params, const char* pretty, std::index_sequence<I...>) {
        Args args{load_arg<typename std::decay<A>::type>(params[I])...};
        (void)params;
        return wsim_run_grid(dims, &body, &args, pretty);
    }
    // __PRETTY_FUNCTION__ here reads "... [with A = {...}; void (* F)(A ...) = NAME]".
    static int launch(const wsim_dims* dims, void** params) {
        return launch_with(dims, params, __PRETTY_FUNCTION__, std::index_sequence_for<A...>{});
    }
};
}  // namespace wsim

#define WSIM_KERNEL(fn) \
    (wsim_kernel{#fn, wsim::K<&fn>::nargs, wsim::K<&fn>::kinds, wsim::K<&fn>::sizes, &wsim::K<&fn>::launch})
