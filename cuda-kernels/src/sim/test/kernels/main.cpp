// The kernel-emulator tests: every test in both thread orders, then the timing lines.
// usage: wsim-kernel-tests [--no-timing] [--expect-env-order=ascending|descending]
#include <chrono>

#include "harness.h"

int g_pass, g_fail;
const char* g_order = "ascending";

extern "C" __attribute__((visibility("default"))) void wsim_set_thread_order(int reverse);
extern "C" int planted_order_probe();

// Exported so that the same tests also run from a dlopen()ed shared object (dlopen_main.c), as the
// emulator runs inside libcuda.so.1: TLS models, hidden symbols and the context switch under -fPIC.
extern "C" __attribute__((visibility("default"))) int wsim_kernel_tests_main(int argc, char** argv) {
    bool timing = true;
    const char* expect = nullptr;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-timing") == 0) timing = false;
        else if (strncmp(argv[i], "--expect-env-order=", 19) == 0) expect = argv[i] + 19;
        else {
            fprintf(stderr, "usage: %s [--no-timing] [--expect-env-order=ascending|descending]\n", argv[0]);
            return 2;
        }
    }
    if (expect) {  // WENGERT_SIM_ORDER, read at load, decides the first run's order
        int first = planted_order_probe();
        g_order = expect;
        CHECK(first == (strcmp(expect, "descending") == 0 ? 255 : 0), "WENGERT_SIM_ORDER at load: first thread %d", first);
    }
    for (int reverse = 0; reverse < 2; reverse++) {
        wsim_set_thread_order(reverse);
        g_order = reverse ? "descending" : "ascending";
        int p0 = g_pass, f0 = g_fail;
        auto t0 = std::chrono::steady_clock::now();
        run_kernel_tests();
        run_planted_tests();
        run_optim_tests();
        run_random_tests();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        printf("[%s] %d passed, %d failed (%.2f s)\n", g_order, g_pass - p0, g_fail - f0, s);
    }
    if (timing)
        for (int reverse = 0; reverse < 2; reverse++) {
            wsim_set_thread_order(reverse);
            g_order = reverse ? "descending" : "ascending";
            run_timing();
        }
    wsim_set_thread_order(0);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}

#ifndef WSIM_TESTS_NO_MAIN
int main(int argc, char** argv) { return wsim_kernel_tests_main(argc, argv); }
#endif
