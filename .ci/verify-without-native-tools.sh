#!/bin/sh
# Runs the build as on a machine without bash, gcc, g++ or nvcc: PATH becomes one temporary directory of
# symlinks to every command on the current PATH except those (and cc, c++, clang, nvcc's relatives), so
# the build must skip its native steps, each with one message, and still pass. Written for sh (dash),
# since bash is what it hides; ./mvnw and Maven's bin/mvn are sh scripts too.
#
#   .ci/verify-without-native-tools.sh [--keep-bash] [MAVEN ARGS...]   (default: -B -o clean verify)
#
# --keep-bash hides only the compilers: then the scripts run and skip their own work instead.
# Not part of the normal build: it is a whole second build (clean first, so that no simulator or shim
# from an earlier build is used): 85-115 s on 2 cores, where ./mvnw -B -o verify takes about 3 minutes.
# It prints the skip messages it saw at the end; the full log is in target/verify-without-native-tools.log.
set -eu
cd "$(dirname "$0")/.."
hide='gcc|g\+\+|cc|c\+\+|c89|c99|cpp|clang|clang\+\+|nvcc|.*-gcc|.*-g\+\+'
tools='gcc g++ nvcc'
if [ "${1:-}" = --keep-bash ]; then
    shift
else
    hide="bash|rbash|$hide"
    tools="bash $tools"
fi
[ $# -gt 0 ] || set -- -B -o clean verify
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bin
mkdir "$bin"
old_ifs=$IFS
IFS=:
for dir in $PATH; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
        name=${f##*/}
        # the first of a name on PATH wins, as in a lookup; hidden names and their versioned forms (gcc-12) skipped
        if [ -x "$f" ] && [ ! -d "$f" ] && [ ! -e "$bin/$name" ] \
            && ! printf '%s\n' "$name" | grep -Eqx "($hide)(-[0-9.]+)?"; then
            ln -s "$f" "$bin/$name"
        fi
    done
done
IFS=$old_ifs
for tool in $tools; do
    if PATH=$bin command -v "$tool" >/dev/null 2>&1; then
        echo "verify-without-native-tools.sh: $tool is still on the reduced PATH" >&2
        exit 1
    fi
done
log=$tmp/build.log
echo "verify-without-native-tools.sh: PATH=$bin ($(ls "$bin" | wc -l) commands; hidden: $hide); ./mvnw $*"
start=$(date +%s)
status=0
env -u CC -u CXX -u NVCC -u CUDA_HOME PATH="$bin" sh ./mvnw "$@" > "$log" 2>&1 || status=$?
end=$(date +%s)
mkdir -p target
cp "$log" target/verify-without-native-tools.log
echo "verify-without-native-tools.sh: the skip messages:"
grep -E 'NativeStep: |kernels\.sh: warning|not found|skipped$|: skipped|simulator was not built|no CUDA simulator' "$log" \
    | grep -v '^\[INFO\] Tests run' | sed 's/^/  /' || true
tail -n 30 "$log" | grep -E 'BUILD|Total time|ERROR' | sed 's/^/  /' || true
echo "verify-without-native-tools.sh: exit $status after $((end - start)) s; log: target/verify-without-native-tools.log"
exit $status
