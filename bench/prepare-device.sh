#!/usr/bin/env bash
# Prepares, on the development machine, everything bench/device-check.sh needs on the GPU machine
# (which has no Java and no network): the wengert jars, JCuda and the JUnit console launcher in
# bench/target/device-lib/ (no ND4J: a few MB), and a jlink'ed Java runtime in device-jre/ (both
# ignored by git). Then carry both paths to the GPU machine, e.g. with the device tool:
#   run(command="bash bench/device-check.sh", carry=["device-jre", "bench/target/device-lib"])
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lib=bench/target/device-lib
rm -rf "$lib"
mkdir -p "$lib"

# package (not install): the jars stay in this checkout's target folders
./mvnw -B -q -pl cuda-kernels,tensor,autograd,models,bench package dependency:copy-dependencies -DskipTests \
    -DincludeGroupIds=org.jcuda,dev.wengert -DincludeScope=runtime -DoutputDirectory="$root/$lib"
cp tensor/target/wengert-tensor-*-tests.jar tensor/target/wengert-tensor-[0-9]*[0-9T].jar "$lib"/
cp autograd/target/wengert-autograd-*-tests.jar autograd/target/wengert-autograd-[0-9]*[0-9T].jar "$lib"/
cp models/target/wengert-models-[0-9]*[0-9T].jar "$lib"/   # the zoo and the bundled MNIST subset
cp bench/target/wengert-bench-[0-9]*[0-9T].jar "$lib"/     # ThroughputRunner (its ND4J/SameDiff steps are never loaded with --impls wengert)
cp cuda-kernels/target/wengert-cuda-kernels-*.jar "$lib"/
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 -DoutputDirectory="$root/$lib"

# JCuda's natives jar also carries the 24 MB NVPTX compiler and NVRTC, which Wengert never loads
python3 - "$lib"/jcuda-natives-*-linux-x86_64.jar <<'PY'
import os, sys, zipfile
path = sys.argv[1]
tmp = path + ".tmp"
with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if "NvPTXCompiler" in item.filename or "JNvrtc" in item.filename:
            continue
        dst.writestr(item, src.read(item.filename))
os.replace(tmp, path)
PY

if [ ! -x device-jre/bin/java ]; then
    # a 39 MB runtime with just the modules Wengert's CUDA path needs (measured to run on the GPU machine)
    "${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}/bin/jlink" \
        --add-modules java.base,java.logging,jdk.unsupported,java.management,jdk.management,java.xml \
        --strip-debug --no-header-files --no-man-pages --compress=2 --output device-jre
fi
echo "class path ($lib):"
ls -la "$lib" | awk 'NR > 1 {print "  " $5 "  " $9}'
total=$(du -sbc "$lib" device-jre | tail -1 | cut -f1)
echo "prepare-device.sh: class path $(du -sh "$lib" | cut -f1), runtime $(du -sh device-jre | cut -f1); carried in all $((total / 1048576)) MiB (limit 64 MiB with the working tree)"
[ "$total" -lt $((60 * 1048576)) ] || { echo "prepare-device.sh: too large to carry" >&2; exit 1; }
