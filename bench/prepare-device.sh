#!/usr/bin/env bash
# Prepares, on the development machine, everything bench/device-check.sh needs on the GPU machine
# (which has no Java, no Maven and no network):
#   bench/target/device-lib/  the Wengert jars, JCuda and the JUnit console launcher (no ND4J: a few MB)
#   device-jre/               a jlink'd Java runtime (about 39 MB)
# Both are ignored by git. What must travel to the GPU machine: this working tree plus those two
# folders (at most 64 MiB in all); the command to run there, in the repository root, with at least
# 540 s: `bash bench/device-check.sh`. It leaves summary.txt and device-check.tar.gz in $OUT.
# Before spending GPU time, `bash bench/device-check.sh --quick` here runs the same script on the CUDA
# simulator (the build does that too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lib=bench/target/device-lib
rm -rf "$lib"

# package (not install): the jars stay in this checkout's target folders; bench's package phase fills device-lib
./mvnw -B -q package -DskipTests

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

[ -x device-jre/bin/java ] || cp -a bench/target/device-jre device-jre
echo "class path ($lib):"
ls -la "$lib" | awk 'NR > 1 {print "  " $5 "  " $9}'
total=$(du -sbc "$lib" device-jre | tail -1 | cut -f1)
echo "prepare-device.sh: class path $(du -sh "$lib" | cut -f1), runtime $(du -sh device-jre | cut -f1); carried in all $((total / 1048576)) MiB (limit 64 MiB with the working tree)"
[ "$total" -lt $((60 * 1048576)) ] || { echo "prepare-device.sh: too large to carry" >&2; exit 1; }
