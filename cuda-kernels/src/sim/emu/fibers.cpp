// The kernel emulator's scheduler: runs a launch's blocks one after another on the calling OS thread,
// each block's threads as fibers (ctx_x86_64.S switches between them), and implements the barriers
// cuda_emu.h maps __syncthreads / warp shuffles onto. Also the emulator half of sim.h:
// wsim_current_thread, wsim_abort_kernel, wsim_set_thread_order (wsim_find_kernel and
// wsim_register_kernels live in registry.cpp and the generated kernel table).
//
// How a block runs (n threads, in ascending order or descending with wsim_set_thread_order(1)):
//   phase 1: a "worker" fiber starts the threads one after another, each by a plain call of the
//            kernel body on the worker's stack. A thread that returns costs no context switch at all;
//            the worker goes straight on to the next thread. A thread that reaches a barrier keeps the
//            worker's stack (switching back to the scheduler), and the scheduler starts a fresh
//            worker, on another pooled stack, for the next thread.
//   phase 2: passes over the threads in order resume each runnable one until it waits again or
//            returns. __syncthreads releases (makes runnable) when all n threads wait at it; a warp
//            barrier when every lane of the warp in the mask waits at it. A pass that finds nothing
//            runnable while threads still wait is a barrier divergence: reported, block abandoned.
// Stacks (WSIM_STACK_BYTES each, a PROT_NONE guard page below) are mmapped on first use and kept per
// OS thread for its lifetime; a barrier-free kernel only ever uses one.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

#include "cuda_emu.h"

#ifndef WSIM_EMU_LIBRARY
#error "compile fibers.cpp with -DWSIM_EMU_LIBRARY"
#endif
__thread wsim_regs wsim_r;

extern "C" WSIM_EMU_API const wsim_regs* wsim_regs_now(void) { return &wsim_r; }

extern "C" void wsim_ctx_switch(void** save_sp, void* new_sp) __attribute__((visibility("hidden")));
extern "C" void wsim_ctx_trampoline(void) __attribute__((visibility("hidden")));

#ifndef WSIM_STACK_BYTES
#define WSIM_STACK_BYTES (64 * 1024)
#endif

namespace {

constexpr unsigned MAX_THREADS = 1024;
constexpr unsigned MAX_WARPS = MAX_THREADS / 32;

enum : uint8_t { S_RUNNING = 0, S_RUNNABLE, S_WAIT_SYNC, S_WAIT_WARP, S_EXITED };

struct Warp {
    unsigned arrived;  // lanes waiting at the warp barrier (bit per lane)
    unsigned mask;     // lanes the barrier waits for (union of the arrivals' masks, existing lanes only)
    uint64_t val[32];
    uint64_t res[32];
    int arg[32];
    uint8_t mode[32];
    uint8_t width[32];
};

struct Ctx {
    // the launch
    const char* pretty;
    void (*body)(void*);
    void* arg;
    unsigned n, bx, by, bxy;
    bool one_d, reverse;
    bool in_launch, in_fiber, aborted, name_ready;
    bool phase2;        // all threads started: waiting fibers switch straight to the next runnable one
    unsigned pass_pos;  // phase 2: run-order position of the running thread in the current pass
    // the block
    unsigned next_pos;  // next position (in run order) phase 1 starts
    unsigned cur;       // linear index of the running thread
    unsigned exited;
    unsigned sync_waiting;
    int start_stack;
    void* sched_sp;
    uint8_t state[MAX_THREADS];
    void* sp[MAX_THREADS];
    Warp warps[MAX_WARPS];
    // the stack pool
    unsigned nalloc, nfree;
    char* stack_base[MAX_THREADS];  // mapping (guard page first)
    uint16_t free_ids[MAX_THREADS];
    char name[256];
};

__thread Ctx* tls_ctx;
size_t g_page;
size_t g_map_bytes;
std::atomic<int> g_reverse{0};

struct CtxOwner {
    bool armed = false;
    ~CtxOwner() {
        Ctx* c = tls_ctx;
        if (!c) return;
        tls_ctx = nullptr;
        for (unsigned i = 0; i < c->nalloc; i++) munmap(c->stack_base[i], g_map_bytes);
        free(c);
    }
};
thread_local CtxOwner t_owner;

Ctx* get_ctx() {
    Ctx* c = tls_ctx;
    if (__builtin_expect(c != nullptr, 1)) return c;
    if (!g_page) {
        long p = sysconf(_SC_PAGESIZE);
        g_page = p > 0 ? (size_t)p : 4096;
        g_map_bytes = ((WSIM_STACK_BYTES + g_page - 1) / g_page) * g_page + g_page;
    }
    c = (Ctx*)calloc(1, sizeof(Ctx));
    if (!c) return nullptr;
    tls_ctx = c;
    t_owner.armed = true;  // registers the thread-exit destructor
    return c;
}

// A free stack's id, or -1 when no memory is left.
int alloc_stack(Ctx* c) {
    if (c->nfree) return c->free_ids[--c->nfree];
    if (c->nalloc >= MAX_THREADS) return -1;
    void* m = mmap(nullptr, g_map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return -1;
    if (mprotect(m, g_page, PROT_NONE) != 0) {
        munmap(m, g_map_bytes);
        return -1;
    }
    c->stack_base[c->nalloc] = (char*)m;
    return (int)c->nalloc++;
}

inline void set_tid(Ctx* c, unsigned t) {
    if (c->one_d) {
        wsim_r.tid.x = t;
        wsim_r.tid.y = 0;
        wsim_r.tid.z = 0;
    } else {
        wsim_r.tid.x = t % c->bx;
        wsim_r.tid.y = (t / c->bx) % c->by;
        wsim_r.tid.z = t / c->bxy;
    }
}

inline unsigned at_pos(const Ctx* c, unsigned pos) { return c->reverse ? c->n - 1 - pos : pos; }

// Leaves the running fiber (its context saved in *save): in phase 2 straight to the next runnable
// thread later in the current pass, else back to the scheduler (which then starts the next pass).
// Same schedule as returning to the scheduler every time, half the context switches.
inline void switch_away(Ctx* c, void** save) {
    if (c->phase2) {
        for (unsigned pos = c->pass_pos + 1; pos < c->n; pos++) {
            unsigned u = at_pos(c, pos);
            if (c->state[u] != S_RUNNABLE) continue;
            c->pass_pos = pos;
            c->state[u] = S_RUNNING;
            c->cur = u;
            set_tid(c, u);
            wsim_ctx_switch(save, c->sp[u]);
            return;
        }
    }
    wsim_ctx_switch(save, c->sched_sp);
}

// Phase 1's worker: runs not-yet-started threads back to back on its stack.
void worker_main(void* p) {
    Ctx* c = (Ctx*)p;
    const int my = c->start_stack;
    const unsigned n = c->n;
    do {
        unsigned pos = c->next_pos++;
        unsigned t = c->reverse ? n - 1 - pos : pos;
        c->cur = t;
        c->state[t] = S_RUNNING;
        set_tid(c, t);
        c->body(c->arg);
        c->state[t] = S_EXITED;
        c->exited++;
    } while (c->next_pos < n);
    c->free_ids[c->nfree++] = (uint16_t)my;  // still running on it, but nothing reuses it before we leave
    void* dummy;
    switch_away(c, &dummy);
    __builtin_unreachable();
}

// Leaves the block: every stack goes back to the pool, every barrier is reset.
int abandon(Ctx* c) {
    c->phase2 = false;
    unsigned nw = (c->n + 31) / 32;
    for (unsigned w = 0; w < nw; w++) c->warps[w].arrived = 0;
    c->sync_waiting = 0;
    c->nfree = c->nalloc;
    for (unsigned i = 0; i < c->nalloc; i++) c->free_ids[i] = (uint16_t)i;
    return 1;
}

const char* kernel_name(Ctx* c) {
    if (c->name_ready) return c->name;
    const char* p = c->pretty ? c->pretty : "?";
    const char* with = strstr(p, "[with ");
    const char* s = p;
    if (with) {
        const char* eq = nullptr;
        const char* f = strstr(with, "(* F)");
        if (f) eq = strstr(f, " = ");
        if (!eq)
            for (const char* q = with; (q = strstr(q, " = ")) != nullptr; q += 3) eq = q;
        if (eq) s = eq + 3;
        while (*s == '&' || *s == '(' || *s == ' ') s++;
    }
    size_t k = 0;
    while (s[k] && k + 1 < sizeof c->name && (with ? (s[k] == '_' || s[k] == ':' || (s[k] >= '0' && s[k] <= '9') ||
                                                       (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))
                                                    : true)) {
        c->name[k] = s[k];
        k++;
    }
    c->name[k] = 0;
    c->name_ready = true;
    return c->name;
}

// Appends "a-b, c, ..." for the threads (linear indices) in state st to buf.
unsigned list_threads(Ctx* c, uint8_t st, char* buf, size_t len) {
    unsigned count = 0;
    size_t used = 0;
    buf[0] = 0;
    bool truncated = false;
    for (unsigned t = 0; t < c->n;) {
        if (c->state[t] != st) {
            t++;
            continue;
        }
        unsigned e = t;
        while (e + 1 < c->n && c->state[e + 1] == st) e++;
        count += e - t + 1;
        if (!truncated) {
            char item[32];
            int k = e == t ? snprintf(item, sizeof item, "%s%u", used ? ", " : "", t)
                           : snprintf(item, sizeof item, "%s%u-%u", used ? ", " : "", t, e);
            if (used + (size_t)k + 8 < len) {
                memcpy(buf + used, item, (size_t)k + 1);
                used += (size_t)k;
            } else {
                memcpy(buf + used, ", ...", 6);
                truncated = true;
            }
        }
        t = e + 1;
    }
    return count;
}

void report_divergence(Ctx* c) {
    char at_sync[160], at_warp[160], gone[160], warps[160];
    unsigned ns = list_threads(c, S_WAIT_SYNC, at_sync, sizeof at_sync);
    unsigned nw = list_threads(c, S_WAIT_WARP, at_warp, sizeof at_warp);
    unsigned ne = list_threads(c, S_EXITED, gone, sizeof gone);
    size_t used = 0;
    warps[0] = 0;
    for (unsigned w = 0; w < (c->n + 31) / 32; w++) {
        const Warp& W = c->warps[w];
        if (!W.arrived) continue;
        int k = snprintf(warps + used, sizeof warps - used, "%swarp %u: lanes 0x%08x of 0x%08x", used ? ", " : "", w,
                         W.arrived, W.mask);
        if (k < 0 || (size_t)k >= sizeof warps - used) break;
        used += (size_t)k;
    }
    wsim_report(WSIM_FAULT_BARRIER,
                "barrier divergence in kernel %s, block (%u,%u,%u) of grid (%u,%u,%u), %u threads per block (%ux%ux%u): "
                "%u threads wait at __syncthreads [%s], %u wait at a warp shuffle/__syncwarp [%s]%s%s%s, %u have "
                "exited [%s]; the barrier can never complete; launch abandoned",
                kernel_name(c), wsim_r.bid.x, wsim_r.bid.y, wsim_r.bid.z, wsim_r.gdim.x, wsim_r.gdim.y, wsim_r.gdim.z,
                c->n, wsim_r.bdim.x, wsim_r.bdim.y, wsim_r.bdim.z, ns, at_sync, nw, at_warp, nw ? " (" : "",
                nw ? warps : "", nw ? ")" : "", ne, gone);
}

inline void resume(Ctx* c, unsigned t) {
    c->state[t] = S_RUNNING;
    c->cur = t;
    set_tid(c, t);
    c->in_fiber = true;
    wsim_ctx_switch(&c->sched_sp, c->sp[t]);
    c->in_fiber = false;
}

int run_block(Ctx* c) {
    const unsigned n = c->n;
    c->next_pos = 0;
    c->exited = 0;
    c->sync_waiting = 0;
    c->phase2 = false;
    while (c->next_pos < n) {
        int s = alloc_stack(c);
        if (s < 0) {
            wsim_report(WSIM_FAULT_API, "kernel %s: out of memory for fiber stacks (%u threads per block)", kernel_name(c), n);
            return abandon(c);
        }
        c->start_stack = s;
        // Stack tops staggered by 64..4032 bytes ("cache colouring"): blocked fibers' hot frames would
        // otherwise all map to the same cache sets (the stacks are a multiple of the page size apart).
        void** top = (void**)(c->stack_base[s] + g_map_bytes - 64 * (1 + (unsigned)s % 63));
        top[-1] = (void*)&wsim_ctx_trampoline;  // "return address" of the first switch
        top[-2] = nullptr;                      // rbp
        top[-3] = nullptr;                      // rbx
        top[-4] = (void*)&worker_main;          // r12: the function
        top[-5] = c;                            // r13: its argument
        top[-6] = nullptr;                      // r14
        top[-7] = nullptr;                      // r15
        c->in_fiber = true;
        wsim_ctx_switch(&c->sched_sp, (void*)&top[-7]);
        c->in_fiber = false;
        if (c->aborted) return abandon(c);
    }
    c->phase2 = true;
    while (c->exited < n) {
        bool any = false;
        for (unsigned pos = 0; pos < n; pos++) {
            unsigned t = at_pos(c, pos);
            if (c->state[t] != S_RUNNABLE) continue;
            any = true;
            c->pass_pos = pos;
            resume(c, t);  // runs a chain of fibers to the end of this pass
            if (c->aborted) return abandon(c);
            pos = c->pass_pos;
        }
        if (!any) {
            report_divergence(c);
            return abandon(c);
        }
    }
    return 0;
}

[[noreturn]] void outside(const char* what) {
    fprintf(stderr, "wengert-sim: %s called outside a kernel launch\n", what);
    abort();
}

__attribute__((constructor)) void read_env() {
    const char* o = getenv("WENGERT_SIM_ORDER");
    if (o && strcmp(o, "reverse") == 0) g_reverse.store(1);
}

}  // namespace

// ------------------------------------------------------------------ barriers (called by kernel code on a fiber)

extern "C" void wsim_syncthreads(void) {
    Ctx* c = tls_ctx;
    if (__builtin_expect(!c || !c->in_fiber, 0)) outside("__syncthreads");
    unsigned t = c->cur;
    c->state[t] = S_WAIT_SYNC;
    if (++c->sync_waiting == c->n) {
        memset(c->state, S_RUNNABLE, c->n);
        c->sync_waiting = 0;
    }
    switch_away(c, &c->sp[t]);
}

extern "C" uint64_t wsim_warp_exchange(int mode, unsigned mask, uint64_t bits, int arg, int width) {
    Ctx* c = tls_ctx;
    if (__builtin_expect(!c || !c->in_fiber, 0)) outside("a warp shuffle / __syncwarp");
    const unsigned t = c->cur, w = t >> 5, lane = t & 31;
    Warp& W = c->warps[w];
    unsigned lanes = c->n - w * 32;
    unsigned exist = lanes >= 32 ? 0xffffffffu : (1u << lanes) - 1;
    unsigned want = (mask | (1u << lane)) & exist;
    W.mask = W.arrived ? (W.mask | want) : want;
    W.arrived |= 1u << lane;
    W.val[lane] = bits;
    W.arg[lane] = arg;
    W.mode[lane] = (uint8_t)mode;
    W.width[lane] = (uint8_t)((width >= 1 && width <= 32) ? width : 32);
    c->state[t] = S_WAIT_WARP;
    if ((W.arrived & W.mask) == W.mask) {
        unsigned arrived = W.arrived;
        for (unsigned l = 0; l < 32; l++) {
            if (!(arrived >> l & 1)) continue;
            unsigned wd = W.width[l];
            int seg = (int)(l & ~(wd - 1));
            int a = W.arg[l];
            int src;
            switch (W.mode[l]) {
                case WSIM_SHFL_IDX: src = seg + (int)((unsigned)a % wd); break;
                case WSIM_SHFL_UP: src = (int)l - a < seg ? (int)l : (int)l - a; break;
                case WSIM_SHFL_DOWN: src = (int)l + a >= seg + (int)wd ? (int)l : (int)l + a; break;
                case WSIM_SHFL_XOR: src = (int)(l ^ (unsigned)a); if (src >= seg + (int)wd) src = (int)l; break;
                default: src = (int)l; break;
            }
            if (src < 0 || src > 31 || !(arrived >> src & 1)) src = (int)l;
            W.res[l] = W.val[src];
            c->state[w * 32 + l] = S_RUNNABLE;
        }
        W.arrived = 0;
    }
    switch_away(c, &c->sp[t]);
    return W.res[lane];
}

// ------------------------------------------------------------------ launching

extern "C" int wsim_run_grid(const wsim_dims* d, void (*body)(void*), void* arg, const char* pretty) {
    Ctx* c = get_ctx();
    if (!c) {
        wsim_report(WSIM_FAULT_API, "out of memory for the kernel scheduler");
        return 1;
    }
    if (c->in_launch) {
        wsim_report(WSIM_FAULT_API, "a kernel launch from inside a running kernel");
        return 1;
    }
    c->pretty = pretty;
    c->name_ready = false;
    const unsigned* g = d->grid;
    const unsigned* b = d->block;
    unsigned long long n = (unsigned long long)b[0] * b[1] * b[2];
    if (!g[0] || !g[1] || !g[2] || g[0] > 0x7fffffffu || g[1] > 65535 || g[2] > 65535 || !n || n > MAX_THREADS ||
        b[2] > 64 || d->shared_bytes != 0) {
        wsim_report(WSIM_FAULT_API,
                    "kernel %s: invalid launch geometry grid (%u,%u,%u) block (%u,%u,%u) dynamic shared %u bytes "
                    "(grid x <= 2^31-1, y, z <= 65535, all >= 1; block x, y <= 1024, z <= 64, x*y*z <= 1024; "
                    "the simulator supports no dynamic shared memory)",
                    kernel_name(c), g[0], g[1], g[2], b[0], b[1], b[2], d->shared_bytes);
        return 1;
    }
    c->body = body;
    c->arg = arg;
    c->n = (unsigned)n;
    c->bx = b[0];
    c->by = b[1];
    c->bxy = b[0] * b[1];
    c->one_d = b[1] == 1 && b[2] == 1;
    c->reverse = g_reverse.load(std::memory_order_relaxed) != 0;
    c->aborted = false;
    c->in_launch = true;
    wsim_r.bdim = wsim_uint3{b[0], b[1], b[2]};
    wsim_r.gdim = wsim_uint3{g[0], g[1], g[2]};
    int rc = 0;
    for (unsigned z = 0; z < g[2] && !rc; z++) {
        for (unsigned y = 0; y < g[1] && !rc; y++) {
            for (unsigned x = 0; x < g[0]; x++) {
                wsim_r.bid = wsim_uint3{x, y, z};
                if (run_block(c)) {
                    rc = 1;
                    break;
                }
            }
        }
    }
    c->in_launch = false;
    c->aborted = false;
    return rc;
}

// ------------------------------------------------------------------ sim.h, emulator half

extern "C" int wsim_current_thread(const char** kernel, unsigned block[3], unsigned thread[3]) {
    Ctx* c = tls_ctx;
    if (!c || !c->in_fiber) return 0;
    if (kernel) *kernel = kernel_name(c);
    if (block) {
        block[0] = wsim_r.bid.x;
        block[1] = wsim_r.bid.y;
        block[2] = wsim_r.bid.z;
    }
    if (thread) {
        thread[0] = wsim_r.tid.x;
        thread[1] = wsim_r.tid.y;
        thread[2] = wsim_r.tid.z;
    }
    return 1;
}

extern "C" void wsim_abort_kernel(void) {
    Ctx* c = tls_ctx;
    if (!c || !c->in_fiber) outside("wsim_abort_kernel");
    // A fault handler may be running with these blocked; its frame is abandoned, never returned from.
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSEGV);
    sigaddset(&s, SIGBUS);
    sigaddset(&s, SIGFPE);
    sigaddset(&s, SIGILL);
    sigaddset(&s, SIGTRAP);
    pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
    c->aborted = true;
    void* dummy;
    wsim_ctx_switch(&dummy, c->sched_sp);
    __builtin_unreachable();
}

extern "C" void wsim_set_thread_order(int reverse) { g_reverse.store(reverse ? 1 : 0); }
