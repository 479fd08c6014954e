// The Wengert CUDA simulator's internal interface: how the kernel emulator (emu/), the stand-in
// driver (driver/, built into libcuda.so.1 together with emu/ and the host-compiled kernels) and the
// stand-in cuBLAS (cublas/, libcublas.so.12, linked against that libcuda.so.1) talk to each other.
// Nothing here is CUDA API; the CUDA API is what driver/ and cublas/ export.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WSIM_EXPORT __attribute__((visibility("default")))

// ------------------------------------------------------------------ emulator -> driver

// A CUDA launch geometry (the driver's grid and block dims).
typedef struct {
    unsigned grid[3];
    unsigned block[3];
    unsigned shared_bytes;  // dynamic shared memory (the kernels use none today; must be 0 or refused)
} wsim_dims;

// How a kernel parameter is used: the emulator derives it from the kernel's C++ signature.
enum { WSIM_ARG_VALUE = 0, WSIM_ARG_PTR_READ = 1 /* const T* */, WSIM_ARG_PTR_WRITE = 2 /* T* */ };

// One host-compiled kernel. The table is generated from the kernel sources at build time.
typedef struct wsim_kernel {
    const char* name;                                  // the extern "C" name, e.g. "unary_f32"
    int nargs;
    const int* arg_kinds;                              // nargs entries of WSIM_ARG_*
    const size_t* arg_sizes;                           // nargs entries: sizeof each parameter
    // Runs the whole grid on the calling OS thread, each block's threads as fibers; params as in
    // cuLaunchKernel (params[i] points at the i-th argument's value). Returns 0, or nonzero after it
    // called wsim_report(...) for a fault (barrier divergence, deadlock, aborted by memcheck).
    int (*launch)(const wsim_dims* dims, void** params);
} wsim_kernel;

// The kernels built into this library (the host-compiled kernels.cu), NULL if no such name.
const wsim_kernel* wsim_find_kernel(const char* name);
// Registers more kernels (tests register planted-fault kernels this way); the table must outlive use.
void wsim_register_kernels(const wsim_kernel* table, int count);

// Where a kernel is now, for reports: the kernel's name and the current block and thread indices.
// Returns 0 when the calling OS thread is not running a kernel.
int wsim_current_thread(const char** kernel, unsigned block[3], unsigned thread[3]);

// Leaves the running kernel at once (from a fault handler on a fiber of it): its launch() returns
// nonzero. Only valid while wsim_current_thread() returns 1; never returns.
void wsim_abort_kernel(void) __attribute__((noreturn));

// Thread order within a block: 0 = ascending (default), 1 = descending (env WENGERT_SIM_ORDER=reverse
// sets it at load). Both are legal CUDA schedules; a kernel missing a barrier differs between them.
WSIM_EXPORT void wsim_set_thread_order(int reverse);

// ------------------------------------------------------------------ shared by everyone

// Records a fault: prints "wengert-sim: <kind>: <message>" to stderr once, keeps the text for
// wsim_last_report, counts it by kind, and (for kinds that real CUDA makes sticky: memcheck, launch)
// makes every later driver call return the sticky error, as a real context does after a fault.
enum { WSIM_FAULT_MEMCHECK = 0, WSIM_FAULT_HAZARD = 1, WSIM_FAULT_BARRIER = 2, WSIM_FAULT_API = 3, WSIM_FAULT_KINDS = 4 };
WSIM_EXPORT void wsim_report(int kind, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Memory checker entry for the stand-in cuBLAS and for kernel pointer arguments: [ptr, ptr+bytes) must
// lie inside one live device allocation; `what` names the caller ("cublasSgemm_v2 matrix C").
// Also records the access for the stream-hazard check (write != 0: a write). Returns 0 if valid.
WSIM_EXPORT int wsim_check_access(uint64_t stream, const void* ptr, size_t bytes, int write, const char* what);

// Launch trace counters (never reset by the simulator itself; read or reset by tests).
enum {
    WSIM_T_KERNELS = 0,   // cuLaunchKernel
    WSIM_T_GEMMS,         // cuBLAS GEMM calls (each strided-batched call counts once)
    WSIM_T_COPY_H2D,      // host-to-device copies (sync or async)
    WSIM_T_COPY_D2H,      // device-to-host copies
    WSIM_T_COPY_D2D,      // device-to-device copies
    WSIM_T_MEMSETS,       // cuMemset*
    WSIM_T_HOST_SYNCS,    // calls that block the host on the device: stream/event/context synchronize,
                          // synchronous (pageable) memcpy in either direction, cuMemFree
    WSIM_T_ALLOCS,        // cuMemAlloc
    WSIM_T_FREES,         // cuMemFree
    WSIM_T_FAULTS_MEMCHECK, WSIM_T_FAULTS_HAZARD, WSIM_T_FAULTS_BARRIER, WSIM_T_FAULTS_API,
    WSIM_T_LIVE_ALLOCS,   // device allocations alive now (not reset by wsim_trace_reset)
    // CUDA graphs (stream capture). The counters above count host-issued work only: a launch or copy
    // recorded by a capture executes nothing and counts as WSIM_T_CAPTURED_NODES; what a replay executes
    // counts below, so "1 graph launch per step, N kernels inside" reads off directly.
    WSIM_T_GRAPH_LAUNCHES,      // cuGraphLaunch
    WSIM_T_GRAPH_KERNELS,       // kernels executed inside graph replays
    WSIM_T_GRAPH_GEMMS,         // cuBLAS GEMMs executed inside graph replays
    WSIM_T_GRAPH_COPIES,        // copies (any direction) executed inside graph replays
    WSIM_T_GRAPH_MEMSETS,       // memsets executed inside graph replays
    WSIM_T_CAPTURED_NODES,      // operations recorded into a graph by stream capture
    WSIM_T_CAPTURE_VIOLATIONS,  // calls refused because of a stream capture (each also a wsim_note)
    WSIM_T_WARNINGS,            // warning-level notes (legal, but not what a capture-safe program does)
    WSIM_T_COUNT
};
WSIM_EXPORT void wsim_trace_count(int counter);      // += 1 (thread-safe)
WSIM_EXPORT void wsim_trace_read(int64_t* out, int n); // copies the first n counters
WSIM_EXPORT void wsim_trace_reset(void);              // zeroes every counter but WSIM_T_LIVE_ALLOCS
// The last fault report's text ("" if none) into buf (NUL-terminated, truncated to len).
WSIM_EXPORT void wsim_last_report(char* buf, size_t len);
// 1: this library is the simulator (always). Lets Java tell a stand-in libcuda.so.1 from a real one.
WSIM_EXPORT int wsim_is_simulator(void);
// Launch counts per kernel name: "name count\n" lines (sorted by name) into buf, NUL-terminated and
// truncated to len; returns the length of the whole text (as snprintf). Reset by wsim_trace_reset.
WSIM_EXPORT int wsim_trace_kernels(char* buf, size_t len);
// A note that is not a fault: a call the program got an error code for because of a stream capture
// (WSIM_T_CAPTURE_VIOLATIONS), or a warning (WSIM_T_WARNINGS). Printed to stderr once per distinct
// text as "wengert-sim: capture: ..." / "wengert-sim: warning: ...", kept for wsim_last_note, counted
// under `counter`; never sticky, never counted as a fault (the program sees the error and handles it).
WSIM_EXPORT void wsim_note(int counter, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// The last note's text ("" if none) into buf (NUL-terminated, truncated to len).
WSIM_EXPORT void wsim_last_note(char* buf, size_t len);

// Stream capture for the stand-in cuBLAS. If `stream` is capturing, records a node that replays by
// calling run(data, replay_stream) (a nonzero return is a failed replay) and counts `counter` when a
// replay executes it; the graph owns data and calls free_data(data) when its last copy is destroyed.
// Returns 1 when recorded (free_data not called), 0 when the stream is not capturing (the caller runs
// the work now), or a negative CUresult when the call is refused (an invalidated capture, the legacy
// stream while a blocking stream captures: reported as a wsim_note); data is then not taken.
WSIM_EXPORT int wsim_capture_node(uint64_t stream, const char* what, int counter, int (*run)(void* data, uint64_t stream),
                                  void* data, void (*free_data)(void* data));
// 1 when [ptr, ptr + bytes) lies inside one live device allocation (no report, no stream access).
WSIM_EXPORT int wsim_is_device_range(const void* ptr, size_t bytes);

// The context's sticky error (a CUresult: 0 none, 700 CUDA_ERROR_ILLEGAL_ADDRESS after a memcheck
// fault, 719 CUDA_ERROR_LAUNCH_FAILED after a failed kernel); the stand-in cuBLAS fails its calls then.
WSIM_EXPORT int wsim_sticky_error(void);

#ifdef __cplusplus
}
#endif
