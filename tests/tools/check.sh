#!/bin/sh
# Runs every unit test binary and every integration test, then prints one summary line.
# Usage: check.sh BUILDDIR
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
PCMON="$top/$build/pcmon"
export PCMON PCMON_BUILD="$top/$build" PCMON_TOP="$top"
passed=0 failed=0 failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

record() { # name status
    if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $1"; fi
}

for t in "$top/$build"/tests/test_*; do
    [ -x "$t" ] || continue
    name=unit/$(basename "$t")
    CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} "$t" >"$log" 2>&1
    st=$?
    summary=$(grep -E '^[0-9]+%: Checks:' "$log" | tail -n 1)
    [ "$st" = 0 ] || cat "$log"
    echo "$name: ${summary:-no summary} (exit $st)"
    record "$name" "$st"
done

for t in "$top"/tests/integration/*.sh "$top"/tests/integration/*.py; do
    [ -f "$t" ] || continue
    name=integration/$(basename "$t")
    start=$(date +%s)
    case "$t" in
    *.py) /usr/bin/python3 "$t" >"$log" 2>&1 ;;
    *) sh "$t" >"$log" 2>&1 ;;
    esac
    st=$?
    [ "$st" = 0 ] && grep -E '^(PASS|SKIP)' "$log" || cat "$log"
    echo "$name: exit $st ($(( $(date +%s) - start ))s)"
    record "$name" "$st"
done

[ -n "$failures" ] && echo "failed:$failures"
echo "checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
