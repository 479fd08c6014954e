#!/usr/bin/env bash
# The GPU check, in one command, for a machine with an NVIDIA GPU but no Java, no Maven and no network.
#
# What must travel (made on the development machine by bench/prepare-device.sh, both ignored by git):
#   device-jre/              a jlink'd Java runtime (about 39 MB)
#   bench/target/device-lib/ the Wengert jars, JCuda and the JUnit console launcher (a few MB; no ND4J)
# plus this working tree. Then run, in the repository root on the GPU machine, with at least 540 s:
#   bash bench/device-check.sh
# It writes exactly two files into $OUT (default /tmp/device-check-out): summary.txt (short: what ran,
# passed, failed or was skipped, and the table) and device-check.tar.gz (every log, JUnit report,
# metrics.json and throughput table).
#
#   bash bench/device-check.sh --quick
# runs every step once at its smallest size. Where there is no GPU it runs on the CUDA simulator
# (cuda-kernels/target/simulator/lib first on LD_LIBRARY_PATH), with the same runtime and class path:
# the build runs it that way (bench/pom.xml), so the script that runs once on a GPU has already worked.
# PyTorch steps are skipped in quick mode, saying so; timings from the simulator are never GPU figures.
#
# Steps, each bounded by `timeout -k` (a JVM stuck in a driver call is killed):
#   1. smoke test (<= 30 s): detection, one kernel, one GEMM; stops here, saying why, if it fails
#   2. CudaBackendTest and CudaGradientTableTest (the contract and float64 gradient suites, whole in both modes)
#   3. wengert train --device cuda for logreg and the MLP
#   4. training-step throughput of the benchmark workloads beside PyTorch eager and captured graphs
#   5. SGEMM, elementwise add, device copy and launch latency beside PyTorch
# Full mode budget: 30 + 170 + 2*60 + 50 + 80 + 45 + 30 = 525 s. Exit status: 0 when the smoke test,
# the suites and both training runs passed.
#
# Environment: JAVA (default device-jre/bin/java), DEVICE_LIB (default bench/target/device-lib), OUT.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
java=${JAVA:-device-jre/bin/java}
lib=${DEVICE_LIB:-bench/target/device-lib}
out=${OUT:-/tmp/device-check-out}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out/summary.txt" "$out/device-check.tar.gz"
summary=$work/summary.txt
note() { echo "$*" | tee -a "$summary"; }
finish() { # finish STATUS: the archive and the summary are the only files left in $OUT
    (cd "$work" && tar czf "$out/device-check.tar.gz" --exclude=summary.txt . 2>/dev/null)
    cp "$summary" "$out/summary.txt"
    echo "device-check.sh: wrote $out/summary.txt and $out/device-check.tar.gz (exit $1)"
    exit "$1"
}
[ -x "$java" ] && [ -d "$lib" ] || { echo "device-check.sh: run bench/prepare-device.sh first and carry device-jre and $lib" >&2; exit 2; }
cp=$(ls "$lib"/*.jar | grep -v console-standalone | tr '\n' ':')
console=$(ls "$lib"/junit-platform-console-standalone-*.jar)
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
if [ -z "$gpu" ]; then
    if [ "$quick" = 1 ] && [ -e cuda-kernels/target/simulator/lib/libcuda.so.1 ]; then
        export LD_LIBRARY_PATH=$root/cuda-kernels/target/simulator/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        gpu="the CUDA simulator (no GPU here; timings are not GPU figures)"
    elif [ "$quick" = 1 ]; then
        note "device-check.sh --quick: skipped: no GPU and no CUDA simulator (cuda-kernels/target/simulator is built where g++ exists)"
        finish 0
    else
        gpu="(no nvidia-smi)"
    fi
fi
jvm=("$java" -Djava.awt.headless=true -Djava.util.logging.config.file=/dev/null)
note "device-check.sh $([ "$quick" = 1 ] && echo --quick) on $gpu, $(date -u +%Y-%m-%dT%H:%M:%SZ)"

note "== 1. smoke test"
timeout -k 5 30 "${jvm[@]}" -cp "$cp" dev.wengert.tensor.cuda.CudaSmoke cuda:0 > "$work/smoke.txt" 2>&1
smoke=$?
note "$(grep -E '^SMOKE' "$work/smoke.txt" || echo "SMOKE FAILED (exit $smoke): $(tail -3 "$work/smoke.txt" | tr '\n' ' ')")"
if [ "$smoke" != 0 ]; then
    note "stopping: CUDA does not work here, so nothing else can"
    finish 1
fi

note "== 2. CUDA contract tests and float64 gradient checks of every primitive"
# whole suites in quick mode too: on the simulator they take about 15 s
timeout -k 10 170 "${jvm[@]}" -jar "$console" execute --disable-banner --disable-ansi-colors --details=tree \
    --class-path "$cp" --select-class dev.wengert.tensor.cuda.CudaBackendTest \
    --select-class dev.wengert.autograd.CudaGradientTableTest --reports-dir "$work/junit" > "$work/tests.txt" 2>&1
tests=$?
grep -E '^\[ *[0-9]+ tests (successful|failed|skipped|aborted)' "$work/tests.txt" | tr -s ' ' | sed 's/^/  /' | tee -a "$summary"
if ! grep -qE '\[ *[1-9][0-9]* tests successful' "$work/tests.txt"; then
    note "  no CUDA test ran: $(grep -m1 -E 'skipped|not usable' "$work/tests.txt")"
    tests=1
fi

note "== 3. training on CUDA"
for model in logreg mlp; do
    args=(--model "$model" --device cuda --output "$work/train-$model")
    [ "$quick" = 1 ] && args+=(--epochs 1) && [ "$model" = mlp ] && args+=(--hidden 32)
    timeout -k 10 60 "${jvm[@]}" -cp "$cp" dev.wengert.models.cli.Main train "${args[@]}" > "$work/train-$model.txt" 2>&1
    status=$?
    line=$(grep -h 'final test accuracy' "$work/train-$model.txt" || echo "did not finish (exit $status): $(tail -2 "$work/train-$model.txt" | tr '\n' ' ')")
    note "  $model: $line"
    [ "$status" = 0 ] || tests=1
done

note "== 4. training-step throughput beside PyTorch"
reference=()
if [ "$quick" = 1 ]; then
    note "  PyTorch: skipped (quick mode: no PyTorch on the simulator or a development machine)"
elif timeout -k 10 50 python3 bench/reference/pytorch_reference.py --device cuda --seconds 4 --out "$work/pytorch.json" \
        > "$work/pytorch.txt" 2>&1 && [ -s "$work/pytorch.json" ]; then
    reference=(--reference "$work/pytorch.json")
else
    note "  PyTorch: failed, the table has Wengert only: $(tail -1 "$work/pytorch.txt")"
fi
runner=(--device cuda:0 --impls wengert --markdown "$work/gpu-throughput.md")
if [ "$quick" = 1 ]; then
    runner+=(--workloads logreg-b512 --warmup 1 --steps 2)
else
    runner+=(--seconds 4)
fi
timeout -k 10 80 "${jvm[@]}" -cp "$cp" dev.wengert.bench.ThroughputRunner "${runner[@]}" "${reference[@]}" \
    > "$work/gpu-throughput.txt" 2>&1 || note "  throughput runner failed: $(tail -1 "$work/gpu-throughput.txt")"
[ -f "$work/gpu-throughput.md" ] && sed 's/^/  /' "$work/gpu-throughput.md" | tee -a "$summary"

note "== 5. kernels beside PyTorch"
timeout -k 10 45 "${jvm[@]}" -cp "$cp" dev.wengert.tensor.cuda.CudaDeviceBench cuda:0 $([ "$quick" = 1 ] && echo quick) \
    > "$work/wengert.txt" 2>&1 || note "  CudaDeviceBench failed: $(tail -1 "$work/wengert.txt")"
if [ "$quick" = 1 ]; then
    note "  PyTorch: skipped (quick mode)"
else
    timeout -k 10 30 python3 bench/reference/device_reference.py > "$work/torch.txt" 2>&1 || note "  PyTorch device reference failed"
fi
printf '  %-20s %12s %12s  %s\n' measurement wengert pytorch unit | tee -a "$summary"
for name in sgemm_fp32_n4096 sgemm_tf32_n4096 add_16M_f32 d2d_copy_16M_f32 launch_small_add; do
    w=$(awk -v n="$name" '$1 == "RESULT" && $2 == n {print $3}' "$work/wengert.txt")
    p=$(awk -v n="$name" '$1 == "RESULT" && $2 == n {print $3}' "$work/torch.txt" 2>/dev/null)
    u=$(awk -v n="$name" '$1 == "RESULT" && $2 == n {$1 = $2 = $3 = ""; print}' "$work/wengert.txt" | head -1)
    printf '  %-20s %12s %12s %s\n' "$name" "${w:--}" "${p:--}" "$u" | tee -a "$summary"
done
finish "$tests"
