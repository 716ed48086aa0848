#!/bin/sh
# The unit tests under ASan+UBSan (build-asan/, SANITIZE=address,undefined: any error or leak
# fails), the integration scripts again with the ASan+UBSan pcmon, and every unit test binary of a normal
# build (build-valgrind/) under valgrind memcheck: zero errors and zero definite or indirect
# leaks. Prints PASS/FAIL per binary; exits 1 when any failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# Called from `make check`: the parent's make flags (SANITIZE=..., BUILDDIR=..., -j jobserver)
# must not leak into these builds.
unset MAKEFLAGS MFLAGS MAKELEVEL
jobs=$(nproc 2>/dev/null || echo 2)
asan=build-asan vg=build-valgrind
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=0

start=$(date +%s)
pass() { echo "PASS $*"; }
elapsed() { echo "# $1 done after $(($(date +%s) - start)) s"; }
fail() { echo "FAIL $*"; failed=1; }

units() { # BUILDDIR: the unit test binaries' paths
    for src in tests/unit/test_*.c; do
        b=${src#tests/unit/}
        echo "$1/tests/${b%.c}"
    done
}

# The valgrind runs, longest first: the time each took last (BUILD/tests/*.vgtime), else these,
# the slowest under valgrind when measured (100, 69 and 45 s on 2 cores; the rest 1-12 s).
VG_SLOW="test_prefilter test_linesplit test_grouper"
vg_order() {
    for t in $(units $vg); do
        b=$(basename "$t") w=$(cat "$t.vgtime" 2>/dev/null)
        [ -n "$w" ] || case " $VG_SLOW " in *" $b "*) w=1000 ;; *) w=0 ;; esac
        echo "$w $t"
    done | sort -k1,1nr -k2,2 | cut -d' ' -f2
}

# --- ASan + UBSan -------------------------------------------------------------------------
# shellcheck disable=SC2046
if make -j"$jobs" BUILDDIR=$asan SANITIZE=address,undefined $(units $asan) >"$logs/asan-build" 2>&1; then
    for t in $(units $asan); do
        name=asan/$(basename "$t")
        if ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1 UBSAN_OPTIONS=print_stacktrace=1 \
            CK_DEFAULT_TIMEOUT=120 "$t" >"$logs/run" 2>&1; then
            pass "$name: $(grep -E '^[0-9]+%: Checks:' "$logs/run" | tail -n 1)"
        else
            grep -E -A25 'ERROR: (Address|Leak)Sanitizer|runtime error|Checks:|:[EF]:' "$logs/run" | head -n 60
            fail "$name"
        fi
    done
else
    tail -n 30 "$logs/asan-build"
    fail "asan build of the unit tests"
fi

elapsed "asan unit tests"

# The daemon and the test drivers under ASan+UBSan: every integration script that runs pcmon, run
# again against this build. A sanitizer report goes to a file (log_path), since the scripts keep
# pcmon's stderr to themselves: a script passes only if it passes and no report was written.
# PCMON_ASAN_SKIP names scripts to leave out (by file name).
ASAN_SCRIPTS_SKIP="sanitizers.sh ${PCMON_ASAN_SKIP:-}"
rm -f $asan/pcmon
if make -j"$jobs" BUILDDIR=$asan SANITIZE=address,undefined tests >"$logs/asan-pcmon" 2>&1; then
    for t in tests/integration/*.py; do
        b=$(basename "$t")
        case " $ASAN_SCRIPTS_SKIP " in *" $b "*) echo "SKIP asan/$b"; continue ;; esac
        rep=$logs/reports-${b%.py}
        mkdir -p "$rep"
        t0=$(date +%s)
        if PCMON="$top/$asan/pcmon" PCMON_BUILD="$top/$asan" PCMON_TOP="$top" PCMON_SANITIZED=1 \
            ASAN_OPTIONS="detect_leaks=1:log_path=$rep/asan" UBSAN_OPTIONS="print_stacktrace=1:log_path=$rep/ubsan" \
            timeout 600 /usr/bin/python3 "$t" >"$logs/int" 2>&1 && [ -z "$(ls -A "$rep")" ]; then
            pass "asan/$b: $(grep -c '^PASS' "$logs/int") checks ($(($(date +%s) - t0)) s)"
        else
            grep -v '^PASS' "$logs/int" | tail -n 40
            for r in "$rep"/*; do [ -f "$r" ] && head -n 40 "$r"; done
            fail "asan/$b"
        fi
    done
else
    tail -n 30 "$logs/asan-pcmon"
    fail "asan build of pcmon and the test drivers"
fi

elapsed "asan integration"

# --- valgrind memcheck, a normal build --------------------------------------------------------
# shellcheck disable=SC2046
if ! command -v valgrind >/dev/null 2>&1; then
    fail "valgrind is not installed (make deps-test)"
elif make -j"$jobs" BUILDDIR=$vg $(units $vg) >"$logs/vg-build" 2>&1; then
    # check's fork per test would hide the children from valgrind: CK_FORK=no. One per core,
    # longest first so that the lanes end together; each run's time is kept for the next.
    # shellcheck disable=SC2016
    vg_order | xargs -P "$jobs" -I{} sh -c '
        log='"$logs"'/vg-$(basename "$1") t0=$(date +%s)
        CK_FORK=no timeout 600 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=1 "$1" >"$log" 2>&1
        echo $? >"$log.rc"
        echo $(($(date +%s) - t0)) >"$1.vgtime"' sh {}
    for t in $(units $vg); do
        name=valgrind/$(basename "$t") log=$logs/vg-$(basename "$t")
        if [ "$(cat "$log.rc" 2>/dev/null)" = 0 ]; then
            pass "$name: $(grep -E '^[0-9]+%: Checks:' "$log" | tail -n 1)"
        else
            grep -E -B2 -A25 '^==[0-9]+== [A-Z].*(Invalid|uninitialised|definitely|indirectly|Mismatched)|Checks:|:[EF]:' \
                "$log" | head -n 80
            fail "$name (exit $(cat "$log.rc" 2>/dev/null))"
        fi
    done
else
    tail -n 30 "$logs/vg-build"
    fail "build of the unit tests for valgrind"
fi

elapsed "valgrind"
exit $failed
