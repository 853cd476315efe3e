#!/usr/bin/env bash
# run_api_bench.sh: spoor-server's HTTP API under load. Builds spoor, spoor-server and the
# counter example (Release), seeds an embedded store in a temporary directory with `spoor demo`
# and a 1000-step counter application (demo_counter/count-to-1000, as deploy/quickstart.sh
# does), starts spoor-server on a free port, waits until it has indexed that application, then
# runs wrk against the projects list and the application view, and prints one table. Always
# stops the server and removes the temporary directory.
#
#   run_api_bench.sh [BUILD_DIR]
#
# BUILD_DIR defaults to build-bench/ in the source tree; it is configured as Release when it holds
# no CMake cache yet (an existing cache of another build type is used as it is, with a warning).
# wrk is installed with apt-get when missing (with sudo when not root). WRK_DURATION (default 10s)
# is the length of each multi-connection run. Progress goes to stderr, the report to stdout.
# Exits non-zero when a step failed or wrk saw errors or non-2xx answers (the numbers would then
# describe a broken run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$SRC/build-bench
case "${1:-}" in
-h | --help) sed -n '9p' "$0" | sed 's/^# *//'; exit 0 ;;
-*) echo "run_api_bench.sh: unknown option $1 (usage: see the top of $0)" >&2; exit 2 ;;
?*) BUILD=$1; shift ;;
esac
[ $# -eq 0 ] || { echo "run_api_bench.sh: one argument at most, the build directory" >&2; exit 2; }
BUILD=$(realpath -m -- "$BUILD")
DURATION=${WRK_DURATION:-10s}
APP=count-to-1000
PROJECT=demo_counter
WAIT_S=60

log() { echo "run_api_bench.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# --- wrk ---------------------------------------------------------------------------------------

if ! command -v wrk >/dev/null; then
    log "wrk is not installed: installing it with apt-get"
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null ||
            die "not root and no sudo: as root, run apt-get update && apt-get install -y wrk"
        sudo=(sudo)
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
        ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends wrk >&2; then
        die "apt-get could not install wrk (see above)"
    fi
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null || die "$tool is needed (tests/run.sh installs it)"
done

# --- build -------------------------------------------------------------------------------------

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    log "configuring $BUILD (Release)"
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >&2
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
[ "$btype" = Release ] || log "warning: $BUILD is a '$btype' build, not Release"
cmake --build "$BUILD" -j"$(nproc)" --target spoor spoor-server spoor-example-counter bench_view >&2
SPOOR=$BUILD/client/spoor
COUNTER=$BUILD/client/spoor-example-counter
SERVER=$BUILD/server/spoor-server
VIEW=$BUILD/tests/bench_view
for b in "$SPOOR" "$COUNTER" "$SERVER" "$VIEW"; do
    [ -x "$b" ] || die "$b was not built"
done

# --- data and server ---------------------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/api-bench.XXXXXX")
pid=""
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local st=$?
    trap - EXIT
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid" || { log "spoor-server exited with status $? after SIGTERM"; st=1; }
    fi
    if [ "$st" -ne 0 ] && [ -s "$TMP/server.log" ]; then
        log "spoor-server's log ends:"
        tail -20 "$TMP/server.log" >&2
    fi
    rm -rf -- "$TMP"
    exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

store=$TMP/root/objects
"$SPOOR" demo --store "$store" >&2 || die "spoor demo failed"
"$COUNTER" --store "$store" --spool "$TMP/spool" --app-id "$APP" 1000 >&2 ||
    die "spoor-example-counter failed"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
(
    unset BURR_S3_BUCKET SPOOR_ROUTES SPOOR_AUTH_TOKEN SPOOR_HOST
    export BURR_SERVER_ROOT=$TMP/root SPOOR_PORT=$port BURR_UPDATE_INTERVAL_MILLISECONDS=1000
    exec "$SERVER"
) >"$TMP/server.log" 2>&1 &
pid=$!
log "spoor-server on $base (pid $pid)"

# The partition key of APP from the apps list ("__none__" for none); empty until it is indexed.
find_pk() {
    curl -s -m 5 "$base/api/v0/$PROJECT/__none__/apps?limit=1000" | python3 -c '
import json, sys
try:
    page = json.load(sys.stdin)
except Exception:
    sys.exit()
for a in page.get("applications", []) if isinstance(page, dict) else []:
    if a.get("app_id") == sys.argv[1]:
        print(a.get("partition_key") or "__none__")
        break' "$APP"
}
pk="" t0=$SECONDS
while [ $((SECONDS - t0)) -lt $WAIT_S ]; do
    kill -0 "$pid" 2>/dev/null || { pid=""; die "spoor-server exited"; }
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$base/api/v0/projects" || true)
    if [ "$code" = 200 ] && curl -s -m 5 "$base/api/v0/projects" | grep -q "\"$PROJECT\""; then
        pk=$(find_pk)
        [ -z "$pk" ] || break
    fi
    sleep 0.5
done
[ -n "$pk" ] || die "after $WAIT_S s, /api/v0/projects (last status ${code:-none})" \
    "or the apps list does not show $PROJECT/$APP"
log "$PROJECT/$APP indexed after $((SECONDS - t0)) s, partition key $pk"

projects_url=$base/api/v0/projects
app_url=$base/api/v0/$PROJECT/$APP/$pk/apps
steps=$(curl -s -m 10 "$app_url" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["steps"]))') ||
    die "the application view $app_url is not JSON with steps"
[ "$steps" = 1001 ] || die "the application view has $steps steps, want 1001"

# --- wrk ---------------------------------------------------------------------------------------

# run NAME URL WRK_ARGS...: one wrk run; appends a table row to $TMP/rows.
rc=0
run() {
    local name=$1 url=$2 out bytes conns
    shift 2
    out=$TMP/wrk.$(wc -l <"$TMP/rows" 2>/dev/null || echo 0)
    log "wrk $* $url"
    wrk "$@" --latency "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
    if grep -Eq 'Non-2xx|Socket errors' "$out"; then
        log "wrk saw errors or non-2xx answers on $name:"
        grep -E 'Non-2xx|Socket errors' "$out" >&2
        rc=1
    fi
    bytes=$(curl -s -o /dev/null -m 10 -w '%{size_download}' "$url")
    conns=$(sed -n 's/.* \([0-9]*\) connections$/\1/p' "$out")
    awk -v name="$name" -v conns="$conns" -v bytes="$bytes" '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v
        }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        $1 == "Requests/sec:" { rps = $2 }
        END {
            printf "| %-40s | %5s | %10.0f | %7.3f | %7.3f | %10s |\n",
                name, conns, rps, p50, p99, bytes
        }
    ' "$out" >>"$TMP/rows"
}
: >"$TMP/rows"
run "GET /api/v0/projects" "$projects_url" -t2 -c16 -d"$DURATION"
run "GET app view ($APP, 1001 steps)" "$app_url" -t2 -c16 -d"$DURATION"
run "GET app view, one connection" "$app_url" -t1 -c1 -d5s
# Repeated views of an unchanged application come from the server's rendered-view cache; the
# first view after new events is rendered from the index, which bench_view times alone.
render=$("$VIEW" "$TMP/root/db.sqlite3" "$PROJECT" "$APP" 200) || die "bench_view failed"

mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
version=$(curl -s -m 5 "$base/api/v0/version" | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p')
echo "API benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), spoor-server $version"
echo "machine: $(nproc) cores, ${cpu:-unknown CPU}, $mem memory," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk and spoor-server share the cores; latencies from wrk --latency; bytes: one response body"
echo
echo "| endpoint                                 | conns | requests/s |  p50 ms |  p99 ms | resp bytes |"
echo "|------------------------------------------|------:|-----------:|--------:|--------:|-----------:|"
cat "$TMP/rows"
echo
single_p50=$(awk -F'|' 'END { gsub(/ /, "", $5); print $5 }' "$TMP/rows")
echo "median latency of the app view over one connection: $single_p50 ms (repeated views: the"
echo "server keeps the rendering for the ETag); rendering it from the index, without HTTP:"
echo "$render"
[ $rc -eq 0 ] || log "wrk saw errors (see above): the numbers are invalid"
exit $rc
