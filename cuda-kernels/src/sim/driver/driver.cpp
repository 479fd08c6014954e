// The Wengert CUDA simulator's stand-in CUDA driver (libcuda.so.1): the driver API entry points that
// JCuda's libJCudaDriver calls, executed synchronously on the host, with
//   - a memory checker: every allocation its own mmap region between PROT_NONE guard pages, freed
//     regions kept PROT_NONE (quarantine), explicit range checks for copies and memsets, and a
//     SIGSEGV/SIGBUS handler that turns faults of host-compiled kernels into memcheck reports
//     (and chains every other fault to the previously installed handler: the JVM's);
//   - a stream-hazard checker (vector clocks over streams, events and the host);
//   - launch-trace counters and sticky errors like a real context.
// Everything else libJCudaDriver imports gets a generated stub (build-simulator.sh). See sim.h for
// the interface to the kernel emulator (emu/) and the stand-in cuBLAS (cublas/).
#if defined(__has_include) && !defined(WSIM_NO_CUDA_H)
#if __has_include(<cuda.h>)
#include <cuda.h>
// CUDA 13 renames these to _v2; JCuda 12.6 imports the plain names (both are defined below).
#undef cuEventElapsedTime
#undef cuDeviceGetUuid
#define WSIM_HAVE_CUDA_H 1
#endif
#endif
#ifndef WSIM_HAVE_CUDA_H
#include "cuda_min.h"
#endif

#include "../sim.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <errno.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#define CUAPI extern "C" __attribute__((visibility("default")))

// ==================================================================================== state

namespace {

constexpr size_t PAGE = 4096;
constexpr size_t ALIGN = 256;
constexpr unsigned char FILL_BYTE = 0xFF;    // fresh allocations (NaN for floats, -1 for ints)
constexpr unsigned char CANARY_BYTE = 0xCB;  // the slack between the size and the 256-rounded size

std::recursive_mutex g_mu;  // one driver call at a time
bool g_inited = false;
int g_sms = 2;
uint64_t g_total_bytes = 16384ull << 20;
uint64_t g_used_bytes = 0;
bool g_sticky_enabled = true;
bool g_quiet = false;
bool g_fill = true;
uint64_t g_quarantine_cap = 64ull << 30;
size_t g_quarantine_max = 16384;  // regions: each is a mapping, and vm.max_map_count is finite
CUresult g_sticky = CUDA_SUCCESS;

std::atomic<int64_t> g_trace[WSIM_T_COUNT];
std::map<std::string, int64_t> g_kernel_counts;
std::string g_last_report;
std::string g_last_note;
std::set<std::string> g_printed;  // each distinct report is printed once
std::set<std::string> g_interned; // names of operations kept by the hazard checker

const char* intern(const char* s) { return g_interned.insert(s ? s : "?").first->c_str(); }
const char* intern(const std::string& s) { return g_interned.insert(s).first->c_str(); }

// ------------------------------------------------------------------ memory regions

struct Access {  // one operation's access, for the hazard checker
    int stream = -1;
    uint64_t clock = 0;
    const char* what = nullptr;
};

struct Region {
    uintptr_t base;     // the mapping: [base, base + maplen), guard pages at both ends
    size_t maplen;
    uintptr_t user;     // what cuMemAlloc returned
    size_t size;        // what was asked for
    size_t size256;     // size rounded to 256: user + size256 is the upper guard page
    bool freed = false;
    const char* freed_by = nullptr;
    Access last_write;
    std::map<int, Access> reads;  // the last read per stream since the last write
};

std::map<uintptr_t, Region*> g_regions;  // by base, live and quarantined
std::deque<Region*> g_quarantine;
uint64_t g_quarantine_bytes = 0;

// The region whose mapping (guards included) holds addr, or null. Caller holds g_mu (or is the
// kernel's thread inside a launch, which holds it).
Region* find_region(uintptr_t addr) {
    auto it = g_regions.upper_bound(addr);
    if (it == g_regions.begin()) return nullptr;
    --it;
    Region* r = it->second;
    return addr < r->base + r->maplen ? r : nullptr;
}

// The live allocation that [p, p + bytes] lies in (the end may be the allocation's end), else null.
Region* live_region_of(uintptr_t p) {
    Region* r = find_region(p);
    if (r == nullptr && p >= PAGE) r = find_region(p - 1);  // one past the end: the upper guard is next
    if (r == nullptr || r->freed) return nullptr;
    return p >= r->user && p <= r->user + r->size ? r : nullptr;
}

// Describes where addr is relative to allocations, for reports.
std::string describe_addr(uintptr_t addr) {
    char b[256];
    Region* r = find_region(addr);
    if (r == nullptr) {
        snprintf(b, sizeof b, "not device memory");
    } else if (r->freed) {
        snprintf(b, sizeof b, "in the freed %zu-byte allocation at 0x%lx, offset %ld, freed by %s", r->size,
                 (unsigned long)r->user, (long)(addr - r->user), r->freed_by ? r->freed_by : "cuMemFree_v2");
    } else if (addr < r->user) {
        snprintf(b, sizeof b, "%lu bytes before the %zu-byte allocation at 0x%lx", (unsigned long)(r->user - addr),
                 r->size, (unsigned long)r->user);
    } else if (addr >= r->user + r->size) {
        snprintf(b, sizeof b, "%lu bytes after the end of the %zu-byte allocation at 0x%lx",
                 (unsigned long)(addr - r->user - r->size), r->size, (unsigned long)r->user);
    } else {
        snprintf(b, sizeof b, "inside the %zu-byte allocation at 0x%lx, offset %lu", r->size, (unsigned long)r->user,
                 (unsigned long)(addr - r->user));
    }
    return b;
}

// ------------------------------------------------------------------ streams, events, contexts

}  // namespace

struct Capture;
struct CUstream_st {
    int idx;             // 0: the legacy default stream
    unsigned flags;
    std::vector<uint64_t> vc;  // what this stream knows of every stream's clock (vc[idx] = its own)
    bool destroyed = false;
    Capture* cap = nullptr;    // the stream capture under way on this stream, if any
};
struct CUevent_st {
    unsigned flags;
    bool recorded = false;
    std::vector<uint64_t> vc;
    uint64_t captured_in = 0;  // the id of the capture it was last recorded in (0: recorded outside one)
};

// ------------------------------------------------------------------ CUDA graphs (stream capture)

// One recorded operation. Kernel parameters are copied at capture (JCuda frees its argument array
// after the call); host pointers of copies are kept as pointers, so a replay reads (or writes) the
// host memory as it is at replay time, as a GPU does.
struct GNode {
    enum Type { KERNEL, COPY, MEMSET, HOST_FN, EVENT_RECORD } type;
    const char* name;  // the entry point that recorded it
    // KERNEL
    const wsim_kernel* k = nullptr;
    unsigned grid[3] = {0, 0, 0}, block[3] = {0, 0, 0};
    std::vector<unsigned char> argbuf;
    std::vector<size_t> argoff;
    // COPY (kind: 0 H2D, 1 D2H, 2 D2D) and MEMSET
    int kind = 0;
    void* dst = nullptr;
    const void* src = nullptr;
    size_t bytes = 0;
    unsigned value = 0;
    size_t n = 0, width = 0;
    // HOST_FN: work of another library (the stand-in cuBLAS), see wsim_capture_node
    int (*run)(void*, uint64_t) = nullptr;
    std::shared_ptr<void> data;
    int counter = 0;
    // EVENT_RECORD
    CUevent_st* event = nullptr;
};
struct CUgraphNode_st {
    GNode* node;
};
struct CUgraph_st {
    std::vector<std::shared_ptr<GNode>> nodes;
    std::vector<std::unique_ptr<CUgraphNode_st>> handles;  // for cuGraphGetNodes
};
struct CUgraphExec_st {
    std::vector<std::shared_ptr<GNode>> nodes;  // the instantiated copy of the graph's node list
};
struct Capture {
    uint64_t id;
    CUstream_st* stream;
    int mode;         // CUstreamCaptureMode given to cuStreamBeginCapture
    pthread_t thread; // the thread that began it
    CUgraph_st* graph;
    bool invalidated = false;
    std::string why;  // the call that invalidated it
};
struct CUctx_st {
    int refs = 0;
};
struct CUmod_st {
    int unused = 0;
};
struct CUfunc_st {
    const wsim_kernel* k;
};

namespace {

CUctx_st g_primary;
thread_local CUctx_st* t_ctx = nullptr;
std::vector<CUstream_st*> g_streams;  // by idx; never shrinks (indices stay valid in clocks)
std::unordered_set<CUstream_st*> g_live_streams;
std::unordered_set<CUevent_st*> g_events;
std::unordered_set<CUmod_st*> g_modules;
std::map<const wsim_kernel*, CUfunc_st*> g_functions;
std::unordered_set<CUfunc_st*> g_function_set;
std::vector<uint64_t> g_host_vc;  // what the host knows has completed
std::map<uintptr_t, size_t> g_pinned;  // page-locked host allocations: base -> bytes
std::vector<Capture*> g_captures;       // the stream captures under way
uint64_t g_next_capture_id = 1;
std::unordered_set<CUgraph_st*> g_graphs;
std::unordered_set<CUgraphExec_st*> g_execs;
thread_local int t_capture_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;  // cuThreadExchangeStreamCaptureMode

CUstream_st* legacy() { return g_streams[0]; }

uint64_t vc_get(const std::vector<uint64_t>& v, int i) { return (size_t)i < v.size() ? v[i] : 0; }
void vc_merge(std::vector<uint64_t>& into, const std::vector<uint64_t>& from) {
    if (into.size() < from.size()) into.resize(from.size(), 0);
    for (size_t i = 0; i < from.size(); i++) into[i] = into[i] > from[i] ? into[i] : from[i];
}

std::string stream_name(int idx) {
    if (idx == 0) return "the legacy default stream";
    char b[64];
    snprintf(b, sizeof b, "stream #%d (%p)", idx, (void*)g_streams[idx]);
    return b;
}

// Issues one operation on s: it comes after what the host knows is done (program order) and, for
// the legacy stream and blocking streams, after the other's earlier work. Returns its clock.
uint64_t issue(CUstream_st* s) {
    vc_merge(s->vc, g_host_vc);
    if (s->idx == 0) {
        for (CUstream_st* t : g_streams)
            if (t->idx != 0 && !(t->flags & CU_STREAM_NON_BLOCKING)) vc_merge(s->vc, t->vc);
    } else if (!(s->flags & CU_STREAM_NON_BLOCKING)) {
        vc_merge(s->vc, legacy()->vc);
    }
    if (s->vc.size() <= (size_t)s->idx) s->vc.resize(s->idx + 1, 0);
    return ++s->vc[s->idx];
}

void host_waits_for(const std::vector<uint64_t>& vc) { vc_merge(g_host_vc, vc); }

// Records an access by the operation (s, clock) to region r; reports unordered conflicts.
void hazard_access(Region* r, CUstream_st* s, uint64_t clock, bool write, const char* what) {
    const Access& w = r->last_write;
    if (w.stream >= 0 && w.stream != s->idx && vc_get(s->vc, w.stream) < w.clock) {
        wsim_report(WSIM_FAULT_HAZARD,
                    "%s hazard on the %zu-byte allocation at 0x%lx: %s on %s %s it, but the write by %s on %s is not "
                    "ordered before it (no event or synchronisation between the streams)",
                    write ? "write-after-write" : "read-after-write", r->size, (unsigned long)r->user, what,
                    stream_name(s->idx).c_str(), write ? "writes" : "reads", w.what, stream_name(w.stream).c_str());
    }
    if (write) {
        for (auto& e : r->reads) {
            const Access& a = e.second;
            if (a.stream != s->idx && vc_get(s->vc, a.stream) < a.clock) {
                wsim_report(WSIM_FAULT_HAZARD,
                            "write-after-read hazard on the %zu-byte allocation at 0x%lx: %s on %s writes it, but the "
                            "read by %s on %s is not ordered before it (no event or synchronisation between the streams)",
                            r->size, (unsigned long)r->user, what, stream_name(s->idx).c_str(), a.what,
                            stream_name(a.stream).c_str());
            }
        }
        r->reads.clear();
        r->last_write = Access{s->idx, clock, what};
    } else {
        r->reads[s->idx] = Access{s->idx, clock, what};
    }
}

// Checks that [p, p + bytes) lies in one live allocation; reports a memcheck fault naming `what`
// and `role` ("destination", "source") otherwise. Returns the region or null.
Region* check_range(uintptr_t p, size_t bytes, const char* what, const char* role) {
    Region* r = live_region_of(p);
    if (r != nullptr && bytes <= r->user + r->size - p) return r;
    std::string where;
    if (r != nullptr) {
        char b[160];
        snprintf(b, sizeof b, "crosses the end of the %zu-byte allocation at 0x%lx by %lu bytes", r->size,
                 (unsigned long)r->user, (unsigned long)(p + bytes - r->user - r->size));
        where = b;
    } else if (p == 0) {
        where = "is a NULL pointer";
    } else {
        where = "starts " + describe_addr(p);
    }
    wsim_report(WSIM_FAULT_MEMCHECK, "%s: the %s range [0x%lx, 0x%lx) (%zu bytes) %s", what, role, (unsigned long)p,
                (unsigned long)(p + bytes), bytes, where.c_str());
    return nullptr;
}

// ------------------------------------------------------------------ environment, entry checks

long env_long(const char* name, long dflt) {
    const char* v = getenv(name);
    if (v == nullptr || *v == '\0') return dflt;
    char* end;
    long x = strtol(v, &end, 10);
    return *end == '\0' ? x : dflt;
}

CUresult sticky_or_success() { return g_sticky_enabled ? g_sticky : CUDA_SUCCESS; }

// Common entry check for calls that need the context: initialised, a current context, no sticky error.
CUresult enter(const char* name) {
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (t_ctx == nullptr) {
        wsim_report(WSIM_FAULT_API, "%s called on a thread without a current context (call cuCtxSetCurrent first)",
                    name);
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    return sticky_or_success();
}

#define LOCK std::lock_guard<std::recursive_mutex> lock_(g_mu)
#define ENTER(name)                                  \
    LOCK;                                            \
    if (CUresult e_ = enter(name)) return e_

// A stream handle: null / CU_STREAM_LEGACY / CU_STREAM_PER_THREAD are the legacy default stream.
CUstream_st* stream_of(CUstream h, const char* name) {
    if (h == nullptr || h == CU_STREAM_LEGACY || h == CU_STREAM_PER_THREAD) return legacy();
    if (g_live_streams.count(h) == 0) {
        wsim_report(WSIM_FAULT_API, "%s: %p is not a live stream", name, (void*)h);
        return nullptr;
    }
    return h;
}

void count(int counter) { g_trace[counter].fetch_add(1, std::memory_order_relaxed); }

// ------------------------------------------------------------------ stream capture rules

const char* mode_name(int m) { return m == 0 ? "GLOBAL" : m == 1 ? "THREAD_LOCAL" : "RELAXED"; }

std::string capture_name(const Capture* c) {
    return std::string("the capture on ") + stream_name(c->stream->idx) + " (mode " + mode_name(c->mode) + ")";
}

// Refuses `call` because of capture c: invalidates c (the first reason is kept, for cuStreamEndCapture's
// report), notes why (wsim_note, WSIM_T_CAPTURE_VIOLATIONS) and returns code.
#define VIOLATE(c, code, call, why) violate((c), code, #code, (call), (why))
CUresult violate(Capture* c, CUresult code, const char* code_name, const std::string& call, const char* why) {
    char b[1024];
    snprintf(b, sizeof b, "%s returned %s and invalidated %s: %s", call.c_str(), code_name, capture_name(c).c_str(), why);
    if (!c->invalidated) {
        c->invalidated = true;
        c->why = b;
    }
    wsim_note(WSIM_T_CAPTURE_VIOLATIONS, "%s", b);
    return code;
}

// A potentially unsafe call (cuMemAlloc, cuMemFree, a synchronous copy or memset): refused while a
// capture forbids it on this thread, as cuThreadExchangeStreamCaptureMode documents: a thread in
// RELAXED mode is never refused; otherwise a capture not begun RELAXED refuses it on the thread that
// began it, and a GLOBAL capture refuses it on every thread whose own mode is GLOBAL.
CUresult check_unsafe(const char* call) {
    CUresult r = CUDA_SUCCESS;
    if (t_capture_mode == CU_STREAM_CAPTURE_MODE_RELAXED) return r;
    for (Capture* c : g_captures) {
        if (c->mode == CU_STREAM_CAPTURE_MODE_RELAXED) continue;
        if (pthread_equal(c->thread, pthread_self()) ||
            (t_capture_mode == CU_STREAM_CAPTURE_MODE_GLOBAL && c->mode == CU_STREAM_CAPTURE_MODE_GLOBAL))
            r = VIOLATE(c, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, call,
                        "a potentially unsafe call during a stream capture (it is not recorded, so a replay would not "
                        "repeat it); make it before or after the capture, or, if it is safe, switch the thread to "
                        "CU_STREAM_CAPTURE_MODE_RELAXED around it with cuThreadExchangeStreamCaptureMode");
    }
    return r;
}

// Work on the legacy default stream synchronises implicitly with every blocking stream: refused (and the
// capture invalidated) while a blocking stream captures.
CUresult check_legacy(CUstream_st* s, const char* call) {
    CUresult r = CUDA_SUCCESS;
    if (s->idx != 0) return r;
    for (Capture* c : g_captures)
        if (!(c->stream->flags & CU_STREAM_NON_BLOCKING))
            r = VIOLATE(c, CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, call,
                        "work on the legacy default stream would wait for the capturing (blocking) stream; issue it "
                        "on the capturing stream, or make it before or after the capture");
    return r;
}

Capture* active_capture(uint64_t id) {
    for (Capture* c : g_captures)
        if (c->id == id) return c;
    return nullptr;
}

// Appends a node of `type` to the graph that s is capturing.
GNode* record(CUstream_st* s, GNode::Type type, const char* name) {
    auto n = std::make_shared<GNode>();
    n->type = type;
    n->name = name;
    s->cap->graph->nodes.push_back(n);
    s->cap->graph->handles.push_back(std::unique_ptr<CUgraphNode_st>(new CUgraphNode_st{n.get()}));
    count(WSIM_T_CAPTURED_NODES);
    return n.get();
}

// Whether [p, p + bytes) lies in one page-locked host allocation.
bool pinned_range(const void* p, size_t bytes) {
    auto it = g_pinned.upper_bound((uintptr_t)p);
    if (it == g_pinned.begin()) return false;
    --it;
    return (uintptr_t)p + bytes <= it->first + it->second;
}

// ------------------------------------------------------------------ the fault handler

struct sigaction g_old_segv, g_old_bus;
bool g_handlers_installed = false;
std::atomic<int> g_kernel_running{0};
pthread_t g_kernel_thread;

std::atomic<long> g_chained{0};  // fault signals passed on (reported at exit with WENGERT_SIM_VERBOSE=1)

void chain(int sig, siginfo_t* si, void* uc) {
    g_chained.fetch_add(1, std::memory_order_relaxed);
    struct sigaction* old = sig == SIGBUS ? &g_old_bus : &g_old_segv;
    if (old->sa_flags & SA_SIGINFO) {
        // As HotSpot's own chaining does: run it with its mask, then restore ours.
        sigset_t set = old->sa_mask, saved;
        if (!(old->sa_flags & SA_NODEFER)) sigaddset(&set, sig);
        pthread_sigmask(SIG_BLOCK, &set, &saved);
        if (old->sa_flags & SA_RESETHAND) {
            struct sigaction dfl;
            memset(&dfl, 0, sizeof dfl);
            dfl.sa_handler = SIG_DFL;
            sigaction(sig, &dfl, nullptr);
        }
        old->sa_sigaction(sig, si, uc);
        pthread_sigmask(SIG_SETMASK, &saved, nullptr);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        sigset_t set = old->sa_mask, saved;
        if (!(old->sa_flags & SA_NODEFER)) sigaddset(&set, sig);
        pthread_sigmask(SIG_BLOCK, &set, &saved);
        old->sa_handler(sig);
        pthread_sigmask(SIG_SETMASK, &saved, nullptr);
        return;
    }
    // Default action: restore it; a real fault re-executes the instruction and dies of it, a sent
    // signal is raised again.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, nullptr);
    if (si == nullptr || si->si_code <= 0) raise(sig);
}

void fault_handler(int sig, siginfo_t* si, void* uc) {
    if (g_kernel_running.load(std::memory_order_acquire) && pthread_equal(pthread_self(), g_kernel_thread)) {
        const char* kernel = nullptr;
        unsigned b[3] = {0, 0, 0}, t[3] = {0, 0, 0};
        if (wsim_current_thread(&kernel, b, t)) {
            // This thread is running a kernel and holds g_mu: the region table is stable.
            uintptr_t addr = (uintptr_t)si->si_addr;
            const char* rw = "access";
#if defined(__x86_64__)
            if (sig == SIGSEGV && uc != nullptr && (si->si_code == SEGV_MAPERR || si->si_code == SEGV_ACCERR))
                rw = (((ucontext_t*)uc)->uc_mcontext.gregs[REG_ERR] & 2) ? "write" : "read";
#endif
            std::string where = (si->si_code == SI_KERNEL && addr == 0)
                                    ? std::string("a non-canonical address (the pointer is garbage)")
                                    : describe_addr(addr);
            wsim_report(WSIM_FAULT_MEMCHECK, "invalid %s at 0x%lx (%s) in kernel %s, block (%u,%u,%u), thread (%u,%u,%u)",
                        rw, (unsigned long)addr, where.c_str(), kernel ? kernel : "?", b[0], b[1], b[2], t[0], t[1],
                        t[2]);
            wsim_abort_kernel();
        }
    }
    chain(sig, si, uc);
}

void report_at_exit() {
    int64_t t[WSIM_T_COUNT];
    wsim_trace_read(t, WSIM_T_COUNT);
    fprintf(stderr,
            "wengert-sim: %lld kernels, %lld GEMMs, %lld/%lld/%lld copies H2D/D2H/D2D, %lld memsets, %lld host syncs, "
            "%lld allocations (%lld live), %lld/%lld/%lld/%lld faults memcheck/hazard/barrier/api; %ld fault signals "
            "chained to the previous handler\n",
            (long long)t[WSIM_T_KERNELS], (long long)t[WSIM_T_GEMMS], (long long)t[WSIM_T_COPY_H2D],
            (long long)t[WSIM_T_COPY_D2H], (long long)t[WSIM_T_COPY_D2D], (long long)t[WSIM_T_MEMSETS],
            (long long)t[WSIM_T_HOST_SYNCS], (long long)t[WSIM_T_ALLOCS], (long long)t[WSIM_T_LIVE_ALLOCS],
            (long long)t[WSIM_T_FAULTS_MEMCHECK], (long long)t[WSIM_T_FAULTS_HAZARD], (long long)t[WSIM_T_FAULTS_BARRIER],
            (long long)t[WSIM_T_FAULTS_API], g_chained.load());
}

void install_handlers() {
    if (g_handlers_installed) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
    g_handlers_installed = true;
}

const struct {
    int value;
    const char* name;
    const char* string;
} g_errors[] = {
#include "cuda_errors.inc"
};

}  // namespace

// ==================================================================================== sim.h

extern "C" {

WSIM_EXPORT void wsim_report(int kind, const char* fmt, ...) {
    static const char* const kinds[] = {"memcheck", "hazard", "barrier", "api"};
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (kind < 0 || kind >= WSIM_FAULT_KINDS) kind = WSIM_FAULT_API;
    LOCK;
    g_last_report = buf;
    count(WSIM_T_FAULTS_MEMCHECK + kind);
    if (!g_quiet && g_printed.size() < 100000 && g_printed.insert(buf).second) {
        fprintf(stderr, "wengert-sim: %s: %s\n", kinds[kind], buf);
        fflush(stderr);
    }
    if (g_sticky_enabled && g_sticky == CUDA_SUCCESS) {
        if (kind == WSIM_FAULT_MEMCHECK) g_sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
        if (kind == WSIM_FAULT_BARRIER) g_sticky = CUDA_ERROR_LAUNCH_FAILED;
    }
}

WSIM_EXPORT void wsim_note(int counter, const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    LOCK;
    g_last_note = buf;
    if (counter >= 0 && counter < WSIM_T_COUNT) count(counter);
    const char* kind = counter == WSIM_T_WARNINGS ? "warning" : "capture";
    if (!g_quiet && g_printed.size() < 100000 && g_printed.insert(buf).second) {
        fprintf(stderr, "wengert-sim: %s: %s\n", kind, buf);
        fflush(stderr);
    }
}

WSIM_EXPORT void wsim_last_note(char* buf, size_t len) {
    LOCK;
    if (buf == nullptr || len == 0) return;
    snprintf(buf, len, "%s", g_last_note.c_str());
}

WSIM_EXPORT int wsim_capture_node(uint64_t stream, const char* what, int counter, int (*run)(void*, uint64_t),
                                  void* data, void (*free_data)(void*)) {
    LOCK;
    if (!g_inited || g_streams.empty()) return 0;
    CUstream_st* s = stream_of((CUstream)stream, what);
    if (s == nullptr) return -(int)CUDA_ERROR_INVALID_HANDLE;
    if (s->cap == nullptr) {
        CUresult e = check_legacy(s, what);
        return e == CUDA_SUCCESS ? 0 : -(int)e;
    }
    if (s->cap->invalidated) return -(int)CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    GNode* n = record(s, GNode::HOST_FN, intern(what));
    n->run = run;
    n->data = std::shared_ptr<void>(data, free_data);
    n->counter = counter;
    return 1;
}

WSIM_EXPORT int wsim_is_device_range(const void* ptr, size_t bytes) {
    LOCK;
    Region* r = live_region_of((uintptr_t)ptr);
    return r != nullptr && (uintptr_t)ptr + bytes <= r->user + r->size;
}

WSIM_EXPORT int wsim_check_access(uint64_t stream, const void* ptr, size_t bytes, int write, const char* what) {
    LOCK;
    if (bytes == 0) return 0;
    CUstream_st* s = g_streams.empty() ? nullptr : stream_of((CUstream)stream, what);
    Region* r = check_range((uintptr_t)ptr, bytes, what, write ? "written" : "read");
    if (r == nullptr) return 1;
    if (s != nullptr) hazard_access(r, s, issue(s), write != 0, intern(what));
    return 0;
}

WSIM_EXPORT void wsim_trace_count(int counter) {
    if (counter >= 0 && counter < WSIM_T_COUNT) count(counter);
}

WSIM_EXPORT void wsim_trace_read(int64_t* out, int n) {
    for (int i = 0; i < n && i < WSIM_T_COUNT; i++) out[i] = g_trace[i].load();
}

WSIM_EXPORT void wsim_trace_reset(void) {
    LOCK;
    for (int i = 0; i < WSIM_T_COUNT; i++)
        if (i != WSIM_T_LIVE_ALLOCS) g_trace[i].store(0);
    g_kernel_counts.clear();
}

WSIM_EXPORT int wsim_trace_kernels(char* buf, size_t len) {
    LOCK;
    std::string s;
    for (auto& e : g_kernel_counts) s += e.first + " " + std::to_string(e.second) + "\n";
    if (buf != nullptr && len > 0) {
        size_t n = s.size() < len - 1 ? s.size() : len - 1;
        memcpy(buf, s.data(), n);
        buf[n] = '\0';
    }
    return (int)s.size();
}

WSIM_EXPORT void wsim_last_report(char* buf, size_t len) {
    LOCK;
    if (buf == nullptr || len == 0) return;
    snprintf(buf, len, "%s", g_last_report.c_str());
}

WSIM_EXPORT int wsim_is_simulator(void) { return 1; }

WSIM_EXPORT int wsim_sticky_error(void) {
    LOCK;
    return (int)sticky_or_success();
}

}  // extern "C"

// ==================================================================================== initialisation, devices

CUAPI CUresult cuInit(unsigned int flags) {
    LOCK;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (g_inited) return CUDA_SUCCESS;
    long sms = env_long("WENGERT_SIM_SMS", 2);
    g_sms = sms >= 1 && sms <= 1024 ? (int)sms : 2;
    long mb = env_long("WENGERT_SIM_MEMORY_MB", 16384);
    g_total_bytes = (uint64_t)(mb > 0 ? mb : 16384) << 20;
    g_sticky_enabled = env_long("WENGERT_SIM_STICKY", 1) != 0;
    g_quiet = env_long("WENGERT_SIM_QUIET", 0) != 0;
    g_fill = env_long("WENGERT_SIM_FILL", 1) != 0;
    long qgb = env_long("WENGERT_SIM_QUARANTINE_GB", 64);
    g_quarantine_cap = (uint64_t)(qgb >= 0 ? qgb : 64) << 30;
    long qmax = env_long("WENGERT_SIM_QUARANTINE_MAX", 16384);
    g_quarantine_max = (size_t)(qmax >= 0 ? qmax : 16384);
    CUstream_st* l = new CUstream_st();
    l->idx = 0;
    l->flags = CU_STREAM_DEFAULT;
    g_streams.push_back(l);
    install_handlers();
    if (env_long("WENGERT_SIM_VERBOSE", 0) != 0) atexit(report_at_exit);
    g_inited = true;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 13000;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGetCount(int* n) {
    LOCK;
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (n == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *n = 1;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGet(CUdevice* dev, int ordinal) {
    LOCK;
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *dev = 0;
    return CUDA_SUCCESS;
}

#define CHECK_DEV(dev)                                          \
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;           \
    if ((dev) != 0) return CUDA_ERROR_INVALID_DEVICE

CUAPI CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "%s", "Wengert CUDA simulator (simulated sm_90)");
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = g_total_bytes;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (major == nullptr || minor == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *major = 9;
    *minor = 0;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGetUuid(CUuuid* uuid, CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (uuid == nullptr) return CUDA_ERROR_INVALID_VALUE;
    memcpy(uuid->bytes, "wengert-sim-0000", 16);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDeviceGetUuid_v2(CUuuid* uuid, CUdevice dev) { return cuDeviceGetUuid(uuid, dev); }

CUAPI CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (pi == nullptr) return CUDA_ERROR_INVALID_VALUE;
    int v;
    switch ((int)attrib) {  // values of an H100-like sm_90 device unless the simulator differs
        case 1: v = 1024; break;                 // MAX_THREADS_PER_BLOCK
        case 2: v = 1024; break;                 // MAX_BLOCK_DIM_X
        case 3: v = 1024; break;                 // MAX_BLOCK_DIM_Y
        case 4: v = 64; break;                   // MAX_BLOCK_DIM_Z
        case 5: v = 2147483647; break;           // MAX_GRID_DIM_X
        case 6: v = 65535; break;                // MAX_GRID_DIM_Y
        case 7: v = 65535; break;                // MAX_GRID_DIM_Z
        case 8: v = 49152; break;                // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: v = 65536; break;                // TOTAL_CONSTANT_MEMORY
        case 10: v = 32; break;                  // WARP_SIZE
        case 11: v = 2147483647; break;          // MAX_PITCH
        case 12: v = 65536; break;               // MAX_REGISTERS_PER_BLOCK
        case 13: v = 1755000; break;             // CLOCK_RATE (kHz)
        case 14: v = 512; break;                 // TEXTURE_ALIGNMENT
        case 15: v = 1; break;                   // GPU_OVERLAP
        case 16: v = g_sms; break;               // MULTIPROCESSOR_COUNT (env WENGERT_SIM_SMS)
        case 17: v = 0; break;                   // KERNEL_EXEC_TIMEOUT
        case 18: v = 0; break;                   // INTEGRATED
        case 19: v = 1; break;                   // CAN_MAP_HOST_MEMORY
        case 20: v = 0; break;                   // COMPUTE_MODE (default)
        case 30: v = 512; break;                 // SURFACE_ALIGNMENT
        case 31: v = 1; break;                   // CONCURRENT_KERNELS
        case 32: v = 0; break;                   // ECC_ENABLED
        case 33: v = 0; break;                   // PCI_BUS_ID
        case 34: v = 0; break;                   // PCI_DEVICE_ID
        case 35: v = 0; break;                   // TCC_DRIVER
        case 36: v = 2619000; break;             // MEMORY_CLOCK_RATE (kHz)
        case 37: v = 5120; break;                // GLOBAL_MEMORY_BUS_WIDTH
        case 38: v = 50 << 20; break;            // L2_CACHE_SIZE
        case 39: v = 2048; break;                // MAX_THREADS_PER_MULTIPROCESSOR
        case 40: v = 2; break;                   // ASYNC_ENGINE_COUNT
        case 41: v = 1; break;                   // UNIFIED_ADDRESSING
        case 50: v = 0; break;                   // PCI_DOMAIN_ID
        case 75: v = 9; break;                   // COMPUTE_CAPABILITY_MAJOR
        case 76: v = 0; break;                   // COMPUTE_CAPABILITY_MINOR
        case 78: v = 1; break;                   // STREAM_PRIORITIES_SUPPORTED
        case 79: v = 1; break;                   // GLOBAL_L1_CACHE_SUPPORTED
        case 80: v = 1; break;                   // LOCAL_L1_CACHE_SUPPORTED
        case 81: v = 233472; break;              // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 82: v = 65536; break;               // MAX_REGISTERS_PER_MULTIPROCESSOR
        case 83: v = 0; break;                   // MANAGED_MEMORY (not simulated)
        case 84: v = 0; break;                   // MULTI_GPU_BOARD
        case 85: v = 0; break;                   // MULTI_GPU_BOARD_GROUP_ID
        case 86: v = 0; break;                   // HOST_NATIVE_ATOMIC_SUPPORTED
        case 87: v = 2; break;                   // SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO
        case 88: v = 0; break;                   // PAGEABLE_MEMORY_ACCESS
        case 89: v = 0; break;                   // CONCURRENT_MANAGED_ACCESS
        case 90: v = 1; break;                   // COMPUTE_PREEMPTION_SUPPORTED
        case 91: v = 0; break;                   // CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM
        case 95: v = 0; break;                   // COOPERATIVE_LAUNCH (not simulated)
        case 97: v = 49152; break;               // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN (no opt-in)
        case 106: v = 32; break;                 // MAX_BLOCKS_PER_MULTIPROCESSOR
        case 111: v = 1024; break;               // RESERVED_SHARED_MEMORY_PER_BLOCK
        case 115: v = 1; break;                  // MEMORY_POOLS_SUPPORTED (cuMemAllocAsync)
        case 120: v = 0; break;                  // CLUSTER_LAUNCH (not simulated)
        default:
            wsim_report(WSIM_FAULT_API, "cuDeviceGetAttribute: attribute %d is not answered by the Wengert CUDA simulator",
                        (int)attrib);
            return CUDA_ERROR_INVALID_VALUE;
    }
    *pi = v;
    return CUDA_SUCCESS;
}

// ==================================================================================== contexts

CUAPI CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (pctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    g_primary.refs++;
    *pctx = &g_primary;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    LOCK;
    CHECK_DEV(dev);
    if (g_primary.refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    g_primary.refs--;  // the simulated context lives on (its memory is not released at 0)
    return CUDA_SUCCESS;
}

CUAPI CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int* flags, int* active) {
    LOCK;
    CHECK_DEV(dev);
    if (flags == nullptr || active == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *flags = 0;
    *active = g_primary.refs > 0;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxSetCurrent(CUcontext ctx) {
    LOCK;
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && ctx != &g_primary) return CUDA_ERROR_INVALID_CONTEXT;
    t_ctx = ctx;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxGetCurrent(CUcontext* pctx) {
    LOCK;
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (pctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *pctx = t_ctx;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxGetDevice(CUdevice* dev) {
    ENTER("cuCtxGetDevice");
    if (dev == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *dev = 0;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxGetApiVersion(CUcontext ctx, unsigned int* version) {
    LOCK;
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ctx != nullptr && ctx != &g_primary) return CUDA_ERROR_INVALID_CONTEXT;
    *version = 12000;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuCtxSynchronize(void) {
    ENTER("cuCtxSynchronize");
    {
        CUresult r = CUDA_SUCCESS;
        for (Capture* c : g_captures)  // it would wait for the capturing stream: refused in every mode
            r = VIOLATE(c, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuCtxSynchronize",
                        "synchronising the context waits for the capturing stream, whose work is recorded, not run");
        if (r != CUDA_SUCCESS) return r;
    }
    count(WSIM_T_HOST_SYNCS);
    for (CUstream_st* s : g_streams) host_waits_for(s->vc);
    return CUDA_SUCCESS;
}

// ==================================================================================== modules

CUAPI CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    ENTER("cuModuleLoadData");
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    // The image (a fatbin) is not interpreted: the module's kernels are the host-compiled ones.
    CUmod_st* m = new CUmod_st();
    g_modules.insert(m);
    *module = m;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int, CUjit_option*, void**) {
    return cuModuleLoadData(module, image);
}

CUAPI CUresult cuModuleLoadFatBinary(CUmodule* module, const void* image) { return cuModuleLoadData(module, image); }

CUAPI CUresult cuModuleUnload(CUmodule m) {
    ENTER("cuModuleUnload");
    if (g_modules.erase(m) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete m;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
    ENTER("cuModuleGetFunction");
    if (f == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (g_modules.count(m) == 0) return CUDA_ERROR_INVALID_HANDLE;
    const wsim_kernel* k = wsim_find_kernel(name);
    if (k == nullptr) return CUDA_ERROR_NOT_FOUND;
    CUfunc_st*& fn = g_functions[k];
    if (fn == nullptr) {
        fn = new CUfunc_st{k};
        g_function_set.insert(fn);
    }
    *f = fn;
    return CUDA_SUCCESS;
}

// ==================================================================================== launches

namespace {

bool function_valid(CUfunction f) { return f != nullptr && g_function_set.count(f) != 0; }
CUresult exec_kernel(const wsim_kernel* k, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                     CUstream_st* s, void** params, bool graph);

}  // namespace

CUAPI CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                              unsigned int by, unsigned int bz, unsigned int shared, CUstream hstream, void** params,
                              void** extra) {
    ENTER("cuLaunchKernel");
    if (!function_valid(f)) return CUDA_ERROR_INVALID_HANDLE;
    const wsim_kernel* k = f->k;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return CUDA_ERROR_INVALID_VALUE;
    if (gx > 2147483647u || gy > 65535 || gz > 65535 || bx > 1024 || by > 1024 || bz > 64) return CUDA_ERROR_INVALID_VALUE;
    if ((uint64_t)bx * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
    if (extra != nullptr) {
        wsim_report(WSIM_FAULT_API, "cuLaunchKernel of %s: the 'extra' parameter is not supported by the simulator",
                    k->name);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (shared != 0) {
        wsim_report(WSIM_FAULT_API,
                    "cuLaunchKernel of %s: %u bytes of dynamic shared memory requested; the simulator supports none",
                    k->name, shared);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    if (k->nargs > 0 && params == nullptr) return CUDA_ERROR_INVALID_VALUE;
    CUstream_st* s = stream_of(hstream, "cuLaunchKernel");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr) {  // recorded with a copy of its parameters, not run
        if (s->cap->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        for (int i = 0; i < k->nargs; i++)
            if (params[i] == nullptr) return CUDA_ERROR_INVALID_VALUE;
        GNode* n = record(s, GNode::KERNEL, "cuLaunchKernel");
        n->k = k;
        unsigned g[3] = {gx, gy, gz}, b[3] = {bx, by, bz};
        memcpy(n->grid, g, sizeof g);
        memcpy(n->block, b, sizeof b);
        for (int i = 0; i < k->nargs; i++) {
            size_t off = (n->argbuf.size() + 15) / 16 * 16;
            n->argoff.push_back(off);
            n->argbuf.resize(off + k->arg_sizes[i]);
        }
        for (int i = 0; i < k->nargs; i++) memcpy(n->argbuf.data() + n->argoff[i], params[i], k->arg_sizes[i]);
        return CUDA_SUCCESS;
    }
    if (CUresult e = check_legacy(s, "cuLaunchKernel")) return e;
    return exec_kernel(k, gx, gy, gz, bx, by, bz, s, params, false);
}

namespace {

// Runs a validated launch on s (host-issued, or a graph replay's node: graph = true), through the
// memory checker and the stream-hazard checker.
CUresult exec_kernel(const wsim_kernel* k, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                     CUstream_st* s, void** params, bool graph) {
    const unsigned shared = 0;
    const int kernel_counter = graph ? WSIM_T_GRAPH_KERNELS : WSIM_T_KERNELS;

    // Memcheck of the pointer arguments: NULL or inside / at the end of a live allocation.
    std::vector<Region*> regions((size_t)k->nargs, nullptr);
    for (int i = 0; i < k->nargs; i++) {
        if (k->arg_kinds[i] == WSIM_ARG_VALUE) continue;
        if (params[i] == nullptr) return CUDA_ERROR_INVALID_VALUE;
        uintptr_t p;
        memcpy(&p, params[i], sizeof p);
        if (p == 0) continue;
        Region* r = live_region_of(p);
        if (r == nullptr) {
            wsim_report(WSIM_FAULT_MEMCHECK, "%s of %s: argument %d is 0x%lx, %s",
                        graph ? "a graph replay's launch" : "cuLaunchKernel", k->name, i, (unsigned long)p,
                        describe_addr(p).c_str());
            count(kernel_counter);
            if (!graph) g_kernel_counts[k->name]++;
            return g_sticky_enabled ? CUDA_SUCCESS : CUDA_ERROR_ILLEGAL_ADDRESS;  // the launch's error is sticky
        }
        regions[i] = r;
    }
    count(kernel_counter);
    if (!graph) g_kernel_counts[k->name]++;

    // Stream hazards: every pointer argument reads or writes its whole allocation.
    uint64_t clock = issue(s);
    const char* what = nullptr;
    for (int i = 0; i < k->nargs; i++) {
        if (regions[i] == nullptr) continue;
        if (what == nullptr) what = intern(std::string("kernel ") + k->name);
        hazard_access(regions[i], s, clock, k->arg_kinds[i] == WSIM_ARG_PTR_WRITE, what);
    }

    wsim_dims dims = {{gx, gy, gz}, {bx, by, bz}, shared};
    int64_t memchecks_before = g_trace[WSIM_T_FAULTS_MEMCHECK].load();
    g_kernel_thread = pthread_self();
    g_kernel_running.store(1, std::memory_order_release);
    int rc = k->launch(&dims, params);
    g_kernel_running.store(0, std::memory_order_release);

    // Writes into the slack between an allocation's size and its 256-byte rounding do not fault:
    // find them by the canary there.
    for (int i = 0; i < k->nargs; i++) {
        Region* r = regions[i];
        if (r == nullptr || r->freed) continue;
        const unsigned char* c = (const unsigned char*)(r->user + r->size);
        for (size_t j = 0; j < r->size256 - r->size; j++) {
            if (c[j] != CANARY_BYTE) {
                wsim_report(WSIM_FAULT_MEMCHECK,
                            "kernel %s wrote %zu bytes after the end of the %zu-byte allocation at 0x%lx (argument %d; "
                            "found after the launch, so the thread is unknown)",
                            k->name, j, r->size, (unsigned long)r->user, i);
                memset((void*)(r->user + r->size), CANARY_BYTE, r->size256 - r->size);
                break;
            }
        }
    }
    bool memcheck = g_trace[WSIM_T_FAULTS_MEMCHECK].load() != memchecks_before;
    if (rc != 0 || memcheck) {
        CUresult e = memcheck ? CUDA_ERROR_ILLEGAL_ADDRESS : CUDA_ERROR_LAUNCH_FAILED;
        if (!g_sticky_enabled) return e;
        if (g_sticky == CUDA_SUCCESS) g_sticky = e;
    }
    return CUDA_SUCCESS;  // a fault is the launch's (sticky) error: returned by the next calls
}

}  // namespace

// ==================================================================================== memory

namespace {

CUresult do_alloc(CUdeviceptr* dptr, size_t bytes, const char* name) {
    if (dptr == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytes > ((size_t)1 << 46)) return CUDA_ERROR_OUT_OF_MEMORY;
    size_t size256 = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    if (size256 > g_total_bytes - g_used_bytes) return CUDA_ERROR_OUT_OF_MEMORY;
    size_t pages = (size256 + PAGE - 1) / PAGE * PAGE;
    size_t maplen = pages + 2 * PAGE;
    void* m = mmap(nullptr, maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uintptr_t base = (uintptr_t)m;
    if (m == MAP_FAILED || mprotect((void*)(base + PAGE), pages, PROT_READ | PROT_WRITE) != 0) {
        int err = errno;
        if (m != MAP_FAILED) munmap(m, maplen);
        wsim_report(WSIM_FAULT_API,
                    "%s of %zu bytes: the host refused the mapping (%s; %zu live and %zu quarantined allocations; "
                    "see vm.max_map_count, or lower WENGERT_SIM_QUARANTINE_MAX)",
                    name, bytes, strerror(err), g_regions.size() - g_quarantine.size(), g_quarantine.size());
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    Region* r = new Region();
    r->base = base;
    r->maplen = maplen;
    r->user = base + PAGE + pages - size256;
    r->size = bytes;
    r->size256 = size256;
    if (g_fill) memset((void*)r->user, FILL_BYTE, bytes);
    memset((void*)(r->user + bytes), CANARY_BYTE, size256 - bytes);
    g_regions[base] = r;
    g_used_bytes += size256;
    count(WSIM_T_ALLOCS);
    count(WSIM_T_LIVE_ALLOCS);
    *dptr = (CUdeviceptr)r->user;
    return CUDA_SUCCESS;
}

CUresult do_free(CUdeviceptr p, const char* name) {
    if (p == 0) return CUDA_SUCCESS;
    Region* r = find_region((uintptr_t)p);
    if (r == nullptr || r->user != (uintptr_t)p) {
        wsim_report(WSIM_FAULT_API, "%s of 0x%lx, which is not the start of a device allocation (%s)", name,
                    (unsigned long)p, describe_addr((uintptr_t)p).c_str());
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (r->freed) {
        wsim_report(WSIM_FAULT_API, "%s of 0x%lx: the %zu-byte allocation was already freed by %s", name,
                    (unsigned long)p, r->size, r->freed_by);
        return CUDA_ERROR_INVALID_VALUE;
    }
    r->freed = true;
    r->freed_by = name;
    r->reads.clear();
    mprotect((void*)r->base, r->maplen, PROT_NONE);
    madvise((void*)r->base, r->maplen, MADV_DONTNEED);
    g_used_bytes -= r->size256;
    g_trace[WSIM_T_LIVE_ALLOCS].fetch_sub(1);
    count(WSIM_T_FREES);
    g_quarantine.push_back(r);
    g_quarantine_bytes += r->maplen;
    while ((g_quarantine_bytes > g_quarantine_cap || g_quarantine.size() > g_quarantine_max) && !g_quarantine.empty()) {
        Region* old = g_quarantine.front();
        g_quarantine.pop_front();
        g_quarantine_bytes -= old->maplen;
        g_regions.erase(old->base);
        munmap((void*)old->base, old->maplen);
        delete old;
    }
    return CUDA_SUCCESS;
}

}  // namespace

CUAPI CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    ENTER("cuMemAlloc_v2");
    if (CUresult e = check_unsafe("cuMemAlloc_v2")) return e;
    return do_alloc(dptr, bytes, "cuMemAlloc_v2");
}

CUAPI CUresult cuMemFree_v2(CUdeviceptr p) {
    ENTER("cuMemFree_v2");
    if (CUresult e = check_unsafe("cuMemFree_v2")) return e;
    // cuMemFree waits for the device (as the real driver may): every stream's work is done.
    count(WSIM_T_HOST_SYNCS);
    for (CUstream_st* s : g_streams) host_waits_for(s->vc);
    return do_free(p, "cuMemFree_v2");
}

CUAPI CUresult cuMemAllocAsync(CUdeviceptr* dptr, size_t bytes, CUstream h) {
    ENTER("cuMemAllocAsync");
    CUstream_st* s = stream_of(h, "cuMemAllocAsync");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr)
        return VIOLATE(s->cap, CUDA_ERROR_NOT_SUPPORTED, "cuMemAllocAsync",
                       "memory nodes (stream-ordered allocation inside a capture) are not supported by the Wengert CUDA "
                       "simulator; allocate before the capture");
    if (CUresult e = check_legacy(s, "cuMemAllocAsync")) return e;
    CUresult r = do_alloc(dptr, bytes, "cuMemAllocAsync");
    if (r == CUDA_SUCCESS) {
        // The allocation becomes usable in stream order: record it as a write on s.
        Region* reg = find_region((uintptr_t)*dptr);
        hazard_access(reg, s, issue(s), true, intern("cuMemAllocAsync"));
    }
    return r;
}

CUAPI CUresult cuMemFreeAsync(CUdeviceptr p, CUstream h) {
    ENTER("cuMemFreeAsync");
    CUstream_st* s = stream_of(h, "cuMemFreeAsync");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr)
        return VIOLATE(s->cap, CUDA_ERROR_NOT_SUPPORTED, "cuMemFreeAsync",
                       "memory nodes (stream-ordered free inside a capture) are not supported by the Wengert CUDA "
                       "simulator; free after the capture");
    if (CUresult e = check_legacy(s, "cuMemFreeAsync")) return e;
    Region* r = live_region_of((uintptr_t)p);
    if (r != nullptr && r->user == (uintptr_t)p) hazard_access(r, s, issue(s), true, intern("cuMemFreeAsync"));
    return do_free(p, "cuMemFreeAsync");  // a free, not a host sync
}

CUAPI CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    ENTER("cuMemGetInfo_v2");
    if (free_bytes == nullptr || total == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *free_bytes = g_total_bytes - g_used_bytes;
    *total = g_total_bytes;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemGetAddressRange_v2(CUdeviceptr* base, size_t* size, CUdeviceptr p) {
    ENTER("cuMemGetAddressRange_v2");
    Region* r = live_region_of((uintptr_t)p);
    if (r == nullptr || (uintptr_t)p == r->user + r->size) return CUDA_ERROR_NOT_FOUND;
    if (base != nullptr) *base = r->user;
    if (size != nullptr) *size = r->size;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemAllocHost_v2(void** pp, size_t bytes) {
    ENTER("cuMemAllocHost_v2");
    if (pp == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    void* p = nullptr;
    if (posix_memalign(&p, PAGE, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    g_pinned[(uintptr_t)p] = bytes;
    *pp = p;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuMemHostAlloc(void** pp, size_t bytes, unsigned int) { return cuMemAllocHost_v2(pp, bytes); }

CUAPI CUresult cuMemFreeHost(void* p) {
    ENTER("cuMemFreeHost");
    if (g_pinned.erase((uintptr_t)p) == 0) return CUDA_ERROR_INVALID_VALUE;
    free(p);
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ copies

namespace {

enum Kind { H2D, D2H, D2D };

// One copy: checks the device ranges, records the stream accesses, copies. sync: a synchronous
// copy on the legacy stream (a host sync for H2D / D2H). An asynchronous copy to or from pageable
// host memory is a host sync too, as on a GPU: the driver waits for the stream before it stages the
// pageable buffer (H2D) or returns only after the copy (D2H); only page-locked memory copies async.
CUresult exec_copy(Kind kind, void* dst, const void* src, size_t bytes, CUstream_st* s, bool sync, const char* name,
                   bool graph);

CUresult do_copy(Kind kind, void* dst, const void* src, size_t bytes, CUstream h, bool sync, const char* name) {
    CUstream_st* s = sync ? legacy() : stream_of(h, name);
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (sync)
        if (CUresult e = check_unsafe(name)) return e;
    if (CUresult e = check_legacy(s, name)) return e;
    if (s->cap != nullptr) {
        if (s->cap->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        if (bytes == 0) return CUDA_SUCCESS;
        if ((kind == H2D && src == nullptr) || (kind == D2H && dst == nullptr)) return CUDA_ERROR_INVALID_VALUE;
        const void* host = kind == H2D ? src : kind == D2H ? dst : nullptr;
        if (host != nullptr && !pinned_range(host, bytes))
            return VIOLATE(s->cap, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, name,
                           "a copy between the device and pageable host memory cannot be captured; use page-locked "
                           "memory (cuMemAllocHost), whose contents a replay reads (or writes) at replay time, or copy "
                           "outside the capture");
        GNode* n = record(s, GNode::COPY, name);
        n->kind = kind;
        n->dst = dst;
        n->src = src;
        n->bytes = bytes;
        return CUDA_SUCCESS;
    }
    return exec_copy(kind, dst, src, bytes, s, sync, name, false);
}

// Runs a copy on s (host-issued, or a graph replay's node): checks the device ranges, records the
// stream accesses, copies.
CUresult exec_copy(Kind kind, void* dst, const void* src, size_t bytes, CUstream_st* s, bool sync, const char* name,
                   bool graph) {
    if (bytes == 0) return CUDA_SUCCESS;
    if ((kind == H2D && src == nullptr) || (kind == D2H && dst == nullptr)) return CUDA_ERROR_INVALID_VALUE;
    Region* rd = nullptr;
    Region* rs = nullptr;
    if (kind != D2H && (rd = check_range((uintptr_t)dst, bytes, name, "destination")) == nullptr)
        return CUDA_ERROR_ILLEGAL_ADDRESS;
    if (kind != H2D && (rs = check_range((uintptr_t)src, bytes, name, "source")) == nullptr)
        return CUDA_ERROR_ILLEGAL_ADDRESS;
    uint64_t clock = issue(s);
    const char* what = intern(name);
    if (rs != nullptr) hazard_access(rs, s, clock, false, what);
    if (rd != nullptr) hazard_access(rd, s, clock, true, what);
    memmove(dst, src, bytes);
    count(graph ? WSIM_T_GRAPH_COPIES : kind == H2D ? WSIM_T_COPY_H2D : kind == D2H ? WSIM_T_COPY_D2H : WSIM_T_COPY_D2D);
    if (kind != D2D && (sync || !pinned_range(kind == H2D ? src : dst, bytes))) {
        count(WSIM_T_HOST_SYNCS);
        host_waits_for(s->vc);
    }
    return CUDA_SUCCESS;
}

Kind kind_of(CUdeviceptr dst, CUdeviceptr src) {
    bool d = find_region((uintptr_t)dst) != nullptr, s = find_region((uintptr_t)src) != nullptr;
    return d && s ? D2D : d ? H2D : s ? D2H : D2D;
}

}  // namespace

CUAPI CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    ENTER("cuMemcpyHtoD_v2");
    return do_copy(H2D, (void*)dst, src, bytes, nullptr, true, "cuMemcpyHtoD_v2");
}

CUAPI CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    ENTER("cuMemcpyDtoH_v2");
    return do_copy(D2H, dst, (const void*)src, bytes, nullptr, true, "cuMemcpyDtoH_v2");
}

CUAPI CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    ENTER("cuMemcpyDtoD_v2");
    return do_copy(D2D, (void*)dst, (const void*)src, bytes, nullptr, true, "cuMemcpyDtoD_v2");
}

CUAPI CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream h) {
    ENTER("cuMemcpyHtoDAsync_v2");
    return do_copy(H2D, (void*)dst, src, bytes, h, false, "cuMemcpyHtoDAsync_v2");
}

CUAPI CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream h) {
    ENTER("cuMemcpyDtoHAsync_v2");
    return do_copy(D2H, dst, (const void*)src, bytes, h, false, "cuMemcpyDtoHAsync_v2");
}

CUAPI CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream h) {
    ENTER("cuMemcpyDtoDAsync_v2");
    return do_copy(D2D, (void*)dst, (const void*)src, bytes, h, false, "cuMemcpyDtoDAsync_v2");
}

CUAPI CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    ENTER("cuMemcpy");
    return do_copy(kind_of(dst, src), (void*)dst, (const void*)src, bytes, nullptr, true, "cuMemcpy");
}

CUAPI CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream h) {
    ENTER("cuMemcpyAsync");
    return do_copy(kind_of(dst, src), (void*)dst, (const void*)src, bytes, h, false, "cuMemcpyAsync");
}

// ------------------------------------------------------------------ memsets

namespace {

CUresult exec_memset(CUdeviceptr dst, unsigned value, size_t n, size_t width, CUstream_st* s, const char* name,
                     bool graph);

CUresult do_memset(CUdeviceptr dst, unsigned value, size_t n, size_t width, CUstream h, bool sync, const char* name) {
    CUstream_st* s = sync ? legacy() : stream_of(h, name);
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (sync)
        if (CUresult e = check_unsafe(name)) return e;
    if (CUresult e = check_legacy(s, name)) return e;
    if (s->cap != nullptr) {
        if (s->cap->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        if (n == 0) return CUDA_SUCCESS;
        if (dst % width != 0 || n > ((size_t)1 << 48) / width) return CUDA_ERROR_INVALID_VALUE;
        GNode* g = record(s, GNode::MEMSET, name);
        g->dst = (void*)dst;
        g->value = value;
        g->n = n;
        g->width = width;
        return CUDA_SUCCESS;
    }
    return exec_memset(dst, value, n, width, s, name, false);
}

CUresult exec_memset(CUdeviceptr dst, unsigned value, size_t n, size_t width, CUstream_st* s, const char* name,
                     bool graph) {
    if (n == 0) return CUDA_SUCCESS;
    if (dst % width != 0) return CUDA_ERROR_INVALID_VALUE;
    if (n > ((size_t)1 << 48) / width) return CUDA_ERROR_INVALID_VALUE;
    Region* r = check_range((uintptr_t)dst, n * width, name, "destination");
    if (r == nullptr) return CUDA_ERROR_ILLEGAL_ADDRESS;
    hazard_access(r, s, issue(s), true, intern(name));
    if (width == 1) {
        memset((void*)dst, (int)(value & 0xFF), n);
    } else if (width == 2) {
        uint16_t v = (uint16_t)value;
        uint16_t* p = (uint16_t*)dst;
        for (size_t i = 0; i < n; i++) p[i] = v;
    } else {
        uint32_t v = value;
        uint32_t* p = (uint32_t*)dst;
        for (size_t i = 0; i < n; i++) p[i] = v;
    }
    count(graph ? WSIM_T_GRAPH_MEMSETS : WSIM_T_MEMSETS);
    return CUDA_SUCCESS;
}

}  // namespace

CUAPI CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t n) {
    ENTER("cuMemsetD8_v2");
    return do_memset(dst, v, n, 1, nullptr, true, "cuMemsetD8_v2");
}
CUAPI CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short v, size_t n) {
    ENTER("cuMemsetD16_v2");
    return do_memset(dst, v, n, 2, nullptr, true, "cuMemsetD16_v2");
}
CUAPI CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int v, size_t n) {
    ENTER("cuMemsetD32_v2");
    return do_memset(dst, v, n, 4, nullptr, true, "cuMemsetD32_v2");
}
CUAPI CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream h) {
    ENTER("cuMemsetD8Async");
    return do_memset(dst, v, n, 1, h, false, "cuMemsetD8Async");
}
CUAPI CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short v, size_t n, CUstream h) {
    ENTER("cuMemsetD16Async");
    return do_memset(dst, v, n, 2, h, false, "cuMemsetD16Async");
}
CUAPI CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int v, size_t n, CUstream h) {
    ENTER("cuMemsetD32Async");
    return do_memset(dst, v, n, 4, h, false, "cuMemsetD32Async");
}

// ==================================================================================== streams and events

CUAPI CUresult cuStreamCreate(CUstream* ph, unsigned int flags) {
    ENTER("cuStreamCreate");
    if (ph == nullptr || (flags & ~(unsigned)CU_STREAM_NON_BLOCKING) != 0) return CUDA_ERROR_INVALID_VALUE;
    CUstream_st* s = new CUstream_st();
    s->idx = (int)g_streams.size();
    s->flags = flags;
    s->vc = g_host_vc;  // created after what the host knows
    g_streams.push_back(s);
    g_live_streams.insert(s);
    *ph = s;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamCreateWithPriority(CUstream* ph, unsigned int flags, int) { return cuStreamCreate(ph, flags); }

CUAPI CUresult cuStreamDestroy_v2(CUstream h) {
    ENTER("cuStreamDestroy_v2");
    if (h == nullptr || g_live_streams.count(h) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (h->cap != nullptr)
        return VIOLATE(h->cap, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamDestroy_v2",
                       "destroying a capturing stream; end the capture first");
    g_live_streams.erase(h);
    h->destroyed = true;  // kept: its clock stays meaningful to allocations and events
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamGetFlags(CUstream h, unsigned int* flags) {
    ENTER("cuStreamGetFlags");
    CUstream_st* s = stream_of(h, "cuStreamGetFlags");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (flags == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *flags = s->flags;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamSynchronize(CUstream h) {
    ENTER("cuStreamSynchronize");
    CUstream_st* s = stream_of(h, "cuStreamSynchronize");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr)
        return VIOLATE(s->cap, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamSynchronize",
                       "synchronising with a capturing stream (its work is recorded, not run; a read of a result "
                       "inside the captured work is such a synchronisation): end the capture first");
    if (CUresult e = check_legacy(s, "cuStreamSynchronize")) return e;
    count(WSIM_T_HOST_SYNCS);
    if (s->idx == 0) issue(s);  // the legacy stream also waits for the blocking streams
    host_waits_for(s->vc);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamQuery(CUstream h) {
    ENTER("cuStreamQuery");
    CUstream_st* s = stream_of(h, "cuStreamQuery");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr)
        return VIOLATE(s->cap, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamQuery",
                       "querying a capturing stream: end the capture first");
    host_waits_for(s->vc);  // everything ran already: the query says done, and the host knows it
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamWaitEvent(CUstream h, CUevent e, unsigned int flags) {
    ENTER("cuStreamWaitEvent");
    CUstream_st* s = stream_of(h, "cuStreamWaitEvent");
    if (s == nullptr || g_events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    Capture* ec = e->captured_in != 0 ? active_capture(e->captured_in) : nullptr;
    if (s->cap != nullptr) {
        if (s->cap->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        if (ec == s->cap) return CUDA_SUCCESS;  // the linear case: already ordered by the capture's sequence
        return VIOLATE(s->cap, CUDA_ERROR_NOT_SUPPORTED, "cuStreamWaitEvent",
                       "a capturing stream waiting for an event recorded outside its capture (an external "
                       "dependency) is not supported by the Wengert CUDA simulator; only events recorded and waited "
                       "for on the capturing stream itself are");
    }
    if (ec != nullptr)
        return VIOLATE(ec, CUDA_ERROR_NOT_SUPPORTED, "cuStreamWaitEvent",
                       "another stream joining a capture (a fork by waiting for an event recorded in it) is not "
                       "supported by the Wengert CUDA simulator; capture on one stream");
    if (CUresult r = check_legacy(s, "cuStreamWaitEvent")) return r;
    issue(s);
    vc_merge(s->vc, e->vc);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventCreate(CUevent* pe, unsigned int flags) {
    ENTER("cuEventCreate");
    if (pe == nullptr || (flags & ~7u) != 0) return CUDA_ERROR_INVALID_VALUE;
    CUevent_st* e = new CUevent_st();
    e->flags = flags;
    g_events.insert(e);
    *pe = e;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventRecord(CUevent e, CUstream h) {
    ENTER("cuEventRecord");
    CUstream_st* s = stream_of(h, "cuEventRecord");
    if (s == nullptr || g_events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr) {  // an event record node: a replay records the event on its stream
        if (s->cap->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        record(s, GNode::EVENT_RECORD, "cuEventRecord")->event = e;
        e->captured_in = s->cap->id;
        return CUDA_SUCCESS;
    }
    if (CUresult r = check_legacy(s, "cuEventRecord")) return r;
    issue(s);
    e->vc = s->vc;
    e->recorded = true;
    e->captured_in = 0;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventRecordWithFlags(CUevent e, CUstream h, unsigned int flags) {
    if (flags != 0) {
        LOCK;
        wsim_report(WSIM_FAULT_API, "cuEventRecordWithFlags: flags %u are not supported by the simulator", flags);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    return cuEventRecord(e, h);
}

CUAPI CUresult cuEventQuery(CUevent e) {
    ENTER("cuEventQuery");
    if (g_events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (Capture* c = e->captured_in != 0 ? active_capture(e->captured_in) : nullptr)
        return VIOLATE(c, CUDA_ERROR_CAPTURED_EVENT, "cuEventQuery",
                       "the event was last recorded inside a capture under way (its record is in the graph, not done)");
    host_waits_for(e->vc);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventSynchronize(CUevent e) {
    ENTER("cuEventSynchronize");
    if (g_events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (Capture* c = e->captured_in != 0 ? active_capture(e->captured_in) : nullptr)
        return VIOLATE(c, CUDA_ERROR_CAPTURED_EVENT, "cuEventSynchronize",
                       "the event was last recorded inside a capture under way (its record is in the graph, not done)");
    count(WSIM_T_HOST_SYNCS);
    host_waits_for(e->vc);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventDestroy_v2(CUevent e) {
    ENTER("cuEventDestroy_v2");
    if (g_events.erase(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    delete e;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuEventElapsedTime(float* ms, CUevent, CUevent) {
    LOCK;
    if (ms != nullptr) *ms = 0;
    wsim_report(WSIM_FAULT_API,
                "cuEventElapsedTime: the Wengert CUDA simulator does not report timings (they would not be GPU figures)");
    return CUDA_ERROR_NOT_SUPPORTED;
}

CUAPI CUresult cuEventElapsedTime_v2(float* ms, CUevent a, CUevent b) { return cuEventElapsedTime(ms, a, b); }

// ==================================================================================== errors

CUAPI CUresult cuGetErrorName(CUresult error, const char** p) {
    if (p == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (auto& e : g_errors)
        if (e.value == (int)error) {
            *p = e.name;
            return CUDA_SUCCESS;
        }
    *p = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

CUAPI CUresult cuGetErrorString(CUresult error, const char** p) {
    if (p == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (auto& e : g_errors)
        if (e.value == (int)error) {
            *p = e.string;
            return CUDA_SUCCESS;
        }
    *p = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

// ==================================================================================== CUDA graphs

CUAPI CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode* mode) {
    LOCK;
    if (!g_inited) return CUDA_ERROR_NOT_INITIALIZED;
    if (mode == nullptr || (int)*mode < 0 || (int)*mode > 2) return CUDA_ERROR_INVALID_VALUE;
    int old = t_capture_mode;
    t_capture_mode = (int)*mode;
    *mode = (CUstreamCaptureMode)old;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamBeginCapture_v2(CUstream h, CUstreamCaptureMode mode) {
    ENTER("cuStreamBeginCapture_v2");
    CUstream_st* s = stream_of(h, "cuStreamBeginCapture_v2");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if ((int)mode < 0 || (int)mode > 2) return CUDA_ERROR_INVALID_VALUE;
    if (s->idx == 0) {
        wsim_note(WSIM_T_CAPTURE_VIOLATIONS,
                  "cuStreamBeginCapture_v2 returned CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED: the legacy default stream "
                  "cannot be captured; capture a stream made by cuStreamCreate");
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    if (s->cap != nullptr) {
        wsim_note(WSIM_T_CAPTURE_VIOLATIONS, "cuStreamBeginCapture_v2 returned CUDA_ERROR_ILLEGAL_STATE: %s is capturing already",
                  stream_name(s->idx).c_str());
        return CUDA_ERROR_ILLEGAL_STATE;
    }
    Capture* c = new Capture();
    c->id = g_next_capture_id++;
    c->stream = s;
    c->mode = (int)mode;
    c->thread = pthread_self();
    c->graph = new CUgraph_st();
    s->cap = c;
    g_captures.push_back(c);
    return CUDA_SUCCESS;
}

CUAPI CUresult cuStreamEndCapture(CUstream h, CUgraph* graph) {
    ENTER("cuStreamEndCapture");
    CUstream_st* s = stream_of(h, "cuStreamEndCapture");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (graph == nullptr) return CUDA_ERROR_INVALID_VALUE;
    Capture* c = s->cap;
    if (c == nullptr) {
        wsim_note(WSIM_T_CAPTURE_VIOLATIONS, "cuStreamEndCapture returned CUDA_ERROR_ILLEGAL_STATE: %s is not capturing",
                  stream_name(s->idx).c_str());
        return CUDA_ERROR_ILLEGAL_STATE;
    }
    if (c->mode != CU_STREAM_CAPTURE_MODE_RELAXED && !pthread_equal(c->thread, pthread_self())) {
        wsim_note(WSIM_T_CAPTURE_VIOLATIONS,
                  "cuStreamEndCapture returned CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD: %s was begun on another thread",
                  capture_name(c).c_str());
        return CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD;
    }
    s->cap = nullptr;
    for (size_t i = 0; i < g_captures.size(); i++)
        if (g_captures[i] == c) g_captures.erase(g_captures.begin() + (long)i);
    for (CUevent_st* e : g_events)
        if (e->captured_in == c->id) e->captured_in = 0;  // now a node of a graph: queries see "not recorded"
    CUresult r = CUDA_SUCCESS;
    if (c->invalidated) {
        wsim_note(WSIM_T_CAPTURE_VIOLATIONS, "cuStreamEndCapture returned CUDA_ERROR_STREAM_CAPTURE_INVALIDATED: %s",
                  c->why.c_str());
        delete c->graph;
        *graph = nullptr;
        r = CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    } else {
        g_graphs.insert(c->graph);
        *graph = c->graph;
    }
    delete c;
    return r;
}

CUAPI CUresult cuGraphGetNodes(CUgraph g, CUgraphNode* nodes, size_t* num) {
    ENTER("cuGraphGetNodes");
    if (g_graphs.count(g) == 0) return CUDA_ERROR_INVALID_VALUE;
    if (num == nullptr) return CUDA_ERROR_INVALID_VALUE;
    size_t n = g->handles.size();
    if (nodes != nullptr) {
        for (size_t i = 0; i < *num; i++) nodes[i] = i < n ? g->handles[i].get() : nullptr;
        if (*num > n) *num = n;
    } else {
        *num = n;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph g, unsigned long long flags) {
    ENTER("cuGraphInstantiateWithFlags");
    if (exec == nullptr || g_graphs.count(g) == 0) return CUDA_ERROR_INVALID_VALUE;
    if (flags != 0) {
        wsim_report(WSIM_FAULT_API, "cuGraphInstantiateWithFlags: flags 0x%llx are not supported by the Wengert CUDA simulator",
                    flags);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    CUgraphExec_st* x = new CUgraphExec_st();
    x->nodes = g->nodes;  // the nodes are immutable once captured: the exec shares them, the list is its own
    g_execs.insert(x);
    *exec = x;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphUpload(CUgraphExec x, CUstream h) {
    ENTER("cuGraphUpload");
    if (g_execs.count(x) == 0) return CUDA_ERROR_INVALID_VALUE;
    if (stream_of(h, "cuGraphUpload") == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    return CUDA_SUCCESS;  // nothing to upload: the simulator's graphs live on the host
}

CUAPI CUresult cuGraphLaunch(CUgraphExec x, CUstream h) {
    ENTER("cuGraphLaunch");
    if (g_execs.count(x) == 0) return CUDA_ERROR_INVALID_VALUE;
    CUstream_st* s = stream_of(h, "cuGraphLaunch");
    if (s == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (s->cap != nullptr)
        return VIOLATE(s->cap, CUDA_ERROR_NOT_SUPPORTED, "cuGraphLaunch",
                       "launching a graph into a capturing stream (a child graph node) is not supported by the Wengert "
                       "CUDA simulator");
    if (CUresult e = check_legacy(s, "cuGraphLaunch")) return e;
    count(WSIM_T_GRAPH_LAUNCHES);
    for (const std::shared_ptr<GNode>& np : x->nodes) {
        GNode* n = np.get();
        CUresult r = CUDA_SUCCESS;
        switch (n->type) {
            case GNode::KERNEL: {
                std::vector<void*> params(n->argoff.size());
                for (size_t i = 0; i < params.size(); i++) params[i] = n->argbuf.data() + n->argoff[i];
                r = exec_kernel(n->k, n->grid[0], n->grid[1], n->grid[2], n->block[0], n->block[1], n->block[2], s,
                                params.data(), true);
                break;
            }
            case GNode::COPY:
                r = exec_copy((Kind)n->kind, n->dst, n->src, n->bytes, s, false, n->name, true);
                break;
            case GNode::MEMSET:
                r = exec_memset((CUdeviceptr)n->dst, n->value, n->n, n->width, s, n->name, true);
                break;
            case GNode::HOST_FN:
                count(n->counter);
                if (n->run(n->data.get(), (uint64_t)(uintptr_t)s) != 0) r = CUDA_ERROR_LAUNCH_FAILED;
                break;
            case GNode::EVENT_RECORD:
                if (g_events.count(n->event) == 0) {
                    wsim_report(WSIM_FAULT_API, "cuGraphLaunch: an event recorded in the graph was destroyed before the replay");
                    r = CUDA_ERROR_INVALID_HANDLE;
                    break;
                }
                issue(s);
                n->event->vc = s->vc;
                n->event->recorded = true;
                break;
        }
        if (r != CUDA_SUCCESS) return r;
        // A node that faulted made the context's error sticky: the rest of the graph does not run, and
        // (as the launch is asynchronous on a GPU) the error is returned by the next calls, not this one.
        if (sticky_or_success() != CUDA_SUCCESS) return CUDA_SUCCESS;
    }
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphExecDestroy(CUgraphExec x) {
    ENTER("cuGraphExecDestroy");
    if (g_execs.erase(x) == 0) return CUDA_ERROR_INVALID_VALUE;
    delete x;
    return CUDA_SUCCESS;
}

CUAPI CUresult cuGraphDestroy(CUgraph g) {
    ENTER("cuGraphDestroy");
    if (g_graphs.erase(g) == 0) return CUDA_ERROR_INVALID_VALUE;
    delete g;
    return CUDA_SUCCESS;
}
