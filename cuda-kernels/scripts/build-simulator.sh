#!/usr/bin/env bash
# Builds the Wengert CUDA simulator (src/sim/, see src/sim/sim.h): stand-in CUDA libraries that let the
# unchanged Java CUDA backend run through JCuda's real native layer on a machine without a GPU.
#
#   build-simulator.sh OUTDIR   writes
#     OUTDIR/lib/libcuda.so.1     the stand-in driver (src/sim/driver/) + the kernel emulator and the
#                                 host-compiled kernels (src/sim/emu/, linked whole from libwsim-emu.a)
#                                 + a generated stub for every other cu* symbol JCuda's libJCudaDriver
#                                 imports (src/sim/driver/jcuda-driver-symbols.txt)
#     OUTDIR/lib/libcublas.so.12  the stand-in cuBLAS (src/sim/cublas/) + stubs for the rest of the
#                                 cuBLAS-12 symbols JCublas imports (src/main/shim/cublas12-symbols.txt),
#                                 all versioned libcublas.so.12
#     OUTDIR/bin/*                the C++ test programs (run them with scripts/test-simulator.sh OUTDIR)
#     OUTDIR/test-lib/            libcuda.so.1 again with the driver tests' planted-fault kernels in it
#   Use: LD_LIBRARY_PATH=OUTDIR/lib java ...   (the Java side sees a device named "... simulator ...")
#
# Skips (exit 0, one line) where g++ is missing or the machine is not Linux x86-64. Incremental: a step
# runs only when an output is older than its inputs (this script included). Builds without the CUDA
# headers; where cuda.h is found (CUDA_HOME, /usr/local/cuda*), the driver is compiled against it, so
# the compiler checks every implemented entry point's signature against NVIDIA's declaration.
set -euo pipefail
start=$(date +%s.%N)
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: build-simulator.sh OUTDIR}
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "build-simulator.sh: not Linux x86-64; the CUDA simulator is not built"
    exit 0
fi
CXX=${CXX:-g++}
if ! command -v "$CXX" >/dev/null; then
    echo "build-simulator.sh: $CXX not found; the CUDA simulator is not built"
    exit 0
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
sim=$here/src/sim
obj=$out/obj
mkdir -p "$obj" "$out/lib" "$out/bin" "$out/test-lib"
self=$here/scripts/build-simulator.sh
CXXFLAGS=(-std=c++17 -O2 -g -fPIC -fvisibility=hidden -ffp-contract=off -Wall -Wextra -Wno-unknown-pragmas)

# true when $1 is missing or older than any of the other arguments
stale() {
    local t=$1
    shift
    [ -e "$t" ] || return 0
    local d
    for d in "$@"; do [ "$d" -nt "$t" ] && return 0; done
    return 1
}
built=()

# ---------------------------------------------------------------- the CUDA headers, if any
cuda_inc=
for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-*; do
    if [ -n "$d" ] && [ -f "$d/include/cuda.h" ]; then cuda_inc=$d/include; break; fi
done

# ---------------------------------------------------------------- the kernel emulator (src/sim/emu)
# src/sim/emu/build-emu.sh (its compile commands are documented at its top) builds
# target/simulator/emu/libwsim-emu.a; it is rerun only when the emulator or the kernel sources change.
emu_lib=$here/target/simulator/emu/libwsim-emu.a
if [ -x "$sim/emu/build-emu.sh" ]; then
    if stale "$emu_lib" "$sim"/emu/* "$here"/src/main/cuda/* "$sim/sim.h"; then
        "$sim/emu/build-emu.sh" --no-test >/dev/null
        built+=(emu/libwsim-emu.a)
    fi
elif [ ! -f "$emu_lib" ]; then
    echo "build-simulator.sh: src/sim/emu/build-emu.sh not found" >&2
    exit 1
fi
[ -f "$emu_lib" ] || { echo "build-simulator.sh: $emu_lib was not built" >&2; exit 1; }

# ---------------------------------------------------------------- compiles independent of the driver
# (in the background, while the driver compiles)
tdir=$sim/test/driver
bg=()
if stale "$obj/cublas.o" "$sim/cublas/cublas.cpp" "$sim/sim.h" "$self"; then
    "$CXX" "${CXXFLAGS[@]}" -c "$sim/cublas/cublas.cpp" -o "$obj/cublas.o" &
    bg+=($!)
    built+=(cublas.o)
fi
if [ -d "$tdir" ] && stale "$obj/planted.o" "$tdir/planted.cpp" "$sim"/emu/*.h "$sim/sim.h" "$self"; then
    "$CXX" "${CXXFLAGS[@]}" -include "$sim/emu/cuda_emu.h" -c "$tdir/planted.cpp" -o "$obj/planted.o" &
    bg+=($!)
    built+=(planted.o)
fi

# ---------------------------------------------------------------- libcuda.so.1
drv_o=$obj/driver.o
if stale "$drv_o" "$sim/driver/driver.cpp" "$sim/driver/cuda_min.h" "$sim/driver/cuda_errors.inc" "$sim/sim.h" "$self"; then
    if [ -n "$cuda_inc" ]; then
        # Also build without the headers (cuda_min.h), in parallel: it must compile and define exactly the
        # same symbols (cuda.h renames some entry points by macro, e.g. cuDeviceGetUuid -> _v2).
        "$CXX" "${CXXFLAGS[@]}" -DWSIM_NO_CUDA_H -c "$sim/driver/driver.cpp" -o "$obj/driver-noheaders.o" &
        nh=$!
        "$CXX" "${CXXFLAGS[@]}" -I"$cuda_inc" -c "$sim/driver/driver.cpp" -o "$drv_o"
        wait $nh
        if ! diff <(nm --defined-only "$drv_o" | awk '$2 == "T" {print $3}' | sort) \
                  <(nm --defined-only "$obj/driver-noheaders.o" | awk '$2 == "T" {print $3}' | sort) >&2; then
            echo "build-simulator.sh: driver.cpp defines different entry points with and without $cuda_inc/cuda.h" \
                 "(a cuda.h macro renames one: #undef it after the include)" >&2
            rm -f "$drv_o"
            exit 1
        fi
    else
        "$CXX" "${CXXFLAGS[@]}" -c "$sim/driver/driver.cpp" -o "$drv_o"
    fi
    built+=(driver.o)
fi

# gen_stubs NAME SYMBOLS IMPLEMENTATION_OBJECT RESULT: $obj/NAME.o defines, for every name in SYMBOLS that the
# implementation does not, a stub that reports its name (WSIM_FAULT_API) and returns RESULT (an error code).
gen_stubs() {
    local name=$1 symbols=$2 impl=$3 result=$4
    nm --defined-only "$impl" | awk '$2 == "T" {print $3}' | LC_ALL=C sort -u > "$obj/$name.defined.txt"
    {
        echo "// Generated by scripts/build-simulator.sh from ${symbols#$here/}: do not edit."
        echo "#include \"$sim/sim.h\""
        echo "#define STUB(name) extern \"C\" __attribute__((visibility(\"default\"))) int name(void) { \\"
        echo "    wsim_report(WSIM_FAULT_API, \"%s is not implemented by the Wengert CUDA simulator\", #name); \\"
        echo "    return $result; }"
        grep -v '^#' "$symbols" | grep -v '^$' | LC_ALL=C sort -u \
            | LC_ALL=C comm -23 - "$obj/$name.defined.txt" | sed 's/.*/STUB(&)/'
    } > "$obj/$name.cpp"
    "$CXX" "${CXXFLAGS[@]}" -c "$obj/$name.cpp" -o "$obj/$name.o"
    built+=("$name.o")
}

# Stubs for every cu* name JCuda imports that driver.cpp does not define (801: CUDA_ERROR_NOT_SUPPORTED).
if stale "$obj/driver_stubs.o" "$drv_o" "$sim/driver/jcuda-driver-symbols.txt" "$self"; then
    gen_stubs driver_stubs "$sim/driver/jcuda-driver-symbols.txt" "$drv_o" 801
fi

printf '{\n  global: cu*; wsim_*;\n  local: *;\n};\n' > "$obj/libcuda.map.new"
cmp -s "$obj/libcuda.map.new" "$obj/libcuda.map" 2>/dev/null || mv "$obj/libcuda.map.new" "$obj/libcuda.map"
rm -f "$obj/libcuda.map.new"

link_cuda() {  # link_cuda OUTPUT EXTRA_OBJECTS...
    local o=$1
    shift
    "$CXX" -shared -o "$o" "$drv_o" "$obj/driver_stubs.o" "$@" -Wl,--whole-archive "$emu_lib" -Wl,--no-whole-archive \
        -Wl,-soname,libcuda.so.1 -Wl,--version-script="$obj/libcuda.map" -Wl,-z,noexecstack -Wl,--no-undefined \
        -lpthread -ldl
}
if stale "$out/lib/libcuda.so.1" "$drv_o" "$obj/driver_stubs.o" "$emu_lib" "$obj/libcuda.map"; then
    link_cuda "$out/lib/libcuda.so.1"
    # The JVM dlopens libJCudaDriver and with it libcuda.so.1: initial-exec TLS (static TLS) of the size
    # the kernels' __shared__ arrays need makes that fail ("cannot allocate memory in static TLS block").
    if readelf -dW "$out/lib/libcuda.so.1" | grep -q STATIC_TLS; then
        echo "build-simulator.sh: $out/lib/libcuda.so.1 uses initial-exec TLS (DF_STATIC_TLS): the JVM could not" \
             "dlopen it; build it without -ftls-model=initial-exec / tls_model(\"initial-exec\")" >&2
        rm -f "$out/lib/libcuda.so.1"
        exit 1
    fi
    built+=(lib/libcuda.so.1)
fi

# ---------------------------------------------------------------- libcublas.so.12
cublas_syms=$here/src/main/shim/cublas12-symbols.txt
for p in ${bg[@]+"${bg[@]}"}; do wait "$p"; done
if stale "$obj/cublas_stubs.o" "$obj/cublas.o" "$cublas_syms" "$self"; then
    gen_stubs cublas_stubs "$cublas_syms" "$obj/cublas.o" 15  # CUBLAS_STATUS_NOT_SUPPORTED
    {
        echo "libcublas.so.12 {"
        echo "  global:"
        grep -v '^#' "$cublas_syms" | grep -v '^$' | LC_ALL=C sort -u | sed 's/.*/    &;/'
        echo "  local: *;"
        echo "};"
    } > "$obj/libcublas.map"
fi
if stale "$out/lib/libcublas.so.12" "$obj/cublas.o" "$obj/cublas_stubs.o" "$out/lib/libcuda.so.1"; then
    "$CXX" -shared -o "$out/lib/libcublas.so.12" "$obj/cublas.o" "$obj/cublas_stubs.o" \
        -Wl,-soname,libcublas.so.12 -Wl,--version-script="$obj/libcublas.map" -Wl,-z,noexecstack \
        -Wl,--no-undefined "$out/lib/libcuda.so.1"
    built+=(lib/libcublas.so.12)
fi

# ---------------------------------------------------------------- tests
# The driver tests plant faulty kernels: they live in a test copy of libcuda.so.1 (test-lib/), since a
# kernel needs the emulator's hidden internals; the test program links that copy and the real
# libcublas.so.12 (found through a transitive DT_RPATH).
if [ -d "$tdir" ]; then
    if stale "$out/test-lib/libcuda.so.1" "$drv_o" "$obj/driver_stubs.o" "$emu_lib" "$obj/planted.o" "$obj/libcuda.map"; then
        link_cuda "$out/test-lib/libcuda.so.1" "$obj/planted.o"
        built+=(test-lib/libcuda.so.1)
    fi
    ln -sf ../lib/libcublas.so.12 "$out/test-lib/libcublas.so.12"
    if stale "$out/bin/test-driver" "$tdir/test_driver.cpp" "$sim/sim.h" "$out/test-lib/libcuda.so.1" \
        "$out/lib/libcublas.so.12" "$self"; then
        "$CXX" -std=c++17 -O1 -g -Wall -Wextra ${cuda_inc:+-I"$cuda_inc"} -I"$sim/driver" -o "$out/bin/test-driver" \
            "$tdir/test_driver.cpp" "$out/test-lib/libcuda.so.1" "$out/lib/libcublas.so.12" \
            -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../test-lib' -lpthread -ldl
        built+=(bin/test-driver)
    fi
fi
# The kernel emulator's tests (src/sim/test/kernels: the emulator archive with a stub of the driver
# half of sim.h; the same commands as build-emu.sh's test step).
ktests=("$sim"/test/kernels/*.cpp)
if [ -f "${ktests[0]}" ]; then
    mkdir -p "$obj/emu-test"
    EMU_TEST_FLAGS=(-std=c++17 -O2 -g -fPIC -ffp-contract=off -fno-strict-aliasing -fvisibility=hidden -Wall
                    -Wno-sign-compare -Wno-unknown-pragmas)
    tobjs=()
    pids=()
    for f in "${ktests[@]}"; do
        o=$obj/emu-test/$(basename "${f%.cpp}").o
        tobjs+=("$o")
        if stale "$o" "$f" "$sim"/test/kernels/*.h "$sim"/emu/*.h "$sim/sim.h"; then
            "$CXX" "${EMU_TEST_FLAGS[@]}" -c "$f" -o "$o" &
            pids+=($!)
        fi
    done
    for p in ${pids[@]+"${pids[@]}"}; do wait "$p"; done
    if stale "$out/bin/wsim-kernel-tests" "${tobjs[@]}" "$emu_lib"; then
        "$CXX" -o "$out/bin/wsim-kernel-tests" "${tobjs[@]}" "$emu_lib" -lpthread -lm
        built+=(bin/wsim-kernel-tests)
    fi
fi

end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')
if [ ${#built[@]} -eq 0 ]; then
    echo "build-simulator.sh: $out is up to date (${secs}s)"
else
    echo "build-simulator.sh: built ${built[*]} in $out (${secs}s${cuda_inc:+, checked against $cuda_inc/cuda.h})"
fi
