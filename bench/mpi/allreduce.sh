#!/usr/bin/env bash
# All-reduce bandwidth, Open MPI's C (bench/mpi/allreduce.c, compiled here with mpicc) beside Java
# (dev.wengert.distributed.AllReduceBench), in one command, with the transport ./wengert train --nproc uses.
#   bench/mpi/allreduce.sh [N]        (N processes, default 2; needs a built cli/target/classpath.txt: ./wengert --version)
# Set WENGERT_MPIRUN_ARGS to try another transport, e.g. "--mca btl self,vader".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-2}"
command -v mpicc >/dev/null || { echo "allreduce.sh: mpicc not found: apt-get install libopenmpi-dev" >&2; exit 2; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
mpicc -O2 -o "$OUT/allreduce" "$ROOT/bench/mpi/allreduce.c"
ARGS=(--oversubscribe --bind-to none)
[[ "$(id -u)" == 0 ]] && ARGS+=(--allow-run-as-root)
# shellcheck disable=SC2206
TRANSPORT=(${WENGERT_MPIRUN_ARGS:---mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo})
CP="$(ls "$ROOT"/cli/target/wengert-cli-*.jar | grep -v -e sources -e javadoc -e tests | head -1):$(cat "$ROOT/cli/target/classpath.txt")"
echo "# mpirun -np $N ${TRANSPORT[*]}; $(nproc) cores; $(mpirun --version | head -1)"
mpirun "${ARGS[@]}" "${TRANSPORT[@]}" -np "$N" "$OUT/allreduce"
OMP_NUM_THREADS=1 mpirun "${ARGS[@]}" "${TRANSPORT[@]}" -np "$N" java -cp "$CP" dev.wengert.distributed.AllReduceBench
