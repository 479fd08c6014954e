// Planted-fault kernels for the driver tests (test_driver.cpp). Compiled for the host under
// emu/cuda_emu.h and linked only into the test copy of libcuda.so.1 (build-simulator.sh's test-lib/),
// where a constructor registers them; the production libcuda.so.1 never contains them.
typedef long long i64;

// p[i] = i for i < n (a correct kernel).
extern "C" __global__ void wsim_test_write(float* p, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = (float)i;
}

// out[i] = 2 * in[i] for i < n (a correct kernel).
extern "C" __global__ void wsim_test_read(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = 2 * in[i];
}

// Bug: `i <= n` writes p[n], one element past the end.
extern "C" __global__ void wsim_test_oob_write(float* p, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) p[i] = 1.0f;
}

// Bug: reads in[n], one element past the end.
extern "C" __global__ void wsim_test_oob_read(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[0] = in[i];
}

// Bug: writes through a device address passed as an integer (a stale pointer kept by the host).
extern "C" __global__ void wsim_test_stale_write(i64 address, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) ((float*)address)[i] = 3.0f;
}

namespace {
const wsim_kernel planted[] = {
    WSIM_KERNEL(wsim_test_write),     WSIM_KERNEL(wsim_test_read),        WSIM_KERNEL(wsim_test_oob_write),
    WSIM_KERNEL(wsim_test_oob_read),  WSIM_KERNEL(wsim_test_stale_write),
};
__attribute__((constructor)) void register_planted() {
    wsim_register_kernels(planted, (int)(sizeof planted / sizeof planted[0]));
}
}  // namespace
