#!/usr/bin/env bash
# quickstart.sh: spoor on this machine in one command (Debian 12). Installs the Debian packages
# the build needs when some are missing, builds spoor, spoor-server and the two example
# applications (Release), seeds demo data into spoor-server's embedded local store, and runs
# spoor-server in the foreground on http://127.0.0.1:7241/ until Ctrl-C.
#
#   deploy/quickstart.sh [--no-install] [--build-dir DIR] [--reseed] [--help]
#
#   --no-install     do not check or install Debian packages
#   --build-dir DIR  build directory (default: build-release/ in the source tree)
#   --reseed         delete the demo projects from the store, set the local index aside, seed again
#   --help           this text
#
# Environment: BURR_SERVER_ROOT (default ~/.burr_server) holds the index and the embedded store
# $BURR_SERVER_ROOT/objects (bucket spoor-local); SPOOR_PORT (7241) and SPOOR_HOST (127.0.0.1)
# say where the server listens; the other settings of `spoor-server --help` pass through.
# BURR_S3_BUCKET and SPOOR_ROUTES are ignored here: this runs the embedded store (README, "Point
# spoor at a real bucket", for the rest).
#
# The demo data: `spoor demo` (projects demo_counter and demo_chatbot), the counter example
# counting to 1000 (demo_counter/count-to-1000, 1001 steps) and one conversation of the chatbot
# example (demo_chatbot/quickstart-chat). What is already in the store is not written again.
#
# Exit status: 1 a step failed (the message says which), 2 usage, 3 packages missing that could
# not be installed; once the server runs, its own status (0 after Ctrl-C or SIGTERM).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=quickstart.sh

usage() {
    sed -n '7s/^# */usage: /p; 8,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}
usage_error() {
    echo "$PROG: $*" >&2
    usage >&2
    exit 2
}
die() {
    echo "$PROG: $*" >&2
    exit 1
}
step() {
    printf '\n==== %s\n' "$*"
}

install=1 reseed=0 build=$ROOT/build-release
while [ $# -gt 0 ]; do
    case "$1" in
    --no-install) install=0 ;;
    --reseed) reseed=1 ;;
    --build-dir)
        if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "--build-dir wants a directory"; fi
        build=$2
        shift
        ;;
    --build-dir=*)
        build=${1#--build-dir=}
        [ -n "$build" ] || usage_error "--build-dir wants a directory"
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) usage_error "unknown argument: $1" ;;
    esac
    shift
done
build=$(realpath -m -- "$build")

# --- where the server will listen --------------------------------------------------------------

port=${SPOOR_PORT:-7241}
host=${SPOOR_HOST:-127.0.0.1}
# The address to open: the loopback one for a wildcard, IPv6 in brackets.
addr=${host#[}
addr=${addr%]}
case "$addr" in
0.0.0.0 | "" | ::) addr=127.0.0.1 url_host=127.0.0.1 ;;
*:*) url_host="[$addr]" ;;
*) url_host=$addr ;;
esac
# Something already answering there is most likely an earlier spoor-server.
if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then
    die "port $port on $url_host is in use (another spoor-server?): stop it, or set SPOOR_PORT"
fi

# --- Debian packages ---------------------------------------------------------------------------

# shellcheck source=packages.sh
. "$ROOT/deploy/packages.sh"

if [ $install = 1 ]; then
    step "Debian packages"
    spoor_install_packages "$PROG" "${SPOOR_BUILD_PACKAGES[@]}" ||
        { echo "then deploy/quickstart.sh again (or with --no-install)." >&2; exit 3; }
fi
for tool in cmake cc pkg-config; do
    command -v "$tool" >/dev/null ||
        die "$tool not found: run without --no-install, or install the build packages" \
            "(SPOOR_BUILD_PACKAGES in deploy/packages.sh)"
done

# --- build -------------------------------------------------------------------------------------

step "build (Release) in $build"
TARGETS=(spoor spoor-server spoor-example-counter spoor-example-chatbot)
# WERROR and SANITIZE off: tests/run.sh may have left them on in a shared build directory.
cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release -DWERROR=OFF -DSANITIZE=OFF ||
    die "cmake could not configure $build (see above)"
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target "${TARGETS[@]}" ||
    die "the build failed (see above)"
SPOOR=$build/client/spoor
COUNTER=$build/client/spoor-example-counter
CHATBOT=$build/client/spoor-example-chatbot
SERVER=$build/server/spoor-server
for b in "$SPOOR" "$COUNTER" "$CHATBOT" "$SERVER"; do
    [ -x "$b" ] || die "$b was not built"
done

# --- demo data ---------------------------------------------------------------------------------

if [ -n "${BURR_SERVER_ROOT:-}" ]; then
    server_root=$BURR_SERVER_ROOT
else
    [ -n "${HOME:-}" ] || die "neither BURR_SERVER_ROOT nor HOME is set: set BURR_SERVER_ROOT"
    server_root=$HOME/.burr_server
fi
export BURR_SERVER_ROOT=$server_root
store=$server_root/objects
data=$store/spoor-local/data
COUNTER_APP=count-to-1000
CHAT_APP=quickstart-chat

# has_app PROJECT APP_ID: the store holds the application (its metadata.json) in Burr's layout
# data/PROJECT/YYYY/MM/DD/HH/MM:SS.ffffff/PARTITION_KEY/APP_ID/.
has_app() {
    [ -d "$data/$1" ] &&
        [ -n "$(find "$data/$1" -mindepth 8 -maxdepth 8 -path "*/$2/metadata.json*" -print -quit)" ]
}

step "demo data in $store (bucket spoor-local)"
if [ $reseed = 1 ]; then
    db=$server_root/${BURR_DB_FILENAME:-db.sqlite3}
    echo "--reseed: deleting the demo projects from the store (stop any spoor-server on it first)"
    rm -rf -- "$data/demo_counter" "$data/demo_chatbot"
    if [ -e "$db" ]; then
        # The index still holds the old demo applications; it is rebuilt from the store.
        for suffix in "" -wal -shm; do
            [ ! -e "$db$suffix" ] || mv -f -- "$db$suffix" "$db.before-reseed$suffix"
        done
        echo "--reseed: the index $db is set aside as $db.before-reseed;" \
            "it is rebuilt from the store"
    fi
    # A snapshot would bring the old demo applications back.
    export BURR_LOAD_SNAPSHOT_ON_START=false
fi

if has_app demo_counter count-to-42 && has_app demo_chatbot chat-1-giraffe &&
    has_app demo_counter "$COUNTER_APP" && has_app demo_chatbot "$CHAT_APP"; then
    echo "the demo data is already there: not seeding again (--reseed starts it over)"
else
    spool=$(mktemp -d "${TMPDIR:-/tmp}/spoor-quickstart-spool.XXXXXX")
    trap 'rm -rf -- "$spool"' EXIT
    # First `spoor demo`: it leaves a project alone once it has data.
    "$SPOOR" demo --store "$store" || die "spoor demo failed (see above)"
    if has_app demo_counter "$COUNTER_APP"; then
        echo "demo_counter/$COUNTER_APP is already there"
    else
        "$COUNTER" --store "$store" --spool "$spool" --app-id "$COUNTER_APP" 1000 ||
            die "spoor-example-counter failed (see above)"
    fi
    if has_app demo_chatbot "$CHAT_APP"; then
        echo "demo_chatbot/$CHAT_APP is already there"
    else
        "$CHATBOT" --store "$store" --spool "$spool" --app-id "$CHAT_APP" \
            "What does spoor track?" "How do I see it?" ||
            die "spoor-example-chatbot failed (see above)"
    fi
    rm -rf -- "$spool"
    trap - EXIT
fi

# --- spoor-server ------------------------------------------------------------------------------

for v in BURR_S3_BUCKET SPOOR_ROUTES; do
    if [ -n "${!v:-}" ]; then
        echo "$PROG: ignoring $v (this runs the embedded store;" \
            "run spoor-server itself for a bucket)"
    fi
    unset "$v"
done

# The embedded store is listed cheaply: index every 2 s (Burr's default is 2 minutes) so that
# applications run now show up in the UI while they run.
export BURR_UPDATE_INTERVAL_MILLISECONDS=${BURR_UPDATE_INTERVAL_MILLISECONDS:-2000}

step "spoor-server"
echo "open http://$url_host:$port/   (API: http://$url_host:$port/api/v0/projects)"
echo "stop it with Ctrl-C, or: kill -TERM $$"
exec "$SERVER"
