// Elementwise kernels: fill, random, unary, binary (same shape, scalar operand, general broadcast),
// where, cast. The two enums below are the op codes: the Java side (dev.wengert.tensor.cuda.OpCodes)
// reads them from this file by name (U_<UnaryOp name>, B_<BinaryOp name>), so append or reorder freely.
#pragma once
#include "common.cuh"

// The ops after U_LOGICAL_NOT take scalar parameters and run in unary_param_* (UnaryOp.parameterCount() > 0).
enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SIN, U_COS, U_TANH, U_SIGMOID, U_RELU, U_SIGN, U_ERF,
       U_ERFC, U_LOG1P, U_EXPM1, U_TAN, U_ATAN, U_ASIN, U_ACOS, U_SINH, U_COSH, U_RECIPROCAL, U_FLOOR, U_CEIL,
       U_ROUND, U_TRUNC, U_GELU, U_GELU_TANH, U_SILU, U_ISNAN, U_ISINF, U_ISFINITE, U_LOGICAL_NOT,
       U_SOFTPLUS, U_LEAKY_RELU, U_ELU, U_CLAMP };
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
       B_ATAN2, B_FMOD, B_REMAINDER, B_HYPOT, B_LOGICAL_AND, B_LOGICAL_OR };

// ---------------------------------------------------------------- scalar semantics (match UnaryOp/BinaryOp.apply)

__device__ __noinline__ float f_erf(float x) { return erff(x); }  // the CUDA math library's: 2 ulp
__device__ __noinline__ double f_erf(double x) { return erf(x); }
__device__ __noinline__ float f_erfc(float x) { return erfcf(x); }
__device__ __noinline__ double f_erfc(double x) { return erfc(x); }
__device__ __noinline__ float f_log1p(float x) { return log1pf(x); }
__device__ __noinline__ double f_log1p(double x) { return log1p(x); }
__device__ __noinline__ float f_expm1(float x) { return expm1f(x); }
__device__ __noinline__ double f_expm1(double x) { return expm1(x); }
__device__ __noinline__ float f_tan(float x) { return tanf(x); }
__device__ __noinline__ double f_tan(double x) { return tan(x); }
__device__ __noinline__ float f_atan(float x) { return atanf(x); }
__device__ __noinline__ double f_atan(double x) { return atan(x); }
__device__ __noinline__ float f_asin(float x) { return asinf(x); }
__device__ __noinline__ double f_asin(double x) { return asin(x); }
__device__ __noinline__ float f_acos(float x) { return acosf(x); }
__device__ __noinline__ double f_acos(double x) { return acos(x); }
__device__ __noinline__ float f_sinh(float x) { return sinhf(x); }
__device__ __noinline__ double f_sinh(double x) { return sinh(x); }
__device__ __noinline__ float f_cosh(float x) { return coshf(x); }
__device__ __noinline__ double f_cosh(double x) { return cosh(x); }
__device__ inline float f_floor(float x) { return floorf(x); }
__device__ inline double f_floor(double x) { return floor(x); }
__device__ inline float f_ceil(float x) { return ceilf(x); }
__device__ inline double f_ceil(double x) { return ceil(x); }
__device__ inline float f_rint(float x) { return rintf(x); }     // half to even, as torch.round (nearbyint)
__device__ inline double f_rint(double x) { return rint(x); }
__device__ inline float f_trunc(float x) { return truncf(x); }
__device__ inline double f_trunc(double x) { return trunc(x); }
__device__ __noinline__ float f_atan2(float a, float b) { return atan2f(a, b); }
__device__ __noinline__ double f_atan2(double a, double b) { return atan2(a, b); }
__device__ __noinline__ float f_fmod(float a, float b) { return fmodf(a, b); }
__device__ __noinline__ double f_fmod(double a, double b) { return fmod(a, b); }
__device__ __noinline__ float f_hypot(float a, float b) { return hypotf(a, b); }
__device__ __noinline__ double f_hypot(double a, double b) { return hypot(a, b); }

// PyTorch's formulas (gelu, silu), so that the edge values agree: gelu(-inf) and silu(-inf) are NaN there too.
template <typename T>
__device__ __noinline__ T f_gelu(T x) { return x * (T)0.5 * ((T)1 + f_erf(x * (T)0.70710678118654752440)); }
template <typename T>
__device__ __noinline__ T f_gelu_tanh(T x) {
    T inner = (T)0.79788456080286535588 * (x + (T)0.044715 * x * x * x);
    return (T)0.5 * x * ((T)1 + f_tanh(inner));
}

template <typename T>
__device__ inline T unary_f(int op, T x) {
    switch (op) {
        case U_NEG: return -x;
        case U_EXP: return f_exp(x);
        case U_LOG: return f_log(x);
        case U_SQRT: return f_sqrt(x);
        case U_ABS: return f_abs(x);
        case U_SIN: return f_sin(x);
        case U_COS: return f_cos(x);
        case U_TANH: return f_tanh(x);
        case U_SIGMOID: {
            if (x >= 0) return (T)1 / ((T)1 + f_exp(-x));
            T e = f_exp(x);
            return e / ((T)1 + e);
        }
        case U_RELU: return x > 0 ? x : (T)0;
        case U_SIGN: return x > 0 ? (T)1 : (x < 0 ? (T)-1 : (T)0);  // torch.sign: sign(-0) = +0, sign(NaN) = 0
        case U_ERF: return f_erf(x);
        case U_ERFC: return f_erfc(x);
        case U_LOG1P: return f_log1p(x);
        case U_EXPM1: return f_expm1(x);
        case U_TAN: return f_tan(x);
        case U_ATAN: return f_atan(x);
        case U_ASIN: return f_asin(x);
        case U_ACOS: return f_acos(x);
        case U_SINH: return f_sinh(x);
        case U_COSH: return f_cosh(x);
        case U_RECIPROCAL: return (T)1 / x;
        case U_FLOOR: return f_floor(x);
        case U_CEIL: return f_ceil(x);
        case U_ROUND: return f_rint(x);
        case U_TRUNC: return f_trunc(x);
        case U_GELU: return f_gelu(x);
        case U_GELU_TANH: return f_gelu_tanh(x);
        case U_SILU: return x / ((T)1 + f_exp(-x));
        case U_ISNAN: return x != x ? (T)1 : (T)0;
        case U_ISINF: return f_abs(x) == (T)INFINITY ? (T)1 : (T)0;
        case U_ISFINITE: return f_abs(x) < (T)INFINITY ? (T)1 : (T)0;
        case U_LOGICAL_NOT: return x == (T)0 ? (T)1 : (T)0;
        default: return x;
    }
}

// The ops with scalar parameters p0, p1 (UnaryOp's order), given in x's type.
template <typename T>
__device__ inline T unary_p(int op, T x, T p0, T p1) {
    switch (op) {
        case U_SOFTPLUS: return x * p0 > p1 ? x : f_log1p(f_exp(x * p0)) / p0;   // beta, threshold
        case U_LEAKY_RELU: return x > 0 ? x : x * p0;                          // slope
        case U_ELU: return x > 0 ? x : f_expm1(x) * p0;                         // alpha
        case U_CLAMP: return x != x ? x : min_nan(max_nan(x, p0), p1);        // lo, hi (Math.min(Math.max))
        default: return x;
    }
}

__device__ inline i64 unary_i(int op, i64 x) {
    switch (op) {
        case U_NEG: return (i64)(0ULL - (u64)x);
        case U_ABS: return x < 0 ? (i64)(0ULL - (u64)x) : x;
        case U_RELU: return x > 0 ? x : 0;
        case U_SIGN: return x > 0 ? 1 : (x < 0 ? -1 : 0);
        case U_ISNAN: case U_ISINF: return 0;
        case U_ISFINITE: return 1;
        case U_LOGICAL_NOT: return x == 0;
        default: return x;  // floor, ceil, round, trunc: the identity
    }
}

template <typename T>
__device__ inline T binary_f(int op, T a, T b, Err*) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return f_pow(a, b);
        case B_MAXIMUM: return max_nan(a, b);
        case B_MINIMUM: return min_nan(a, b);
        case B_EQ: return a == b ? (T)1 : (T)0;
        case B_NE: return a != b ? (T)1 : (T)0;
        case B_LT: return a < b ? (T)1 : (T)0;
        case B_LE: return a <= b ? (T)1 : (T)0;
        case B_GT: return a > b ? (T)1 : (T)0;
        case B_GE: return a >= b ? (T)1 : (T)0;
        case B_ATAN2: return f_atan2(a, b);
        case B_FMOD: return f_fmod(a, b);
        case B_REMAINDER: {  // PyTorch's: fmod, moved to the divisor's sign
            T mod = f_fmod(a, b);
            return (mod != 0 && ((b < 0) != (mod < 0))) ? mod + b : mod;
        }
        case B_HYPOT: return f_hypot(a, b);
        case B_LOGICAL_AND: return (a != (T)0 && b != (T)0) ? (T)1 : (T)0;
        case B_LOGICAL_OR: return (a != (T)0 || b != (T)0) ? (T)1 : (T)0;
        default: return a;
    }
}

// int64: exact, wrapping like Java longs; division floors (Math.floorDiv).
__device__ inline i64 binary_i(int op, i64 a, i64 b, Err* err) {
    switch (op) {
        case B_ADD: return (i64)((u64)a + (u64)b);
        case B_SUB: return (i64)((u64)a - (u64)b);
        case B_MUL: return (i64)((u64)a * (u64)b);
        case B_DIV: {
            if (b == 0) { report(err, ERR_INT_DIV, a, 0, 0); return 0; }
            if (b == -1) return (i64)(0ULL - (u64)a);
            i64 q = a / b;
            if ((a % b != 0) && ((a ^ b) < 0)) q--;
            return q;
        }
        case B_POW: {
            if (b < 0) { report(err, ERR_INT_POW, a, b, 0); return 0; }
            u64 r = 1, base = (u64)a;
            for (u64 e = (u64)b; e; e >>= 1) {  // same result as b repeated multiplications mod 2^64
                if (e & 1) r *= base;
                base *= base;
            }
            return (i64)r;
        }
        case B_MAXIMUM: return a > b ? a : b;
        case B_MINIMUM: return a < b ? a : b;
        case B_EQ: return a == b;
        case B_NE: return a != b;
        case B_LT: return a < b;
        case B_LE: return a <= b;
        case B_GT: return a > b;
        case B_GE: return a >= b;
        case B_FMOD: case B_REMAINDER: {  // C's %: truncated, as Java's; the err's b names the op (1 fmod, 2 remainder)
            if (b == 0) { report(err, ERR_INT_DIV, a, op == B_FMOD ? 1 : 2, 0); return 0; }
            if (b == -1) return 0;         // INT64_MIN % -1 traps on x86 (the simulator); the result is 0
            i64 m = a % b;
            return (op == B_REMAINDER && m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
        }
        case B_LOGICAL_AND: return a != 0 && b != 0;
        case B_LOGICAL_OR: return a != 0 || b != 0;
        default: return a;  // atan2 and hypot are refused on int64 before a launch
    }
}

__device__ inline float unary_any(int op, float x) { return unary_f(op, x); }
__device__ inline double unary_any(int op, double x) { return unary_f(op, x); }
__device__ inline i64 unary_any(int op, i64 x) { return unary_i(op, x); }
__device__ inline float binary_any(int op, float a, float b, Err* e) { return binary_f(op, a, b, e); }
__device__ inline double binary_any(int op, double a, double b, Err* e) { return binary_f(op, a, b, e); }
__device__ inline i64 binary_any(int op, i64 a, i64 b, Err* e) { return binary_i(op, a, b, e); }

// ---------------------------------------------------------------- contiguous fast paths (16-byte vectors)

template <typename T>
__device__ void fill_t(T* out, T value, i64 n) {
    constexpr int W = 16 / sizeof(T);
    i64 nv = aligned16(out) ? n / W : 0;
    Vec<T> v;
#pragma unroll
    for (int j = 0; j < W; j++) v.v[j] = value;
    GRID_STRIDE(i, nv) reinterpret_cast<Vec<T>*>(out)[i] = v;
    GRID_STRIDE(i, n - nv * W) out[nv * W + i] = value;
}

// The op switch is outside the loops (one loop per op), so the branch is taken once per thread.
template <typename T, typename F>
__device__ void map1(const T* x, T* out, i64 n, F f) {
    constexpr int W = 16 / sizeof(T);
    i64 nv = (aligned16(x) && aligned16(out)) ? n / W : 0;
    GRID_STRIDE(i, nv) {
        Vec<T> a = reinterpret_cast<const Vec<T>*>(x)[i];
#pragma unroll
        for (int j = 0; j < W; j++) a.v[j] = f(a.v[j]);
        reinterpret_cast<Vec<T>*>(out)[i] = a;
    }
    GRID_STRIDE(i, n - nv * W) out[nv * W + i] = f(x[nv * W + i]);
}

template <typename T>
__device__ void unary_t(int op, const T* x, T* out, i64 n) {
    switch (op) {
#define U_CASE(code) case code: map1(x, out, n, [](T v) { return unary_any(code, v); }); break;
        U_CASE(U_NEG) U_CASE(U_EXP) U_CASE(U_LOG) U_CASE(U_SQRT) U_CASE(U_ABS) U_CASE(U_SIN)
        U_CASE(U_COS) U_CASE(U_TANH) U_CASE(U_SIGMOID) U_CASE(U_RELU) U_CASE(U_SIGN) U_CASE(U_ERF)
        U_CASE(U_ERFC) U_CASE(U_LOG1P) U_CASE(U_EXPM1) U_CASE(U_TAN) U_CASE(U_ATAN) U_CASE(U_ASIN) U_CASE(U_ACOS)
        U_CASE(U_SINH) U_CASE(U_COSH) U_CASE(U_RECIPROCAL) U_CASE(U_FLOOR) U_CASE(U_CEIL) U_CASE(U_ROUND)
        U_CASE(U_TRUNC) U_CASE(U_GELU) U_CASE(U_GELU_TANH) U_CASE(U_SILU) U_CASE(U_ISNAN) U_CASE(U_ISINF)
        U_CASE(U_ISFINITE) U_CASE(U_LOGICAL_NOT)
#undef U_CASE
    }
}

template <typename T>
__device__ void unary_param_t(int op, const T* x, T* out, i64 n, double p0, double p1) {
    T a = (T)p0, b = (T)p1;
    switch (op) {
#define P_CASE(code) case code: map1(x, out, n, [a, b](T v) { return unary_p(code, v, a, b); }); break;
        P_CASE(U_SOFTPLUS) P_CASE(U_LEAKY_RELU) P_CASE(U_ELU) P_CASE(U_CLAMP)
#undef P_CASE
    }
}

// a and b either have out's (contiguous) shape or are one-element scalars (AS / BS).
template <typename T, bool AS, bool BS, typename F>
__device__ void map2(const T* a, const T* b, T* out, i64 n, F f) {
    constexpr int W = 16 / sizeof(T);
    T as = AS ? a[0] : (T)0;
    T bs = BS ? b[0] : (T)0;
    i64 nv = ((AS || aligned16(a)) && (BS || aligned16(b)) && aligned16(out)) ? n / W : 0;
    GRID_STRIDE(i, nv) {
        Vec<T> va, vb, r;
        if (!AS) va = reinterpret_cast<const Vec<T>*>(a)[i];
        if (!BS) vb = reinterpret_cast<const Vec<T>*>(b)[i];
#pragma unroll
        for (int j = 0; j < W; j++) r.v[j] = f(AS ? as : va.v[j], BS ? bs : vb.v[j]);
        reinterpret_cast<Vec<T>*>(out)[i] = r;
    }
    GRID_STRIDE(k, n - nv * W) {
        i64 i = nv * W + k;
        out[i] = f(AS ? as : a[i], BS ? bs : b[i]);
    }
}

template <typename T, bool AS, bool BS>
__device__ void binary_contig_t(int op, const T* a, const T* b, T* out, i64 n, Err* err) {
    switch (op) {
#define B_CASE(code) case code: map2<T, AS, BS>(a, b, out, n, [err](T x, T y) { return binary_any(code, x, y, err); }); break;
        B_CASE(B_ADD) B_CASE(B_SUB) B_CASE(B_MUL) B_CASE(B_DIV) B_CASE(B_POW) B_CASE(B_MAXIMUM) B_CASE(B_MINIMUM)
        B_CASE(B_EQ) B_CASE(B_NE) B_CASE(B_LT) B_CASE(B_LE) B_CASE(B_GT) B_CASE(B_GE)
        B_CASE(B_ATAN2) B_CASE(B_FMOD) B_CASE(B_REMAINDER) B_CASE(B_HYPOT) B_CASE(B_LOGICAL_AND) B_CASE(B_LOGICAL_OR)
#undef B_CASE
    }
}

// General broadcast: g.shape is out's shape, g.st[0] / g.st[1] the strides of a and b.
template <typename T>
__device__ void binary_bcast_t(int op, const T* a, const T* b, T* out, i64 n, const Geo& g, Err* err) {
    GRID_STRIDE(i, n) {
        i64 off[2];
        geo_offsets<2>(g, (unsigned)i, off);
        out[i] = binary_any(op, a[off[0]], b[off[1]], err);
    }
}

__device__ inline bool nonzero(const void* p, int type, i64 i) {
    switch (type) {
        case 0: return ((const float*)p)[i] != 0.0f;
        case 1: return ((const double*)p)[i] != 0.0;
        default: return ((const i64*)p)[i] != 0;
    }
}

// out = cond != 0 ? a : b; g.st[0..2] are the strides of cond, a, b; condType 0 f32, 1 f64, 2 i64.
template <typename T>
__device__ void where_t(const void* cond, int condType, const T* a, const T* b, T* out, i64 n, const Geo& g) {
    GRID_STRIDE(i, n) {
        i64 off[3];
        geo_offsets<3>(g, (unsigned)i, off);
        out[i] = nonzero(cond, condType, off[0]) ? a[off[1]] : b[off[2]];
    }
}

// ---------------------------------------------------------------- random: CounterRandom, bit for bit

__device__ inline u64 mix64(u64 seed, u64 counter) {
    u64 z = seed + (counter + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__device__ inline double uniform01(u64 seed, u64 i) { return (double)(mix64(seed, i) >> 11) * 0x1.0p-53; }

// The _rn intrinsics stop nvcc from contracting into FMAs, which Java does not do.
__device__ inline double sample(int kind, double lo, double hi, u64 seed, u64 i) {
    if (kind == 0) return __dadd_rn(lo, __dmul_rn(hi - lo, uniform01(seed, i)));
    double u1 = 1.0 - uniform01(seed, 2 * i);
    double u2 = uniform01(seed, 2 * i + 1);
    double r = __dmul_rn(sqrt(__dmul_rn(-2.0, log(u1))), cos(__dmul_rn(__dmul_rn(2.0, M_PI), u2)));
    return __dadd_rn(lo, __dmul_rn(hi, r));
}

// ---------------------------------------------------------------- cast (float to int truncates toward zero, NaN to 0)

template <typename S, typename D> __device__ inline D convert(S x) { return (D)x; }
// The hardware conversion gives INT64_MIN for NaN; the CPU backend (Java's (long) cast) gives 0.
template <> __device__ inline i64 convert<float, i64>(float x) { return x != x ? 0 : __float2ll_rz(x); }
template <> __device__ inline i64 convert<double, i64>(double x) { return x != x ? 0 : __double2ll_rz(x); }

// ---------------------------------------------------------------- entry points

#define ELEMENTWISE_ENTRIES(T, S)                                                                              \
    extern "C" __global__ void fill_##S(T* out, T value, i64 n) { fill_t(out, value, n); }                     \
    extern "C" __global__ void unary_##S(int op, const T* x, T* out, i64 n) { unary_t(op, x, out, n); }        \
    extern "C" __global__ void binary_same_##S(int op, const T* a, const T* b, T* out, i64 n, Err* err) {      \
        binary_contig_t<T, false, false>(op, a, b, out, n, err);                                               \
    }                                                                                                          \
    extern "C" __global__ void binary_ascalar_##S(int op, const T* a, const T* b, T* out, i64 n, Err* err) {   \
        binary_contig_t<T, true, false>(op, a, b, out, n, err);                                                \
    }                                                                                                          \
    extern "C" __global__ void binary_bscalar_##S(int op, const T* a, const T* b, T* out, i64 n, Err* err) {   \
        binary_contig_t<T, false, true>(op, a, b, out, n, err);                                                \
    }                                                                                                          \
    extern "C" __global__ void binary_bcast_##S(int op, const T* a, const T* b, T* out, i64 n, Geo g, Err* err) { \
        binary_bcast_t(op, a, b, out, n, g, err);                                                              \
    }                                                                                                          \
    extern "C" __global__ void where_##S(const void* cond, int condType, const T* a, const T* b, T* out, i64 n, Geo g) { \
        where_t(cond, condType, a, b, out, n, g);                                                              \
    }

ELEMENTWISE_ENTRIES(float, f32)
ELEMENTWISE_ENTRIES(double, f64)
ELEMENTWISE_ENTRIES(i64, i64)

// Unary ops with scalar parameters (softplus, leakyRelu, elu, clamp): float types only.
extern "C" __global__ void unary_param_f32(int op, const float* x, float* out, i64 n, double p0, double p1) {
    unary_param_t(op, x, out, n, p0, p1);
}
extern "C" __global__ void unary_param_f64(int op, const double* x, double* out, i64 n, double p0, double p1) {
    unary_param_t(op, x, out, n, p0, p1);
}

extern "C" __global__ void random_f32(float* out, int kind, double lo, double hi, u64 seed, i64 n) {
    GRID_STRIDE(i, n) out[i] = (float)sample(kind, lo, hi, seed, (u64)i);
}
extern "C" __global__ void random_f64(double* out, int kind, double lo, double hi, u64 seed, i64 n) {
    GRID_STRIDE(i, n) out[i] = sample(kind, lo, hi, seed, (u64)i);
}

#define CAST_ENTRY(S, SN, D, DN) \
    extern "C" __global__ void cast_##SN##_##DN(const S* x, D* out, i64 n) { GRID_STRIDE(i, n) out[i] = convert<S, D>(x[i]); }
CAST_ENTRY(float, f32, double, f64)
CAST_ENTRY(float, f32, i64, i64)
CAST_ENTRY(double, f64, float, f32)
CAST_ENTRY(double, f64, i64, i64)
CAST_ENTRY(i64, i64, float, f32)
CAST_ENTRY(i64, i64, double, f64)
