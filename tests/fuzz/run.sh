#!/bin/sh
# Runs the libFuzzer targets built by tests/fuzz/fuzz.mk.
#   run.sh fuzz TARGET BUILDDIR SECONDS [SEED]
#       fuzzes TARGET for SECONDS with libFuzzer's -seed=SEED (default 1: from the same corpus, the
#       same sequence of mutations on every run, cut where the time runs out) from its seeds
#       (tests/fuzz/corpus/TARGET), its saved crash inputs (tests/fuzz/regressions/TARGET) and the
#       working corpus it grows
#       (tests/fuzz/corpus-work/TARGET, not committed). Prints one line: executions, libFuzzer's
#       coverage (cov: edges, ft: features) and the corpus size; writes it to BUILDDIR/TARGET.summary.
#       A crash exits 1 and copies its input to tests/fuzz/regressions/TARGET/ (commit it); the
#       input is also printed as hex (first 4 KiB) so that it survives a throw-away CI machine.
#   run.sh regress "TARGET..." BUILDDIR
#       runs every seed and saved crash input of each TARGET once; exits 1 on the first failure.
#   run.sh coverage "TARGET..." COVDIR LLVM_PROFDATA LLVM_COV
#       runs the coverage-instrumented targets in COVDIR over every seed, saved crash input and
#       working-corpus input once, merges the profiles and prints llvm-cov's line coverage of lib/
#       (per file, and the TOTAL line); the HTML-free report is kept in COVDIR/coverage.txt.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 3
mode=$1 targets=$2 dir=$3

inputs() { # TARGET: the seed and regression files, one per line
    find "tests/fuzz/corpus/$1" "tests/fuzz/regressions/$1" -type f 2>/dev/null | sort
}

fuzz_one() { # TARGET SECONDS SEED
    t=$1 secs=$2 seed=$3
    bin=$dir/fuzz_$t log=$dir/$t.log work=tests/fuzz/corpus-work/$t crashes=$dir/crashes/$t
    rm -rf "$crashes" "$dir/$t.summary"   # only this run's crashes are reported and saved
    mkdir -p "$work" "$crashes"
    set -- "$work" "tests/fuzz/corpus/$t"
    [ -d "tests/fuzz/regressions/$t" ] && set -- "$@" "tests/fuzz/regressions/$t"
    "$bin" -seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
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
            echo "crash input $(basename "$c") ($(wc -c <"$c") bytes), hex (recreate with xxd -r -p):"
            head -c 4096 "$c" | od -An -tx1 -v | tr -d ' \n' | fold -w 64; echo
        done
        grep -E -A30 '^==[0-9]+==ERROR|invariant failed|runtime error|^SUMMARY' "$log" | head -n 60
    fi
    line="fuzz $t: ${execs:-?} executions (${rate:-?}/s) in ${secs}s (seed $seed), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}: $result"
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

coverage() { # "TARGET..." COVDIR PROFDATA COV
    cdir=$2 profdata=$3 cov=$4
    rm -f "$cdir"/*.profraw "$cdir/fuzz.profdata"
    objs="" failed=0
    for t in $1; do
        set --
        for d in "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" "tests/fuzz/corpus-work/$t"; do
            [ -d "$d" ] && set -- "$@" "$d"
        done
        n=$(find "$@" -type f | wc -l)
        # -runs=0: run every input of the directories once, fuzz nothing.
        if ! LLVM_PROFILE_FILE="$cdir/$t.profraw" "$cdir/fuzz_$t" -runs=0 -timeout=30 -rss_limit_mb=2048 \
                "$@" >"$cdir/$t.cov.log" 2>&1; then
            echo "FAIL fuzz-coverage $t: see $cdir/$t.cov.log"
            failed=1
        fi
        echo "fuzz-coverage $t: $n inputs"
        objs="${objs:+$objs -object }$cdir/fuzz_$t"
    done
    "$profdata" merge -sparse "$cdir"/*.profraw -o "$cdir/fuzz.profdata" || return 1
    # shellcheck disable=SC2086
    "$cov" report -instr-profile="$cdir/fuzz.profdata" $objs "$top/lib" >"$cdir/coverage.txt" || return 1
    sed 's/^/  /' "$cdir/coverage.txt"
    # TOTAL  regions missed cover  functions missed executed  lines missed cover  branches missed cover
    total=$(awk '$1 == "TOTAL" { print $8, $9, $10, $7 }' "$cdir/coverage.txt")
    # shellcheck disable=SC2086
    set -- $total
    echo "fuzz-coverage: lib/ line coverage $3 ($(( $1 - $2 )) of $1 lines), functions executed $4 (per file: $cdir/coverage.txt)"
    unlinked=""
    for f in lib/*.c; do
        grep -q "^$(basename "$f") " "$cdir/coverage.txt" || unlinked="$unlinked $(basename "$f")"
    done
    echo "fuzz-coverage: lib/ files no target links (not in the figure):${unlinked:- none}"
    return $failed
}

case "$mode" in
fuzz) fuzz_one "$targets" "${4:-60}" "${5:-1}" ;;
regress)
    failed=0
    for t in $targets; do regress_one "$t" || failed=1; done
    exit $failed
    ;;
coverage) coverage "$targets" "$dir" "$4" "$5" ;;
*) echo "usage: run.sh fuzz TARGET BUILDDIR SECONDS [SEED] | regress \"TARGET...\" BUILDDIR" >&2; exit 2 ;;
esac
