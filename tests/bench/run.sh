#!/usr/bin/env bash
# run.sh: every benchmark of spoor against a throw-away Ceph RGW, summed up in one table:
# client enqueue cost, S3 engine throughput, indexing from downloaded objects, a catch-up of a
# bucket by spoor-server (events/s end to end and its peak memory), freshness (an application's
# last flush to its steps in the API), and the API under wrk.
#
#   tests/bench/run.sh [BUILD_DIR]
#
# BUILD_DIR defaults to build-bench/ (configured as Release when it has no CMake cache). The
# RGW runs in BUILD_DIR/bench-rgw and is always stopped. CATCHUP_APPS, CATCHUP_OBJECTS_PER_APP
# and CATCHUP_EVENTS_PER_OBJECT size the catch-up (default 100 x 50 x 100 = 500,000 events).
# The table goes to stdout, each tool's full output to BUILD_DIR/bench-logs/, progress to
# stderr. Numbers are measured, never asserted; a run where a tool failed exits non-zero.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(realpath -m -- "${1:-$SRC/build-bench}")
APPS=${CATCHUP_APPS:-100} PER_APP=${CATCHUP_OBJECTS_PER_APP:-50} EVENTS=${CATCHUP_EVENTS_PER_OBJECT:-100}
LOGS=$BUILD/bench-logs RGW=$BUILD/bench-rgw
log() { echo "bench/run.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >&2
else
    cmake -S "$SRC" -B "$BUILD" >&2 # new benchmark sources are found by configuring again
fi
cmake --build "$BUILD" -j"$(nproc)" --target spoor spoor-server spoor-example-counter \
    bench_tracker bench_s3 bench_index bench_seed bench_view >&2
mkdir -p "$LOGS"

server_pid=""
cleanup() {
    local st=$?
    [ -z "$server_pid" ] || kill -9 "$server_pid" 2>/dev/null || true
    bash "$SRC/tests/harness/rgw.sh" stop "$RGW" >/dev/null 2>&1 || true
    exit $st
}
trap cleanup EXIT
log "starting the RGW in $RGW"
bash "$SRC/tests/harness/rgw.sh" start "$RGW" >&2 || die "the RGW did not start"
# shellcheck source=/dev/null
. "$RGW/env"
ROWS=()
row() { ROWS+=("$(printf '| %-46s | %-42s | %s |' "$1" "$2" "$3")"); }

# 1. The tracker: a hook on the caller's thread.
log "tracker enqueue"
"$BUILD/tests/bench_tracker" --threads 1 --no-e2e --modes idle >"$LOGS/tracker.txt" 2>&1 ||
    die "bench_tracker failed (see $LOGS/tracker.txt)"
for kind in attribute step_begin step_end; do
    p50=$(awk -F'|' -v k="$kind" '$2 ~ "^ *"k" *$" { gsub(/ /, "", $7); print $7; exit }' "$LOGS/tracker.txt")
    row "client enqueue, $kind" "median ns per event, 1 thread" "${p50:-?}"
done

# 2. The S3 engine against RGW.
log "S3 engine"
"$BUILD/tests/bench_s3" --objects 2000 --concurrency-list 16 >"$LOGS/s3.txt" 2>&1 ||
    die "bench_s3 failed (see $LOGS/s3.txt)"
for op in PUT GET; do
    ops=$(awk -F'|' -v op="$op" '$2 ~ /async/ && $3 ~ "^ *"op" *$" { gsub(/ /, "", $7); print $7; exit }' "$LOGS/s3.txt")
    row "S3 engine $op, 1 KiB objects" "requests/s, 16 in flight" "${ops:-?}"
done

# 3. Indexing from objects already in memory.
log "indexing"
"$BUILD/tests/bench_index" >"$LOGS/index.txt" 2>&1 || die "bench_index failed"
cpu=$(sed -n 's/.*, \([0-9]*\) events\/s per CPU second.*/\1/p' "$LOGS/index.txt")
wall=$(sed -n 's/.*: \([0-9]*\) events\/s wall.*/\1/p' "$LOGS/index.txt")
row "indexing, downloaded objects" "events/s per CPU second (wall)" "$cpu ($wall)"

# 4. A catch-up: a server with an empty index indexes a whole bucket once.
log "catch-up: seeding $((APPS * PER_APP)) objects"
bucket=bench-catchup-$$
"$BUILD/tests/bench_seed" "$bucket" catchup --apps "$APPS" --objects-per-app "$PER_APP" \
    --events-per-object "$EVENTS" >"$LOGS/seed.txt" 2>&1 || die "bench_seed failed"
root=$BUILD/bench-catchup-root
rm -rf "$root"
log "catch-up: spoor-server --once"
t0=$(date +%s.%N)
AWS_ACCESS_KEY_ID=$SPOOR_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SPOOR_TEST_S3_SECRET_KEY \
    AWS_ENDPOINT_URL=$SPOOR_TEST_S3_ENDPOINT AWS_REGION=${SPOOR_TEST_S3_REGION:-us-east-1} \
    BURR_S3_BUCKET=$bucket BURR_SERVER_ROOT=$root BURR_LOAD_SNAPSHOT_ON_START=false \
    "$BUILD/server/spoor-server" --once >"$LOGS/catchup.txt" 2>&1 &
server_pid=$!
peak=0
while kill -0 "$server_pid" 2>/dev/null; do
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || echo 0)
    [ "${hwm:-0}" -le "$peak" ] || peak=$hwm
    sleep 0.05
done
wait "$server_pid" || die "spoor-server --once failed (see $LOGS/catchup.txt)"
server_pid=""
t1=$(date +%s.%N)
events=$(sed -n 's/.* \([0-9]*\) events indexed so far.*/\1/p' "$LOGS/catchup.txt" | tail -1)
[ "${events:-0}" = $((APPS * PER_APP * EVENTS)) ] ||
    die "the catch-up indexed ${events:-0} events, want $((APPS * PER_APP * EVENTS))"
rate=$(awk -v e="$events" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", e / (b - a) }')
row "catch-up from RGW, $((APPS * PER_APP)) objects" "events/s, start to exit ($events events)" "$rate"
row "server memory during the catch-up" "peak resident set (VmHWM)" "$((peak / 1024)) MiB"

# 5. Freshness: from an application's last flush to its steps in the API, by listing alone
# (a server indexing the bucket every FRESH_INTERVAL_MS, default 2000).
log "freshness"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export AWS_ACCESS_KEY_ID=$SPOOR_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SPOOR_TEST_S3_SECRET_KEY
export AWS_ENDPOINT_URL=$SPOOR_TEST_S3_ENDPOINT AWS_REGION=${SPOOR_TEST_S3_REGION:-us-east-1}
BURR_S3_BUCKET=$bucket BURR_SERVER_ROOT=$root SPOOR_PORT=$port \
    BURR_UPDATE_INTERVAL_MILLISECONDS=${FRESH_INTERVAL_MS:-2000} \
    "$BUILD/server/spoor-server" >"$LOGS/fresh-server.txt" 2>&1 &
server_pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/ready"; do sleep 0.1; done
: >"$LOGS/fresh.txt"
for i in $(seq 1 "${FRESH_ROUNDS:-15}"); do
    # a random pause, so that the rounds are not in step with the index ticks
    sleep "$(awk -v r=$RANDOM -v ms="${FRESH_INTERVAL_MS:-2000}" 'BEGIN { printf "%.3f", r / 32768 * ms / 1000 }')"
    "$BUILD/client/spoor-example-counter" --bucket "$bucket" --project fresh \
        --spool "$BUILD/bench-spool" --app-id "fresh-$i" 3 >/dev/null || die "the counter failed"
    t0=$(date +%s%N)
    until curl -s "http://127.0.0.1:$port/api/v0/fresh/__none__/apps?limit=1000" |
        grep -q "\"fresh-$i\""; do
        sleep 0.05
        [ $(($(date +%s%N) - t0)) -lt 60000000000 ] || die "fresh-$i not visible after 60 s"
    done
    echo $((($(date +%s%N) - t0) / 1000000)) >>"$LOGS/fresh.txt"
done
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
read -r p50 p95 < <(sort -n "$LOGS/fresh.txt" | awk '{ v[NR] = $1 } END {
    printf "%d %d\n", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.999)] }')
row "freshness, flushed to visible in the API" "p50 / p95 ms, index every ${FRESH_INTERVAL_MS:-2000} ms" "$p50 / $p95"

# 6. The API under wrk (its own server on the embedded store).
log "API"
WRK_DURATION=${WRK_DURATION:-5s} "$HERE/run_api_bench.sh" "$BUILD" >"$LOGS/api.txt" 2>"$LOGS/api.err" ||
    die "run_api_bench.sh failed (see $LOGS/api.err)"
while IFS='|' read -r _ name conns rps p50 p99 _; do
    row "API $(echo "$name" | sed 's/^ *//; s/ *$//')" "requests/s, $((conns)) connection(s) (p50 / p99 ms)" \
        "$(echo "$rps" | tr -d ' ') ($(echo "$p50" | tr -d ' ') / $(echo "$p99" | tr -d ' '))"
done < <(grep '^| GET' "$LOGS/api.txt")
render=$(sed -n 's/.*median \([0-9.]*\) ms, p90.*/\1/p' "$LOGS/api.txt")
row "API render of a 1,001-step app view" "median ms, from the index, no cache" "$render"

echo "spoor benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores," \
    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
    "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo);" \
    "RGW and the tools share the cores"
echo
printf '| %-46s | %-42s | %s |\n' "what" "measure" "value"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..44})" "-------:"
printf '%s\n' "${ROWS[@]}"
