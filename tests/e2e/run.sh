#!/usr/bin/env bash
# Browser tests of the web UI (ctest ui_e2e, label e2e):
#
#   tests/e2e/run.sh SPOOR SPOOR_SERVER SPOOR_EXAMPLE_COUNTER BUILD_DIR
#
# Seeds a temporary BURR_SERVER_ROOT's embedded store with the demo data (spoor demo: projects
# demo_counter and demo_chatbot), a 1,000-step counter and an application that has no step
# yet; starts spoor-server on a free port of 127.0.0.1 serving the source tree's ui/; waits
# for /ready and for both projects to be indexed; then runs ui.test.mjs (node's test runner,
# playwright-core driving Debian's chromium headless). Screenshots go to
# BUILD_DIR/e2e-screenshots/<page>.png, with the server's log. The servers are always stopped
# on exit, also on failure or ^C.
#
# Needs: node >= 18, chromium (SPOOR_E2E_CHROMIUM, default /usr/bin/chromium), and
# `npm ci --prefix tests/e2e` (tests/run.sh does both).
set -euo pipefail

if [ $# -ne 4 ]; then
    sed -n '4p' "$0" | sed 's/^# *//' >&2
    exit 2
fi
SPOOR=$1 SERVER=$2 COUNTER=$3 BUILD=$4
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHROMIUM=${SPOOR_E2E_CHROMIUM:-/usr/bin/chromium}
SHOTS=$BUILD/e2e-screenshots

fail() {
    echo "ui_e2e: $*" >&2
    exit 1
}
command -v node >/dev/null || fail "node is missing: apt-get install nodejs npm (tests/run.sh does)"
[ -x "$CHROMIUM" ] || fail "no chromium at $CHROMIUM: apt-get install chromium (or set SPOOR_E2E_CHROMIUM)"
[ -f "$HERE/node_modules/playwright-core/package.json" ] ||
    fail "playwright-core is not installed: run npm ci --prefix tests/e2e"
for b in "$SPOOR" "$SERVER" "$COUNTER"; do [ -x "$b" ] || fail "not an executable: $b"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spoor-e2e.XXXXXX")
DATA=$WORK/root
SERVER_PID=""
# Servers the tests start themselves (the "nothing indexed" and token checks) are listed here
# while they run.
export SPOOR_E2E_PIDFILE=$WORK/extra.pids
: >"$SPOOR_E2E_PIDFILE"

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    # still running as this shell's job (the last test stops it on purpose)
    if [ -n "$SERVER_PID" ] && jobs -pr | grep -qx "$SERVER_PID"; then stop_pid "$SERVER_PID"; fi
    while read -r pid; do [ -z "$pid" ] || stop_pid "$pid"; done <"$SPOOR_E2E_PIDFILE"
    [ ! -f "$WORK/server.log" ] || cp "$WORK/server.log" "$SHOTS/server.log" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png

# --- demo data -----------------------------------------------------------------------------
"$SPOOR" demo --store "$DATA/objects" >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log" >&2; fail "spoor demo failed"; }
"$COUNTER" --store "$DATA/objects" 999 >>"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log" >&2; fail "the counter failed"; }
# An application that was created (graph and metadata written) but has not run a step: the
# apps page's "hide apps without steps" needs one. Written in Burr's key layout through a
# routes file that maps every bucket to the same local store.
cat >"$WORK/routes.json" <<EOF
{"endpoints": {"disk": {"type": "file", "root": "$DATA/objects"}},
 "routes": [{"from": "s3://*/", "to": "disk://*/"}]}
EOF
ts=$(date -u +%Y/%m/%d/%H/%M:%S.%6N)
prefix="s3://spoor-local/data/demo_counter/$ts/__none__/never-started"
echo '{"type":"application","entrypoint":"counter","actions":[{"type":"action","name":"counter","reads":["counter"],"writes":["counter"],"code":"","inputs":[],"optional_inputs":[]}],"transitions":[{"type":"transition","from_":"counter","to":"counter","condition":"default"}]}' |
    "$SPOOR" --routes "$WORK/routes.json" put - "$prefix/graph.json" >>"$WORK/seed.log" 2>&1 ||
    fail "spoor put of never-started/graph.json failed: $(tail -3 "$WORK/seed.log")"
echo '{"type":"application_metadata","partition_key":null,"parent_pointer":null,"spawning_parent_pointer":null}' |
    "$SPOOR" --routes "$WORK/routes.json" put - "$prefix/metadata.json" >>"$WORK/seed.log" 2>&1 ||
    fail "spoor put of never-started/metadata.json failed: $(tail -3 "$WORK/seed.log")"

# --- server ----------------------------------------------------------------------------------
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
BASE=http://127.0.0.1:$PORT
env -u BURR_S3_BUCKET -u SPOOR_ROUTES -u SPOOR_AUTH_TOKEN \
    BURR_SERVER_ROOT="$DATA" SPOOR_HOST=127.0.0.1 SPOOR_PORT="$PORT" SPOOR_UI_DIR="$ROOT/ui" \
    BURR_UPDATE_INTERVAL_MILLISECONDS=500 "$SERVER" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

# until_ok DESCRIPTION SECONDS COMMAND...: waits for COMMAND to succeed while the server runs.
until_ok() {
    local what=$1 secs=$2 i
    shift 2
    for i in $(seq $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; fail "spoor-server exited while waiting for $what"; }
        sleep 0.1
    done
    tail -20 "$WORK/server.log" >&2
    fail "timed out after $secs s waiting for $what"
}
indexed() {
    curl -sf "$BASE/api/v0/demo_counter/__none__/apps" | grep -q '"total":5' &&
        curl -sf "$BASE/api/v0/demo_chatbot/__none__/apps" | grep -q '"total":5'
}
until_ok "/ready" 30 curl -sf "$BASE/ready"
until_ok "the demo projects to be indexed" 60 indexed
echo "spoor-server on $BASE (pid $SERVER_PID), data in $DATA"

# --- tests ------------------------------------------------------------------------------------
t0=$(date +%s)
SPOOR_E2E_BASE=$BASE SPOOR_E2E_SHOTS=$SHOTS SPOOR_E2E_CHROMIUM=$CHROMIUM \
    SPOOR_E2E_SERVER_PID=$SERVER_PID SPOOR_E2E_SERVER=$SERVER SPOOR_E2E_COUNTER=$COUNTER \
    SPOOR_E2E_STORE=$DATA/objects SPOOR_E2E_UI=$ROOT/ui \
    node --test --test-reporter=spec "$HERE/ui.test.mjs"
echo "ui_e2e: passed in $(($(date +%s) - t0)) s; screenshots in $SHOTS"
