#!/usr/bin/env bash
# run_tracker_bench.sh: the tracker benchmark end to end. Builds bench_tracker (Release) and runs
# it: the cost of a hook on the caller's thread, and the flusher's throughput to a file store in
# S3 layout and to Burr's local layout, plus a real S3 endpoint when SPOOR_TEST_S3_ENDPOINT (and
# _ACCESS_KEY, _SECRET_KEY, _REGION) are set. Then, when valgrind is installed, it counts the
# instructions of one hook call with callgrind. Prints one report.
#
#   run_tracker_bench.sh [BUILD_DIR] [-- BENCH_TRACKER_ARGS...]
#
# BUILD_DIR defaults to build-bench/ in the source tree; it is configured as Release when it holds
# no CMake cache yet (an existing cache of another build type is used as it is, with a warning).
# Arguments after "--" go to bench_tracker (e.g. --events 200000 --threads 1,4 --no-e2e).
# CALLGRIND_CALLS (default 100000) is the number of calls counted per hook; 0 skips callgrind.
# Progress goes to stderr, the report to stdout. Exits non-zero when the benchmark found an
# unclean run (a failed hook, a drop, an event not written).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$SRC/build-bench
case "${1:-}" in
-h | --help) sed -n '8p' "$0" | sed 's/^# *//'; exit 0 ;;
--) ;;
-*) echo "run_tracker_bench.sh: unknown option $1 (usage: see the top of $0)" >&2; exit 2 ;;
?*) BUILD=$1; shift ;;
esac
if [ $# -gt 0 ]; then
    [ "$1" = -- ] || { echo "run_tracker_bench.sh: bench_tracker arguments go after --" >&2; exit 2; }
    shift
fi
BUILD=$(realpath -m -- "$BUILD")
CALLGRIND_CALLS=${CALLGRIND_CALLS:-100000}

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    echo "run_tracker_bench.sh: configuring $BUILD (Release)" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >&2
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
[ "$btype" = Release ] ||
    echo "run_tracker_bench.sh: warning: $BUILD is a '$btype' build, not Release" >&2
cmake --build "$BUILD" --target bench_tracker -j"$(nproc)" >&2
BENCH=$BUILD/tests/bench_tracker
[ -x "$BENCH" ] || { echo "run_tracker_bench.sh: $BENCH was not built" >&2; exit 2; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/tracker-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

if [ -n "${SPOOR_TEST_S3_ENDPOINT:-}" ]; then
    echo "run_tracker_bench.sh: S3 rows against $SPOOR_TEST_S3_ENDPOINT" >&2
else
    echo "run_tracker_bench.sh: SPOOR_TEST_S3_ENDPOINT not set: no S3 rows" >&2
fi
rc=0
"$BENCH" "$@" >"$OUT/bench" || rc=1

# Instructions per call: callgrind collects only inside callgrind_loop(), which makes N calls
# of one hook (after 1,000 untimed warm-up calls), so its total divided by N is the hook's cost
# plus a few instructions of loop.
callgrind_row() {
    local kind=$1 out=$OUT/cg.$1
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=callgrind_loop \
        "$BENCH" --callgrind "$kind:$CALLGRIND_CALLS" >/dev/null 2>"$out.log" || {
        echo "run_tracker_bench.sh: callgrind run for $kind failed (see below)" >&2
        tail -5 "$out.log" >&2
        return 1
    }
    awk -v k="$kind" -v n="$CALLGRIND_CALLS" \
        '/^totals:/ { printf "| %-10s | %8d | %9.0f |\n", k, n, $2 / n }' "$out"
}

# The functions below the hook, inclusive, per call (names only, no paths).
callgrind_top() {
    local kind=$1 total
    total=$(awk '/^totals:/ { print $2 }' "$OUT/cg.$kind")
    callgrind_annotate --inclusive=yes "$OUT/cg.$kind" 2>/dev/null |
        awk -v n="$CALLGRIND_CALLS" -v total="$total" '
            /^ *[0-9,]+ \(/ {
                ir = $1; gsub(",", "", ir)
                if (ir + 0 >= total + 0) next
                fn = $0; sub(/^[^:]*:/, "", fn); sub(/ \[.*$/, "", fn); sub(/@@.*$/, "", fn)
                if (fn in seen) next
                seen[fn] = 1
                if (++shown <= 14) printf "| %-40s | %9.1f |\n", fn, ir / n
            }'
}

{
    echo "Tracker benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
        "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
    cat "$OUT/bench"
    if [ "$CALLGRIND_CALLS" -gt 0 ] && command -v valgrind >/dev/null; then
        echo
        echo "Instructions per hook call (valgrind --tool=callgrind --toggle-collect=callgrind_loop;"
        echo "user-space instructions only: clock_gettime is a system call under valgrind)"
        echo
        echo "| event      | calls    | Ir / call |"
        echo "|------------|---------:|----------:|"
        for k in attribute step_begin step_end; do
            callgrind_row "$k" || rc=1
        done
        if [ -s "$OUT/cg.attribute" ]; then
            echo
            echo "Where spoor_attribute's instructions go (inclusive, per call)"
            echo
            echo "| function                                 | Ir / call |"
            echo "|------------------------------------------|----------:|"
            callgrind_top attribute
        fi
    elif [ "$CALLGRIND_CALLS" -gt 0 ]; then
        echo "run_tracker_bench.sh: valgrind not installed: no instruction counts" >&2
    fi
}
[ $rc -eq 0 ] || echo "run_tracker_bench.sh: the run was not clean (see above)" >&2
exit $rc
