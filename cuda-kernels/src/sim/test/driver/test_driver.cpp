// Tests of the simulator's stand-in libcuda.so.1 and libcublas.so.12, through the driver and cuBLAS
// APIs as JCuda calls them: memory checker (planted faults in kernels and copies), stream-hazard
// checker, sticky errors, unimplemented entry points, launch validation, trace counters, out of
// memory, fault-signal chaining, and the reference GEMMs. Each test runs in its own forked child
// (a fault leaves the context sticky, as on a GPU). Prints "N passed, N failed"; exit 1 on failure.
// Options: -v  show the simulator's reports (stderr) and each test's name;  NAME...  run only these.
#include "cuda_min.h"
#include "../../sim.h"

#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

extern "C" {
CUresult cuInit(unsigned);
CUresult cuDriverGetVersion(int*);
CUresult cuDeviceGetCount(int*);
CUresult cuDeviceGet(CUdevice*, int);
CUresult cuDeviceGetName(char*, int, CUdevice);
CUresult cuDeviceGetAttribute(int*, CUdevice_attribute, CUdevice);
CUresult cuDeviceTotalMem_v2(size_t*, CUdevice);
CUresult cuDevicePrimaryCtxRetain(CUcontext*, CUdevice);
CUresult cuCtxSetCurrent(CUcontext);
CUresult cuCtxSynchronize(void);
CUresult cuModuleLoadData(CUmodule*, const void*);
CUresult cuModuleGetFunction(CUfunction*, CUmodule, const char*);
CUresult cuLaunchKernel(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                        void**, void**);
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
CUresult cuMemGetInfo_v2(size_t*, size_t*);
CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr, CUdeviceptr, size_t, CUstream);
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr, const void*, size_t, CUstream);
CUresult cuMemcpyDtoHAsync_v2(void*, CUdeviceptr, size_t, CUstream);
CUresult cuMemAllocHost_v2(void**, size_t);
CUresult cuMemFreeHost(void*);
CUresult cuMemsetD8_v2(CUdeviceptr, unsigned char, size_t);
CUresult cuMemsetD32Async(CUdeviceptr, unsigned, size_t, CUstream);
CUresult cuStreamCreate(CUstream*, unsigned);
CUresult cuStreamSynchronize(CUstream);
CUresult cuStreamDestroy_v2(CUstream);
CUresult cuStreamWaitEvent(CUstream, CUevent, unsigned);
CUresult cuEventCreate(CUevent*, unsigned);
CUresult cuEventRecord(CUevent, CUstream);
CUresult cuEventSynchronize(CUevent);
CUresult cuEventElapsedTime(float*, CUevent, CUevent);
CUresult cuGetErrorName(CUresult, const char**);
CUresult cuMemAllocAsync(CUdeviceptr*, size_t, CUstream);
CUresult cuMemFreeAsync(CUdeviceptr, CUstream);
CUresult cuMemcpy(CUdeviceptr, CUdeviceptr, size_t);
CUresult cuMemGetAddressRange_v2(CUdeviceptr*, size_t*, CUdeviceptr);
CUresult cuStreamQuery(CUstream);
CUresult cuGetErrorString(CUresult, const char**);
CUresult cuMemAllocHost_v2(void**, size_t);
CUresult cuMemFreeHost(void*);
CUresult cuEventQuery(CUevent);
CUresult cuStreamBeginCapture_v2(CUstream, CUstreamCaptureMode);
CUresult cuStreamEndCapture(CUstream, CUgraph*);
CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode*);
CUresult cuGraphInstantiateWithFlags(CUgraphExec*, CUgraph, unsigned long long);
CUresult cuGraphLaunch(CUgraphExec, CUstream);
CUresult cuGraphUpload(CUgraphExec, CUstream);
CUresult cuGraphGetNodes(CUgraph, CUgraphNode*, size_t*);
CUresult cuGraphExecDestroy(CUgraphExec);
CUresult cuGraphDestroy(CUgraph);

typedef struct cublasContext* cublasHandle_t;
int cublasCreate_v2(cublasHandle_t*);
int cublasDestroy_v2(cublasHandle_t);
int cublasSetStream_v2(cublasHandle_t, CUstream);
int cublasSetMathMode(cublasHandle_t, int);
int cublasSetPointerMode_v2(cublasHandle_t, int);
int cublasGetVersion_v2(cublasHandle_t, int*);
int cublasSetWorkspace_v2(cublasHandle_t, void*, size_t);
int cublasSgemm_v2(cublasHandle_t, int, int, int, int, int, const float*, const float*, int, const float*, int,
                   const float*, float*, int);
int cublasDgemm_v2(cublasHandle_t, int, int, int, int, int, const double*, const double*, int, const double*, int,
                   const double*, double*, int);
int cublasSgemmStridedBatched(cublasHandle_t, int, int, int, int, int, const float*, const float*, int, long long,
                              const float*, int, long long, const float*, float*, int, long long, int);
int cublasDgemmStridedBatched(cublasHandle_t, int, int, int, int, int, const double*, const double*, int, long long,
                              const double*, int, long long, const double*, double*, int, long long, int);
}

// ------------------------------------------------------------------ harness

static int g_pass, g_fail;
static bool g_verbose;
static const char* g_test = "";

#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (cond) {                                               \
            g_pass++;                                             \
        } else {                                                  \
            g_fail++;                                             \
            printf("FAIL %s (line %d): ", g_test, __LINE__);      \
            printf(__VA_ARGS__);                                  \
            printf("\n");                                         \
            fflush(stdout);                                       \
        }                                                         \
    } while (0)
#define CU(call) CHECK((call) == CUDA_SUCCESS, "%s failed", #call)

static std::string last_report() {
    char b[4096];
    wsim_last_report(b, sizeof b);
    return b;
}
static bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
static int64_t counter(int c) {
    int64_t v[WSIM_T_COUNT];
    wsim_trace_read(v, WSIM_T_COUNT);
    return v[c];
}

static CUmodule g_mod;
static void setup() {
    CU(cuInit(0));
    CUdevice d;
    CU(cuDeviceGet(&d, 0));
    CUcontext c;
    CU(cuDevicePrimaryCtxRetain(&c, d));
    CU(cuCtxSetCurrent(c));
    static const char image[] = "not a fatbin";
    CU(cuModuleLoadData(&g_mod, image));
}
static CUfunction fn(const char* name) {
    CUfunction f = nullptr;
    CHECK(cuModuleGetFunction(&f, g_mod, name) == CUDA_SUCCESS, "kernel %s not found", name);
    return f;
}
static CUdeviceptr alloc(size_t bytes) {
    CUdeviceptr p = 0;
    CHECK(cuMemAlloc_v2(&p, bytes) == CUDA_SUCCESS, "cuMemAlloc of %zu", bytes);
    return p;
}
// Launches a kernel with arguments given as pointers to their values.
static CUresult launch(const char* name, unsigned grid, unsigned block, CUstream s, std::vector<void*> args) {
    return cuLaunchKernel(fn(name), grid, 1, 1, block, 1, 1, 0, s, args.data(), nullptr);
}

// ------------------------------------------------------------------ memory checker

static void test_oob_kernel_write() {
    setup();
    CUdeviceptr p = alloc(256 * sizeof(float));  // ends exactly at the guard page
    int n = 256;
    CU(launch("wsim_test_oob_write", 2, 256, nullptr, {&p, &n}));  // thread 256 = block 1 thread 0
    std::string r = last_report();
    CHECK(has(r, "invalid write") && has(r, "in kernel wsim_test_oob_write") && has(r, "block (1,0,0), thread (0,0,0)") &&
              has(r, "0 bytes after the end of the 1024-byte allocation"),
          "report: %s", r.c_str());
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 1, "memcheck faults %lld", (long long)counter(WSIM_T_FAULTS_MEMCHECK));
}

static void test_oob_kernel_read() {
    setup();
    CUdeviceptr in = alloc(512 * sizeof(float)), out = alloc(sizeof(float));
    int n = 512;
    CU(launch("wsim_test_oob_read", 4, 128, nullptr, {&in, &out, &n}));  // 512 threads: i <= 511, no fault
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 0, "no fault expected yet: %s", last_report().c_str());
    CU(launch("wsim_test_oob_read", 5, 128, nullptr, {&in, &out, &n}));  // block 4 thread 0 reads in[512]
    std::string r = last_report();
    CHECK(has(r, "invalid read") && has(r, "in kernel wsim_test_oob_read") && has(r, "block (4,0,0), thread (0,0,0)") &&
              has(r, "0 bytes after the end of the 2048-byte allocation"),
          "report: %s", r.c_str());
}

static void test_slack_write() {
    setup();
    CUdeviceptr p = alloc(100 * sizeof(float));  // 400 bytes: the write of p[100] lands in the 256-byte slack
    int n = 100;
    CU(launch("wsim_test_oob_write", 1, 128, nullptr, {&p, &n}));
    std::string r = last_report();
    CHECK(has(r, "kernel wsim_test_oob_write wrote 0 bytes after the end of the 400-byte allocation"), "report: %s",
          r.c_str());
    CHECK(cuCtxSynchronize() == CUDA_ERROR_ILLEGAL_ADDRESS, "sticky after the slack write");
}

static void test_use_after_free_copy() {
    setup();
    CUdeviceptr p = alloc(1024);
    CU(cuMemFree_v2(p));
    float host[16];
    CHECK(cuMemcpyDtoH_v2(host, p + 64, 64) == CUDA_ERROR_ILLEGAL_ADDRESS, "copy from freed memory must fail");
    std::string r = last_report();
    CHECK(has(r, "cuMemcpyDtoH_v2") && has(r, "source range") && has(r, "freed 1024-byte allocation") &&
              has(r, "offset 64"),
          "report: %s", r.c_str());
}

static void test_use_after_free_kernel_arg() {
    setup();
    CUdeviceptr p = alloc(1024);
    CU(cuMemFree_v2(p));
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, nullptr, {&p, &n}));  // the error is the launch's: sticky
    std::string r = last_report();
    CHECK(has(r, "cuLaunchKernel of wsim_test_write: argument 0") && has(r, "freed 1024-byte allocation"), "report: %s",
          r.c_str());
    CHECK(cuStreamSynchronize(nullptr) == CUDA_ERROR_ILLEGAL_ADDRESS, "sticky error at the next sync");
}

static void test_use_after_free_in_kernel() {
    setup();
    CUdeviceptr p = alloc(4096);
    CU(cuMemFree_v2(p));
    long long address = (long long)p;  // a stale address the argument check cannot see
    int n = 64;
    CU(launch("wsim_test_stale_write", 2, 32, nullptr, {&address, &n}));
    std::string r = last_report();
    CHECK(has(r, "invalid write") && has(r, "in the freed 4096-byte allocation") &&
              has(r, "in kernel wsim_test_stale_write, block (0,0,0), thread (") ,
          "report: %s", r.c_str());
}

static void test_wild_pointer_in_kernel() {
    setenv("WENGERT_SIM_STICKY", "0", 1);
    setup();
    long long address = 0;  // NULL
    int n = 1;  // thread 0 writes
    CHECK(launch("wsim_test_stale_write", 1, 32, nullptr, {&address, &n}) == CUDA_ERROR_ILLEGAL_ADDRESS, "NULL");
    CHECK(has(last_report(), "invalid write at 0x0 (not device memory) in kernel wsim_test_stale_write, block (0,0,0), thread (0,0,0)"),
          "report: %s", last_report().c_str());
    address = (long long)0x8000000000000000ULL;  // non-canonical: a general-protection fault without an address
    CHECK(launch("wsim_test_stale_write", 1, 32, nullptr, {&address, &n}) == CUDA_ERROR_ILLEGAL_ADDRESS, "garbage");
    CHECK(has(last_report(), "non-canonical address") && has(last_report(), "in kernel wsim_test_stale_write"),
          "report: %s", last_report().c_str());
}

static void test_copy_across_end() {
    setup();
    CUdeviceptr p = alloc(1000);
    std::vector<char> host(1004, 1);
    CHECK(cuMemcpyHtoD_v2(p, host.data(), 1004) == CUDA_ERROR_ILLEGAL_ADDRESS, "copy across the end must fail");
    std::string r = last_report();
    CHECK(has(r, "cuMemcpyHtoD_v2") && has(r, "destination range") && has(r, "(1004 bytes)") &&
              has(r, "crosses the end of the 1000-byte allocation") && has(r, "by 4 bytes"),
          "report: %s", r.c_str());
}

static void test_copy_not_device_memory() {
    setup();
    std::vector<char> a(64), b(64);
    CHECK(cuMemcpyDtoH_v2(a.data(), (CUdeviceptr)b.data(), 64) == CUDA_ERROR_ILLEGAL_ADDRESS, "host as device");
    CHECK(has(last_report(), "not device memory"), "report: %s", last_report().c_str());
}

static void test_memset_range() {
    setup();
    CUdeviceptr p = alloc(1024);
    CU(cuMemsetD8_v2(p, 7, 1024));
    unsigned char h[1024];
    CU(cuMemcpyDtoH_v2(h, p, 1024));
    CHECK(h[0] == 7 && h[1023] == 7, "memset content");
    CHECK(cuMemsetD32Async(p + 4, 1, 256, nullptr) == CUDA_ERROR_ILLEGAL_ADDRESS, "memset past the end");
    CHECK(has(last_report(), "cuMemsetD32Async") && has(last_report(), "crosses the end of the 1024-byte allocation") &&
              has(last_report(), "by 4 bytes"),
          "report: %s", last_report().c_str());
}

static void test_fresh_memory_filled() {
    setup();
    CUdeviceptr p = alloc(16);
    float h[4];
    CU(cuMemcpyDtoH_v2(h, p, 16));
    CHECK(isnan(h[0]) && isnan(h[3]), "fresh allocations hold NaN (0xFF bytes), not zeros");
}

static void test_async_alloc_and_misc() {
    setenv("WENGERT_SIM_FILL", "0", 1);
    setup();
    CUstream s, t;
    CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CU(cuStreamCreate(&t, CU_STREAM_NON_BLOCKING));
    CUdeviceptr p = 0;
    CU(cuMemAllocAsync(&p, 1024, s));
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, s, {&p, &n}));
    CUdeviceptr base = 0;
    size_t size = 0;
    CU(cuMemGetAddressRange_v2(&base, &size, p + 100));
    CHECK(base == p && size == 1024, "address range");
    std::vector<float> h(256, -1);
    CU(cuStreamSynchronize(s));
    CU(cuMemcpy((CUdeviceptr)h.data(), p, 1024));  // unified addressing: device to host
    CHECK(h[3] == 3.0f, "cuMemcpy D2H: %g", h[3]);
    CU(cuMemFreeAsync(p, s));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 0 && counter(WSIM_T_FREES) == 1 && counter(WSIM_T_HOST_SYNCS) == 2,
          "async free: %lld frees %lld syncs, %s", (long long)counter(WSIM_T_FREES),
          (long long)counter(WSIM_T_HOST_SYNCS), last_report().c_str());
    // allocated on s, used on t without ordering: a hazard
    CU(cuMemAllocAsync(&p, 1024, s));
    CU(launch("wsim_test_write", 1, 256, t, {&p, &n}));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 1 && has(last_report(), "cuMemAllocAsync"), "report: %s",
          last_report().c_str());
    CUdeviceptr z = alloc(64);
    unsigned char zb[64];
    CU(cuMemcpyDtoH_v2(zb, z, 64));
    CHECK(zb[0] == 0 && zb[63] == 0, "WENGERT_SIM_FILL=0: fresh memory is zeroed");
    CU(cuStreamQuery(t));
}

// ------------------------------------------------------------------ sticky errors

static void test_sticky() {
    setup();
    CUdeviceptr p = alloc(1024), q = alloc(64);
    int n = 256;
    CUfunction write = fn("wsim_test_write");
    CU(launch("wsim_test_oob_write", 1, 512, nullptr, {&p, &n}));  // asynchronous: the launch succeeds
    CHECK(cuStreamSynchronize(nullptr) == CUDA_ERROR_ILLEGAL_ADDRESS, "next sync returns the fault");
    CUdeviceptr r;
    CHECK(cuMemAlloc_v2(&r, 64) == CUDA_ERROR_ILLEGAL_ADDRESS, "every later call too");
    CHECK(cuMemcpyHtoD_v2(q, &n, 4) == CUDA_ERROR_ILLEGAL_ADDRESS, "copies too");
    void* args[] = {&q, &n};
    CHECK(cuLaunchKernel(write, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_ILLEGAL_ADDRESS,
          "launches too");
    CUfunction f2;
    CHECK(cuModuleGetFunction(&f2, g_mod, "wsim_test_read") == CUDA_ERROR_ILLEGAL_ADDRESS, "module calls too");
    int v = 0;
    CHECK(cuDriverGetVersion(&v) == CUDA_SUCCESS && v == 13000, "context-free calls still work");
    CHECK(wsim_sticky_error() == CUDA_ERROR_ILLEGAL_ADDRESS, "wsim_sticky_error");
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "cublasCreate");
    float one = 1, zero = 0;
    CHECK(cublasSgemm_v2(h, 0, 0, 4, 4, 4, &one, (float*)q, 4, (float*)q, 4, &zero, (float*)q, 4) == 13,
          "cuBLAS fails after the fault (EXECUTION_FAILED)");
}

static void test_sticky_off() {
    setenv("WENGERT_SIM_STICKY", "0", 1);
    setup();
    CUdeviceptr p = alloc(1024);
    int n = 256;
    CHECK(launch("wsim_test_oob_write", 1, 512, nullptr, {&p, &n}) == CUDA_ERROR_ILLEGAL_ADDRESS,
          "without sticky errors the launch itself fails");
    CU(cuStreamSynchronize(nullptr));
    CU(launch("wsim_test_write", 1, 256, nullptr, {&p, &n}));
    float h[256];
    CU(cuMemcpyDtoH_v2(h, p, sizeof h));
    CHECK(h[255] == 255.0f, "later work runs");
}

// ------------------------------------------------------------------ stream hazards

static void test_race_without_event() {
    setup();
    CUstream a, b;
    CU(cuStreamCreate(&a, CU_STREAM_DEFAULT));
    CU(cuStreamCreate(&b, CU_STREAM_DEFAULT));
    CUdeviceptr x = alloc(1024), y = alloc(1024);
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, a, {&x, &n}));
    CU(launch("wsim_test_read", 1, 256, b, {&x, &y, &n}));
    std::string r = last_report();
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 1 && has(r, "read-after-write hazard") && has(r, "kernel wsim_test_read") &&
              has(r, "kernel wsim_test_write") && has(r, "1024-byte allocation"),
          "report (%lld hazards): %s", (long long)counter(WSIM_T_FAULTS_HAZARD), r.c_str());
    CU(cuCtxSynchronize());  // hazards are not sticky
}

static void test_race_with_event() {
    setup();
    CUstream a, b;
    CU(cuStreamCreate(&a, CU_STREAM_DEFAULT));
    CU(cuStreamCreate(&b, CU_STREAM_DEFAULT));
    CUevent e;
    CU(cuEventCreate(&e, 0));
    CUdeviceptr x = alloc(1024), y = alloc(1024);
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, a, {&x, &n}));
    CU(cuEventRecord(e, a));
    CU(cuStreamWaitEvent(b, e, 0));
    CU(launch("wsim_test_read", 1, 256, b, {&x, &y, &n}));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 0, "no hazard with an event: %s", last_report().c_str());
    // and the reverse direction: b read x, so a's next write needs b's read ordered before it
    CU(launch("wsim_test_write", 1, 256, a, {&x, &n}));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 1 && has(last_report(), "write-after-read hazard"), "report: %s",
          last_report().c_str());
}

static void test_host_sync_orders() {
    setup();
    CUstream a, b;
    CU(cuStreamCreate(&a, CU_STREAM_NON_BLOCKING));
    CU(cuStreamCreate(&b, CU_STREAM_NON_BLOCKING));
    CUdeviceptr x = alloc(1024), y = alloc(1024);
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, a, {&x, &n}));
    CU(cuStreamSynchronize(a));  // the host waits: later work on any stream comes after
    CU(launch("wsim_test_read", 1, 256, b, {&x, &y, &n}));
    CUevent e;
    CU(cuEventCreate(&e, 0));
    CU(cuEventRecord(e, b));
    CU(cuEventSynchronize(e));
    CU(launch("wsim_test_write", 1, 256, a, {&x, &n}));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 0, "host synchronisation orders streams: %s", last_report().c_str());
}

static void test_legacy_stream() {
    setup();
    CUstream blocking, nonblocking;
    CU(cuStreamCreate(&blocking, CU_STREAM_DEFAULT));
    CU(cuStreamCreate(&nonblocking, CU_STREAM_NON_BLOCKING));
    CUdeviceptr x = alloc(1024), z = alloc(1024);
    int n = 256;
    float h[256];
    // A blocking stream and the legacy default stream wait for each other: the synchronous copy is ordered.
    CU(launch("wsim_test_write", 1, 256, blocking, {&x, &n}));
    CU(cuMemcpyDtoH_v2(h, x, sizeof h));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 0 && h[7] == 7.0f, "blocking stream vs legacy: %s", last_report().c_str());
    // A non-blocking stream does not.
    CU(launch("wsim_test_write", 1, 256, nonblocking, {&z, &n}));
    CU(cuMemcpyDtoH_v2(h, z, sizeof h));
    CHECK(counter(WSIM_T_FAULTS_HAZARD) == 1 && has(last_report(), "cuMemcpyDtoH_v2 on the legacy default stream reads"),
          "non-blocking stream vs legacy: %s", last_report().c_str());
}

static void test_gemm_hazard() {
    setup();
    CUstream a, b;
    CU(cuStreamCreate(&a, CU_STREAM_DEFAULT));
    CU(cuStreamCreate(&b, CU_STREAM_DEFAULT));
    CUdeviceptr x = alloc(256 * 4), c = alloc(64 * 4);
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, a, {&x, &n}));
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "cublasCreate");
    CHECK(cublasSetStream_v2(h, b) == 0, "cublasSetStream");
    float one = 1, zero = 0;
    CHECK(cublasSgemm_v2(h, 0, 0, 8, 8, 8, &one, (float*)x, 8, (float*)x, 8, &zero, (float*)c, 8) == 0, "sgemm");
    CHECK(counter(WSIM_T_FAULTS_HAZARD) >= 1 && has(last_report(), "cublasSgemm matrix") &&
              has(last_report(), "kernel wsim_test_write"),
          "report: %s", last_report().c_str());
}

// ------------------------------------------------------------------ API behaviour

static void test_unimplemented() {
    setup();
    typedef int (*anyfn)(void*, unsigned, int);
    anyfn f = (anyfn)dlsym(RTLD_DEFAULT, "cuCtxCreate_v2");
    CHECK(f != nullptr, "cuCtxCreate_v2 is exported");
    if (f) {
        void* ctx;
        CHECK(f(&ctx, 0, 0) == CUDA_ERROR_NOT_SUPPORTED, "stub returns CUDA_ERROR_NOT_SUPPORTED");
        CHECK(has(last_report(), "cuCtxCreate_v2 is not implemented by the Wengert CUDA simulator"), "report: %s",
              last_report().c_str());
    }
    anyfn g = (anyfn)dlsym(RTLD_DEFAULT, "cublasSaxpy_v2");
    CHECK(g != nullptr, "cublasSaxpy_v2 is exported");
    if (g) {
        CHECK(g(nullptr, 0, 0) == 15, "cuBLAS stub returns CUBLAS_STATUS_NOT_SUPPORTED");
        CHECK(has(last_report(), "cublasSaxpy_v2 is not implemented"), "report: %s", last_report().c_str());
    }
    CHECK(counter(WSIM_T_FAULTS_API) == 2, "api faults %lld", (long long)counter(WSIM_T_FAULTS_API));
    CU(cuCtxSynchronize());  // not sticky
    float ms;
    CUevent e;
    CU(cuEventCreate(&e, 0));
    CHECK(cuEventElapsedTime(&ms, e, e) == CUDA_ERROR_NOT_SUPPORTED && has(last_report(), "timings"),
          "no timings from the simulator");
}

static void test_device_queries() {
    CUdeviceptr p;
    CHECK(cuMemAlloc_v2(&p, 16) == CUDA_ERROR_NOT_INITIALIZED, "before cuInit");
    setup();
    int v = 0;
    CU(cuDriverGetVersion(&v));
    CHECK(v == 13000, "driver version %d", v);
    CU(cuDeviceGetCount(&v));
    CHECK(v == 1, "device count %d", v);
    char name[256];
    CU(cuDeviceGetName(name, sizeof name, 0));
    CHECK(strstr(name, "simulator") != nullptr, "name %s", name);
    int major = 0, minor = -1, sms = 0, warp = 0, mt = 0;
    CU(cuDeviceGetAttribute(&major, 75, 0));
    CU(cuDeviceGetAttribute(&minor, 76, 0));
    CU(cuDeviceGetAttribute(&sms, 16, 0));
    CU(cuDeviceGetAttribute(&warp, 10, 0));
    CU(cuDeviceGetAttribute(&mt, 1, 0));
    CHECK(major == 9 && minor == 0 && sms == 2 && warp == 32 && mt == 1024, "attributes %d.%d sms %d warp %d threads %d",
          major, minor, sms, warp, mt);
    CHECK(cuDeviceGetAttribute(&v, 9999, 0) == CUDA_ERROR_INVALID_VALUE, "unknown attribute");
    CHECK(cuDeviceGet((CUdevice*)&v, 1) == CUDA_ERROR_INVALID_DEVICE, "device 1");
    const char* s = nullptr;
    CU(cuGetErrorName(CUDA_ERROR_ILLEGAL_ADDRESS, &s));
    CHECK(s && strcmp(s, "CUDA_ERROR_ILLEGAL_ADDRESS") == 0, "error name");
    CU(cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &s));
    CHECK(s && strcmp(s, "out of memory") == 0, "error string");
    CHECK(cuGetErrorName((CUresult)12345, &s) == CUDA_ERROR_INVALID_VALUE, "unknown error code");
    CUfunction f;
    CHECK(cuModuleGetFunction(&f, g_mod, "no_such_kernel") == CUDA_ERROR_NOT_FOUND, "unknown kernel");
    // a thread without a current context
    CUresult r = CUDA_SUCCESS;
    std::thread t([&] { r = cuMemAlloc_v2(&p, 16); });
    t.join();
    CHECK(r == CUDA_ERROR_INVALID_CONTEXT, "no current context: %d", (int)r);
}

static void test_sms_env() {
    setenv("WENGERT_SIM_SMS", "7", 1);
    setup();
    int sms = 0;
    CU(cuDeviceGetAttribute(&sms, 16, 0));
    CHECK(sms == 7, "WENGERT_SIM_SMS: %d", sms);
}

static void test_launch_validation() {
    setup();
    CUdeviceptr p = alloc(4096);
    int n = 16;
    void* args[] = {&p, &n};
    CUfunction f = fn("wsim_test_write");
    CHECK(cuLaunchKernel(f, 0, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_VALUE, "grid 0");
    CHECK(cuLaunchKernel(f, 1, 1, 1, 32, 0, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_VALUE, "block y 0");
    CHECK(cuLaunchKernel(f, 1, 1, 1, 1025, 1, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_VALUE, "1025 threads");
    CHECK(cuLaunchKernel(f, 1, 1, 1, 64, 32, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_VALUE, "64x32 threads");
    CHECK(cuLaunchKernel(f, 1, 70000, 1, 32, 1, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_VALUE, "grid y");
    CHECK(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 16, nullptr, args, nullptr) == CUDA_ERROR_NOT_SUPPORTED &&
              has(last_report(), "dynamic shared memory"),
          "shared memory");
    void* extra[] = {nullptr};
    CHECK(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, extra) == CUDA_ERROR_NOT_SUPPORTED, "extra");
    CHECK(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, (CUstream)0x1234, args, nullptr) == CUDA_ERROR_INVALID_HANDLE,
          "bad stream");
    CHECK(cuLaunchKernel((CUfunction)&n, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr) == CUDA_ERROR_INVALID_HANDLE,
          "bad function");
    CU(cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, CU_STREAM_LEGACY, args, nullptr));
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 0, "no memcheck faults");
}

static void test_builtin_kernel() {
    setup();
    CUdeviceptr p = alloc(1000 * sizeof(float));
    float v = 2.5f;
    long long n = 1000;
    CU(launch("fill_f32", 2, 256, nullptr, {&p, &v, &n}));
    std::vector<float> h(1000);
    CU(cuMemcpyDtoH_v2(h.data(), p, 4000));
    CHECK(h[0] == 2.5f && h[999] == 2.5f, "fill_f32 through cuLaunchKernel: %g %g", h[0], h[999]);
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 0, "%s", last_report().c_str());
}

static void test_trace() {
    setup();
    wsim_trace_reset();
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_DEFAULT));
    CUdeviceptr a = alloc(1024), b = alloc(1024);
    float h[256] = {0};
    int n = 256;
    CU(cuMemcpyHtoD_v2(a, h, sizeof h));                       // copy H2D + host sync
    CU(launch("wsim_test_write", 1, 256, s, {&a, &n}));          // kernel
    CU(launch("wsim_test_write", 1, 256, s, {&b, &n}));          // kernel
    CU(launch("wsim_test_read", 1, 256, s, {&a, &b, &n}));       // kernel
    CU(cuMemsetD32Async(b, 0, 256, s));                          // memset
    CU(cuMemcpyDtoDAsync_v2(b, a, 1024, s));                     // copy D2D
    void* pinned = nullptr;
    CU(cuMemAllocHost_v2(&pinned, 2048));
    CU(cuMemcpyHtoDAsync_v2(a, pinned, 1024, s));                // copy H2D from pinned memory, no host sync
    CU(cuMemcpyDtoHAsync_v2((char*)pinned + 1024, a, 1024, s));  // copy D2H into pinned memory, no host sync
    CU(cuMemcpyHtoDAsync_v2(a, (char*)pinned + 1536, 1024, s));  // copy H2D across the pinned end: pageable, host sync
    CU(cuMemcpyHtoDAsync_v2(a, h, 1024, s));                     // copy H2D from pageable memory, host sync
    CU(cuMemFreeHost(pinned));
    CU(cuStreamSynchronize(s));                                  // host sync
    CU(cuMemcpyDtoH_v2(h, b, sizeof h));                         // copy D2H + host sync
    cublasHandle_t hb;
    CHECK(cublasCreate_v2(&hb) == 0, "cublasCreate");
    CHECK(cublasSetStream_v2(hb, s) == 0, "cublasSetStream");
    float one = 1, zero = 0;
    CHECK(cublasSgemm_v2(hb, 0, 0, 16, 16, 16, &one, (float*)a, 16, (float*)a, 16, &zero, (float*)b, 16) == 0, "gemm");
    CHECK(counter(WSIM_T_LIVE_ALLOCS) == 2, "live %lld", (long long)counter(WSIM_T_LIVE_ALLOCS));
    CU(cuMemFree_v2(a));                                         // free + host sync
    int64_t v[WSIM_T_COUNT];
    wsim_trace_read(v, WSIM_T_COUNT);
    CHECK(v[WSIM_T_KERNELS] == 3, "kernels %lld", (long long)v[WSIM_T_KERNELS]);
    CHECK(v[WSIM_T_GEMMS] == 1, "gemms %lld", (long long)v[WSIM_T_GEMMS]);
    CHECK(v[WSIM_T_COPY_H2D] == 4, "h2d %lld", (long long)v[WSIM_T_COPY_H2D]);
    CHECK(v[WSIM_T_COPY_D2H] == 2, "d2h %lld", (long long)v[WSIM_T_COPY_D2H]);
    CHECK(v[WSIM_T_COPY_D2D] == 1, "d2d %lld", (long long)v[WSIM_T_COPY_D2D]);
    CHECK(v[WSIM_T_MEMSETS] == 1, "memsets %lld", (long long)v[WSIM_T_MEMSETS]);
    CHECK(v[WSIM_T_HOST_SYNCS] == 6, "host syncs %lld", (long long)v[WSIM_T_HOST_SYNCS]);
    CHECK(v[WSIM_T_ALLOCS] == 2, "allocs %lld", (long long)v[WSIM_T_ALLOCS]);
    CHECK(v[WSIM_T_FREES] == 1, "frees %lld", (long long)v[WSIM_T_FREES]);
    CHECK(v[WSIM_T_LIVE_ALLOCS] == 1, "live %lld", (long long)v[WSIM_T_LIVE_ALLOCS]);
    CHECK(v[WSIM_T_FAULTS_MEMCHECK] + v[WSIM_T_FAULTS_HAZARD] + v[WSIM_T_FAULTS_BARRIER] + v[WSIM_T_FAULTS_API] == 0,
          "faults: %s", last_report().c_str());
    char buf[256];
    int len = wsim_trace_kernels(buf, sizeof buf);
    CHECK(strcmp(buf, "wsim_test_read 1\nwsim_test_write 2\n") == 0 && len == (int)strlen(buf), "kernels: [%s]", buf);
    CHECK(wsim_trace_kernels(buf, 5) == len && strcmp(buf, "wsim") == 0, "truncated: [%s]", buf);
    wsim_trace_reset();
    CHECK(counter(WSIM_T_KERNELS) == 0 && counter(WSIM_T_LIVE_ALLOCS) == 1, "reset keeps live allocations");
    CHECK(wsim_trace_kernels(buf, sizeof buf) == 0 && buf[0] == 0, "reset clears the kernel counts");
}

static void test_out_of_memory() {
    setenv("WENGERT_SIM_MEMORY_MB", "64", 1);
    setup();
    size_t fr = 0, total = 0, t2 = 0;
    CU(cuMemGetInfo_v2(&fr, &total));
    CU(cuDeviceTotalMem_v2(&t2, 0));
    CHECK(total == 64u << 20 && fr == total && t2 == total, "total %zu free %zu", total, fr);
    CUdeviceptr a = alloc(48u << 20), b = 0;
    CHECK(cuMemAlloc_v2(&b, 32u << 20) == CUDA_ERROR_OUT_OF_MEMORY, "beyond the total: out of memory");
    CU(cuMemGetInfo_v2(&fr, &total));
    CHECK(fr == 16u << 20, "free %zu", fr);
    CU(cuMemFree_v2(a));
    CU(cuMemAlloc_v2(&b, 32u << 20));
    CHECK(cuMemAlloc_v2(&a, 0) == CUDA_ERROR_INVALID_VALUE, "zero bytes");
    CHECK(cuMemFree_v2(b + 256) == CUDA_ERROR_INVALID_VALUE, "free of an inner pointer");
    CU(cuMemFree_v2(b));
    CHECK(cuMemFree_v2(b) == CUDA_ERROR_INVALID_VALUE && has(last_report(), "already freed"), "double free");
    CU(cuCtxSynchronize());  // API misuse is not sticky
}

// ------------------------------------------------------------------ fault-signal chaining

static volatile void* g_seen_addr;
static void* g_seen_uc;
static char* g_page;
static void previous_handler(int, siginfo_t* si, void* uc) {  // stands in for the JVM's handler
    g_seen_addr = si->si_addr;
    g_seen_uc = uc;
    mprotect(g_page, 4096, PROT_READ | PROT_WRITE);  // fix the cause and resume, as the JVM does
}

static void test_signal_chaining() {
    g_page = (char*)mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = previous_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, nullptr);
    setup();  // cuInit installs the simulator's handler on top
    struct sigaction now;
    sigaction(SIGSEGV, nullptr, &now);
    CHECK(now.sa_sigaction != previous_handler, "the simulator's handler is installed");
    g_page[100] = 42;  // a fault outside any kernel: must reach the previous handler, which resumes
    CHECK(g_seen_addr == g_page + 100 && g_seen_uc != nullptr && g_page[100] == 42, "chained with siginfo");
    // and a kernel fault is still the simulator's
    CUdeviceptr p = alloc(1024);
    int n = 256;
    g_seen_addr = nullptr;
    CU(launch("wsim_test_oob_write", 2, 256, nullptr, {&p, &n}));
    CHECK(g_seen_addr == nullptr && has(last_report(), "in kernel wsim_test_oob_write"), "kernel fault: %s",
          last_report().c_str());
}

static void test_default_action() {  // with no previous handler a real crash stays a crash
    setup();
    volatile char* bad = (volatile char*)16;
    *bad = 1;
    CHECK(false, "not reached");
}

// ------------------------------------------------------------------ GEMM

template <typename T>
static void ref_gemm(int ta, int tb, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb, T beta,
                     T* C, int ldc, bool tf) {
    auto r = [&](T v) -> T {
        if (!tf) return v;
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        u = (u + 0xfff + ((u >> 13) & 1)) & ~0x1fffu;
        memcpy(&f, &u, 4);
        return (T)f;
    };
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            T s = 0;
            for (int l = 0; l < k; l++) {
                T a = ta ? A[l + i * lda] : A[i + l * lda];
                T b = tb ? B[j + l * ldb] : B[l + j * ldb];
                s += r(a) * r(b);
            }
            C[i + j * ldc] = beta == 0 ? alpha * s : alpha * s + beta * C[i + j * ldc];
        }
}

template <typename T>
static int gemm_call(cublasHandle_t h, int ta, int tb, int m, int n, int k, const T* al, const T* A, int lda,
                     const T* B, int ldb, const T* be, T* C, int ldc);
template <>
int gemm_call<float>(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float* al, const float* A, int lda,
                     const float* B, int ldb, const float* be, float* C, int ldc) {
    return cublasSgemm_v2(h, ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc);
}
template <>
int gemm_call<double>(cublasHandle_t h, int ta, int tb, int m, int n, int k, const double* al, const double* A,
                      int lda, const double* B, int ldb, const double* be, double* C, int ldc) {
    return cublasDgemm_v2(h, ta, tb, m, n, k, al, A, lda, B, ldb, be, C, ldc);
}

template <typename T>
static CUdeviceptr upload(const std::vector<T>& v) {
    CUdeviceptr p = alloc(v.size() * sizeof(T));
    CU(cuMemcpyHtoD_v2(p, v.data(), v.size() * sizeof(T)));
    return p;
}
template <typename T>
static std::vector<T> download(CUdeviceptr p, size_t n) {
    std::vector<T> v(n);
    CU(cuMemcpyDtoH_v2(v.data(), p, n * sizeof(T)));
    return v;
}

template <typename T>
static void gemm_case(cublasHandle_t h, int ta, int tb, int m, int n, int k, T alpha, T beta) {
    int lda = (ta ? k : m) + 3, ldb = (tb ? n : k) + 2, ldc = m + 5;
    std::vector<T> A((size_t)lda * (ta ? m : k)), B((size_t)ldb * (tb ? k : n)), C((size_t)ldc * n);
    unsigned seed = 12345u + ta * 7 + tb * 3 + m;
    auto rnd = [&] {
        seed = seed * 1103515245u + 12345u;
        return (T)((int)(seed >> 16) % 2001 - 1000) / (T)(997 + (seed % 13));
    };
    for (auto& x : A) x = rnd();
    for (auto& x : B) x = rnd();
    for (auto& x : C) x = rnd();
    CUdeviceptr dA = upload(A), dB = upload(B), dC = upload(C);
    int s = gemm_call<T>(h, ta, tb, m, n, k, &alpha, (const T*)dA, lda, (const T*)dB, ldb, &beta, (T*)dC, ldc);
    CHECK(s == 0, "gemm status %d", s);
    std::vector<T> got = download<T>(dC, C.size()), want = C;
    ref_gemm<T>(ta, tb, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, want.data(), ldc, false);
    size_t bad = 0;
    for (size_t i = 0; i < want.size(); i++) bad += memcmp(&got[i], &want[i], sizeof(T)) != 0;
    CHECK(bad == 0, "%s gemm ta=%d tb=%d %dx%dx%d: %zu elements differ (padding included)", sizeof(T) == 4 ? "S" : "D",
          ta, tb, m, n, k, bad);
}

static void test_gemm_transposes() {
    setup();
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "create");
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            gemm_case<float>(h, ta, tb, 7, 9, 11, 1.0f, 0.0f);
            gemm_case<float>(h, ta, tb, 13, 5, 6, 0.5f, 2.0f);
            gemm_case<double>(h, ta, tb, 7, 9, 11, 1.0, 0.0);
            gemm_case<double>(h, ta, tb, 6, 13, 17, -1.5, 1.0);
        }
    gemm_case<float>(h, 2, 0, 4, 4, 4, 1.0f, 0.0f);  // CUBLAS_OP_C is OP_T for real types
    int v = 0;
    CHECK(cublasGetVersion_v2(h, &v) == 0 && v / 10000 == 12, "version %d", v);
    CHECK(cublasDestroy_v2(h) == 0, "destroy");
}

static void test_gemm_strided_batched() {
    setup();
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "create");
    const int m = 5, n = 4, k = 3, batch = 3;
    // A shared by every batch (stride 0), B and C strided with gaps.
    long long sb = k * n + 2, sc = m * n + 3;
    std::vector<double> A(m * k), B(sb * batch), C(sc * batch, 7.0);
    for (size_t i = 0; i < A.size(); i++) A[i] = (double)i * 0.25 - 1;
    for (size_t i = 0; i < B.size(); i++) B[i] = (double)(i % 7) - 3;
    CUdeviceptr dA = upload(A), dB = upload(B), dC = upload(C);
    double one = 1, zero = 0;
    CHECK(cublasDgemmStridedBatched(h, 0, 0, m, n, k, &one, (double*)dA, m, 0, (double*)dB, k, sb, &zero, (double*)dC,
                                    m, sc, batch) == 0,
          "dgemm strided batched");
    std::vector<double> got = download<double>(dC, C.size()), want = C;
    for (int q = 0; q < batch; q++)
        ref_gemm<double>(0, 0, m, n, k, 1.0, A.data(), m, B.data() + q * sb, k, 0.0, want.data() + q * sc, m, false);
    CHECK(memcmp(got.data(), want.data(), got.size() * 8) == 0, "batched result (gaps untouched)");
    // float, transposed
    std::vector<float> fa(k * m * batch), fb(n * k * batch), fc(m * n * batch, 0);
    for (size_t i = 0; i < fa.size(); i++) fa[i] = (float)((i * 37) % 11) - 5;
    for (size_t i = 0; i < fb.size(); i++) fb[i] = (float)((i * 13) % 7) * 0.5f;
    CUdeviceptr ga = upload(fa), gb = upload(fb), gc = upload(fc);
    float fone = 1, fzero = 0;
    CHECK(cublasSgemmStridedBatched(h, 1, 1, m, n, k, &fone, (float*)ga, k, k * m, (float*)gb, n, n * k, &fzero,
                                    (float*)gc, m, m * n, batch) == 0,
          "sgemm strided batched");
    std::vector<float> fgot = download<float>(gc, fc.size()), fwant = fc;
    for (int q = 0; q < batch; q++)
        ref_gemm<float>(1, 1, m, n, k, 1.0f, fa.data() + q * k * m, k, fb.data() + q * n * k, n, 0.0f,
                        fwant.data() + q * m * n, m, false);
    CHECK(memcmp(fgot.data(), fwant.data(), fgot.size() * 4) == 0, "float batched result");
    // the batch's extent is checked: one matrix too many for C
    CHECK(cublasSgemmStridedBatched(h, 1, 1, m, n, k, &fone, (float*)ga, k, k * m, (float*)gb, n, n * k, &fzero,
                                    (float*)gc, m, m * n + 1, batch) == 13 &&
              has(last_report(), "cublasSgemm matrix C") && has(last_report(), "crosses the end"),
          "batched C out of bounds: %s", last_report().c_str());
}

static void test_gemm_beta_zero_nan() {
    setup();
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "create");
    std::vector<float> A(4, 1.0f), B(4, 2.0f), C(4, NAN);
    CUdeviceptr dA = upload(A), dB = upload(B), dC = upload(C);
    float one = 1, zero = 0;
    CHECK(cublasSgemm_v2(h, 0, 0, 2, 2, 2, &one, (float*)dA, 2, (float*)dB, 2, &zero, (float*)dC, 2) == 0, "sgemm");
    std::vector<float> got = download<float>(dC, 4);
    CHECK(got[0] == 4.0f && got[3] == 4.0f, "beta = 0 ignores NaN in C: %g", got[0]);
    // alpha = 0, beta = 1: nothing changes and A / B are not read (even if they are garbage pointers)
    CHECK(cublasSgemm_v2(h, 0, 0, 2, 2, 2, &zero, (float*)16, 2, (float*)16, 2, &one, (float*)dC, 2) == 0, "alpha 0");
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 0, "%s", last_report().c_str());
}

static void test_gemm_tf32() {
    setup();
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "create");
    // 1 + 2^-12 rounds to 1; 1 + 2^-11 is a tie and rounds to even (1); 1 + 3 * 2^-11 rounds up to 1 + 2^-9.
    std::vector<float> A = {1.0f + ldexpf(1, -12), 1.0f + ldexpf(1, -11), 1.0f + 3 * ldexpf(1, -11)};
    std::vector<float> B = {1.0f}, C(3, 0);
    CUdeviceptr dA = upload(A), dB = upload(B), dC = upload(C);
    float one = 1, zero = 0;
    CHECK(cublasSgemm_v2(h, 0, 0, 3, 1, 1, &one, (float*)dA, 3, (float*)dB, 1, &zero, (float*)dC, 3) == 0, "fp32");
    std::vector<float> got = download<float>(dC, 3);
    CHECK(got == A, "default math is exact float32");
    CHECK(cublasSetMathMode(h, 3) == 0, "CUBLAS_TF32_TENSOR_OP_MATH");
    CHECK(cublasSgemm_v2(h, 0, 0, 3, 1, 1, &one, (float*)dA, 3, (float*)dB, 1, &zero, (float*)dC, 3) == 0, "tf32");
    got = download<float>(dC, 3);
    CHECK(got[0] == 1.0f && got[1] == 1.0f && got[2] == 1.0f + ldexpf(1, -9), "tf32 rounding: %.10g %.10g %.10g", got[0],
          got[1], got[2]);
    // double is never rounded
    std::vector<double> dAv = {1.0 + ldexp(1, -12)}, dBv = {1.0}, dCv = {0};
    CUdeviceptr xA = upload(dAv), xB = upload(dBv), xC = upload(dCv);
    double done = 1, dzero = 0;
    CHECK(cublasDgemm_v2(h, 0, 0, 1, 1, 1, &done, (double*)xA, 1, (double*)xB, 1, &dzero, (double*)xC, 1) == 0, "d");
    CHECK(download<double>(xC, 1)[0] == dAv[0], "double unaffected by TF32 mode");
    CHECK(cublasSetMathMode(h, 99) == 7, "invalid math mode");
}

static void test_gemm_invalid() {
    setup();
    cublasHandle_t h;
    CHECK(cublasCreate_v2(&h) == 0, "create");
    CUdeviceptr p = alloc(4096);
    float* f = (float*)p;
    float one = 1, zero = 0;
    CHECK(cublasSgemm_v2(h, 0, 0, -1, 4, 4, &one, f, 4, f, 4, &zero, f, 4) == 7, "m < 0");
    CHECK(cublasSgemm_v2(h, 0, 0, 4, 4, -1, &one, f, 4, f, 4, &zero, f, 4) == 7, "k < 0");
    CHECK(cublasSgemm_v2(h, 0, 0, 4, 4, 4, &one, f, 3, f, 4, &zero, f, 4) == 7, "lda < m");
    CHECK(cublasSgemm_v2(h, 1, 0, 4, 4, 5, &one, f, 4, f, 5, &zero, f, 4) == 7, "lda < k for op T");
    CHECK(cublasSgemm_v2(h, 0, 0, 4, 4, 5, &one, f, 4, f, 4, &zero, f, 4) == 7, "ldb < k");
    CHECK(cublasSgemm_v2(h, 0, 1, 4, 6, 4, &one, f, 4, f, 5, &zero, f, 4) == 7, "ldb < n for op T");
    CHECK(cublasSgemm_v2(h, 0, 0, 4, 4, 4, &one, f, 4, f, 4, &zero, f, 3) == 7, "ldc < m");
    CHECK(cublasSgemm_v2(h, 0, 0, 0, 4, 4, &one, f, 1, f, 4, &zero, f, 1) == 0, "m = 0 with ld 1 is fine");
    CHECK(cublasSgemm_v2(h, 5, 0, 4, 4, 4, &one, f, 4, f, 4, &zero, f, 4) == 7, "bad transa");
    CHECK(cublasSgemmStridedBatched(h, 0, 0, 4, 4, 4, &one, f, 4, 16, f, 4, 16, &zero, f, 4, 16, -1) == 7, "batch < 0");
    CHECK(cublasSgemm_v2(nullptr, 0, 0, 4, 4, 4, &one, f, 4, f, 4, &zero, f, 4) == 1, "no handle");
    CHECK(cublasSetPointerMode_v2(h, 1) == 15 && has(last_report(), "POINTER_MODE_DEVICE"), "device pointer mode");
    CHECK(cublasSgemm_v2(h, 0, 0, 33, 33, 33, &one, f, 33, f, 33, &zero, f, 33) == 13 &&
              has(last_report(), "cublasSgemm matrix A") && has(last_report(), "crosses the end of the 4096-byte"),
          "operand out of bounds: %s", last_report().c_str());
}

// ------------------------------------------------------------------ main

struct Test {
    const char* name;
    void (*fn)();
    bool crashes;  // expected to die of SIGSEGV
};

// ------------------------------------------------------------------ CUDA graphs (stream capture)

static std::string last_note() {
    char b[4096];
    wsim_last_note(b, sizeof b);
    return b;
}

static int faults() {
    return (int)(counter(WSIM_T_FAULTS_MEMCHECK) + counter(WSIM_T_FAULTS_HAZARD) + counter(WSIM_T_FAULTS_BARRIER) +
                 counter(WSIM_T_FAULTS_API));
}

// One "training step" of n floats: x = host input (async H2D from pinned memory), y = 2x, acc += y
// (in place, so every step depends on the last), y = sqrt(acc) elementwise (unary), a memset and a D2D
// copy into `out`.
static void step(CUstream s, const float* pinned, CUdeviceptr x, CUdeviceptr y, CUdeviceptr acc, CUdeviceptr out,
                 int n) {
    long long nn = n;
    int add = 0, sqrt_op = 3;
    CUdeviceptr nullerr = 0;
    CU(cuMemcpyHtoDAsync_v2(x, pinned, n * sizeof(float), s));
    CU(launch("wsim_test_read", (n + 127) / 128, 128, s, {&x, &y, &n}));
    CU(launch("binary_same_f32", (n + 127) / 128, 128, s, {&add, &acc, &y, &acc, &nn, &nullerr}));
    CU(launch("unary_f32", (n + 127) / 128, 128, s, {&sqrt_op, &acc, &y, &nn}));
    CU(cuMemsetD32Async(out, 0, n, s));
    CU(cuMemcpyDtoDAsync_v2(out, y, n * sizeof(float), s));
}

static void test_graph_replay_equals_eager() {
    setup();
    const int n = 1000, steps = 5;  // not a multiple of the block
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_DEFAULT));
    float* pinned = nullptr;
    CU(cuMemAllocHost_v2((void**)&pinned, n * sizeof(float)));
    CUdeviceptr x = alloc(n * 4), y = alloc(n * 4), acc = alloc(n * 4), out = alloc(n * 4);
    auto input = [&](int t) {
        for (int i = 0; i < n; i++) pinned[i] = 0.37f * (float)(i % 17) + 0.11f * (float)t;
    };
    // eager
    std::vector<std::vector<float>> eager;
    CU(cuMemsetD32Async(acc, 0, n, s));
    for (int t = 0; t < steps; t++) {
        input(t);
        step(s, pinned, x, y, acc, out, n);
        CU(cuStreamSynchronize(s));
        std::vector<float> h(n);
        CU(cuMemcpyDtoH_v2(h.data(), out, n * 4));
        eager.push_back(h);
    }
    // captured once, replayed `steps` times
    CU(cuMemsetD32Async(acc, 0, n, s));
    CU(cuStreamSynchronize(s));
    wsim_trace_reset();
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    step(s, pinned, x, y, acc, out, n);
    CUgraph g = nullptr;
    CU(cuStreamEndCapture(s, &g));
    CHECK(g != nullptr, "a graph");
    CHECK(counter(WSIM_T_KERNELS) == 0 && counter(WSIM_T_COPY_H2D) == 0 && counter(WSIM_T_MEMSETS) == 0,
          "a capture runs nothing: %lld kernels", (long long)counter(WSIM_T_KERNELS));
    CHECK(counter(WSIM_T_CAPTURED_NODES) == 6, "6 nodes captured: %lld", (long long)counter(WSIM_T_CAPTURED_NODES));
    size_t nn = 0;
    CU(cuGraphGetNodes(g, nullptr, &nn));
    CHECK(nn == 6, "cuGraphGetNodes: %zu", nn);
    CUgraphExec ex = nullptr;
    CU(cuGraphInstantiateWithFlags(&ex, g, 0));
    CU(cuGraphDestroy(g));  // the exec keeps its own copy
    CU(cuGraphUpload(ex, s));
    for (int t = 0; t < steps; t++) {
        input(t);
        CU(cuGraphLaunch(ex, s));
        CU(cuStreamSynchronize(s));
        std::vector<float> h(n);
        CU(cuMemcpyDtoH_v2(h.data(), out, n * 4));
        CHECK(memcmp(h.data(), eager[t].data(), n * 4) == 0, "step %d: replay differs from eager (%g vs %g)", t,
              h[n - 1], eager[t][n - 1]);
    }
    CHECK(counter(WSIM_T_GRAPH_LAUNCHES) == steps, "graph launches %lld", (long long)counter(WSIM_T_GRAPH_LAUNCHES));
    CHECK(counter(WSIM_T_GRAPH_KERNELS) == 3 * steps, "kernels inside %lld", (long long)counter(WSIM_T_GRAPH_KERNELS));
    CHECK(counter(WSIM_T_GRAPH_COPIES) == 2 * steps, "copies inside %lld", (long long)counter(WSIM_T_GRAPH_COPIES));
    CHECK(counter(WSIM_T_GRAPH_MEMSETS) == steps, "memsets inside %lld", (long long)counter(WSIM_T_GRAPH_MEMSETS));
    CHECK(counter(WSIM_T_KERNELS) == 0 && counter(WSIM_T_COPY_H2D) == 0, "host-issued counters unchanged by replays");
    CHECK(counter(WSIM_T_ALLOCS) == 0, "no allocation in a replay");
    CU(cuGraphExecDestroy(ex));
    CHECK(cuGraphExecDestroy(ex) == CUDA_ERROR_INVALID_VALUE, "destroyed twice");
    CHECK(faults() == 0, "%s", last_report().c_str());
}

// A captured H2D copy keeps the host pointer: a replay copies what is there at replay time.
static void test_graph_rereads_pinned_memory() {
    setup();
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    float* pinned = nullptr;
    CU(cuMemAllocHost_v2((void**)&pinned, 64 * sizeof(float)));
    CUdeviceptr d = alloc(256);
    pinned[0] = 1.0f;
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CU(cuMemcpyHtoDAsync_v2(d, pinned, 256, s));
    CUgraph g = nullptr;
    CU(cuStreamEndCapture(s, &g));
    CUgraphExec ex = nullptr;
    CU(cuGraphInstantiateWithFlags(&ex, g, 0));
    float h = 0;
    CU(cuMemcpyDtoH_v2(&h, d, 4));
    CHECK(h != 1.0f, "the capture copied nothing (fresh memory is NaN): %g", h);
    for (float v : {2.0f, 7.5f}) {
        pinned[0] = v;
        CU(cuGraphLaunch(ex, s));
        CU(cuStreamSynchronize(s));
        CU(cuMemcpyDtoH_v2(&h, d, 4));
        CHECK(h == v, "the replay read the pinned buffer as it is now: %g, expected %g", h, v);
    }
    // pageable memory cannot be captured
    std::vector<float> pageable(64);
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cuMemcpyHtoDAsync_v2(d, pageable.data(), 256, s) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "pageable copy");
    CHECK(has(last_note(), "pageable"), "note: %s", last_note().c_str());
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED && g == nullptr, "invalidated");
    CHECK(faults() == 0, "%s", last_report().c_str());
}

static void test_graph_sync_invalidates() {
    setup();
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_DEFAULT));
    CUdeviceptr a = alloc(1024);
    int n = 256;
    wsim_trace_reset();
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CU(launch("wsim_test_write", 1, 256, s, {&a, &n}));
    CHECK(cuStreamSynchronize(s) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "sync of the capturing stream");
    CHECK(has(last_note(), "cuStreamSynchronize returned CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"), "note: %s",
          last_note().c_str());
    CHECK(launch("wsim_test_write", 1, 256, s, {&a, &n}) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
          "later work on an invalidated capture fails");
    CUgraph g = (CUgraph)1;
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED && g == nullptr, "end: invalidated");
    CHECK(has(last_note(), "INVALIDATED: cuStreamSynchronize returned"), "end names the call: %s", last_note().c_str());
    CHECK(counter(WSIM_T_CAPTURE_VIOLATIONS) == 2, "violations %lld", (long long)counter(WSIM_T_CAPTURE_VIOLATIONS));
    CU(cuStreamSynchronize(s));  // usable again
    // a synchronous copy (legacy stream, a host sync) inside a capture
    float h[4];
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cuMemcpyDtoH_v2(h, a, 16) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "synchronous copy");
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by the copy");
    // cuCtxSynchronize, cuEventQuery of an event recorded in the capture, legacy-stream work
    CUevent e;
    CU(cuEventCreate(&e, 0));
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_RELAXED));
    CU(cuEventRecord(e, s));
    CU(cuStreamWaitEvent(s, e, 0));  // the linear case
    CHECK(cuEventQuery(e) == CUDA_ERROR_CAPTURED_EVENT, "query of a captured event");
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by the query");
    CU(cuEventQuery(e));  // after the capture: fine
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(launch("wsim_test_write", 1, 256, nullptr, {&a, &n}) == CUDA_ERROR_STREAM_CAPTURE_IMPLICIT,
          "legacy-stream work while a blocking stream captures");
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by legacy work");
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cuCtxSynchronize() == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "context sync");
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by cuCtxSynchronize");
    CHECK(cuStreamBeginCapture_v2(nullptr, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
          "the legacy stream cannot be captured");
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_ILLEGAL_STATE, "end without begin");
    // a fork into another stream is reported as not supported, by name
    CUstream other;
    CU(cuStreamCreate(&other, CU_STREAM_NON_BLOCKING));
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CU(cuEventRecord(e, s));
    CHECK(cuStreamWaitEvent(other, e, 0) == CUDA_ERROR_NOT_SUPPORTED && has(last_note(), "cuStreamWaitEvent"),
          "fork: %s", last_note().c_str());
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by the fork");
    CU(cuStreamBeginCapture_v2(other, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cuStreamDestroy_v2(other) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "destroying a capturing stream");
    CHECK(cuStreamEndCapture(other, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by the destroy");
    CU(cuStreamDestroy_v2(other));
    CHECK(faults() == 0, "no fault: the program was told by error codes: %s", last_report().c_str());
}

static void test_graph_alloc_modes() {
    setup();
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CUdeviceptr p = 0;
    CUgraph g = nullptr;
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cuMemAlloc_v2(&p, 1024) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuMemAlloc in GLOBAL mode");
    CHECK(has(last_note(), "cuMemAlloc_v2 returned CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"), "note: %s",
          last_note().c_str());
    CHECK(cuStreamEndCapture(s, &g) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by cuMemAlloc");
    // the same in RELAXED thread mode, as PyTorch's caching allocator does it
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
    CU(cuThreadExchangeStreamCaptureMode(&mode));
    CHECK(mode == CU_STREAM_CAPTURE_MODE_GLOBAL, "the previous mode is returned: %d", (int)mode);
    CU(cuMemAlloc_v2(&p, 1024));
    CU(cuThreadExchangeStreamCaptureMode(&mode));
    CHECK(mode == CU_STREAM_CAPTURE_MODE_RELAXED, "restored");
    int n = 256;
    CU(launch("wsim_test_write", 1, 256, s, {&p, &n}));
    CU(cuStreamEndCapture(s, &g));
    CHECK(g != nullptr, "valid graph");
    // another thread in GLOBAL mode is refused too while a GLOBAL capture is under way; THREAD_LOCAL is not
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CUresult other_global = CUDA_SUCCESS, other_local = CUDA_SUCCESS;
    CUcontext ctx;
    CU(cuDevicePrimaryCtxRetain(&ctx, 0));
    std::thread([&] {
        cuCtxSetCurrent(ctx);
        CUdeviceptr q = 0;
        other_global = cuMemAlloc_v2(&q, 256);
        CUstreamCaptureMode m = CU_STREAM_CAPTURE_MODE_THREAD_LOCAL;
        cuThreadExchangeStreamCaptureMode(&m);
        other_local = cuMemAlloc_v2(&q, 256);
    }).join();
    CHECK(other_global == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "another GLOBAL thread: %d", (int)other_global);
    CHECK(other_local == CUDA_SUCCESS, "another THREAD_LOCAL thread: %d", (int)other_local);
    CUgraph g2 = nullptr;
    CHECK(cuStreamEndCapture(s, &g2) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "invalidated by the other thread");
    CUgraphExec ex;
    CU(cuGraphInstantiateWithFlags(&ex, g, 0));
    wsim_trace_reset();
    CU(cuGraphLaunch(ex, s));
    CU(cuStreamSynchronize(s));
    CHECK(counter(WSIM_T_ALLOCS) == 0 && counter(WSIM_T_GRAPH_KERNELS) == 1, "replay: no allocation, 1 kernel");
    float h = 0;
    CU(cuMemcpyDtoH_v2(&h, p + 4 * 255, 4));
    CHECK(h == 255.0f, "the replayed kernel wrote the relaxed-mode allocation: %g", h);
    CHECK(faults() == 0, "%s", last_report().c_str());
}

static void test_graph_gemm() {
    setup();
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_DEFAULT));  // ordered after the legacy stream's memsets
    cublasHandle_t hb;
    CHECK(cublasCreate_v2(&hb) == 0, "cublasCreate");
    CHECK(cublasSetStream_v2(hb, s) == 0, "cublasSetStream");
    const int m = 33, k = 17, n = 5;
    std::vector<float> A(m * k), B(k * n);
    for (int i = 0; i < m * k; i++) A[i] = 0.25f * (float)((i * 7) % 13) - 1.0f;
    for (int i = 0; i < k * n; i++) B[i] = 0.5f * (float)((i * 5) % 11) - 2.0f;
    CUdeviceptr a = upload(A), b = upload(B), c1 = alloc(m * n * 4), c2 = alloc(m * n * 4);
    CU(cuMemsetD8_v2(c1, 0, m * n * 4));
    CU(cuMemsetD8_v2(c2, 0, m * n * 4));
    float alpha = 1.5f, beta = 1.0f;  // accumulates: every run changes C
    for (int t = 0; t < 3; t++)
        CHECK(cublasSgemm_v2(hb, 0, 0, m, n, k, &alpha, (float*)a, m, (float*)b, k, &beta, (float*)c1, m) == 0, "eager");
    // without a workspace: captured, with a warning
    wsim_trace_reset();
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cublasSgemm_v2(hb, 0, 0, m, n, k, &alpha, (float*)a, m, (float*)b, k, &beta, (float*)c2, m) == 0, "captured");
    CUgraph g0 = nullptr;
    CU(cuStreamEndCapture(s, &g0));
    CHECK(counter(WSIM_T_WARNINGS) == 1 && has(last_note(), "cublasSetWorkspace_v2"), "warning: %s", last_note().c_str());
    CU(cuGraphDestroy(g0));
    // with a workspace
    CUdeviceptr ws = alloc(1 << 20);
    CHECK(cublasSetWorkspace_v2(hb, (void*)(ws + 8), 1024) == 7, "a misaligned workspace is refused");
    CHECK(cublasSetWorkspace_v2(hb, (void*)ws, 2 << 20) == 7, "a workspace beyond its allocation is refused");
    CHECK(cublasSetWorkspace_v2(hb, (void*)ws, 1 << 20) == 0, "workspace");
    wsim_trace_reset();
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CHECK(cublasSgemm_v2(hb, 0, 0, m, n, k, &alpha, (float*)a, m, (float*)b, k, &beta, (float*)c2, m) == 0, "captured");
    alpha = 100.0f;  // host-mode scalars were read at the capture
    CUgraph g = nullptr;
    CU(cuStreamEndCapture(s, &g));
    CHECK(counter(WSIM_T_GEMMS) == 0 && counter(WSIM_T_WARNINGS) == 0, "captured, not run; no warning");
    CUgraphExec ex;
    CU(cuGraphInstantiateWithFlags(&ex, g, 0));
    for (int t = 0; t < 3; t++) CU(cuGraphLaunch(ex, s));
    CU(cuStreamSynchronize(s));
    CHECK(counter(WSIM_T_GRAPH_GEMMS) == 3 && counter(WSIM_T_GEMMS) == 0, "gemms inside %lld",
          (long long)counter(WSIM_T_GRAPH_GEMMS));
    std::vector<float> e = download<float>(c1, m * n), r = download<float>(c2, m * n);
    CHECK(memcmp(e.data(), r.data(), m * n * 4) == 0, "replayed GEMMs equal eager ones bit for bit: %g vs %g", r[0], e[0]);
    CHECK(cublasDestroy_v2(hb) == 0, "destroy");
    CU(cuGraphLaunch(ex, s));  // the graph owns its GEMM's arguments: the handle may be gone
    CU(cuStreamSynchronize(s));
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) + counter(WSIM_T_FAULTS_HAZARD) == 0, "%s", last_report().c_str());
}

// The memory checker still runs in a replay: an allocation freed after the capture is caught.
static void test_graph_use_after_free() {
    setup();
    CUstream s;
    CU(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CUdeviceptr a = alloc(1024), b = alloc(1024);
    int n = 256;
    CU(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    CU(launch("wsim_test_read", 1, 256, s, {&a, &b, &n}));
    CUgraph g = nullptr;
    CU(cuStreamEndCapture(s, &g));
    CUgraphExec ex;
    CU(cuGraphInstantiateWithFlags(&ex, g, 0));
    CU(cuGraphLaunch(ex, s));
    CU(cuStreamSynchronize(s));
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 0, "a valid replay: %s", last_report().c_str());
    CU(cuMemFree_v2(a));
    CU(cuGraphLaunch(ex, s));  // the error is the launch's, sticky
    CHECK(counter(WSIM_T_FAULTS_MEMCHECK) == 1, "use-after-free in a replay caught");
    CHECK(has(last_report(), "a graph replay's launch of wsim_test_read: argument 0") && has(last_report(), "freed"),
          "report: %s", last_report().c_str());
    CHECK(cuStreamSynchronize(s) == CUDA_ERROR_ILLEGAL_ADDRESS, "sticky after the replay's fault");
}

static const Test tests[] = {
    {"oob_kernel_write", test_oob_kernel_write, false},
    {"oob_kernel_read", test_oob_kernel_read, false},
    {"slack_write", test_slack_write, false},
    {"use_after_free_copy", test_use_after_free_copy, false},
    {"use_after_free_kernel_arg", test_use_after_free_kernel_arg, false},
    {"use_after_free_in_kernel", test_use_after_free_in_kernel, false},
    {"wild_pointer_in_kernel", test_wild_pointer_in_kernel, false},
    {"copy_across_end", test_copy_across_end, false},
    {"copy_not_device_memory", test_copy_not_device_memory, false},
    {"memset_range", test_memset_range, false},
    {"fresh_memory_filled", test_fresh_memory_filled, false},
    {"async_alloc_and_misc", test_async_alloc_and_misc, false},
    {"sticky", test_sticky, false},
    {"sticky_off", test_sticky_off, false},
    {"race_without_event", test_race_without_event, false},
    {"race_with_event", test_race_with_event, false},
    {"host_sync_orders", test_host_sync_orders, false},
    {"legacy_stream", test_legacy_stream, false},
    {"gemm_hazard", test_gemm_hazard, false},
    {"unimplemented", test_unimplemented, false},
    {"device_queries", test_device_queries, false},
    {"sms_env", test_sms_env, false},
    {"launch_validation", test_launch_validation, false},
    {"builtin_kernel", test_builtin_kernel, false},
    {"trace", test_trace, false},
    {"out_of_memory", test_out_of_memory, false},
    {"signal_chaining", test_signal_chaining, false},
    {"default_action", test_default_action, true},
    {"gemm_transposes", test_gemm_transposes, false},
    {"gemm_strided_batched", test_gemm_strided_batched, false},
    {"gemm_beta_zero_nan", test_gemm_beta_zero_nan, false},
    {"gemm_tf32", test_gemm_tf32, false},
    {"gemm_invalid", test_gemm_invalid, false},
    {"graph_replay_equals_eager", test_graph_replay_equals_eager, false},
    {"graph_rereads_pinned_memory", test_graph_rereads_pinned_memory, false},
    {"graph_sync_invalidates", test_graph_sync_invalidates, false},
    {"graph_alloc_modes", test_graph_alloc_modes, false},
    {"graph_gemm", test_graph_gemm, false},
    {"graph_use_after_free", test_graph_use_after_free, false},
};

int main(int argc, char** argv) {
    std::vector<std::string> only;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) g_verbose = true;
        else only.push_back(argv[i]);
    }
    int pass = 0, fail = 0;
    for (const Test& t : tests) {
        if (!only.empty()) {
            bool want = false;
            for (auto& o : only) want |= o == t.name;
            if (!want) continue;
        }
        if (g_verbose) printf("-- %s\n", t.name);
        fflush(stdout);
        int fds[2];
        if (pipe(fds) != 0) return 2;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            struct rlimit nocore = {0, 0};
            setrlimit(RLIMIT_CORE, &nocore);
            if (!g_verbose) setenv("WENGERT_SIM_QUIET", "1", 1);
            g_test = t.name;
            t.fn();
            int counts[2] = {g_pass, g_fail};
            if (write(fds[1], counts, sizeof counts) != (ssize_t)sizeof counts) _exit(3);
            _exit(0);
        }
        close(fds[1]);
        int counts[2] = {0, 0};
        ssize_t got = read(fds[0], counts, sizeof counts);
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (t.crashes) {
            bool ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
            if (ok) pass++;
            else {
                fail++;
                printf("FAIL %s: expected to die of SIGSEGV (status 0x%x)\n", t.name, status);
            }
            continue;
        }
        if (got != (ssize_t)sizeof counts || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fail++;
            printf("FAIL %s: the test process died (status 0x%x%s%s)\n", t.name, status,
                   WIFSIGNALED(status) ? ", signal " : "", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "");
            continue;
        }
        pass += counts[0];
        fail += counts[1];
    }
    printf("%d passed, %d failed\n", pass, fail);
    return fail == 0 ? 0 : 1;
}
