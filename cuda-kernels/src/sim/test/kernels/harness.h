// Shared helpers of the kernel-emulator tests: checks, kernel arguments built like the Java side's
// Args (dev.wengert.tensor.cuda.Args), launches through wsim_find_kernel(name)->launch.
#pragma once
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "../../sim.h"

extern int g_pass, g_fail;
extern const char* g_order;  // "ascending" / "descending"

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            g_pass++;                                                       \
        } else {                                                            \
            g_fail++;                                                       \
            printf("FAIL %s:%d [%s] ", __FILE__, __LINE__, g_order);        \
            printf(__VA_ARGS__);                                            \
            printf("\n");                                                   \
        }                                                                   \
    } while (0)

typedef long long i64;

// struct Geo of common.cuh: rank, shape[8], st[4][8] (41 ints).
struct GeoH {
    int rank;
    int shape[8];
    int st[4][8];
};
static inline GeoH geo(std::vector<int> shape, std::vector<std::vector<int>> strides) {
    GeoH g;
    memset(&g, 0, sizeof g);
    g.rank = (int)shape.size();
    for (size_t i = 0; i < shape.size(); i++) g.shape[i] = shape[i];
    for (size_t k = 0; k < strides.size(); k++)
        for (size_t i = 0; i < shape.size(); i++) g.st[k][i] = strides[k][i];
    return g;
}

// The kernel argument list: params[i] points at the i-th value, as JCuda's Pointer.to(...) arrays.
struct Args {
    std::vector<std::unique_ptr<uint64_t[]>> store;
    std::vector<void*> params;
    template <typename T>
    Args& val(T v) {
        store.emplace_back(new uint64_t[(sizeof(T) + 7) / 8]);
        memcpy(store.back().get(), &v, sizeof(T));
        params.push_back(store.back().get());
        return *this;
    }
    Args& ptr(const void* p) { return val((uint64_t)(uintptr_t)p); }
    Args& i32(int v) { return val(v); }
    Args& i64(long long v) { return val(v); }
    Args& f64(double v) { return val(v); }
    Args& f32(float v) { return val(v); }
    Args& g(const GeoH& g) { return val(g); }
};

// Kernels.java: BLOCK 256, grid-stride launches capped at SMs * 16 blocks, rows launches at 4x that.
static const int SIM_SMS = 2;
static const long MAX_BLOCKS = SIM_SMS * 16;

static inline int launch_dims(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, Args& a) {
    const wsim_kernel* k = wsim_find_kernel(name);
    if (!k) {
        printf("FAIL no kernel %s\n", name);
        g_fail++;
        return -1;
    }
    if ((int)a.params.size() != k->nargs) {
        printf("FAIL kernel %s takes %d arguments, test passes %zu\n", name, k->nargs, a.params.size());
        g_fail++;
        return -1;
    }
    wsim_dims d = {{gx, gy, gz}, {bx, by, 1}, 0};
    return k->launch(&d, a.params.data());
}
// Kernels.launch: grid-stride over n items (nothing for n <= 0).
static inline int launch_n(const char* name, long n, Args& a) {
    if (n <= 0) return 0;
    long blocks = (n + 255) / 256;
    if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
    return launch_dims(name, (unsigned)blocks, 1, 1, 256, 1, a);
}
// Kernels.launchRows: one block per row, capped at 4 * maxBlocks.
static inline int launch_rows(const char* name, long rows, Args& a) {
    if (rows <= 0) return 0;
    long blocks = rows < MAX_BLOCKS * 4 ? rows : MAX_BLOCKS * 4;
    return launch_dims(name, (unsigned)blocks, 1, 1, 256, 1, a);
}
// Kernels.launchWarpRows: one warp per row, 8 rows per block, capped at 4 * maxBlocks.
static inline int launch_warp_rows(const char* name, long rows, Args& a) {
    if (rows <= 0) return 0;
    long blocks = (rows + 7) / 8;
    if (blocks > MAX_BLOCKS * 4) blocks = MAX_BLOCKS * 4;
    return launch_dims(name, (unsigned)blocks, 1, 1, 256, 1, a);
}

// Host buffer with a chosen misalignment (bytes past a 16-byte boundary) and NaN-poisoned slack.
template <typename T>
struct Buf {
    std::vector<unsigned char> raw;
    T* p;
    size_t n;
    Buf(size_t n_, size_t misalign = 0) : raw(n_ * sizeof(T) + 64), n(n_) {
        uintptr_t base = ((uintptr_t)raw.data() + 15) & ~(uintptr_t)15;
        p = (T*)(base + misalign);
        memset(raw.data(), 0xA5, raw.size());
    }
    T& operator[](size_t i) { return p[i]; }
    // The bytes just past the end are untouched.
    bool tail_intact() const {
        const unsigned char* e = (const unsigned char*)(p + n);
        for (int i = 0; i < 16; i++)
            if (e[i] != 0xA5) return false;
        return true;
    }
};

template <typename T>
static inline bool same(T a, T b) {
    if (a != a && b != b) return true;
    return memcmp(&a, &b, sizeof(T)) == 0 || a == b;
}
template <typename T>
static inline bool close(T got, double want, double tol) {
    if (want != want) return got != got;
    if (isinf(want)) return (double)got == want;
    return fabs((double)got - want) <= tol * (1 + fabs(want));
}

void run_kernel_tests();   // test_kernels.cpp
void run_planted_tests();  // test_planted.cpp
void run_optim_tests();    // test_optim.cpp
void run_random_tests();   // test_random.cpp
void run_timing();         // test_kernels.cpp
