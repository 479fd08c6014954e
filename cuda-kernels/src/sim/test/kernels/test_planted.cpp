// Planted-fault kernels (made here with WSIM_KERNEL, registered with wsim_register_kernels): the
// scheduler's barrier semantics, both thread orders, divergence reports, wsim_current_thread and
// wsim_abort_kernel (also from a real SIGSEGV handler), and warp shuffles.
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../emu/cuda_emu.h"
#include "harness.h"

// ---------------------------------------------------------------- the planted kernels

// Block sum with the barrier missing: thread t writes s[t], the LAST thread sums s without waiting.
// Ascending order: every other thread already wrote (right). Descending: the last thread runs first (wrong).
extern "C" __global__ void planted_missing_sync(const float* x, float* out) {
    __shared__ float s[256];
    unsigned t = threadIdx.x;
    s[t] = x[blockIdx.x * blockDim.x + t];
    if (t == blockDim.x - 1) {
        float sum = 0;
        for (unsigned k = 0; k < blockDim.x; k++) sum += s[k];
        out[blockIdx.x] = sum;
    }
}
// The same with the barrier: right in both orders.
extern "C" __global__ void planted_with_sync(const float* x, float* out) {
    __shared__ float s[256];
    unsigned t = threadIdx.x;
    s[t] = x[blockIdx.x * blockDim.x + t];
    __syncthreads();
    if (t == blockDim.x - 1) {
        float sum = 0;
        for (unsigned k = 0; k < blockDim.x; k++) sum += s[k];
        out[blockIdx.x] = sum;
    }
    __syncthreads();
}
// Threads >= 128 return before a __syncthreads the others reach (in block 1 only).
extern "C" __global__ void planted_early_exit(float* out) {
    if (blockIdx.x == 1 && threadIdx.x >= 128) return;
    out[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f;
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = 2.0f;
}
// Only lanes 0-15 of each warp take part in a full-mask shuffle.
extern "C" __global__ void planted_partial_shfl(const float* x, float* out) {
    unsigned t = threadIdx.x;
    float v = x[t];
    if ((t & 31) < 16) v += __shfl_down_sync(0xffffffffu, v, 1);
    out[t] = v;
}
// The legal version: the mask names exactly the lanes that take part.
extern "C" __global__ void planted_masked_shfl(const float* x, float* out) {
    unsigned t = threadIdx.x;
    float v = x[t];
    if ((t & 31) < 16) v += __shfl_down_sync(0x0000ffffu, v, 1);
    out[t] = v;
}
// Lanes 0-15 at a full-warp shuffle, everyone else (lanes 16-31 of warp 0 too) at __syncthreads: a deadlock.
extern "C" __global__ void planted_sync_vs_shfl(int* out) {
    int v = (int)threadIdx.x;
    if (threadIdx.x < 16) v = __shfl_down_sync(0xffffffffu, v, 1);
    else __syncthreads();
    out[threadIdx.x] = v;
}
// Every shuffle flavour (and __syncwarp), 64-bit values, width 8 and 32.
extern "C" __global__ void planted_shuffles(long long* out, int width) {
    unsigned t = threadIdx.x;
    long long v = 1000 + (long long)t * 0x100000001LL;
    long long* o = out + 5 * t;
    o[0] = __shfl_down_sync(0xffffffffu, v, 3, width);
    o[1] = __shfl_up_sync(0xffffffffu, v, 2, width);
    o[2] = __shfl_xor_sync(0xffffffffu, v, 5, width);
    o[3] = __shfl_sync(0xffffffffu, v, 6, width);
    __syncwarp();
    unsigned lane = t & 31, lanes = min(32u, blockDim.x - (t - lane));
    double d = __shfl_down_sync(0xffffffffu, (double)lane + 0.5, 16);
    o[4] = d == (double)(lane + 16 < lanes ? lane + 16 : lane) + 0.5;
}
// The order threads start in: records threadIdx.x of the first and last thread to run.
extern "C" __global__ void planted_order(int* first_last, int* counter) {
    int k = atomicAdd(counter, 1);
    if (k == 0) first_last[0] = (int)threadIdx.x;
    if (k == (int)(blockDim.x * blockDim.y) - 1) first_last[1] = (int)threadIdx.x;
}
// A block reduction that is called in a loop (the shared array is reused) in 2-D blocks.
extern "C" __global__ void planted_2d_barriers(const int* x, int* out, int iters) {
    __shared__ int s[1024];
    unsigned t = threadIdx.y * blockDim.x + threadIdx.x, n = blockDim.x * blockDim.y * blockDim.z;
    t += threadIdx.z * blockDim.x * blockDim.y;
    for (int it = 0; it < iters; it++) {
        s[t] = x[t] * (it + 1);
        __syncthreads();
        for (unsigned w = 1; w < n; w *= 2) {
            int v = (t % (2 * w) == 0 && t + w < n) ? s[t + w] : 0;
            __syncthreads();
            s[t] += v;
            __syncthreads();
        }
        if (t == 0) out[blockIdx.y * gridDim.x + blockIdx.x + it * gridDim.x * gridDim.y] = s[0];
        __syncthreads();
    }
}

// wsim_current_thread / wsim_abort_kernel from kernel code (as the driver's fault path uses them).
static const char* g_seen_kernel;
static unsigned g_seen_block[3], g_seen_thread[3];
static int g_seen_ok;
static void fault_here() {
    g_seen_ok = wsim_current_thread(&g_seen_kernel, g_seen_block, g_seen_thread);
    wsim_report(WSIM_FAULT_MEMCHECK, "planted fault in %s", g_seen_kernel);
    wsim_abort_kernel();
}
extern "C" __global__ void planted_abort(float* out) {
    unsigned t = threadIdx.x;
    if (t < 100) __syncthreads();  // some threads blocked at a barrier when the abort comes...
    if (blockIdx.x == 2 && t == 130) fault_here();
    if (t >= 100) __syncthreads();
    out[blockIdx.x * blockDim.x + t] = 1.0f;
}
// A real SIGSEGV in kernel code: the handler (on the fiber's stack) aborts the kernel.
extern "C" __global__ void planted_segv(float* out, float* bad) {
    unsigned t = threadIdx.x;
    out[t] = 1.0f;
    __syncthreads();
    if (blockIdx.x == 1 && t == 7) bad[3] = 5.0f;  // a PROT_NONE page
    out[t] = 2.0f;
}

// For the timing lines: the cost of one barrier.
extern "C" __global__ void planted_barrier_loop(int iters, int shuffles) {
    int v = (int)threadIdx.x;
    for (int i = 0; i < iters; i++) {
        if (shuffles) v += __shfl_down_sync(0xffffffffu, v, 1);
        else __syncthreads();
    }
    if (v == -1) __syncthreads();
}

static const wsim_kernel g_planted[] = {
    WSIM_KERNEL(planted_barrier_loop),
    WSIM_KERNEL(planted_missing_sync), WSIM_KERNEL(planted_with_sync), WSIM_KERNEL(planted_early_exit),
    WSIM_KERNEL(planted_partial_shfl), WSIM_KERNEL(planted_masked_shfl), WSIM_KERNEL(planted_sync_vs_shfl),
    WSIM_KERNEL(planted_shuffles),     WSIM_KERNEL(planted_order),       WSIM_KERNEL(planted_2d_barriers),
    WSIM_KERNEL(planted_abort),        WSIM_KERNEL(planted_segv),
};

static void segv_handler(int, siginfo_t* si, void*) {
    const char* k;
    unsigned b[3], t[3];
    if (wsim_current_thread(&k, b, t)) {
        wsim_report(WSIM_FAULT_MEMCHECK, "kernel %s block (%u,%u,%u) thread (%u,%u,%u): SIGSEGV at %p", k, b[0], b[1], b[2],
                    t[0], t[1], t[2], si->si_addr);
        wsim_abort_kernel();
    }
    signal(SIGSEGV, SIG_DFL);
}

static int64_t faults(int kind) {
    int64_t c[WSIM_T_COUNT];
    wsim_trace_read(c, WSIM_T_COUNT);
    return c[WSIM_T_FAULTS_MEMCHECK + kind];
}

// ---------------------------------------------------------------- the tests

static void test_missing_sync(bool reverse) {
    static int round = 0;
    round++;
    const int blocks = 3;
    std::vector<float> x(blocks * 256), o1(blocks, -1), o2(blocks, -1);
    std::vector<float> want(blocks, 0);
    for (int i = 0; i < blocks * 256; i++) x[i] = (float)(round * 100 + (i * 7) % 17), want[i / 256] += x[i];
    Args a, b;
    a.ptr(x.data()).ptr(o1.data());
    b.ptr(x.data()).ptr(o2.data());
    int rc1 = launch_dims("planted_missing_sync", blocks, 1, 1, 256, 1, a);
    int rc2 = launch_dims("planted_with_sync", blocks, 1, 1, 256, 1, b);
    bool right1 = o1 == want, right2 = o2 == want;
    CHECK(rc1 == 0 && rc2 == 0, "planted sync kernels launch");
    if (!reverse) CHECK(right1, "missing __syncthreads: right in ascending order (%g vs %g)", o1[0], want[0]);
    else CHECK(!right1, "missing __syncthreads: WRONG in descending order (%g vs %g)", o1[0], want[0]);
    CHECK(right2, "with __syncthreads: right (%g vs %g)", o2[0], want[0]);
}

static void test_early_exit() {
    std::vector<float> out(3 * 256, 0);
    Args a;
    a.ptr(out.data());
    int64_t before = faults(WSIM_FAULT_BARRIER);
    int rc = launch_dims("planted_early_exit", 3, 1, 1, 256, 1, a);
    char rep[1024];
    wsim_last_report(rep, sizeof rep);
    CHECK(rc != 0, "early exit before __syncthreads: launch returns nonzero");
    CHECK(faults(WSIM_FAULT_BARRIER) == before + 1, "reported once as WSIM_FAULT_BARRIER");
    CHECK(strstr(rep, "planted_early_exit") && strstr(rep, "block (1,0,0)") && strstr(rep, "128 threads wait at __syncthreads [0-127]") &&
              strstr(rep, "128 have exited [128-255]"),
          "report names kernel, block and thread counts: %s", rep);
    CHECK(out[0] == 2.0f && out[256 + 5] == 1.0f && out[2 * 256] == 0.0f, "block 0 completed, block 1 stopped, block 2 never ran");
    std::vector<float> x(256, 1.0f), o(1);
    Args b;
    b.ptr(x.data()).ptr(o.data());
    CHECK(launch_dims("planted_with_sync", 1, 1, 1, 256, 1, b) == 0 && o[0] == 256.0f, "the next launch works");
}

static void test_shuffle_faults() {
    std::vector<float> x(64), out(64, 0);
    for (int i = 0; i < 64; i++) x[i] = (float)i;
    Args a;
    a.ptr(x.data()).ptr(out.data());
    int64_t before = faults(WSIM_FAULT_BARRIER);
    int rc = launch_dims("planted_partial_shfl", 1, 1, 1, 64, 1, a);
    char rep[1024];
    wsim_last_report(rep, sizeof rep);
    CHECK(rc != 0 && faults(WSIM_FAULT_BARRIER) == before + 1, "shuffle with lanes missing: reported, launch fails");
    CHECK(strstr(rep, "planted_partial_shfl") && strstr(rep, "32 wait at a warp shuffle") && strstr(rep, "32 have exited") &&
              strstr(rep, "lanes 0x0000ffff of 0xffffffff"),
          "shuffle report: %s", rep);
    Args b;
    b.ptr(x.data()).ptr(out.data());
    rc = launch_dims("planted_masked_shfl", 1, 1, 1, 64, 1, b);
    bool ok = rc == 0;
    for (int t = 0; t < 64; t++) {
        int l = t & 31;
        float want = l < 15 ? x[t] + x[t + 1] : (l == 15 ? 2 * x[t] : x[t]);
        ok = ok && out[t] == want;
    }
    CHECK(ok, "shuffle with a mask of exactly the lanes taking part works");
    std::vector<int> o(64);
    Args c;
    c.ptr(o.data());
    rc = launch_dims("planted_sync_vs_shfl", 1, 1, 1, 64, 1, c);
    wsim_last_report(rep, sizeof rep);
    CHECK(rc != 0 && strstr(rep, "48 threads wait at __syncthreads [16-63], 16 wait at a warp shuffle/__syncwarp [0-15]"),
          "__syncthreads vs shuffle deadlock: %s", rep);
}

static void test_shuffles() {
    for (int width : {32, 8}) {
        for (int bx : {64, 40}) {  // 40: a partial last warp (lanes 8-31 do not exist)
            std::vector<long long> out(5 * bx, -1);
            Args a;
            a.ptr(out.data()).i32(width);
            int rc = launch_dims("planted_shuffles", 1, 1, 1, bx, 1, a);
            bool ok = rc == 0;
            int bad = -1;
            for (int t = 0; t < bx; t++) {
                int lane = t & 31, base = t - lane, seg = lane & ~(width - 1);
                int lanes = bx - base < 32 ? bx - base : 32;
                auto val = [&](int l) { return 1000 + (long long)(base + l) * 0x100000001LL; };
                auto pick = [&](int src) { return src >= 0 && src < lanes ? val(src) : val(lane); };
                long long w0 = lane + 3 >= seg + width ? val(lane) : pick(lane + 3);
                long long w1 = lane - 2 < seg ? val(lane) : pick(lane - 2);
                int x = lane ^ 5;
                long long w2 = x >= seg + width ? val(lane) : pick(x);
                long long w3 = pick(seg + 6 % width);
                if (out[5 * t] != w0 || out[5 * t + 1] != w1 || out[5 * t + 2] != w2 || out[5 * t + 3] != w3 ||
                    out[5 * t + 4] != 1) {
                    if (bad < 0) bad = t;
                    ok = false;
                }
            }
            CHECK(ok, "shuffle flavours width %d block %d: first bad thread %d", width, bx, bad);
        }
    }
}

static void test_order(bool reverse) {
    int fl[2] = {-1, -1}, counter = 0;
    Args a;
    a.ptr(fl).ptr(&counter);
    int rc = launch_dims("planted_order", 1, 1, 1, 256, 1, a);
    CHECK(rc == 0 && fl[0] == (reverse ? 255 : 0) && fl[1] == (reverse ? 0 : 255), "thread order: first %d last %d", fl[0], fl[1]);
}

static void test_2d_barriers() {
    unsigned shapes[][3] = {{32, 8, 1}, {5, 7, 3}, {1, 1, 1}, {1024, 1, 1}, {16, 4, 16}};
    for (auto& s : shapes) {
        unsigned n = s[0] * s[1] * s[2];
        std::vector<int> x(n), out(3 * 2 * 2, -1);
        long sum = 0;
        for (unsigned i = 0; i < n; i++) x[i] = (int)(i % 13) - 4, sum += x[i];
        Args a;
        a.ptr(x.data()).ptr(out.data()).i32(3);
        const wsim_kernel* k = wsim_find_kernel("planted_2d_barriers");
        wsim_dims d = {{2, 2, 1}, {s[0], s[1], s[2]}, 0};
        int rc = k->launch(&d, a.params.data());
        bool ok = rc == 0;
        for (int it = 0; it < 3; it++)
            for (int b = 0; b < 4; b++) ok = ok && out[b + it * 4] == sum * (it + 1);
        CHECK(ok, "tree reduction with barriers in a loop, block %ux%ux%u, grid 2x2: got %d want %ld", s[0], s[1], s[2], out[0], sum);
    }
}

static void test_abort() {
    std::vector<float> out(4 * 256, 0);
    Args a;
    a.ptr(out.data());
    g_seen_ok = 0;
    int rc = launch_dims("planted_abort", 4, 1, 1, 256, 1, a);
    CHECK(rc != 0, "wsim_abort_kernel: launch returns nonzero");
    CHECK(g_seen_ok == 1 && g_seen_kernel && strcmp(g_seen_kernel, "planted_abort") == 0 && g_seen_block[0] == 2 &&
              g_seen_block[1] == 0 && g_seen_thread[0] == 130 && g_seen_thread[1] == 0,
          "wsim_current_thread in the kernel: %d %s block %u thread %u", g_seen_ok, g_seen_kernel ? g_seen_kernel : "-",
          g_seen_block[0], g_seen_thread[0]);
    CHECK(out[2 * 256 - 1] == 1.0f && out[3 * 256] == 0.0f, "blocks before ran, blocks after did not");
    const char* k;
    CHECK(wsim_current_thread(&k, nullptr, nullptr) == 0, "wsim_current_thread outside a kernel is 0");
    std::vector<float> x(256, 2.0f), o(1);
    Args b;
    b.ptr(x.data()).ptr(o.data());
    CHECK(launch_dims("planted_with_sync", 1, 1, 1, 256, 1, b) == 0 && o[0] == 512.0f, "a launch after an abort works");
}

static void test_segv() {
    long page = sysconf(_SC_PAGESIZE);
    float* bad = (float*)mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old);
    for (int round = 0; round < 2; round++) {  // twice: SIGSEGV must be unblocked after the first
        std::vector<float> out(256, 0);
        Args a;
        a.ptr(out.data()).ptr(bad);
        int64_t before = faults(WSIM_FAULT_MEMCHECK);
        int rc = launch_dims("planted_segv", 3, 1, 1, 256, 1, a);
        char rep[1024];
        wsim_last_report(rep, sizeof rep);
        CHECK(rc != 0 && faults(WSIM_FAULT_MEMCHECK) == before + 1 &&
                  strstr(rep, "kernel planted_segv block (1,0,0) thread (7,0,0): SIGSEGV"),
              "SIGSEGV in a kernel, round %d: %s", round, rep);
        sigset_t cur;
        pthread_sigmask(SIG_BLOCK, nullptr, &cur);
        CHECK(!sigismember(&cur, SIGSEGV), "SIGSEGV unblocked after the abort");
    }
    sigaction(SIGSEGV, &old, nullptr);
    munmap(bad, page);
    std::vector<float> x(256, 1.0f), o(1);
    Args b;
    b.ptr(x.data()).ptr(o.data());
    CHECK(launch_dims("planted_with_sync", 1, 1, 1, 256, 1, b) == 0 && o[0] == 256.0f, "a launch after SIGSEGV aborts works");
}

static void test_intrinsics() {
    const long long MIN = (long long)0x8000000000000000ULL, MAX = 0x7fffffffffffffffLL;
    struct F { float x; long long want; } fs[] = {
        {NAN, MIN}, {-NAN, MIN}, {INFINITY, MAX}, {-INFINITY, MIN}, {9.3e18f, MAX}, {-9.3e18f, MIN},
        {9223372036854775808.0f, MAX}, {-9223372036854775808.0f, MIN}, {1.99f, 1}, {-1.99f, -1}, {-0.0f, 0},
        {0.5f, 0}, {-0.5f, 0}, {16777216.0f, 16777216}, {9.2233715e18f, 9223371487098961920LL}, {4.6116860e18f, 4611686018427387904LL}};
    for (auto& f : fs) CHECK(__float2ll_rz(f.x) == f.want, "__float2ll_rz(%g) = %lld, want %lld", f.x, __float2ll_rz(f.x), f.want);
    struct D { double x; long long want; } ds[] = {
        {NAN, MIN}, {INFINITY, MAX}, {-INFINITY, MIN}, {1e300, MAX}, {-1e300, MIN}, {9223372036854775807.0, MAX},
        {-9223372036854775808.0, MIN}, {9223372036854774784.0, 9223372036854774784LL}, {-2.5, -2}, {2.999999, 2},
        {-9223372036854777856.0, MIN}, {4503599627370495.5, 4503599627370495LL}, {-4503599627370495.5, -4503599627370495LL}};
    for (auto& d : ds) CHECK(__double2ll_rz(d.x) == d.want, "__double2ll_rz(%g) = %lld, want %lld", d.x, __double2ll_rz(d.x), d.want);
    CHECK(__fadd_rn(0.1f, 0.2f) == 0.1f + 0.2f && __dmul_rn(0.1, 3.0) == 0.1 * 3.0, "_rn arithmetic");
    CHECK(min(3LL, -4LL) == -4 && max(2, 9) == 9 && min(5, 7LL) == 5 && max(1.5f, 2.0) == 2.0, "min / max overloads");
    int v = 5;
    CHECK(atomicCAS(&v, 5, 9) == 5 && v == 9 && atomicCAS(&v, 5, 1) == 9 && v == 9, "atomicCAS");
    unsigned long long u = 1;
    CHECK(atomicAdd(&u, ~0ULL) == 1 && u == 0, "atomicAdd wraps on unsigned long long");
}

void run_planted_tests() {
    static bool registered = false;
    if (!registered) {
        registered = true;
        wsim_register_kernels(g_planted, (int)(sizeof g_planted / sizeof g_planted[0]));
    }
    bool reverse = strcmp(g_order, "descending") == 0;
    CHECK(wsim_find_kernel("planted_early_exit") == &g_planted[3], "registered kernels are found");
    const wsim_kernel* k = wsim_find_kernel("planted_missing_sync");
    CHECK(k && k->nargs == 2 && k->arg_kinds[0] == WSIM_ARG_PTR_READ && k->arg_kinds[1] == WSIM_ARG_PTR_WRITE &&
              strcmp(k->name, "planted_missing_sync") == 0,
          "WSIM_KERNEL metadata");
    test_order(reverse);
    test_missing_sync(reverse);
    test_early_exit();
    test_shuffle_faults();
    test_shuffles();
    test_2d_barriers();
    test_abort();
    test_segv();
    test_intrinsics();
}

// For main's WENGERT_SIM_ORDER check: threadIdx.x of the first thread planted_order runs.
extern "C" int planted_order_probe() {
    static bool registered_here = false;
    if (!registered_here && !wsim_find_kernel("planted_order")) {
        registered_here = true;
        wsim_register_kernels(g_planted, (int)(sizeof g_planted / sizeof g_planted[0]));
    }
    int fl[2] = {-1, -1}, counter = 0;
    Args a;
    a.ptr(fl).ptr(&counter);
    launch_dims("planted_order", 1, 1, 1, 256, 1, a);
    return fl[0];
}
