#!/bin/sh
# Builds the libFuzzer targets (clang, ASan, UBSan) and runs every seed of tests/fuzz/corpus/ and
# every saved crash input of tests/fuzz/regressions/ through them once (`make fuzz-regress`).
# A crash, sanitizer report, leak or broken invariant fails.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL   # not the parent make's SANITIZE=/BUILDDIR= or jobserver
if ! command -v clang >/dev/null 2>&1; then
    echo "FAIL fuzz-regress: clang is not installed (make deps-test)"
    exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -j"$(nproc 2>/dev/null || echo 2)" fuzz-build >"$log" 2>&1 || {
    tail -n 30 "$log"
    echo "FAIL fuzz-regress: the fuzz targets do not build"
    exit 1
}
make --no-print-directory fuzz-regress
