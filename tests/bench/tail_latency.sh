#!/bin/sh
# The tailer's benchmark: builds tests/bench/tail_latency.c against BUILDDIR/libpcmon.a and runs
# it. Not a timed test: it prints write->callback latency (p50/p99), idle wake-ups and catch-up
# throughput. Usage: tests/bench/tail_latency.sh [BUILDDIR] [LINES] [BACKLOG_LINES]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
shift $(( $# > 0 ? 1 : 0 ))
pkgs="libsystemd libcurl json-c yaml-0.1 libpcre2-8"
[ -f "$build/libpcmon.a" ] || make -C "$top" BUILDDIR="$build" "$build/libpcmon.a"
mkdir -p "$build/tests"
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -I"$top/lib" $(pkg-config --cflags $pkgs) -o "$build/tests/tail_latency" \
    "$top/tests/bench/tail_latency.c" "$build/libpcmon.a" $(pkg-config --libs $pkgs) -lm
exec "$build/tests/tail_latency" "$@"
