/* Runs the kernel-emulator tests from a dlopen()ed shared object (built by build-emu.sh with the
 * emulator archive inside, as libcuda.so.1 will have it). usage: dlopen-tests LIB.so [test args] */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIB.so [test args]\n", argv[0]);
        return 2;
    }
    void* h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    int (*run)(int, char**) = (int (*)(int, char**))dlsym(h, "wsim_kernel_tests_main");
    if (!run) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 2;
    }
    argv[1] = argv[0];
    return run(argc - 1, argv + 1);
}
