#!/usr/bin/env bash
# Runs the Wengert CUDA simulator's C++ tests built by build-simulator.sh OUTDIR: every program in
# OUTDIR/bin, once in the default thread order and once with WENGERT_SIM_ORDER=reverse (threads of a
# block run in descending order; both are legal CUDA schedules). Each program prints
# "N passed, N failed" last and exits nonzero on a failure; this script exits nonzero if any did.
# Skips (exit 0) where nothing was built (no g++, not Linux x86-64). Extra arguments go to every program.
set -uo pipefail
out=${1:?usage: test-simulator.sh OUTDIR [ARGS...]}
shift
if [ ! -d "$out/bin" ] || [ -z "$(ls -A "$out/bin" 2>/dev/null)" ]; then
    echo "test-simulator.sh: no test programs in $out/bin (the simulator was not built); skipped"
    exit 0
fi
failed=0
for t in "$out"/bin/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name=$(basename "$t")
    for order in default reverse; do
        if [ "$order" = reverse ]; then env=(WENGERT_SIM_ORDER=reverse); else env=(); fi
        args=("$@")
        # the emulator's own tests take flags: no timings; check the order read from the environment
        if [ "$name" = wsim-kernel-tests ]; then
            args=(--no-timing)
            [ "$order" = reverse ] && args+=(--expect-env-order=descending)
        fi
        start=$(date +%s.%N)
        log=$(env ${env[@]+"${env[@]}"} "$t" ${args[@]+"${args[@]}"} 2>&1)
        rc=$?
        secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
        summary=$(printf '%s\n' "$log" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
        if [ $rc -ne 0 ] || [ -z "$summary" ]; then
            failed=1
            printf '%s\n' "$log" | grep -E '^FAIL|passed, .* failed' | head -50
            echo "test-simulator.sh: $name ($order order) FAILED (exit $rc${summary:+: $summary}, ${secs}s)"
        else
            echo "test-simulator.sh: $name ($order order): $summary (${secs}s)"
        fi
    done
done
exit $failed
