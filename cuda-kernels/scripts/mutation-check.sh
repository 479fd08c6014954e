#!/usr/bin/env bash
# Proves that the CUDA contract suite, run on the simulator, catches a wrong kernel: builds a second
# simulator from a copy of the kernel sources with one deliberate mutation, runs CudaBackendTest on it
# and fails unless the suite fails. Usage (the bench module runs it in the build):
#   mutation-check.sh JAVA DEVICE_LIB WORKDIR
# DEVICE_LIB: bench/target/device-lib (the Wengert jars with test jars, JCuda, the JUnit console).
# Skips (exit 0, one line) where the simulator cannot be built (no g++, not Linux x86-64).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
java=${1:?usage: mutation-check.sh JAVA DEVICE_LIB WORKDIR}
lib=${2:?}
work=${3:?}
command -v "${CXX:-g++}" >/dev/null && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || {
    echo "mutation-check.sh: no g++ or not Linux x86-64: skipped"; exit 0; }
# The mutation: max over NaN no longer propagates the NaN (a subtle slip in one shared device helper).
file=common.cuh
from='return a != a ? a : (b != b ? b : (a > b ? a : (a < b ? b : (signbit(a) ? b : a))));'
to='return a != a ? b : (b != b ? a : (a > b ? a : (a < b ? b : (signbit(a) ? b : a))));'
rm -rf "$work"
mkdir -p "$work/copy"
cp -r "$here/scripts" "$here/src" "$work/copy/"
grep -qF "$from" "$work/copy/src/main/cuda/$file" || { echo "mutation-check.sh: the line to mutate is not in $file any more: update this script" >&2; exit 1; }
python3 - "$work/copy/src/main/cuda/$file" "$from" "$to" <<'PY'
import sys
p, a, b = sys.argv[1:4]
s = open(p).read()
open(p, "w").write(s.replace(a, b, 1))
PY
bash "$work/copy/scripts/build-simulator.sh" "$work/sim" > "$work/build.txt" 2>&1 || { cat "$work/build.txt"; exit 1; }
cp=$(ls "$lib"/*.jar | grep -v console-standalone | tr '\n' ':')
LD_LIBRARY_PATH=$work/sim/lib timeout -k 10 300 "$java" -Djava.awt.headless=true -jar "$lib"/junit-platform-console-standalone-*.jar \
    execute --disable-banner --disable-ansi-colors --details=summary --class-path "$cp" \
    --select-class dev.wengert.tensor.cuda.CudaBackendTest > "$work/tests.txt" 2>&1
rc=$?
failed=$(grep -oE '\[ *[0-9]+ tests failed' "$work/tests.txt" | grep -oE '[0-9]+')
ran=$(grep -oE '\[ *[0-9]+ tests successful' "$work/tests.txt" | grep -oE '[0-9]+')
if [ "$rc" -ne 0 ] && [ "${failed:-0}" -gt 0 ]; then
    echo "mutation-check.sh: the mutated kernel ($file: max_nan drops NaN) failed the CUDA contract suite on the simulator" \
         "as it must: ${failed} tests failed, ${ran:-0} passed"
    grep -E 'MethodSource|=> ' "$work/tests.txt" | head -6 | sed 's/^/  /'
    exit 0
fi
echo "mutation-check.sh: ERROR: the CUDA contract suite did not catch a mutated kernel ($file: max_nan drops NaN; exit $rc," \
     "failed ${failed:-?}): the suite has a gap" >&2
tail -20 "$work/tests.txt" >&2
exit 1
