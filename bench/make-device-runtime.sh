#!/usr/bin/env bash
# Completes what bench/device-check.sh runs with (called by the bench module's package phase):
#   make-device-runtime.sh BENCH_JAR LIBDIR JREDIR
# copies the bench jar into LIBDIR (beside the jars Maven copied there) and, when JREDIR does not exist
# yet, makes a jlink'd Java runtime there with only the modules Wengert's CUDA path needs: the same
# runtime that travels to the GPU machine, which has no Java (about 39 MB; no java.desktop, so no
# PNG plots there: `wengert train` then warns and writes the rest).
set -euo pipefail
jar=${1:?usage: make-device-runtime.sh BENCH_JAR LIBDIR JREDIR}
lib=${2:?}
jre=${3:?}
cp "$jar" "$lib"/
if [ ! -x "$jre/bin/java" ]; then
    jdk=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
    rm -rf "$jre"
    "$jdk/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,java.management,jdk.management,java.xml \
        --strip-debug --no-header-files --no-man-pages --compress=2 --output "$jre"
    echo "make-device-runtime.sh: made $jre ($(du -sh "$jre" | cut -f1))"
fi
