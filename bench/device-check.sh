#!/usr/bin/env bash
# The GPU machine's check (after bench/prepare-device.sh on the development machine; carry
# device-jre and bench/target/device-lib): the CUDA backend contract tests and the float64 gradient
# checks of every primitive on CUDA, then SGEMM n=4096,
# elementwise add of 16M floats and device-to-device copy, in Wengert and in PyTorch, as one table.
# No network and no Maven needed. Exit status: that of the tests. Every step has a timeout; together at
# most 170 + 2*60 + 50 + 80 + 45 + 30 = 495 s, under the device call's 540 s, so the summary always prints.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
java=${JAVA:-device-jre/bin/java}
lib=bench/target/device-lib
out=${OUT:-/tmp}/device-check
mkdir -p "$out"
[ -x "$java" ] && [ -d "$lib" ] || { echo "device-check.sh: run bench/prepare-device.sh first and carry device-jre and $lib" >&2; exit 2; }
cp=$(ls "$lib"/*.jar | grep -v console-standalone | tr '\n' ':')
console=$(ls "$lib"/junit-platform-console-standalone-*.jar)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"

echo "== CUDA contract tests and float64 gradient checks of every primitive"
timeout 170 "$java" -Djava.util.logging.config.file=/dev/null -jar "$console" execute --disable-banner --disable-ansi-colors --details=tree \
    --class-path "$cp" --select-class dev.wengert.tensor.cuda.CudaBackendTest \
    --select-class dev.wengert.autograd.CudaGradientTableTest \
    --reports-dir "$out/junit" 2>&1 | tee "$out/tests.txt" | grep -vE '✔' | tail -150
tests=${PIPESTATUS[0]}
if ! grep -qE '\[ *[1-9][0-9]* tests successful' "$out/tests.txt"; then
    echo "device-check.sh: no CUDA test ran (see the skip reason above)" >&2
    tests=1
fi

echo "== Training on CUDA: the zoo's defaults must reach 91% (logreg) and 96% (MLP) test accuracy"
for model in logreg mlp; do
    timeout 60 "$java" -Djava.awt.headless=true -cp "$cp" dev.wengert.models.cli.Main train --model "$model" \
        --device cuda --output "$out/train-$model" 2>&1 | grep -E 'device|final test accuracy|rror' | tee "$out/train-$model.txt"
done

echo "== Training steps of every benchmark workload on the GPU: Wengert beside PyTorch eager and hand-captured graph"
timeout 50 python3 bench/reference/pytorch_reference.py --device cuda --seconds 4 --out "$out/pytorch.json" 2>&1 | tail -5
timeout 80 "$java" -cp "$cp" dev.wengert.bench.ThroughputRunner --device cuda:0 --impls wengert --seconds 4 \
    --reference "$out/pytorch.json" --markdown "$out/gpu-throughput.md" 2>&1 | grep -v '^measuring' | tee "$out/gpu-throughput.txt"

echo "== Wengert measurements"
timeout 45 "$java" -cp "$cp" dev.wengert.tensor.cuda.CudaDeviceBench cuda:0 2>&1 | tee "$out/wengert.txt"
echo "== PyTorch measurements"
timeout 30 python3 bench/reference/device_reference.py 2>&1 | tee "$out/torch.txt"

echo
echo "== Summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1))"
grep -E 'tests (successful|failed|aborted)' "$out/tests.txt" | sed 's/^[^0-9]*//' | tr -s ' '
for model in logreg mlp; do
    printf '%-8s %s\n' "$model" "$(grep -h 'final test accuracy' "$out/train-$model.txt" 2>/dev/null || echo 'did not finish')"
done
printf '%-20s %12s %12s  %s\n' measurement wengert pytorch unit
for name in sgemm_fp32_n4096 sgemm_tf32_n4096 add_16M_f32 d2d_copy_16M_f32 launch_small_add; do
    w=$(awk -v n="$name" '$1 == "RESULT" && $2 == n {print $3}' "$out/wengert.txt")
    p=$(awk -v n="$name" '$1 == "RESULT" && $2 == n {print $3}' "$out/torch.txt")
    u=$(awk -v n="$name" '$1 == "RESULT" && $2 == n {print $4}' "$out/wengert.txt" "$out/torch.txt" | head -1)
    printf '%-20s %12s %12s  %s\n' "$name" "${w:--}" "${p:--}" "$u"
done
exit "$tests"
