// The real kernels (src/main/cuda, host-compiled under cuda_emu.h) launched as the Java backend
// launches them (Kernels / CudaBackend / Reductions / CudaFused), compared with plain C++ references.
#include <chrono>
#include <functional>

#include "harness.h"

extern "C" const wsim_kernel* wsim_builtin_table(int* count);

namespace {

struct Err {
    int code, pad;
    i64 a, b, c;
};

uint64_t g_rng = 0x1234567887654321ULL;
double urand() {  // [0, 1)
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(g_rng >> 11) * 0x1.0p-53;
}

template <typename T> const char* sfx();
template <> const char* sfx<float>() { return "f32"; }
template <> const char* sfx<double>() { return "f64"; }
template <> const char* sfx<i64>() { return "i64"; }
std::string kn(const char* base, const char* s) { return std::string(base) + "_" + s; }

// ---------------------------------------------------------------- references (mirror the kernels' formulas)

float m_exp(float x) { return expf(x); }
double m_exp(double x) { return exp(x); }
float m_log(float x) { return logf(x); }
double m_log(double x) { return log(x); }

template <typename T>
T ref_unary(int op, T x) {
    switch (op) {
        case 0: return -x;
        case 1: return m_exp(x);
        case 2: return m_log(x);
        case 3: return sizeof(T) == 4 ? (T)sqrtf((float)x) : (T)sqrt((double)x);
        case 4: return sizeof(T) == 4 ? (T)fabsf((float)x) : (T)fabs((double)x);
        case 5: return sizeof(T) == 4 ? (T)sinf((float)x) : (T)sin((double)x);
        case 6: return sizeof(T) == 4 ? (T)cosf((float)x) : (T)cos((double)x);
        case 7: return sizeof(T) == 4 ? (T)tanhf((float)x) : (T)tanh((double)x);
        case 8: {
            if (x >= 0) return (T)1 / ((T)1 + m_exp(-x));
            T e = m_exp(x);
            return e / ((T)1 + e);
        }
        case 9: return x > 0 ? x : (T)0;
        case 10: return x > 0 ? (T)1 : (x < 0 ? (T)-1 : (T)0);  // torch.sign: +0 for -0 and NaN
    }
    return x;
}
i64 ref_unary_i(int op, i64 x) {
    switch (op) {
        case 0: return (i64)(0ULL - (uint64_t)x);
        case 4: return x < 0 ? (i64)(0ULL - (uint64_t)x) : x;
        case 9: return x > 0 ? x : 0;
        case 10: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    }
    return x;
}
template <typename T>
T maxn(T a, T b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
template <typename T>
T minn(T a, T b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
template <typename T>
T ref_binary(int op, T a, T b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return sizeof(T) == 4 ? (T)powf((float)a, (float)b) : (T)pow((double)a, (double)b);
        case 5: return maxn(a, b);
        case 6: return minn(a, b);
        case 7: return a == b;
        case 8: return a != b;
        case 9: return a < b;
        case 10: return a <= b;
        case 11: return a > b;
        case 12: return a >= b;
    }
    return a;
}
i64 ref_binary_i(int op, i64 a, i64 b, int* err) {
    typedef unsigned long long u;
    switch (op) {
        case 0: return (i64)((u)a + (u)b);
        case 1: return (i64)((u)a - (u)b);
        case 2: return (i64)((u)a * (u)b);
        case 3: {
            if (b == 0) { *err = 4; return 0; }
            if (b == -1) return (i64)(0ULL - (u)a);
            i64 q = a / b;
            if ((a % b != 0) && ((a ^ b) < 0)) q--;
            return q;
        }
        case 4: {
            if (b < 0) { *err = 5; return 0; }
            u r = 1;
            for (i64 e = 0; e < b && e < 200; e++) r *= (u)a;
            if (b >= 200) {  // square-and-multiply for big exponents
                r = 1;
                u base = (u)a;
                for (u e = (u)b; e; e >>= 1) { if (e & 1) r *= base; base *= base; }
            }
            return (i64)r;
        }
        case 5: return a > b ? a : b;
        case 6: return a < b ? a : b;
        case 7: return a == b;
        case 8: return a != b;
        case 9: return a < b;
        case 10: return a <= b;
        case 11: return a > b;
        case 12: return a >= b;
    }
    return a;
}

template <typename T>
T special(size_t i, bool specials) {
    if (specials) {
        switch (i % 11) {
            case 3: return (T)NAN;
            case 5: return (T)INFINITY;
            case 7: return (T)-INFINITY;
            case 9: return (T)-0.0;
            case 10: return (T)0.0;
        }
    }
    return (T)(urand() * 8 - 4);
}
template <> i64 special<i64>(size_t i, bool specials) {
    if (specials) {
        switch (i % 9) {
            case 2: return 0;
            case 4: return -1;
            case 6: return (i64)0x8000000000000000ULL;
            case 8: return 0x7fffffffffffffffLL;
        }
    }
    return (i64)(urand() * 41) - 20;
}

// ---------------------------------------------------------------- elementwise

const size_t SIZES[] = {1, 3, 5, 31, 33, 1000, 4099};
const size_t MISALIGN_F32[] = {0, 4, 8};
const size_t MISALIGN_8B[] = {0, 8};

template <typename T>
void test_unary() {
    const size_t* mis = sizeof(T) == 4 ? MISALIGN_F32 : MISALIGN_8B;
    size_t nmis = sizeof(T) == 4 ? 3 : 2;
    bool isint = std::is_same<T, i64>::value;
    for (int op = 0; op <= 10; op++) {
        if (isint && !(op == 0 || op == 4 || op == 9 || op == 10 || op == 1)) continue;
        for (size_t n : SIZES) {
            for (size_t mi = 0; mi < nmis; mi++) {
                size_t mx = mis[mi], mo = mis[(mi + 1) % nmis];
                Buf<T> x(n, mx), out(n, mo);
                for (size_t i = 0; i < n; i++) x[i] = special<T>(i, true);
                Args a;
                a.i32(op).ptr(x.p).ptr(out.p).i64((i64)n);
                int rc = launch_n(kn("unary", sfx<T>()).c_str(), (long)n, a);
                size_t bad = n;
                for (size_t i = 0; i < n; i++) {
                    T want;
                    if constexpr (std::is_same<T, i64>::value) want = ref_unary_i(op, x[i]);
                    else want = ref_unary<T>(op, x[i]);
                    if (!same(out[i], want)) { bad = i; break; }
                }
                CHECK(rc == 0 && bad == n && out.tail_intact(), "unary_%s op %d n %zu misalign x %zu out %zu: rc %d, first bad %zu",
                      sfx<T>(), op, n, mx, mo, rc, bad);
            }
        }
    }
}

template <typename T>
void test_binary() {
    const size_t* mis = sizeof(T) == 4 ? MISALIGN_F32 : MISALIGN_8B;
    size_t nmis = sizeof(T) == 4 ? 3 : 2;
    const char* kinds[] = {"binary_same", "binary_ascalar", "binary_bscalar"};
    for (int kind = 0; kind < 3; kind++) {
        for (int op = 0; op <= 12; op++) {
            for (size_t n : SIZES) {
                size_t ma = mis[n % nmis], mb = mis[(n + 1) % nmis], mo = mis[kind % nmis];
                size_t na = kind == 1 ? 1 : n, nb = kind == 2 ? 1 : n;
                Buf<T> A(na, ma), B(nb, mb), out(n, mo);
                for (size_t i = 0; i < na; i++) A[i] = special<T>(i, true);
                for (size_t i = 0; i < nb; i++) B[i] = special<T>(i + 3, (i & 1) != 0);
                Err err = {0, 0, 0, 0, 0};
                Args a;
                a.i32(op).ptr(A.p).ptr(B.p).ptr(out.p).i64((i64)n).ptr(&err);
                int rc = launch_n(kn(kinds[kind], sfx<T>()).c_str(), (long)n, a);
                size_t bad = n;
                int werr = 0;
                for (size_t i = 0; i < n; i++) {
                    T av = A[kind == 1 ? 0 : i], bv = B[kind == 2 ? 0 : i];
                    T want;
                    if constexpr (std::is_same<T, i64>::value) want = ref_binary_i(op, av, bv, &werr);
                    else want = ref_binary<T>(op, av, bv);
                    if (!same(out[i], want) && bad == n) bad = i;
                }
                CHECK(rc == 0 && bad == n && out.tail_intact() && err.code == werr,
                      "%s_%s op %d n %zu: rc %d first bad %zu err %d want %d", kinds[kind], sfx<T>(), op, n, rc, bad,
                      err.code, werr);
            }
        }
    }
    // General broadcast: [3,1,5] op [1,4,5] -> [3,4,5].
    for (int op : {0, 3, 5, 11}) {
        Buf<T> A(15), B(20), out(60);
        for (int i = 0; i < 15; i++) A[i] = special<T>(i, true);
        for (int i = 0; i < 20; i++) B[i] = special<T>(i, false) + (T)1;
        GeoH g = geo({3, 4, 5}, {{5, 0, 1}, {0, 5, 1}});
        Err err = {0, 0, 0, 0, 0};
        Args a;
        a.i32(op).ptr(A.p).ptr(B.p).ptr(out.p).i64(60).g(g).ptr(&err);
        int rc = launch_n(kn("binary_bcast", sfx<T>()).c_str(), 60, a);
        int bad = -1, werr = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++) {
                    T av = A[i * 5 + k], bv = B[j * 5 + k];
                    T want;
                    if constexpr (std::is_same<T, i64>::value) want = ref_binary_i(op, av, bv, &werr);
                    else want = ref_binary<T>(op, av, bv);
                    if (!same(out[(i * 4 + j) * 5 + k], want) && bad < 0) bad = (i * 4 + j) * 5 + k;
                }
        CHECK(rc == 0 && bad < 0 && err.code == werr, "binary_bcast_%s op %d: rc %d first bad %d", sfx<T>(), op, rc, bad);
    }
}

void test_int_div_errors() {
    Buf<i64> A(5), B(5), out(5);
    i64 av[] = {7, -7, 7, (i64)0x8000000000000000ULL, 5}, bv[] = {2, 2, 0, -1, -3};
    for (int i = 0; i < 5; i++) A[i] = av[i], B[i] = bv[i];
    Err err = {0, 0, 0, 0, 0};
    Args a;
    a.i32(3).ptr(A.p).ptr(B.p).ptr(out.p).i64(5).ptr(&err);
    int rc = launch_n("binary_same_i64", 5, a);
    CHECK(rc == 0 && out[0] == 3 && out[1] == -4 && out[2] == 0 && out[3] == (i64)0x8000000000000000ULL && out[4] == -2,
          "int floor division: %lld %lld %lld %lld %lld", out[0], out[1], out[2], out[3], out[4]);
    CHECK(err.code == 4 && err.a == 7, "int division by zero reports ERR_INT_DIV with the dividend: code %d a %lld", err.code,
          err.a);
}

template <typename T>
void test_fill_where() {
    const size_t* mis = sizeof(T) == 4 ? MISALIGN_F32 : MISALIGN_8B;
    size_t nmis = sizeof(T) == 4 ? 3 : 2;
    for (size_t n : SIZES)
        for (size_t mi = 0; mi < nmis; mi++) {
            Buf<T> out(n, mis[mi]);
            T v = (T)-2.5;
            Args a;
            a.ptr(out.p).val(v).i64((i64)n);
            int rc = launch_n(kn("fill", sfx<T>()).c_str(), (long)n, a);
            size_t bad = n;
            for (size_t i = 0; i < n; i++)
                if (!same(out[i], v)) { bad = i; break; }
            CHECK(rc == 0 && bad == n && out.tail_intact(), "fill_%s n %zu misalign %zu: first bad %zu", sfx<T>(), n, mis[mi], bad);
        }
    // where(cond [4,1] f64, a [1,5], b [4,5]) -> [4,5]
    Buf<double> cond(4);
    Buf<T> A(5), B(20), out(20);
    double cv[] = {0.0, 1.0, NAN, -0.0};
    for (int i = 0; i < 4; i++) cond[i] = cv[i];
    for (int i = 0; i < 5; i++) A[i] = (T)(i + 1);
    for (int i = 0; i < 20; i++) B[i] = (T)(-i);
    GeoH g = geo({4, 5}, {{1, 0}, {0, 1}, {5, 1}});
    Args a;
    a.ptr(cond.p).i32(1).ptr(A.p).ptr(B.p).ptr(out.p).i64(20).g(g);
    int rc = launch_n(kn("where", sfx<T>()).c_str(), 20, a);
    int bad = -1;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 5; c++) {
            T want = cv[r] != 0.0 ? A[c] : B[r * 5 + c];
            if (!same(out[r * 5 + c], want) && bad < 0) bad = r * 5 + c;
        }
    CHECK(rc == 0 && bad < 0, "where_%s: first bad %d", sfx<T>(), bad);
}

// ---------------------------------------------------------------- random (CounterRandom bit for bit)

uint64_t mix64(uint64_t seed, uint64_t counter) {
    uint64_t z = seed + (counter + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
double uniform01(uint64_t seed, uint64_t i) { return (double)(mix64(seed, i) >> 11) * 0x1.0p-53; }
double sample(int kind, double lo, double hi, uint64_t seed, uint64_t i) {
    if (kind == 0) return lo + (hi - lo) * uniform01(seed, i);
    double u1 = 1.0 - uniform01(seed, 2 * i);
    double u2 = uniform01(seed, 2 * i + 1);
    double r = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    return lo + hi * r;
}
template <typename T>
void test_random() {
    for (int kind = 0; kind < 2; kind++) {
        size_t n = 10007;
        Buf<T> out(n);
        Args a;
        a.ptr(out.p).i32(kind).f64(-1.5).f64(2.0).i64(42).i64((i64)n);
        int rc = launch_n(kn("random", sfx<T>()).c_str(), (long)n, a);
        size_t bad = n;
        for (size_t i = 0; i < n; i++)
            if (!same(out[i], (T)sample(kind, -1.5, 2.0, 42, i))) { bad = i; break; }
        CHECK(rc == 0 && bad == n, "random_%s kind %d: first bad %zu", sfx<T>(), kind, bad);
    }
}

// ---------------------------------------------------------------- cast

void test_cast() {
    const size_t n = 12;
    Buf<float> xf(n, 4);
    Buf<double> xd(n, 8);
    float fv[n] = {1.9f, -1.9f, 0.5f, -0.0f, NAN, INFINITY, -INFINITY, 9.3e18f, -9.3e18f, 16777217.0f, 3e9f, -3e9f};
    for (size_t i = 0; i < n; i++) xf[i] = fv[i], xd[i] = (double)fv[i];
    Buf<i64> of(n), od(n);
    Args a, b;
    a.ptr(xf.p).ptr(of.p).i64(n);
    b.ptr(xd.p).ptr(od.p).i64(n);
    int rc = launch_n("cast_f32_i64", n, a) | launch_n("cast_f64_i64", n, b);
    const i64 MIN = (i64)0x8000000000000000ULL, MAX = 0x7fffffffffffffffLL;
    // NaN -> 0 as the CPU backend (Java's (long) cast); out of range saturates, as Java and the hardware
    i64 want[n] = {1, -1, 0, 0, 0, MAX, MIN, MAX, MIN, 16777216, 3000000000LL, -3000000000LL};
    bool ok = rc == 0;
    for (size_t i = 0; i < n; i++) ok = ok && of[i] == want[i] && od[i] == want[i];
    CHECK(ok, "cast_f32_i64 / cast_f64_i64: NaN -> 0 (got %lld, %lld), +/-inf and out of range saturate", of[4], od[4]);
    // The other casts: plain C conversions.
    Buf<float> f2(n);
    Buf<double> d2(n), d3(n);
    Buf<i64> il(n);
    for (size_t i = 0; i < n; i++) il[i] = (i64)(i * 1234567891011LL) - 5;
    Args c, d, e, f;
    c.ptr(xf.p).ptr(d2.p).i64(n);
    d.ptr(xd.p).ptr(f2.p).i64(n);
    e.ptr(il.p).ptr(d3.p).i64(n);
    Buf<float> f3(n);
    f.ptr(il.p).ptr(f3.p).i64(n);
    rc = launch_n("cast_f32_f64", n, c) | launch_n("cast_f64_f32", n, d) | launch_n("cast_i64_f64", n, e) |
         launch_n("cast_i64_f32", n, f);
    ok = rc == 0;
    for (size_t i = 0; i < n; i++)
        ok = ok && same(d2[i], (double)fv[i]) && same(f2[i], fv[i]) && d3[i] == (double)il[i] && f3[i] == (float)il[i];
    CHECK(ok, "cast_f32_f64 / f64_f32 / i64_f64 / i64_f32");
}

// ---------------------------------------------------------------- reductions (Reductions.java)

template <typename T>
T r_id(int op) {
    if (op == 0) return (T)0;
    if constexpr (std::is_same<T, i64>::value) return (i64)0x8000000000000000ULL;
    else return (T)-INFINITY;
}

// Reductions.rows: one or two passes of reduce_rows.
template <typename T>
int java_rows(int code, const T* x, T* out, long rows, long len) {
    std::string name = kn("reduce_rows", sfx<T>());
    long nchunks = 1;
    const long ROW_CHUNK = 4096;
    if (rows < 256 && len > 2 * ROW_CHUNK) {
        nchunks = (len + ROW_CHUNK - 1) / ROW_CHUNK;
        long cap = 1024 / rows > 1 ? 1024 / rows : 1;
        if (cap < nchunks) nchunks = cap;
    }
    if (nchunks <= 1) {
        Args a;
        a.i32(code).ptr(x).ptr(out).i64(rows).i64(len).i64(len > 1 ? len : 1);
        return launch_rows(name.c_str(), rows, a);
    }
    long chunk = (len + nchunks - 1) / nchunks;
    nchunks = (len + chunk - 1) / chunk;
    std::vector<T> partial(rows * nchunks);
    Args a, b;
    a.i32(code).ptr(x).ptr(partial.data()).i64(rows).i64(len).i64(chunk);
    b.i32(code).ptr(partial.data()).ptr(out).i64(rows).i64(nchunks).i64(nchunks);
    return launch_rows(name.c_str(), rows * nchunks, a) | launch_rows(name.c_str(), rows, b);
}

template <typename T>
void test_reduce_rows() {
    const long lens[] = {0, 1, 2, 31, 33, 257, 1000, 9000};
    const long rowss[] = {1, 3, 300};
    for (int op = 0; op < 2; op++)
        for (long len : lens)
            for (long rows : rowss) {
                if (rows * len > 400000) continue;
                std::vector<T> x(rows * len > 0 ? rows * len : 1);
                for (long i = 0; i < rows * len; i++) x[i] = special<T>(i, false);
                // Specials in some rows: a NaN (max -> NaN), -inf everywhere, +inf.
                if (rows >= 3 && len >= 1) {
                    if constexpr (!std::is_same<T, i64>::value) {
                        x[1 * len + len / 2] = (T)NAN;
                        for (long j = 0; j < len; j++) x[2 * len + j] = (T)-INFINITY;
                        if (len > 1 && rows > 3) x[3 * len + 1] = (T)INFINITY;
                    } else {
                        x[1 * len] = (i64)0x7fffffffffffffffLL;
                    }
                }
                std::vector<T> out(rows, (T)77);
                int rc = java_rows(op, x.data(), out.data(), rows, len);
                long bad = -1;
                double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
                for (long r = 0; r < rows && bad < 0; r++) {
                    if constexpr (std::is_same<T, i64>::value) {
                        unsigned long long s = 0;
                        i64 m = r_id<i64>(1);
                        for (long j = 0; j < len; j++) s += (unsigned long long)x[r * len + j], m = x[r * len + j] > m ? x[r * len + j] : m;
                        if (out[r] != (op == 0 ? (i64)s : m)) bad = r;
                    } else {
                        long double s = 0, sa = 0;
                        T m = r_id<T>(1);
                        for (long j = 0; j < len; j++) {
                            T v = x[r * len + j];
                            s += v, sa += fabsl((long double)v), m = maxn(m, v);
                        }
                        if (op == 1) {
                            if (!same(out[r], m)) bad = r;
                        } else if (s != s || isinf((double)s)) {
                            if (!same(out[r], (T)s)) bad = r;
                        } else if (fabsl((long double)out[r] - s) > tol * (1 + sa)) {
                            bad = r;
                        }
                    }
                }
                CHECK(rc == 0 && bad < 0, "reduce_rows_%s op %d rows %ld len %ld: rc %d bad row %ld (got %g)", sfx<T>(), op, rows,
                      len, rc, bad, bad >= 0 ? (double)out[bad] : 0.0);
            }
}

// Reductions.oli
template <typename T>
int java_oli(int code, const T* x, T* out, long outer, long len, long inner) {
    std::string name = kn("reduce_oli", sfx<T>());
    long outputs = outer * inner, nchunks = 1;
    const long OLI_CHUNK = 64;
    if (outputs < 32 * 1024 && len > 4 * OLI_CHUNK) {
        nchunks = (len + OLI_CHUNK - 1) / OLI_CHUNK;
        long cap = (256 * 1024) / outputs > 1 ? (256 * 1024) / outputs : 1;
        if (cap < nchunks) nchunks = cap;
    }
    if (nchunks <= 1) {
        Args a;
        a.i32(code).ptr(x).ptr(out).i64(outer).i64(len).i64(inner).i64(len > 1 ? len : 1);
        return launch_n(name.c_str(), outputs, a);
    }
    long chunk = (len + nchunks - 1) / nchunks;
    nchunks = (len + chunk - 1) / chunk;
    std::vector<T> partial(outer * nchunks * inner);
    Args a, b;
    a.i32(code).ptr(x).ptr(partial.data()).i64(outer).i64(len).i64(inner).i64(chunk);
    b.i32(code).ptr(partial.data()).ptr(out).i64(outer).i64(nchunks).i64(inner).i64(nchunks);
    return launch_n(name.c_str(), outer * nchunks * inner, a) | launch_n(name.c_str(), outputs, b);
}

template <typename T>
void test_reduce_oli_argmax() {
    struct S { long o, l, i; } shapes[] = {{1, 0, 5}, {3, 1, 7}, {2, 33, 5}, {1, 1000, 3}, {4, 7, 300}};
    for (int op = 0; op < 2; op++)
        for (S s : shapes) {
            std::vector<T> x(s.o * s.l * s.i + 1);
            for (size_t k = 0; k < x.size(); k++) x[k] = special<T>(k, false);
            if constexpr (!std::is_same<T, i64>::value) if (s.l > 2) x[1 * s.i + 0] = (T)NAN;
            std::vector<T> out(s.o * s.i, (T)77);
            int rc = java_oli(op, x.data(), out.data(), s.o, s.l, s.i);
            long bad = -1;
            for (long o = 0; o < s.o; o++)
                for (long i = 0; i < s.i; i++) {
                    long double acc = 0, sa = 0;
                    T m = r_id<T>(1);
                    unsigned long long si = 0;
                    for (long j = 0; j < s.l; j++) {
                        T v = x[(o * s.l + j) * s.i + i];
                        acc += v, sa += fabsl((long double)v), m = maxn(m, v), si += (unsigned long long)v;
                    }
                    T got = out[o * s.i + i];
                    bool ok;
                    if (op == 1) ok = same(got, m);
                    else if constexpr (std::is_same<T, i64>::value) ok = got == (i64)si;
                    else ok = (acc != acc) ? got != got : fabsl((long double)got - acc) <= (sizeof(T) == 4 ? 2e-5 : 1e-12) * (1 + sa);
                    if (!ok && bad < 0) bad = o * s.i + i;
                }
            CHECK(rc == 0 && bad < 0, "reduce_oli_%s op %d [%ld,%ld,%ld]: bad %ld", sfx<T>(), op, s.o, s.l, s.i, bad);
        }
    // argmax: first maximum, NaN wins; along len of [outer, len, inner].
    struct S2 { long o, l, i; } as[] = {{1, 1, 1}, {2, 33, 3}, {3, 1000, 1}, {1, 5, 300}};
    for (S2 s : as) {
        std::vector<T> x(s.o * s.l * s.i);
        for (size_t k = 0; k < x.size(); k++) x[k] = (T)(long)(urand() * 10);  // ties
        if constexpr (!std::is_same<T, i64>::value) if (s.l > 3) x[(0 * s.l + 3) * s.i + 0] = (T)NAN;
        std::vector<i64> out(s.o * s.i, -7);
        Args a;
        a.ptr(x.data()).ptr(out.data()).i64(s.o).i64(s.l).i64(s.i);
        int rc = launch_n(kn("argmax", sfx<T>()).c_str(), s.o * s.i, a);
        long bad = -1;
        for (long o = 0; o < s.o; o++)
            for (long i = 0; i < s.i; i++) {
                long best = 0;
                T bv = x[(o * s.l) * s.i + i];
                for (long j = 1; j < s.l && bv == bv; j++) {
                    T v = x[(o * s.l + j) * s.i + i];
                    if (v > bv || v != v) bv = v, best = j;
                }
                if (out[o * s.i + i] != best && bad < 0) bad = o * s.i + i;
            }
        CHECK(rc == 0 && bad < 0, "argmax_%s [%ld,%ld,%ld]: bad %ld", sfx<T>(), s.o, s.l, s.i, bad);
    }
    // argmax_warp_rows: the same answers along contiguous rows (ties, a NaN, two NaNs, -inf rows, a row of 1).
    for (long len : {1L, 2L, 31L, 33L, 1000L})
        for (long rows : {1L, 9L, 300L}) {
            std::vector<T> x(rows * len);
            for (size_t k = 0; k < x.size(); k++) x[k] = (T)(long)(urand() * 10);
            if constexpr (!std::is_same<T, i64>::value) {
                if (len > 3) x[3] = (T)NAN;                                   // row 0: a NaN wins
                if (len > 40 && rows > 1) x[len + 40] = (T)NAN, x[len + 35] = (T)NAN;  // row 1: the first NaN
                if (rows > 2) for (long j = 0; j < len; j++) x[2 * len + j] = (T)-INFINITY;  // row 2: index 0
            }
            std::vector<i64> out(rows, -7);
            Args a;
            a.ptr(x.data()).ptr(out.data()).i64(rows).i64(len);
            int rc = launch_warp_rows(kn("argmax_warp_rows", sfx<T>()).c_str(), rows, a);
            long bad = -1;
            for (long r = 0; r < rows; r++) {
                long best = 0;
                T bv = x[r * len];
                for (long j = 1; j < len && bv == bv; j++) {
                    T v = x[r * len + j];
                    if (v > bv || v != v) bv = v, best = j;
                }
                if (out[r] != best && bad < 0) bad = r;
            }
            CHECK(rc == 0 && bad < 0, "argmax_warp_rows_%s rows %ld len %ld: bad row %ld (got %lld)", sfx<T>(), rows, len, bad,
                  bad >= 0 ? (long long)out[bad] : 0LL);
        }
}

// Reference log-softmax of one row (double), as the kernel computes it.
template <typename T>
void ref_log_softmax(const T* row, long len, std::vector<double>& out, double* lse_out) {
    double m = -INFINITY;
    for (long j = 0; j < len; j++) m = maxn(m, (double)row[j]);
    double s = 0;
    for (long j = 0; j < len; j++) s += exp((double)row[j] - m);
    double lse = m + log(s);
    out.resize(len);
    for (long j = 0; j < len; j++) out[j] = (double)row[j] - lse;
    if (lse_out) *lse_out = lse;
}

template <typename T>
void fill_softmax_rows(std::vector<T>& x, long rows, long len) {
    for (long k = 0; k < rows * len; k++) x[k] = (T)(urand() * 20 - 10);
    if (rows >= 4 && len >= 2) {
        x[1 * len + len - 1] = (T)-INFINITY;  // one -inf element: that output -inf
        for (long j = 0; j < len; j++) x[2 * len + j] = (T)-INFINITY;  // all -inf: NaN
        x[3 * len] = (T)NAN;  // NaN row
    }
}

template <typename T>
void test_log_softmax() {
    double tol = sizeof(T) == 4 ? 3e-5 : 1e-12;
    for (int warp = 0; warp < 2; warp++)
    for (long len : {1L, 31L, 33L, 257L, 1000L})
        for (long rows : {1L, 5L, 300L}) {
            std::vector<T> x(rows * len), out(rows * len, (T)77);
            fill_softmax_rows(x, rows, len);
            Args a;
            a.ptr(x.data()).ptr(out.data()).i64(rows).i64(len);
            int rc = warp ? launch_warp_rows(kn("log_softmax_warp_rows", sfx<T>()).c_str(), rows, a)
                          : launch_rows(kn("log_softmax_rows", sfx<T>()).c_str(), rows, a);
            long bad = -1;
            std::vector<double> ref;
            for (long r = 0; r < rows; r++) {
                ref_log_softmax(&x[r * len], len, ref, nullptr);
                for (long j = 0; j < len; j++)
                    if (!close(out[r * len + j], ref[j], tol) && bad < 0) bad = r * len + j;
            }
            CHECK(rc == 0 && bad < 0, "log_softmax_%s_%s rows %ld len %ld: bad %ld (got %g want row ref)", warp ? "warp_rows" : "rows",
                  sfx<T>(), rows, len, bad, bad >= 0 ? (double)out[bad] : 0.0);
        }
    // log_softmax_oli over [outer, len, inner]
    for (long len : {1L, 33L}) {
        long outer = 3, inner = 5;
        std::vector<T> x(outer * len * inner), out(x.size());
        for (auto& v : x) v = (T)(urand() * 6 - 3);
        x[inner] = (T)-INFINITY;
        Args a;
        a.ptr(x.data()).ptr(out.data()).i64(outer).i64(len).i64(inner);
        int rc = launch_n(kn("log_softmax_oli", sfx<T>()).c_str(), outer * inner, a);
        long bad = -1;
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++) {
                std::vector<T> row(len);
                for (long j = 0; j < len; j++) row[j] = x[(o * len + j) * inner + i];
                std::vector<double> ref;
                ref_log_softmax(row.data(), len, ref, nullptr);
                for (long j = 0; j < len; j++)
                    if (!close(out[(o * len + j) * inner + i], ref[j], tol) && bad < 0) bad = (o * len + j) * inner + i;
            }
        CHECK(rc == 0 && bad < 0, "log_softmax_oli_%s len %ld: bad %ld", sfx<T>(), len, bad);
    }
}

template <typename T>
void test_softmax_xent() {
    double tol = sizeof(T) == 4 ? 3e-5 : 1e-12;
    for (int warp = 0; warp < 2; warp++)
    for (long classes : {1L, 31L, 33L, 257L, 1000L})
        for (long rows : {1L, 5L, 300L}) {
            auto launch = [&](const char* base, long n, Args& args) {
                return warp ? launch_warp_rows(kn((std::string(base) + "_warp").c_str(), sfx<T>()).c_str(), n, args)
                            : launch_rows(kn(base, sfx<T>()).c_str(), n, args);
            };
            std::vector<T> x(rows * classes), loss(rows, (T)77), grad(rows * classes, (T)77), gl(rows);
            fill_softmax_rows(x, rows, classes);
            std::vector<i64> labels(rows);
            for (long r = 0; r < rows; r++) labels[r] = (i64)(urand() * classes), gl[r] = (T)(urand() + 0.5);
            Err err = {0, 0, 0, 0, 0};
            Args a;
            a.ptr(x.data()).ptr(labels.data()).ptr(loss.data()).i64(rows).i32((int)classes).ptr(&err);
            int rc = launch("softmax_xent_fwd", rows, a);
            long bad = -1;
            for (long r = 0; r < rows; r++) {
                std::vector<double> ref;
                double lse;
                ref_log_softmax(&x[r * classes], classes, ref, &lse);
                double want = lse - (double)x[r * classes + labels[r]];
                if (!close(loss[r], want, tol) && bad < 0) bad = r;
            }
            CHECK(rc == 0 && bad < 0 && err.code == 0, "softmax_xent_fwd%s_%s rows %ld classes %ld: bad row %ld err %d",
                  warp ? "_warp" : "", sfx<T>(), rows, classes, bad, err.code);
            for (int gradStride = 0; gradStride < 2; gradStride++) {
                double scale = gradStride ? 1.0 : 1.0 / rows;
                Args b;
                Err berr = {0, 0, 0, 0, 0};
                b.ptr(x.data()).ptr(labels.data()).ptr(gl.data()).i32(gradStride).f64(scale).ptr(grad.data()).i64(rows).i32((int)classes)
                    .ptr(&berr);
                rc = launch("softmax_xent_bwd", rows, b);
                bad = -1;
                for (long r = 0; r < rows; r++) {
                    std::vector<double> ref;
                    double lse;
                    ref_log_softmax(&x[r * classes], classes, ref, &lse);
                    double g = (double)(T)(gl[gradStride * r] * (T)scale);
                    for (long j = 0; j < classes; j++) {
                        double want = (exp((double)x[r * classes + j] - lse) - (j == labels[r] ? 1.0 : 0.0)) * g;
                        if (!close(grad[r * classes + j], want, tol) && bad < 0) bad = r * classes + j;
                    }
                }
                CHECK(rc == 0 && bad < 0 && berr.code == 0, "softmax_xent_bwd%s_%s rows %ld classes %ld stride %d: bad %ld err %d",
                      warp ? "_warp" : "", sfx<T>(), rows, classes, gradStride, bad, berr.code);
            }
        }
    // An out-of-range label: ERR_LABEL, loss NaN.
    std::vector<T> x(3 * 4, (T)0.5), loss(3);
    std::vector<i64> labels = {0, 4, 3};
    Err err = {0, 0, 0, 0, 0};
    Args a;
    a.ptr(x.data()).ptr(labels.data()).ptr(loss.data()).i64(3).i32(4).ptr(&err);
    int rc = launch_rows(kn("softmax_xent_fwd", sfx<T>()).c_str(), 3, a);
    CHECK(rc == 0 && err.code == 6 && err.a == 4 && err.b == 1 && err.c == 4 && loss[1] != loss[1] && close(loss[0], log(4.0), 1e-6),
          "softmax_xent_fwd_%s bad label: err %d (%lld,%lld,%lld) loss %g %g", sfx<T>(), err.code, err.a, err.b, err.c,
          (double)loss[0], (double)loss[1]);
    // The backward reports the same label (it used to give a silently wrong gradient): ERR_LABEL, row NaN.
    std::vector<T> grad(3 * 4, (T)77), one = {(T)1};
    Err berr = {0, 0, 0, 0, 0};
    Args b;
    b.ptr(x.data()).ptr(labels.data()).ptr(one.data()).i32(0).f64(1.0).ptr(grad.data()).i64(3).i32(4).ptr(&berr);
    rc = launch_rows(kn("softmax_xent_bwd", sfx<T>()).c_str(), 3, b);
    CHECK(rc == 0 && berr.code == 6 && berr.a == 4 && berr.b == 1 && berr.c == 4 && grad[4] != grad[4] && grad[7] != grad[7]
              && close(grad[0], 0.25 - 1, 1e-6) && close(grad[8], 0.25, 1e-6),
          "softmax_xent_bwd_%s bad label: err %d (%lld,%lld,%lld) grad %g %g %g", sfx<T>(), berr.code, berr.a, berr.b, berr.c,
          (double)grad[0], (double)grad[4], (double)grad[8]);
}

// log-softmax and cross-entropy near 1e5 keep (x - max) - log(sum) exact: x - (max + log(sum)) lost |max| * eps.
// bias_act_bwd: dz = dy act'(y), db = column sums of dz (fixed order: 8 row classes, then their sums in order),
// against a double reference; rows not a multiple of 8 or 32, columns past one 32-wide tile, empty rows, NaN in
// one column (only its db is NaN), dz not written when writeDz is 0, and dz written into dy itself.
template <typename T>
void test_bias_act_bwd() {
    double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
    for (int act = 0; act < 4; act++)
        for (long rows : {0L, 1L, 33L, 300L})
            for (long cols : {1L, 31L, 33L, 70L}) {
                std::vector<T> dy(rows * cols), y(rows * cols), dz(rows * cols, (T)77), db(cols, (T)77);
                for (auto& v : dy) v = (T)(urand() * 2 - 1);
                for (auto& v : y) v = act == 1 ? (T)(urand() * 2 - 1) : (T)urand();
                if (rows > 2 && cols > 2) dy[2 * cols + 1] = (T)NAN;
                int writeDz = act == 0 ? 0 : 1;
                Args a;
                a.ptr(dy.data()).ptr(y.data()).ptr(dz.data()).ptr(db.data()).i64(rows).i64(cols).i32(act).i32(writeDz);
                long tiles = (cols + 31) / 32;
                int rc = launch_dims(kn("bias_act_bwd", sfx<T>()).c_str(), (unsigned)tiles, 1, 1, 32, 8, a);
                long bad = -1, badDb = -1;
                for (long c = 0; c < cols; c++) {
                    double sum = 0, abs = 0;
                    for (long r = 0; r < rows; r++) {
                        long i = r * cols + c;
                        double yv = (double)y[i];
                        double d = act == 1 ? (yv > 0 ? 1 : 0) : act == 2 ? 1 - yv * yv : act == 3 ? yv * (1 - yv) : 1;
                        double g = (double)dy[i] * d;
                        sum += g, abs += fabs(g);
                        if (writeDz ? !close(dz[i], g, tol) : !same(dz[i], (T)77)) bad = bad < 0 ? i : bad;
                    }
                    bool ok = sum != sum ? db[c] != db[c] : fabs((double)db[c] - sum) <= tol * (1 + abs);
                    if (!ok && badDb < 0) badDb = c;
                }
                CHECK(rc == 0 && bad < 0 && badDb < 0, "bias_act_bwd_%s act %d rows %ld cols %ld: bad dz %ld, bad db %ld", sfx<T>(),
                      act, rows, cols, bad, badDb);
                if (writeDz) {  // in place: dz = dy
                    std::vector<T> inplace(dy), db2(cols, (T)77);
                    Args b;
                    b.ptr(inplace.data()).ptr(y.data()).ptr(inplace.data()).ptr(db2.data()).i64(rows).i64(cols).i32(act).i32(1);
                    rc = launch_dims(kn("bias_act_bwd", sfx<T>()).c_str(), (unsigned)tiles, 1, 1, 32, 8, b);
                    bool same_bits = rc == 0 && memcmp(db2.data(), db.data(), cols * sizeof(T)) == 0
                                     && memcmp(inplace.data(), dz.data(), rows * cols * sizeof(T)) == 0;
                    CHECK(same_bits, "bias_act_bwd_%s act %d rows %ld cols %ld: in place gives other bits", sfx<T>(), act, rows, cols);
                }
            }
}

// batch_norm / batch_norm_bwd on a contiguous [N, C, L] x, launched as CudaFused launches them (a block per channel,
// launch_rows over C), against a double reference: M = N * L = 1 (var 0: y = bias exactly), C = 1, L = 1, M not a
// multiple of the block, M and L larger than the block, more channels than blocks (grid-stride), a NaN in x and in
// dy (only its channel's outputs are NaN), the backward's outputs written only when their bit is set, the same bits
// on a second run, in place (y = x, dx = dy) and in both thread orders (a case's bits kept from the ascending run).
template <typename T>
void test_batch_norm() {
    static std::vector<std::vector<unsigned char>> ascendingBits;  // per case: y, mean, var, dx, dweight, dbias
    bool descending = strcmp(g_order, "descending") == 0;
    if (!descending) ascendingBits.clear();
    uint64_t rngBefore = g_rng;
    g_rng = 0x5eed0000bad5eedULL;  // the same inputs in both thread orders
    size_t caseNo = 0;
    double tol = sizeof(T) == 4 ? 2e-5 : 1e-11;
    const double eps = 1e-5;
    std::string fwd = kn("batch_norm", sfx<T>()), bwd = kn("batch_norm_bwd", sfx<T>());
    struct Shape { long n, c, l; };
    for (Shape s : {Shape{1, 1, 1}, Shape{1, 3, 1}, Shape{4, 3, 5}, Shape{2, 1, 7}, Shape{300, 2, 1}, Shape{3, 5, 97},
                    Shape{2, 3, 1000}, Shape{64, 4, 49}, Shape{2, 130, 3}, Shape{256, 2, 784}})
        for (int nan = 0; nan < 2; nan++) {
            long N = s.n, C = s.c, L = s.l, M = N * L, n = N * C * L;
            auto idx = [&](long c, long k) { return (k / L) * C * L + c * L + k % L; };
            std::vector<T> x(n), dy(n), w(C), b(C);
            for (long c = 0; c < C; c++) {
                w[c] = (T)(urand() * 2 - 0.5);
                b[c] = (T)(urand() * 2 - 1);
                double offset = urand() * 6 - 3, scale = 0.1 + urand() * 3;
                for (long k = 0; k < M; k++) {
                    x[idx(c, k)] = (T)(offset + scale * (urand() * 2 - 1));
                    dy[idx(c, k)] = (T)(urand() * 2 - 1 + 0.3);
                }
            }
            long nanC = C > 1 ? 1 : 0;
            if (nan) {
                x[idx(nanC, M / 2)] = (T)NAN;
                dy[idx(nanC, M - 1)] = (T)NAN;
            }
            std::vector<T> y(n, (T)77), mean(C, (T)77), var(C, (T)77);
            Args a;
            a.ptr(x.data()).ptr(w.data()).ptr(b.data()).f64(eps).ptr(y.data()).ptr(mean.data()).ptr(var.data()).i64(N).i64(C).i64(L);
            int rc = launch_rows(fwd.c_str(), C, a);
            long badStat = -1, badY = -1;
            std::vector<double> rm(C), rv(C);
            for (long c = 0; c < C; c++) {
                double sum = 0, abs = 0;
                for (long k = 0; k < M; k++) sum += (double)x[idx(c, k)], abs += fabs((double)x[idx(c, k)]);
                rm[c] = sum / M;
                double sq = 0;
                for (long k = 0; k < M; k++) {
                    double d = (double)x[idx(c, k)] - rm[c];
                    sq += d * d;
                }
                rv[c] = sq / M;
                bool ok = close(mean[c], rm[c], tol * (1 + abs / M)) && close(var[c], rv[c], tol * (1 + rv[c] + rm[c] * rm[c]));
                if (!ok && badStat < 0) badStat = c;
                double inv = 1 / sqrt(rv[c] + eps);
                for (long k = 0; k < M; k++) {
                    long i = idx(c, k);
                    double xh = ((double)x[i] - rm[c]) * inv;
                    double want = xh * (double)w[c] + (double)b[c];
                    // float32: mean rounded to float moves y by |w| inv ulp(mean)
                    double scale = 1 + fabs(xh * (double)w[c]) + fabs((double)b[c]) + fabs((double)w[c]) * inv * fabs(rm[c]);
                    if (!close(y[i], want, tol * scale) && badY < 0) badY = i;
                }
            }
            bool yIsB = true;  // M = 1: var 0 and y = bias exactly (x - mean is 0)
            if (M == 1)
                for (long c = 0; c < C; c++) yIsB = yIsB && (nan && c == nanC ? y[idx(c, 0)] != y[idx(c, 0)] : same(y[idx(c, 0)], b[c]) && var[c] == 0);
            CHECK(rc == 0 && badStat < 0 && badY < 0 && yIsB, "%s N %ld C %ld L %ld nan %d: bad stat %ld (%g/%g, %g/%g), bad y %ld, M=1 y=b %d",
                  fwd.c_str(), N, C, L, nan, badStat, badStat < 0 ? 0.0 : (double)mean[badStat], badStat < 0 ? 0.0 : rm[badStat],
                  badStat < 0 ? 0.0 : (double)var[badStat], badStat < 0 ? 0.0 : rv[badStat], badY, (int)yIsB);
            if (nan) {
                bool only = true;
                for (long c = 0; c < C; c++) {
                    bool isNan = mean[c] != mean[c] && var[c] != var[c] && y[idx(c, 0)] != y[idx(c, 0)];
                    only = only && (c == nanC ? isNan : mean[c] == mean[c] && var[c] == var[c] && y[idx(c, 0)] == y[idx(c, 0)]);
                }
                CHECK(only, "%s N %ld C %ld L %ld: a NaN in channel %ld makes that channel's outputs NaN, no other", fwd.c_str(), N, C, L, nanC);
            }
            {  // again, and in place (y = x): the same bits
                std::vector<T> y2(n, (T)5), m2(C), v2(C), inplace(x);
                Args a2, a3;
                a2.ptr(x.data()).ptr(w.data()).ptr(b.data()).f64(eps).ptr(y2.data()).ptr(m2.data()).ptr(v2.data()).i64(N).i64(C).i64(L);
                a3.ptr(inplace.data()).ptr(w.data()).ptr(b.data()).f64(eps).ptr(inplace.data()).ptr(m2.data()).ptr(v2.data()).i64(N).i64(C).i64(L);
                bool again = launch_rows(fwd.c_str(), C, a2) == 0 && memcmp(y2.data(), y.data(), n * sizeof(T)) == 0
                             && memcmp(m2.data(), mean.data(), C * sizeof(T)) == 0 && memcmp(v2.data(), var.data(), C * sizeof(T)) == 0;
                bool inPlace = launch_rows(fwd.c_str(), C, a3) == 0 && memcmp(inplace.data(), y.data(), n * sizeof(T)) == 0;
                CHECK(again && inPlace, "%s N %ld C %ld L %ld nan %d: a second run %d, in place %d: other bits", fwd.c_str(), N, C, L, nan,
                      (int)again, (int)inPlace);
            }

            // Backward from the kernel's own mean and var, every subset of outputs.
            std::vector<T> dx(n), dw(C), db(C);
            std::vector<double> rdx(n), rdxScale(n), rdw(C), rdb(C), rdwAbs(C), rdbAbs(C);
            for (long c = 0; c < C; c++) {
                double inv = 1 / sqrt((double)var[c] + eps), sDy = 0, sDyX = 0, aDy = 0, aDyX = 0;
                for (long k = 0; k < M; k++) {
                    long i = idx(c, k);
                    double xh = ((double)x[i] - (double)mean[c]) * inv;
                    sDy += (double)dy[i], sDyX += (double)dy[i] * xh;
                    aDy += fabs((double)dy[i]), aDyX += fabs((double)dy[i] * xh);
                }
                rdb[c] = sDy, rdw[c] = sDyX, rdbAbs[c] = aDy, rdwAbs[c] = aDyX;
                for (long k = 0; k < M; k++) {
                    long i = idx(c, k);
                    double xh = ((double)x[i] - (double)mean[c]) * inv;
                    rdx[i] = (double)w[c] * inv * ((double)dy[i] - sDy / M - xh * sDyX / M);
                    rdxScale[i] = 1 + fabs((double)w[c]) * inv * (fabs((double)dy[i]) + aDy / M + fabs(xh) * aDyX / M);
                }
            }
            std::vector<T> dxAll, dwAll, dbAll;
            for (int write : {7, 1, 6, 2, 4, 0}) {
                std::fill(dx.begin(), dx.end(), (T)77);
                std::fill(dw.begin(), dw.end(), (T)77);
                std::fill(db.begin(), db.end(), (T)77);
                Args g;
                g.ptr(dy.data()).ptr(x.data()).ptr(mean.data()).ptr(var.data()).ptr(w.data()).f64(eps).ptr(dx.data()).ptr(dw.data())
                    .ptr(db.data()).i64(N).i64(C).i64(L).i32(write);
                rc = launch_rows(bwd.c_str(), C, g);
                long badDx = -1, badDw = -1, badDb = -1;
                for (long i = 0; i < n; i++)
                    if (!((write & 1) ? close(dx[i], rdx[i], tol * rdxScale[i]) : same(dx[i], (T)77)) && badDx < 0) badDx = i;
                for (long c = 0; c < C; c++) {
                    if (!((write & 2) ? close(dw[c], rdw[c], tol * (1 + rdwAbs[c])) : same(dw[c], (T)77)) && badDw < 0) badDw = c;
                    if (!((write & 4) ? close(db[c], rdb[c], tol * (1 + rdbAbs[c])) : same(db[c], (T)77)) && badDb < 0) badDb = c;
                }
                CHECK(rc == 0 && badDx < 0 && badDw < 0 && badDb < 0, "%s N %ld C %ld L %ld nan %d write %d: bad dx %ld (%g/%g), dweight %ld, dbias %ld",
                      bwd.c_str(), N, C, L, nan, write, badDx, badDx < 0 ? 0.0 : (double)dx[badDx], badDx < 0 ? 0.0 : rdx[badDx], badDw, badDb);
                if (write == 7) dxAll = dx, dwAll = dw, dbAll = db;
                if (write == 1 || write == 6) {  // a subset writes the bits of the full run
                    bool sameBits = write == 1 ? memcmp(dx.data(), dxAll.data(), n * sizeof(T)) == 0
                                               : memcmp(dw.data(), dwAll.data(), C * sizeof(T)) == 0 && memcmp(db.data(), dbAll.data(), C * sizeof(T)) == 0;
                    CHECK(sameBits, "%s N %ld C %ld L %ld write %d: other bits than with every output", bwd.c_str(), N, C, L, write);
                }
            }
            if (nan) {
                bool only = true;
                for (long c = 0; c < C; c++) {
                    bool isNan = dwAll[c] != dwAll[c] && dbAll[c] != dbAll[c] && dxAll[idx(c, 0)] != dxAll[idx(c, 0)];
                    only = only && (c == nanC ? isNan : dwAll[c] == dwAll[c] && dbAll[c] == dbAll[c] && dxAll[idx(c, 0)] == dxAll[idx(c, 0)]);
                }
                CHECK(only, "%s N %ld C %ld L %ld: a NaN in channel %ld makes that channel's gradients NaN, no other", bwd.c_str(), N, C, L, nanC);
            }
            {  // in place: dx = dy
                std::vector<T> inplace(dy), dw2(C), db2(C);
                Args g;
                g.ptr(inplace.data()).ptr(x.data()).ptr(mean.data()).ptr(var.data()).ptr(w.data()).f64(eps).ptr(inplace.data())
                    .ptr(dw2.data()).ptr(db2.data()).i64(N).i64(C).i64(L).i32(7);
                bool ok = launch_rows(bwd.c_str(), C, g) == 0 && memcmp(inplace.data(), dxAll.data(), n * sizeof(T)) == 0
                          && memcmp(dw2.data(), dwAll.data(), C * sizeof(T)) == 0 && memcmp(db2.data(), dbAll.data(), C * sizeof(T)) == 0;
                CHECK(ok, "%s N %ld C %ld L %ld nan %d: in place (dx = dy) gives other bits", bwd.c_str(), N, C, L, nan);
            }
            // both thread orders give the same bits
            std::vector<unsigned char> bits;
            auto put = [&](const std::vector<T>& v) {
                const unsigned char* p = (const unsigned char*)v.data();
                bits.insert(bits.end(), p, p + v.size() * sizeof(T));
            };
            put(y), put(mean), put(var), put(dxAll), put(dwAll), put(dbAll);
            if (!descending) {
                ascendingBits.push_back(bits);
            } else {
                CHECK(caseNo < ascendingBits.size() && ascendingBits[caseNo] == bits,
                      "%s/%s N %ld C %ld L %ld nan %d: other bits than in the ascending thread order", fwd.c_str(), bwd.c_str(), N, C, L, nan);
            }
            caseNo++;
        }
    g_rng = rngBefore;
}

// softmax_xent_mean: one block (partial[0] is the mean) or several (partial sums of 1/rows-scaled blocks), and the
// gradient (softmax - oneHot) / rows, against a double reference; a bad label is reported and gives NaN.
template <typename T>
void test_softmax_xent_mean() {
    double tol = sizeof(T) == 4 ? 3e-5 : 1e-12;
    for (long classes : {1L, 10L, 33L, 257L})
        for (long rows : {1L, 5L, 37L, 300L})
            for (long perBlock : {4096L, 16L}) {
                std::vector<T> x(rows * classes), grad(rows * classes, (T)77);
                for (auto& v : x) v = (T)(urand() * 20 - 10);
                if (rows >= 2) for (long j = 0; j < classes; j++) x[classes + j] = (T)(urand() * 2000 - 1000);  // large logits
                std::vector<i64> labels(rows);
                for (long r = 0; r < rows; r++) labels[r] = (i64)(urand() * classes);
                long blocks = (rows + perBlock - 1) / perBlock;
                std::vector<T> partial(blocks, (T)77);
                Err err = {0, 0, 0, 0, 0};
                Args a;
                a.ptr(x.data()).ptr(labels.data()).ptr(partial.data()).ptr(grad.data()).i64(rows).i32((int)classes).i64(perBlock)
                    .f64(1.0 / rows).ptr(&err);
                int rc = launch_dims(kn("softmax_xent_mean", sfx<T>()).c_str(), (unsigned)blocks, 1, 1, 256, 1, a);
                double loss = 0, want = 0;
                for (long b = 0; b < blocks; b++) loss += (double)partial[b];
                long bad = -1;
                for (long r = 0; r < rows; r++) {
                    std::vector<double> ref;
                    double lse;
                    ref_log_softmax(&x[r * classes], classes, ref, &lse);
                    want += lse - (double)x[r * classes + labels[r]];
                    for (long j = 0; j < classes; j++) {
                        double g = (exp((double)x[r * classes + j] - lse) - (j == labels[r] ? 1.0 : 0.0)) / rows;
                        if (!close(grad[r * classes + j], g, tol) && bad < 0) bad = r * classes + j;
                    }
                }
                want /= rows;
                CHECK(rc == 0 && bad < 0 && err.code == 0 && fabs(loss - want) <= tol * (1 + fabs(want)),
                      "softmax_xent_mean_%s rows %ld classes %ld per block %ld: loss %g want %g, bad grad %ld err %d", sfx<T>(), rows,
                      classes, perBlock, loss, want, bad, err.code);
            }
    std::vector<T> x(3 * 4, (T)0.5), grad(12), partial(1);
    std::vector<i64> labels = {0, 4, 3};
    Err err = {0, 0, 0, 0, 0};
    Args a;
    a.ptr(x.data()).ptr(labels.data()).ptr(partial.data()).ptr(grad.data()).i64(3).i32(4).i64(4096).f64(1.0 / 3).ptr(&err);
    int rc = launch_dims(kn("softmax_xent_mean", sfx<T>()).c_str(), 1, 1, 1, 256, 1, a);
    CHECK(rc == 0 && err.code == 6 && err.a == 4 && err.b == 1 && partial[0] != partial[0] && grad[4] != grad[4] && grad[0] == grad[0],
          "softmax_xent_mean_%s bad label: err %d (%lld,%lld) loss %g", sfx<T>(), err.code, err.a, err.b, (double)partial[0]);
}

void test_softmax_precision() {
    std::vector<float> xf = {1e5f, 1e5f - 1}, of(2);
    Args a;
    a.ptr(xf.data()).ptr(of.data()).i64(1).i64(2);
    int rc = launch_rows("log_softmax_rows_f32", 1, a);
    double l0 = -log1p(exp(-1.0)), l1 = l0 - 1;
    CHECK(rc == 0 && fabs(of[0] - l0) < 1e-6 && fabs(of[1] - l1) < 1e-6,
          "log_softmax_rows_f32 of [1e5, 1e5-1]: got [%.7g, %.7g], want [%.7g, %.7g]", (double)of[0], (double)of[1], l0, l1);
    std::vector<float> oo(2);
    Args o;
    o.ptr(xf.data()).ptr(oo.data()).i64(1).i64(2).i64(1);
    rc = launch_n("log_softmax_oli_f32", 1, o);
    CHECK(rc == 0 && fabs(oo[0] - l0) < 1e-6 && fabs(oo[1] - l1) < 1e-6, "log_softmax_oli_f32 of [1e5, 1e5-1]: got [%.7g, %.7g]",
          (double)oo[0], (double)oo[1]);
    // float64 cross-entropy of [1e5, 1e5 - 11.5] with label 0: log(1 + e^-11.5), relative error < 1e-12
    std::vector<double> xd = {1e5, 1e5 - 11.5}, loss(1);
    std::vector<i64> label = {0};
    Err err = {0, 0, 0, 0, 0};
    Args x;
    x.ptr(xd.data()).ptr(label.data()).ptr(loss.data()).i64(1).i32(2).ptr(&err);
    rc = launch_rows("softmax_xent_fwd_f64", 1, x);
    double want = 1.0130042289579063e-05;
    CHECK(rc == 0 && fabs(loss[0] - want) / want < 1e-12, "softmax_xent_fwd_f64 of [1e5, 1e5-11.5], label 0: got %.17g want %.17g",
          loss[0], want);
    std::vector<float> xs = {1e5f, 1e5f - 1}, ls(1);
    std::vector<i64> l1v = {1};
    Args y;
    y.ptr(xs.data()).ptr(l1v.data()).ptr(ls.data()).i64(1).i32(2).ptr(&err);
    rc = launch_rows("softmax_xent_fwd_f32", 1, y);
    CHECK(rc == 0 && fabs(ls[0] - (1 - l0)) < 1e-6, "softmax_xent_fwd_f32 of [1e5, 1e5-1], label 1: got %.7g want %.7g",
          (double)ls[0], 1 - l0);
}

// max/min of +0 and -0 as Java's Math.max/min: max(+0, -0) = +0 in either order, min = -0.
template <typename T>
void test_signed_zero() {
    std::vector<T> a = {(T)0.0, (T)-0.0, (T)-0.0, (T)0.0}, b = {(T)-0.0, (T)0.0, (T)-0.0, (T)0.0}, mx(4), mn(4);
    Err err = {0, 0, 0, 0, 0};
    Args am, an;
    am.i32(5).ptr(a.data()).ptr(b.data()).ptr(mx.data()).i64(4).ptr(&err);
    an.i32(6).ptr(a.data()).ptr(b.data()).ptr(mn.data()).i64(4).ptr(&err);
    int rc = launch_n(kn("binary_same", sfx<T>()).c_str(), 4, am) | launch_n(kn("binary_same", sfx<T>()).c_str(), 4, an);
    bool ok = rc == 0;
    bool wantMaxNeg[4] = {false, false, true, false}, wantMinNeg[4] = {true, true, true, false};
    for (int i = 0; i < 4; i++) ok = ok && mx[i] == 0 && mn[i] == 0 && (bool)signbit(mx[i]) == wantMaxNeg[i] && (bool)signbit(mn[i]) == wantMinNeg[i];
    CHECK(ok, "maximum/minimum_%s of signed zeros: max signs %d%d%d%d, min signs %d%d%d%d", sfx<T>(), (int)signbit(mx[0]),
          (int)signbit(mx[1]), (int)signbit(mx[2]), (int)signbit(mx[3]), (int)signbit(mn[0]), (int)signbit(mn[1]),
          (int)signbit(mn[2]), (int)signbit(mn[3]));
    std::vector<T> row = {(T)-0.0, (T)0.0, (T)-0.0}, out(1, (T)7);
    Args r;
    r.i32(1).ptr(row.data()).ptr(out.data()).i64(1).i64(3).i64(4096);
    rc = launch_rows(kn("reduce_rows", sfx<T>()).c_str(), 1, r);
    CHECK(rc == 0 && out[0] == 0 && !signbit(out[0]), "reduce_rows_%s max of [-0, +0, -0] is +0: got %s0", sfx<T>(),
          signbit(out[0]) ? "-" : "+");
}

template <typename T>
void test_fused_updates() {
    // bias_act, out aliasing x
    long rows = 7, cols = 37;
    for (int act = 0; act < 4; act++) {
        std::vector<T> x(rows * cols), bias(cols), x0;
        for (auto& v : x) v = (T)(urand() * 6 - 3);
        for (auto& v : bias) v = (T)(urand() - 0.5);
        x0 = x;
        Args a;
        a.ptr(x.data()).ptr(bias.data()).ptr(x.data()).i64(rows).i64(cols).i32(act);
        int rc = launch_n(kn("bias_act", sfx<T>()).c_str(), rows * cols, a);
        long bad = -1;
        for (long i = 0; i < rows * cols; i++) {
            T v = x0[i] + bias[i % cols], want;
            switch (act) {
                case 1: want = v > 0 ? v : (T)0; break;
                case 2: want = ref_unary<T>(7, v); break;
                case 3: want = ref_unary<T>(8, v); break;
                default: want = v;
            }
            if (!same(x[i], want) && bad < 0) bad = i;
        }
        CHECK(rc == 0 && bad < 0, "bias_act_%s act %d: bad %ld", sfx<T>(), act, bad);
    }
    // Weight decay 0 leaves a non-finite parameter out of the gradient (it used to add 0 * inf = NaN).
    {
        std::vector<T> p = {(T)INFINITY, (T)1}, g = {(T)1, (T)1}, v = {(T)0, (T)0}, m = {(T)0, (T)0};
        Args a;
        a.ptr(p.data()).ptr(g.data()).ptr(v.data()).f64(0.1).f64(0.9).f64(0.0).i32(0).i64(2);
        int rc = launch_n(kn("sgd_momentum", sfx<T>()).c_str(), 2, a);
        CHECK(rc == 0 && v[0] == (T)1 && p[0] == (T)INFINITY, "sgd_momentum_%s wd 0 with p = inf: v %g p %g", sfx<T>(), (double)v[0],
              (double)p[0]);
        std::vector<T> q = {(T)INFINITY, (T)1}, v2 = {(T)0, (T)0};
        for (int decoupled = 0; decoupled < 2; decoupled++) {
            q[0] = (T)INFINITY, m[0] = m[1] = v2[0] = v2[1] = (T)0;
            Args b;
            b.ptr(q.data()).ptr(g.data()).ptr(m.data()).ptr(v2.data()).f64(0.1).f64(0.9).f64(0.999).f64(1e-8).f64(0.0).f64(0.1)
                .f64(0.001).i32(decoupled).i64(2);
            rc = launch_n(kn("adam", sfx<T>()).c_str(), 2, b);
            CHECK(rc == 0 && m[0] == m[0] && v2[0] == v2[0] && q[0] == (T)INFINITY, "adam_%s decoupled %d wd 0 with p = inf: m %g v %g p %g",
                  sfx<T>(), decoupled, (double)m[0], (double)v2[0], (double)q[0]);
        }
    }
    // sgd_momentum, adam
    long n = 1003;
    for (int variant = 0; variant < 2; variant++) {
        std::vector<T> p(n), g(n), v(n), m(n), p2, v2, m2;
        for (long i = 0; i < n; i++) p[i] = (T)(urand() - 0.5), g[i] = (T)(urand() - 0.5), v[i] = (T)(urand() * 0.1), m[i] = (T)(urand() * 0.1);
        p2 = p, v2 = v, m2 = m;
        double lr = 0.1, mu = 0.9, wd = 0.01;
        Args a;
        a.ptr(p.data()).ptr(g.data()).ptr(v.data()).f64(lr).f64(mu).f64(wd).i32(variant).i64(n);
        int rc = launch_n(kn("sgd_momentum", sfx<T>()).c_str(), n, a);
        long bad = -1;
        for (long i = 0; i < n; i++) {
            T gi = g[i] + (T)wd * p2[i];
            T vi = (T)mu * v2[i] + gi;
            T pi = p2[i] - (T)lr * (variant ? gi + (T)mu * vi : vi);
            if ((!same(v[i], vi) || !same(p[i], pi)) && bad < 0) bad = i;
        }
        CHECK(rc == 0 && bad < 0, "sgd_momentum_%s nesterov %d: bad %ld", sfx<T>(), variant, bad);
        p = p2, v = v2;
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, bc1 = 1 - pow(b1, 3), bc2 = 1 - pow(b2, 3);
        Args b;
        b.ptr(p.data()).ptr(g.data()).ptr(m.data()).ptr(v.data()).f64(lr).f64(b1).f64(b2).f64(eps).f64(wd).f64(bc1).f64(bc2).i32(variant).i64(n);
        rc = launch_n(kn("adam", sfx<T>()).c_str(), n, b);
        bad = -1;
        for (long i = 0; i < n; i++) {
            T pi = p2[i], gi = g[i];
            if (variant) pi *= (T)1 - (T)(lr * wd);
            else gi += (T)wd * pi;
            T mi = (T)b1 * m2[i] + (T)(1 - b1) * gi;
            T vi = (T)b2 * v2[i] + (T)(1 - b2) * gi * gi;
            T denom = (sizeof(T) == 4 ? (T)sqrtf((float)vi) : (T)sqrt((double)vi)) / (T)sqrt(bc2) + (T)eps;
            T want = pi - (T)(lr / bc1) * mi / denom;
            if ((!same(p[i], want) || !same(m[i], mi) || !same(v[i], vi)) && bad < 0) bad = i;
        }
        CHECK(rc == 0 && bad < 0, "adam_%s decoupled %d: bad %ld", sfx<T>(), variant, bad);
    }
}

// ---------------------------------------------------------------- movement and indexing

template <typename T>
void test_movement(const char* bits) {
    // copy_strided: permute [2,3,4] by (2,0,1) -> [4,2,3], into dst at an offset.
    std::vector<T> x(24), out(24 + 5, (T)0);
    for (int i = 0; i < 24; i++) x[i] = (T)(i * 7 + 1);
    GeoH g = geo({4, 2, 3}, {{1, 12, 4}, {6, 3, 1}});
    Args a;
    a.ptr(x.data()).i64(0).ptr(out.data()).i64(5).i64(24).g(g);
    int rc = launch_n((std::string("copy_strided_") + bits).c_str(), 24, a);
    bool ok = rc == 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) ok = ok && out[5 + k * 6 + i * 3 + j] == x[i * 12 + j * 4 + k];
    CHECK(ok, "copy_strided_%s permute", bits);
    // transpose [batch, rows, cols] as CudaBackend.permute launches it (32x8 blocks, 2-D grid): barriers in 2-D blocks.
    int dims[][3] = {{1, 2, 2}, {2, 33, 70}, {3, 64, 31}, {1, 100, 1}};
    for (auto& d : dims) {
        int batch = d[0], rows = d[1], cols = d[2];
        std::vector<T> s(batch * rows * cols), t(batch * rows * cols, (T)0);
        for (size_t i = 0; i < s.size(); i++) s[i] = (T)(i * 3 + 2);
        Args b;
        b.ptr(s.data()).ptr(t.data()).i32(batch).i32(rows).i32(cols);
        rc = launch_dims((std::string("transpose_") + bits).c_str(), (cols + 31) / 32, (rows + 31) / 32, batch, 32, 8, b);
        ok = rc == 0;
        for (int q = 0; q < batch; q++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) ok = ok && t[(size_t)q * rows * cols + (size_t)c * rows + r] == s[(size_t)q * rows * cols + (size_t)r * cols + c];
        CHECK(ok, "transpose_%s [%d,%d,%d]", bits, batch, rows, cols);
    }
}

template <typename T>
void test_indexing() {
    // gather along axis 1 of x [3,4] with index [3,2]; one index out of range.
    std::vector<T> x(12), out(6, (T)9);
    for (int i = 0; i < 12; i++) x[i] = (T)(i + 1);
    std::vector<i64> idx = {3, 0, 1, 1, 2, 7};
    GeoH g = geo({3, 2}, {{4, 0}, {2, 1}});
    Err err = {0, 0, 0, 0, 0};
    Args a;
    a.ptr(x.data()).ptr(idx.data()).ptr(out.data()).i64(6).g(g).i32(1).i32(4).i64(1).ptr(&err);
    int rc = launch_n(kn("gather", sfx<T>()).c_str(), 6, a);
    bool ok = rc == 0;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++) {
            i64 v = idx[r * 2 + c];
            ok = ok && out[r * 2 + c] == (v >= 0 && v < 4 ? x[r * 4 + v] : (T)0);
        }
    CHECK(ok && err.code == 1 && err.a == 7 && err.b == 1 && err.c == 4, "gather_%s: err %d", sfx<T>(), err.code);
    // scatter_add: duplicates accumulate (atomics).
    std::vector<T> acc(12, (T)1), src(6);
    for (int i = 0; i < 6; i++) src[i] = (T)(10 * (i + 1));
    std::vector<i64> sidx = {3, 3, 1, 1, 2, -1};
    err = Err{0, 0, 0, 0, 0};
    Args b;
    b.ptr(acc.data()).ptr(sidx.data()).ptr(src.data()).i64(6).g(g).i32(1).i32(4).i64(1).ptr(&err);
    rc = launch_n(kn("scatter_add", sfx<T>()).c_str(), 6, b);
    std::vector<T> want(12, (T)1);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++)
            if (sidx[r * 2 + c] >= 0) want[r * 4 + sidx[r * 2 + c]] += src[r * 2 + c];
    CHECK(rc == 0 && acc == want && err.code == 2 && err.a == -1, "scatter_add_%s: err %d", sfx<T>(), err.code);
    // one_hot
    std::vector<i64> oi = {0, 3, -1, 2, 9};
    std::vector<T> oh(5 * 4, (T)5);
    err = Err{0, 0, 0, 0, 0};
    Args c;
    c.ptr(oi.data()).ptr(oh.data()).i64(5).i32(4).ptr(&err);
    rc = launch_n(kn("one_hot", sfx<T>()).c_str(), 20, c);
    ok = rc == 0;
    for (int r = 0; r < 5; r++)
        for (int k = 0; k < 4; k++) ok = ok && oh[r * 4 + k] == (oi[r] == k ? (T)1 : (T)0);
    CHECK(ok && err.code == 3 && (err.a == -1 || err.a == 9), "one_hot_%s: err %d a %lld", sfx<T>(), err.code, err.a);
}

void test_table() {
    int count = 0;
    const wsim_kernel* t = wsim_builtin_table(&count);
    CHECK(t && count >= 60, "built-in table has %d kernels", count);
    const char* names[] = {"fill_f32", "unary_f32", "binary_bcast_f64", "where_i64", "random_f64", "cast_f32_i64",
                           "reduce_rows_i64", "reduce_oli_f32", "argmax_f64", "log_softmax_rows_f32", "log_softmax_oli_f64",
                           "copy_strided_b32", "transpose_b64", "gather_f32", "scatter_add_i64", "one_hot_f64",
                           "bias_act_f32", "softmax_xent_fwd_f32", "softmax_xent_bwd_f64", "sgd_momentum_f32", "adam_f64"};
    for (const char* n : names) CHECK(wsim_find_kernel(n) != nullptr, "kernel %s is in the table", n);
    CHECK(wsim_find_kernel("no_such_kernel") == nullptr && wsim_find_kernel(nullptr) == nullptr, "unknown names give NULL");
    const wsim_kernel* u = wsim_find_kernel("unary_f32");
    CHECK(u && u->nargs == 4 && u->arg_kinds[0] == WSIM_ARG_VALUE && u->arg_kinds[1] == WSIM_ARG_PTR_READ &&
              u->arg_kinds[2] == WSIM_ARG_PTR_WRITE && u->arg_kinds[3] == WSIM_ARG_VALUE && u->arg_sizes[0] == 4 &&
              u->arg_sizes[1] == 8 && u->arg_sizes[3] == 8 && strcmp(u->name, "unary_f32") == 0,
          "unary_f32 signature metadata");
    const wsim_kernel* w = wsim_find_kernel("where_f64");
    CHECK(w && w->nargs == 7 && w->arg_kinds[0] == WSIM_ARG_PTR_READ && w->arg_sizes[6] == 164 && w->arg_kinds[6] == WSIM_ARG_VALUE,
          "where_f64 metadata (const void* cond, Geo by value: 164 bytes)");
    const wsim_kernel* s = wsim_find_kernel("scatter_add_f32");
    CHECK(s && s->arg_kinds[0] == WSIM_ARG_PTR_WRITE && s->arg_kinds[1] == WSIM_ARG_PTR_READ && s->arg_kinds[8] == WSIM_ARG_PTR_WRITE,
          "scatter_add_f32 metadata");
    // Every kernel's name matches its entry and its metadata is consistent.
    bool ok = true;
    for (int i = 0; i < count; i++) {
        ok = ok && wsim_find_kernel(t[i].name) == &t[i] && t[i].launch && t[i].nargs > 0;
        for (int j = 0; j < t[i].nargs; j++) ok = ok && t[i].arg_sizes[j] > 0 && (t[i].arg_kinds[j] == WSIM_ARG_VALUE || t[i].arg_sizes[j] == 8);
    }
    CHECK(ok, "table consistency");
}

void test_geometry_errors() {
    Buf<float> x(4), out(4);
    Args a;
    a.i32(0).ptr(x.p).ptr(out.p).i64(4);
    char buf[512];
    CHECK(launch_dims("unary_f32", 1, 1, 1, 2048, 1, a) != 0, "block of 2048 threads is refused");
    wsim_last_report(buf, sizeof buf);
    CHECK(strstr(buf, "unary_f32") && strstr(buf, "invalid launch geometry"), "geometry report names the kernel: %s", buf);
    CHECK(launch_dims("unary_f32", 0, 1, 1, 256, 1, a) != 0, "empty grid is refused");
    const wsim_kernel* k = wsim_find_kernel("unary_f32");
    wsim_dims d = {{1, 1, 1}, {256, 1, 1}, 16};
    CHECK(k->launch(&d, a.params.data()) != 0, "dynamic shared memory is refused");
    for (int i = 0; i < 4; i++) x[i] = (float)i;
    CHECK(launch_dims("unary_f32", 1, 1, 1, 256, 1, a) == 0 && out[3] == -3.0f, "a launch after refused ones works");
}

}  // namespace

void run_kernel_tests() {
    test_table();
    test_unary<float>();
    test_unary<double>();
    test_unary<i64>();
    test_binary<float>();
    test_binary<double>();
    test_binary<i64>();
    test_int_div_errors();
    test_fill_where<float>();
    test_fill_where<double>();
    test_fill_where<i64>();
    test_random<float>();
    test_random<double>();
    test_cast();
    test_reduce_rows<float>();
    test_reduce_rows<double>();
    test_reduce_rows<i64>();
    test_reduce_oli_argmax<float>();
    test_reduce_oli_argmax<double>();
    test_reduce_oli_argmax<i64>();
    test_log_softmax<float>();
    test_log_softmax<double>();
    test_softmax_xent<float>();
    test_softmax_xent<double>();
    test_softmax_precision();
    test_bias_act_bwd<float>();
    test_bias_act_bwd<double>();
    test_softmax_xent_mean<float>();
    test_softmax_xent_mean<double>();
    test_batch_norm<float>();
    test_batch_norm<double>();
    test_signed_zero<float>();
    test_signed_zero<double>();
    test_fused_updates<float>();
    test_fused_updates<double>();
    test_movement<unsigned>("b32");
    test_movement<unsigned long long>("b64");
    test_indexing<float>();
    test_indexing<double>();
    test_indexing<i64>();
    test_geometry_errors();
}

// ---------------------------------------------------------------- timing (printed, not asserted)

static double seconds_per(const std::function<void()>& f, double budget) {
    f();  // warm
    auto t0 = std::chrono::steady_clock::now();
    long k = 0;
    double el;
    do {
        f();
        k++;
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < budget);
    return el / k;
}

void run_timing() {
    const long n = 1 << 20;
    std::vector<float> x(n, 1.5f), out(n);
    Args a;
    a.i32(0).ptr(x.data()).ptr(out.data()).i64(n);
    double t = seconds_per([&] { launch_n("unary_f32", n, a); }, 0.5);
    printf("TIMING [%s] unary_f32 NEG n=1M grid 32x256: %.0f launches/s (%.2f ms, %.1f ns per element)\n", g_order, 1 / t,
           t * 1e3, t * 1e9 / n);
    const long m = 32 * 256;  // one element per thread: the per-thread cost of a barrier-free kernel
    Args b;
    b.i32(0).ptr(x.data()).ptr(out.data()).i64(m);
    t = seconds_per([&] { launch_n("unary_f32", m, b); }, 0.3);
    printf("TIMING [%s] unary_f32 n=8192 (1 element/thread) grid 32x256: %.0f launches/s, %.1f ns per thread\n", g_order,
           1 / t, t * 1e9 / m);
    const long rows = 128, len = 1024;
    std::vector<float> rx(rows * len, 0.25f), ro(rows);
    Args c;
    c.i32(0).ptr(rx.data()).ptr(ro.data()).i64(rows).i64(len).i64(len);
    t = seconds_per([&] { launch_rows("reduce_rows_f32", rows, c); }, 0.5);
    printf("TIMING [%s] reduce_rows_f32 rows=128 len=1024 grid 128x256 (block_reduce: 3 __syncthreads + 10 shuffles): "
           "%.0f launches/s (%.1f us per block, %.0f ns per thread)\n",
           g_order, 1 / t, t * 1e6 / rows, t * 1e9 / (rows * 256));
    for (int shuffles = 0; shuffles < 2; shuffles++) {
        Args e;
        e.i32(100).i32(shuffles);
        t = seconds_per([&] { launch_dims("planted_barrier_loop", 1, 1, 1, 256, 1, e); }, 0.3);
        printf("TIMING [%s] one %s: %.1f ns per thread (256-thread block, 100 in a loop)\n", g_order,
               shuffles ? "warp shuffle" : "__syncthreads", t * 1e9 / (256 * 100));
    }
    std::vector<float> lx(rows * len, 0.25f), lo(rows * len);
    Args d;
    d.ptr(lx.data()).ptr(lo.data()).i64(rows).i64(len);
    t = seconds_per([&] { launch_rows("log_softmax_rows_f32", rows, d); }, 0.5);
    printf("TIMING [%s] log_softmax_rows_f32 rows=128 len=1024: %.0f launches/s (%.1f us per block)\n", g_order, 1 / t,
           t * 1e6 / rows);
}
