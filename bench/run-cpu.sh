#!/usr/bin/env bash
# CPU benchmarks: the end-to-end throughput table (Wengert vs raw ND4J vs SameDiff) and the JMH
# microbenchmarks, all on this machine, in one go. Usage:
#   bench/run-cpu.sh [throughput|jmh|all] [extra ThroughputRunner args...]
# Writes bench/results/cpu-throughput.md/.png and bench/results/jmh-cpu.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
shift || true
export OMP_WAIT_POLICY=PASSIVE   # measured: ND4J's spinning OpenMP threads halve throughput on 2 cores

./mvnw -B -q -DskipTests install
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile="$PWD/bench/target/classpath.txt" >/dev/null
cp="bench/target/classes:$(cat bench/target/classpath.txt)"
mkdir -p bench/results

if [[ $what == throughput || $what == all ]]; then
    java -Xmx12g -cp "$cp" dev.wengert.bench.ThroughputRunner --warmup 5 --steps 30 --seconds 20 \
        --markdown bench/results/cpu-throughput.md --png bench/results/cpu-throughput.png "$@"
fi
if [[ $what == jmh || $what == all ]]; then
    java -cp "$cp" org.openjdk.jmh.Main -foe true 'dev.wengert.bench.jmh.*' | tee bench/results/jmh-cpu.txt
fi
