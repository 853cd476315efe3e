#!/usr/bin/env bash
# The README's run command (deploy/quickstart.sh) from a clean clone: the files git tracks, with
# their working-tree content (so uncommitted edits are tested too, and nothing untracked such as
# build/ comes along), are copied to a temporary directory, where `deploy/quickstart.sh
# --no-install` builds, seeds the embedded store of a temporary BURR_SERVER_ROOT and starts
# spoor-server on a free port. Checks: /ready, /api/v0/version, the demo objects in the store,
# the demo projects in /api/v0/projects, a second run that does not seed again, and SIGTERM:
# exit status 0 and no process left. Uses ccache when it is installed.
#
#   tests/install/quickstart.sh
#
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (no git checkout or no git).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_WAIT_S=600 # the first start includes the build
INDEX_WAIT_S=15

pass=0 fail=0
ok() {
    pass=$((pass + 1))
    echo "ok: $*"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}
# check NAME GOT WANT
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}

if ! command -v git >/dev/null ||
    ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "SKIP: $ROOT is not a git checkout (or git is not installed): nothing to clone"
    exit 77
fi
for tool in curl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool is needed (tests/run.sh installs it)"
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spoor-quickstart-XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the clean clone ---------------------------------------------------------------------------

clone=$work/spoor
mkdir -p "$clone"
# Tracked paths that exist in the working tree (a file deleted but not yet committed is left out).
git -C "$ROOT" ls-files -z | while IFS= read -r -d '' p; do
    if [ -e "$ROOT/$p" ] || [ -L "$ROOT/$p" ]; then printf '%s\0' "$p"; fi
done >"$work/files"
if ! tar -C "$ROOT" --null --no-recursion -T "$work/files" -cf - | tar -C "$clone" -xf -; then
    echo "FAIL: could not copy the tracked files"
    exit 1
fi
nfiles=$(tr -cd '\0' <"$work/files" | wc -c)
echo "copied $nfiles tracked files into a clean tree"
if [ -x "$clone/deploy/quickstart.sh" ]; then
    ok "deploy/quickstart.sh is tracked and executable"
else
    bad "deploy/quickstart.sh is not tracked (git add it) or not executable"
    echo "$pass passed, $fail failed"
    exit 1
fi
[ -e "$clone/build" ] && bad "build/ came along into the clean tree"

# --- run it ------------------------------------------------------------------------------------

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export BURR_SERVER_ROOT=$work/server-root SPOOR_PORT=$port
unset SPOOR_HOST SPOOR_AUTH_TOKEN SPOOR_UI_DIR BURR_S3_BUCKET SPOOR_ROUTES BURR_DB_FILENAME
if command -v ccache >/dev/null; then
    export CMAKE_C_COMPILER_LAUNCHER=ccache
    echo "using ccache"
fi

status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$base$1"; }

# start LOG: deploy/quickstart.sh in the background (it execs spoor-server, so $pid is the
# server's); waits up to BUILD_WAIT_S for /ready = 200. Returns 1 when it never came up.
start() {
    local log=$1 t0=$SECONDS
    "$clone/deploy/quickstart.sh" --no-install >"$log" 2>&1 </dev/null &
    pid=$!
    while [ $((SECONDS - t0)) -lt $BUILD_WAIT_S ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            echo "deploy/quickstart.sh exited with status $? before the server was ready;" \
                "its output ends:"
            tail -30 "$log"
            pid=""
            return 1
        fi
        [ "$(status /ready)" = 200 ] && {
            echo "ready after $((SECONDS - t0)) s"
            return 0
        }
        sleep 1
    done
    echo "not ready after $BUILD_WAIT_S s; the output ends:"
    tail -30 "$log"
    return 1
}

# stop NAME: SIGTERM; the server must exit with status 0 within 30 s.
stop() {
    local rc
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        bad "$1: still running 30 s after SIGTERM"
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
    else
        wait "$pid"
        rc=$?
        check "$1: exit status after SIGTERM" "$rc" 0
    fi
    pid=""
}

if ! start "$work/run1.log"; then
    bad "the first start: /ready never answered 200"
    echo "$pass passed, $fail failed"
    exit 1
fi
ok "first start: /ready answers 200"
if grep -Fq "http://127.0.0.1:$port/" "$work/run1.log"; then ok "prints the URL with the port"; else
    bad "the URL http://127.0.0.1:$port/ is not in the output"
fi

version=$(curl -s -m 5 "$base/api/v0/version")
if python3 -c 'import json,sys; v=json.loads(sys.argv[1])["version"]; assert isinstance(v, str) and v' \
    "$version" 2>/dev/null; then ok "/api/v0/version: $version"; else
    bad "/api/v0/version: want JSON with \"version\", got '$version'"
fi

# The demo objects in the embedded store: data/PROJECT/YYYY/MM/DD/HH/MM:SS.ffffff/PK/APP/...
data=$BURR_SERVER_ROOT/objects/spoor-local/data
has_app() {
    [ -n "$(find "$data/$1" -mindepth 8 -maxdepth 8 -path "*/$2/*__log.jsonl*" -print -quit \
        2>/dev/null)" ]
}
for app in demo_counter/count-to-10 demo_counter/count-to-42 demo_counter/count-to-1000 \
    demo_chatbot/chat-1-giraffe demo_chatbot/quickstart-chat; do
    if has_app "${app%%/*}" "${app#*/}"; then ok "store holds $app"; else bad "store lacks $app"; fi
done

# The projects (the server indexes at start).
code=$(status /api/v0/projects)
check "/api/v0/projects status" "$code" 200
t0=$SECONDS verdict=""
while [ $((SECONDS - t0)) -le $INDEX_WAIT_S ]; do
    verdict=$(curl -s -m 5 "$base/api/v0/projects" | python3 -c '
import json, sys
try:
    ps = {p["name"]: p for p in json.load(sys.stdin)}
except Exception as e:
    print("not a JSON list of projects: %s" % e); sys.exit()
want = ("demo_counter", "demo_chatbot")
missing = [n for n in want if n not in ps or not ps[n].get("num_apps", 0) > 0]
print("missing or without apps: " + ", ".join(missing) if missing else
      "ok " + " ".join("%s=%d" % (n, ps[n]["num_apps"]) for n in want))')
    case "$verdict" in ok*) break ;; esac
    sleep 1
done
case "$verdict" in
ok*) ok "projects listed with apps within $INDEX_WAIT_S s (${verdict#ok })" ;;
*) bad "/api/v0/projects after $INDEX_WAIT_S s: $verdict" ;;
esac
stop "first run"

# A second run finds the demo data and does not write it again.
nobj=$(find "$data" -type f | wc -l)
if start "$work/run2.log"; then
    ok "second start: /ready answers 200"
    if grep -q "already there: not seeding again" "$work/run2.log"; then
        ok "second run does not seed again"
    else
        bad "second run: no 'not seeding again' in its output"
    fi
    check "second run: objects in the store" "$(find "$data" -type f | wc -l)" "$nobj"
    stop "second run"
else
    bad "the second start: /ready never answered 200"
fi

# Nothing of this test is left running (the build's compilers, the server).
left=""
for d in /proc/[0-9]*; do
    if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -Fq -- "$work"; then left+=" ${d#/proc/}"; fi
done
if [ -z "$left" ]; then ok "no process left"; else
    bad "processes left:$left"
    ps -o pid,args -p "${left# }" 2>/dev/null
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
