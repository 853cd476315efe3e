#!/usr/bin/env bash
# run_s3_bench.sh: the S3 benchmark end to end. Starts a throw-away Ceph RGW (tests/harness/rgw.sh)
# in a temporary directory under the build directory, builds bench_s3 if needed, runs bench_s3
# (the engine) and curl_cli.sh (one curl process per request, the baseline) against it, prints
# one combined table on stdout, and always stops the RGW again.
#
#   run_s3_bench.sh [BUILD_DIR] [-- BENCH_S3_ARGS...]
#
# BUILD_DIR defaults to build/ in the source tree; it is configured (Release) when it holds no
# CMake cache yet. Arguments after "--" go to bench_s3 (e.g. --objects 5000 --size 4096);
# CURL_BENCH_ARGS in the environment goes to curl_cli.sh (default: its own, 500 objects).
# Progress goes to stderr. Exits non-zero when either benchmark found a failed request or a
# wrong answer.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$SRC/build
case "${1:-}" in
-h | --help) sed -n '7p' "$0" | sed 's/^# *//'; exit 0 ;;
--) ;;
-*) echo "run_s3_bench.sh: unknown option $1 (usage: see the top of $0)" >&2; exit 2 ;;
?*) BUILD=$1; shift ;;
esac
if [ $# -gt 0 ]; then
    [ "$1" = -- ] || { echo "run_s3_bench.sh: bench_s3 arguments go after --" >&2; exit 2; }
    shift
fi
BUILD=$(realpath -m -- "$BUILD")

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    echo "run_s3_bench.sh: configuring $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$BUILD" --target bench_s3 -j"$(nproc)" >&2
BENCH=$BUILD/tests/bench_s3
[ -x "$BENCH" ] || { echo "run_s3_bench.sh: $BENCH was not built" >&2; exit 2; }

# A short directory name: rgw.sh drops admin sockets for paths past 80 characters.
RGW_DIR=$(mktemp -d "$BUILD/rgw-bench.XXXXXX")
OUT=$RGW_DIR/out
# shellcheck disable=SC2317  # invoked by the trap
stop_rgw() {
    local st=$?
    trap - EXIT
    bash "$SRC/tests/harness/rgw.sh" stop "$RGW_DIR" >&2 || st=1
    if [ "$st" -eq 0 ]; then
        rm -rf "$RGW_DIR"
    else
        echo "run_s3_bench.sh: RGW logs and outputs kept in $RGW_DIR" >&2
    fi
    exit "$st"
}
trap stop_rgw EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$SRC/tests/harness/rgw.sh" start "$RGW_DIR" >&2
# shellcheck disable=SC1091
. "$RGW_DIR/env"

rc=0
"$BENCH" "$@" >"$OUT.spoor" || rc=1
# shellcheck disable=SC2086
bash "$HERE/curl_cli.sh" ${CURL_BENCH_ARGS:-} >"$OUT.curl" || rc=1

echo "S3 benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared by RGW and client"
cat "$OUT.spoor"
grep '^| curl' "$OUT.curl" || true
[ $rc -eq 0 ] || echo "run_s3_bench.sh: a benchmark failed (see above): the numbers are invalid" >&2
exit $rc
