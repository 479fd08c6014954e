#!/usr/bin/env bash
# Builds the Wengert CUDA simulator's kernel emulator: the real kernel sources (src/main/cuda/kernels.cu)
# compiled for the host under cuda_emu.h, the generated kernel table, the fiber scheduler and its
# context switch, as target/simulator/emu/libwsim-emu.a; then builds and runs the emulator tests
# (src/sim/test/kernels, linked against a stub of the driver half of sim.h).
#
# Exact commands (run from cuda-kernels/; $E = target/simulator/emu):
#   CXXFLAGS="-std=c++17 -O2 -g -fPIC -ffp-contract=off -fno-strict-aliasing -fvisibility=hidden
#             -Wall -Wno-sign-compare -Wno-unknown-pragmas"
#   src/sim/emu/gen-kernel-table.sh src/main/cuda/kernels.cu $E/kernels_emu.cpp g++
#   g++ $CXXFLAGS -DWSIM_EMU_LIBRARY -include src/sim/emu/cuda_emu.h -Isrc/main/cuda -c $E/kernels_emu.cpp -o $E/kernels_emu.o
#   g++ $CXXFLAGS -DWSIM_EMU_LIBRARY -c src/sim/emu/fibers.cpp -o $E/fibers.o
#   g++ $CXXFLAGS -c src/sim/emu/registry.cpp -o $E/registry.o
#   g++ -c src/sim/emu/ctx_x86_64.S -o $E/ctx_x86_64.o
#   ar rcs $E/libwsim-emu.a $E/kernels_emu.o $E/fibers.o $E/registry.o $E/ctx_x86_64.o
# Linking into libcuda.so.1 (driver/ provides wsim_report, wsim_check_access, wsim_trace_*,
# wsim_last_report, wsim_is_simulator):
#   g++ -shared ... -Wl,--whole-archive $E/libwsim-emu.a -Wl,--no-whole-archive -lpthread -lm
# (--whole-archive: nothing in driver/ references the kernels directly; the table is reached through
# wsim_find_kernel, but whole-archive keeps the constructor that reads WENGERT_SIM_ORDER as well.)
# Everything but the WSIM_EXPORT functions of sim.h and the emulator's entry points (WSIM_EMU_API in
# cuda_emu.h: wsim_find_kernel, wsim_register_kernels, wsim_current_thread, wsim_abort_kernel,
# wsim_run_grid, wsim_syncthreads, wsim_warp_exchange, wsim_regs_now) is hidden (-fvisibility=hidden),
# so the host-compiled kernels' symbols (fill_f32, f_log, ...) never leak out of libcuda.so.1.
# Planted-fault kernels written elsewhere: #include "cuda_emu.h" (no -DWSIM_EMU_LIBRARY), make a table
# of WSIM_KERNEL(fn) and wsim_register_kernels it; that works in any module linked against the library.
#
# usage: src/sim/emu/build-emu.sh [--no-test] [--no-timing]     (from anywhere)
# env:   CXX (default g++); WSIM_EMU_CXXFLAGS: extra flags for every C++ compile 
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)   # cuda-kernels/
cd "$root"
CXX=${CXX:-g++}
E=target/simulator/emu
T=target/simulator/emu-test
run_tests=1
timing=
for a in "$@"; do
    case $a in
        --no-test) run_tests= ;;
        --no-timing) timing=--no-timing ;;
        *) echo "usage: $0 [--no-test] [--no-timing]" >&2; exit 2 ;;
    esac
done
CXXFLAGS=(-std=c++17 -O2 -g -fPIC -ffp-contract=off -fno-strict-aliasing -fvisibility=hidden
          -Wall -Wno-sign-compare -Wno-unknown-pragmas ${WSIM_EMU_CXXFLAGS:-})
mkdir -p "$E" "$T"

src/sim/emu/gen-kernel-table.sh src/main/cuda/kernels.cu "$E/kernels_emu.cpp" "$CXX"
"$CXX" "${CXXFLAGS[@]}" -DWSIM_EMU_LIBRARY -include src/sim/emu/cuda_emu.h -Isrc/main/cuda -c "$E/kernels_emu.cpp" -o "$E/kernels_emu.o" &
k=$!
"$CXX" "${CXXFLAGS[@]}" -DWSIM_EMU_LIBRARY -c src/sim/emu/fibers.cpp -o "$E/fibers.o"
"$CXX" "${CXXFLAGS[@]}" -c src/sim/emu/registry.cpp -o "$E/registry.o"
"$CXX" -c src/sim/emu/ctx_x86_64.S -o "$E/ctx_x86_64.o"
wait $k
rm -f "$E/libwsim-emu.a"
ar rcs "$E/libwsim-emu.a" "$E/kernels_emu.o" "$E/fibers.o" "$E/registry.o" "$E/ctx_x86_64.o"
echo "build-emu.sh: $E/libwsim-emu.a"

[[ -n $run_tests ]] || exit 0
tobjs=()
for f in src/sim/test/kernels/*.cpp; do
    o="$T/$(basename "${f%.cpp}").o"
    "$CXX" "${CXXFLAGS[@]}" -c "$f" -o "$o" &
    tobjs+=("$o")
done
"$CXX" "${CXXFLAGS[@]}" -DWSIM_TESTS_NO_MAIN -c src/sim/test/kernels/main.cpp -o "$T/main-nomain.o" &
cc -O2 -c src/sim/test/kernels/dlopen_main.c -o "$T/dlopen_main.o" &
wait
# 1. a plain executable; 2. the same tests inside a dlopen()ed shared object, as in libcuda.so.1.
"$CXX" -o "$T/wsim-kernel-tests" "${tobjs[@]}" "$E/libwsim-emu.a" -lpthread -lm
sobjs=("${tobjs[@]/$T\/main.o/$T/main-nomain.o}")
"$CXX" -shared -o "$T/libwsim-kernel-tests.so" -Wl,-z,defs "${sobjs[@]}" \
    -Wl,--whole-archive "$E/libwsim-emu.a" -Wl,--no-whole-archive -lpthread -lm
cc -o "$T/dlopen-tests" "$T/dlopen_main.o" -ldl
echo "build-emu.sh: running $T/wsim-kernel-tests"
"$T/wsim-kernel-tests" $timing
# WENGERT_SIM_ORDER=reverse is read at load.
WENGERT_SIM_ORDER=reverse "$T/wsim-kernel-tests" --no-timing --expect-env-order=descending | tail -1
echo "build-emu.sh: running the tests from a dlopen()ed shared object"
"$T/dlopen-tests" "$T/libwsim-kernel-tests.so" $timing 2>"$T/dlopen-tests.stderr" | grep -E "TIMING|passed|FAIL" ||
    { echo "build-emu.sh: the shared-object tests failed:" >&2; grep -v "^wengert-sim" "$T/dlopen-tests.stderr" >&2; exit 1; }
