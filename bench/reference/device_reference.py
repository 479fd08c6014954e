"""PyTorch reference for bench/device-check.sh: the same measurements as
dev.wengert.tensor.cuda.CudaDeviceBench, printed as 'RESULT name value unit' lines."""
import statistics
import time

import torch


def median(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def result(name, value, unit):
    print(f"RESULT {name} {value:.1f} {unit}", flush=True)


def main():
    dev = torch.device("cuda:0")
    print("torch", torch.__version__, "on", torch.cuda.get_device_name(dev))
    n = 4096
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    c = torch.empty(n, n, device=dev)
    flop = 2.0 * n ** 3
    torch.backends.cuda.matmul.allow_tf32 = False
    result("sgemm_fp32_n4096", flop / median(lambda: torch.matmul(a, b, out=c), 10) / 1e12, "TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = True
    result("sgemm_tf32_n4096", flop / median(lambda: torch.matmul(a, b, out=c), 10) / 1e12, "TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = False

    m = 16 << 20
    x = torch.randn(m, device=dev)
    y = torch.randn(m, device=dev)
    z = torch.empty(m, device=dev)
    result("add_16M_f32", 3 * 4 * m / median(lambda: torch.add(x, y, out=z), 20) / 1e9, "GB/s")
    result("d2d_copy_16M_f32", 2 * 4 * m / median(lambda: z.copy_(x), 20) / 1e9, "GB/s")
    s = z[:1]
    result("launch_small_add", 1e6 * median(lambda: torch.add(s, s, out=s), 200), "us")


if __name__ == "__main__":
    main()
