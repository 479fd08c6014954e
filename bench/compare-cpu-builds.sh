#!/usr/bin/env bash
# Compares the CPU training throughput of two git refs of this repository on this machine:
#   bench/compare-cpu-builds.sh BEFORE_REF AFTER_REF [runs]     (runs: per build, default 4)
# Each ref is checked out into its own clone, bench/target/compare/<ref> (objects shared with this
# repository, nothing installed into ~/.m2), and packaged there with only the modules bench needs
# (./mvnw -B -o -q -Dwengert.docs.skip=true -DskipTests -pl bench -am package: no Javadoc, no BOM, no
# examples); each run is one JVM on that build's own module classes: the class path is bench's runtime
# class path with every module of the clone's reactor as its target/classes, whatever the layout (before
# and after the split into tensor, tensor-cpu, tensor-cuda, cli: the module directories come from the
# paths Maven resolved, not from a list), and the script stops if a dev.wengert artifact resolves from
# outside the clone (a stale ~/.m2 copy). A run:
#   ThroughputRunner --impls wengert --warmup 5 --steps 30 --seconds 8 [--workloads $WORKLOADS]
# Runs alternate in pairs, before/after, after/before, ..., so the machine's drift hits both builds
# alike. Prints a Markdown table per workload (each run's median ms per step, the median of the medians
# per build, after/before) and a summary; writes them to bench/target/compare/report.md, and each run's
# ThroughputRunner table to bench/target/compare/runs/. Environment: WORKLOADS (comma-separated
# ThroughputRunner workloads, e.g. logreg-b512; default all 5), JAVA (default java), JAVA_OPTS (default
# -Xmx8g). On the 2-core VM a build takes about 2 minutes from scratch (1 when the clone is already
# built) and a run of all 5 workloads about 50 s when the machine is quiet (95 s under load), so the
# default 4 runs per build take about 10 minutes in all.
set -euo pipefail
shopt -s inherit_errexit   # a failed build inside $(build ...) stops the script
if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 BEFORE_REF AFTER_REF [runs per build, default 4]" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
before_ref=$1
after_ref=$2
runs=${3:-4}
java=${JAVA:-java}
read -r -a java_opts <<< "${JAVA_OPTS:--Xmx8g}"
workloads=()
if [[ -n ${WORKLOADS:-} ]]; then
    workloads=(--workloads "$WORKLOADS")
fi
out=$root/bench/target/compare
mkdir -p "$out/runs"
export OMP_WAIT_POLICY=PASSIVE   # measured: ND4J's spinning OpenMP threads halve throughput on 2 cores
start=$(date +%s)

# Clones and packages a ref; prints its class path (bench's classes first, then every runtime dependency,
# the clone's own modules as their target/classes).
build() {
    local ref=$1 commit dir cp entry module resolved=()
    commit=$(git rev-parse --verify "$ref^{commit}")
    dir=$out/$(printf '%s' "$ref" | tr -c 'A-Za-z0-9._-' '_')
    if [[ ! -d $dir/.git ]]; then
        git clone -q --shared --no-checkout "$root" "$dir"
    fi
    git -C "$dir" checkout -q --force --detach "$commit"
    echo "building $ref ($commit) in $dir ..." >&2
    (cd "$dir" && ./mvnw -B -o -q -Dwengert.docs.skip=true -DskipTests -pl bench -am package \
        dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$dir/bench/target/compare-classpath.txt") >&2
    IFS=: read -r -a cp <<< "$(cat "$dir/bench/target/compare-classpath.txt")"
    for entry in "${cp[@]}"; do
        if [[ $entry == "$dir"/*/target/* ]]; then   # a module of the clone's reactor (its jar): its classes
            module=${entry#"$dir"/}
            module=${module%%/target/*}
            if [[ $entry == *-tests.jar ]]; then        # the test jar Maven lists (tensor's), as test classes
                entry=$dir/$module/target/test-classes
            else
                entry=$dir/$module/target/classes
            fi
            [[ -d $entry ]] || { echo "missing $entry" >&2; exit 1; }
        elif [[ $entry == */dev/wengert/* ]]; then
            echo "$ref: $entry is a Wengert module from outside $dir; the comparison needs the clone's own" >&2
            exit 1
        fi
        resolved+=("$entry")
    done
    local IFS=:
    printf '%s:%s' "$dir/bench/target/classes" "${resolved[*]}"
}

cp_before=$(build "$before_ref")
cp_after=$(build "$after_ref")
built=$(date +%s)
echo "built both in $((built - start)) s; $runs runs per build, alternating" >&2

# run LABEL INDEX: one ThroughputRunner JVM; its table goes to runs/LABEL-INDEX.md
run() {
    local label=$1 i=$2 cp
    cp=$([[ $label == before ]] && echo "$cp_before" || echo "$cp_after")
    echo "run $i of $runs: $label ..." >&2
    "$java" "${java_opts[@]}" -cp "$cp" dev.wengert.bench.ThroughputRunner --impls wengert \
        --warmup 5 --steps 30 --seconds 8 "${workloads[@]}" --markdown "$out/runs/$label-$i.md" > /dev/null
}
rm -f "$out"/runs/*.md
for ((i = 1; i <= runs; i++)); do
    if ((i % 2 == 1)); then
        run before "$i"
        run after "$i"
    else
        run after "$i"
        run before "$i"
    fi
done
end=$(date +%s)

python3 - "$out" "$runs" "$before_ref" "$after_ref" "$(git rev-parse --short "$before_ref^{commit}")" \
    "$(git rev-parse --short "$after_ref^{commit}")" "$((end - start))" "$((end - built))" <<'PY' | tee "$out/report.md"
import statistics, sys
out, runs, bref, aref, bsha, asha, total, measuring = sys.argv[1:]
runs = int(runs)

def medians(label, i):
    """workload -> (description, median ms) from one run's ThroughputRunner table."""
    rows = {}
    for line in open(f"{out}/runs/{label}-{i}.md"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and "(" in cells[0] and cells[1].replace(".", "", 1).isdigit():
            name, desc = cells[0].split(" (", 1)
            rows[name] = ("(" + desc, float(cells[1]))
    return rows

b = [medians("before", i) for i in range(1, runs + 1)]
a = [medians("after", i) for i in range(1, runs + 1)]
print(f"**CPU training step, wengert only: before = {bref} ({bsha}), after = {aref} ({asha})**; "
      f"{runs} runs per build, alternating (run i: before then after for odd i, after then before for even i); "
      f"ThroughputRunner --warmup 5 --steps 30 --seconds 8; median ms per step. "
      f"{total} s in all, {measuring} s of runs.\n")
summary = []
for name in b[0]:
    desc = b[0][name][0]
    bs = [r[name][1] for r in b]
    as_ = [r[name][1] for r in a]
    bm, am = statistics.median(bs), statistics.median(as_)
    summary.append((name, desc, bm, am))
    print(f"### {name} {desc}\n")
    print("| run | before ms | after ms |\n|---|---|---|")
    for i in range(runs):
        print(f"| {i + 1} | {bs[i]:.2f} | {as_[i]:.2f} |")
    print(f"| median of medians | {bm:.2f} | {am:.2f} |")
    print(f"| after / before | | {am / bm:.3f} |\n")
print("### Summary\n")
print("| workload | before ms | after ms | after / before |\n|---|---|---|---|")
for name, desc, bm, am in summary:
    print(f"| {name} {desc} | {bm:.2f} | {am:.2f} | {am / bm:.3f} |")
PY
