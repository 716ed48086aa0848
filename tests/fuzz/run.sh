#!/bin/sh
# Runs the libFuzzer targets built by tests/fuzz/fuzz.mk.
#   run.sh fuzz TARGET BUILDDIR SECONDS
#       fuzzes TARGET for SECONDS from its seeds (tests/fuzz/corpus/TARGET), its saved crash
#       inputs (tests/fuzz/regressions/TARGET) and the working corpus it grows
#       (tests/fuzz/corpus-work/TARGET, not committed). Prints one line: executions, libFuzzer's
#       coverage (cov: edges, ft: features) and the corpus size; writes it to BUILDDIR/TARGET.summary.
#       A crash exits 1 and copies its input to tests/fuzz/regressions/TARGET/ (commit it).
#   run.sh regress "TARGET..." BUILDDIR
#       runs every seed and saved crash input of each TARGET once; exits 1 on the first failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 3
mode=$1 targets=$2 dir=$3

inputs() { # TARGET: the seed and regression files, one per line
    find "tests/fuzz/corpus/$1" "tests/fuzz/regressions/$1" -type f 2>/dev/null | sort
}

fuzz_one() { # TARGET SECONDS
    t=$1 secs=$2
    bin=$dir/fuzz_$t log=$dir/$t.log work=tests/fuzz/corpus-work/$t crashes=$dir/crashes/$t
    rm -rf "$crashes" "$dir/$t.summary"   # only this run's crashes are reported and saved
    mkdir -p "$work" "$crashes"
    set -- "$work" "tests/fuzz/corpus/$t"
    [ -d "tests/fuzz/regressions/$t" ] && set -- "$@" "tests/fuzz/regressions/$t"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$@" >"$log" 2>&1
    st=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
    result=ok
    if [ "$st" != 0 ]; then
        result="FAILED (exit $st)"
        mkdir -p "tests/fuzz/regressions/$t"
        for c in "$crashes"/*; do
            [ -f "$c" ] || continue
            cp "$c" "tests/fuzz/regressions/$t/"
            result="$result, input saved as tests/fuzz/regressions/$t/$(basename "$c")"
        done
        grep -E -A30 '^==[0-9]+==ERROR|invariant failed|runtime error|^SUMMARY' "$log" | head -n 60
    fi
    line="fuzz $t: ${execs:-?} executions (${rate:-?}/s) in ${secs}s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}: $result"
    echo "$line" | tee "$dir/$t.summary"
    [ "$st" = 0 ]
}

regress_one() { # TARGET
    t=$1 bin=$dir/fuzz_$1 log=$dir/$1.regress.log
    files=$(inputs "$t")
    if [ -z "$files" ]; then
        echo "FAIL fuzz-regress $t: no seeds in tests/fuzz/corpus/$t"
        return 1
    fi
    n=$(echo "$files" | wc -l)
    # shellcheck disable=SC2086
    if "$bin" -timeout=10 -rss_limit_mb=2048 $files >"$log" 2>&1; then
        echo "PASS fuzz-regress $t: $n inputs"
        return 0
    fi
    grep -E 'Running:|^==[0-9]+==ERROR|invariant failed|runtime error|^SUMMARY' "$log" | tail -n 20
    echo "FAIL fuzz-regress $t: see $log"
    return 1
}

case "$mode" in
fuzz) fuzz_one "$targets" "${4:-60}" ;;
regress)
    failed=0
    for t in $targets; do regress_one "$t" || failed=1; done
    exit $failed
    ;;
*) echo "usage: run.sh fuzz TARGET BUILDDIR SECONDS | regress \"TARGET...\" BUILDDIR" >&2; exit 2 ;;
esac
