#!/usr/bin/env bash
# spoor-server's indexer against the test RGW (tests/run.sh): a bucket seeded by the tracker
# (spoor demo) and by hand-written Burr-format objects is indexed completely; 3,000 objects of
# one project with a batch cap of 200 are all indexed; malformed keys and lines are counted
# while the rest is indexed; a server killed with SIGKILL while indexing and restarted ends
# with every event exactly once; a snapshot restored by a second server with an empty root
# gives the same rows. Usage: server_rgw.sh BUILD_DIR
set -uo pipefail
build=$1
spoor=$build/client/spoor server=$build/server/spoor-server
: "${SPOOR_TEST_S3_ENDPOINT:?run through tests/run.sh}"
export AWS_ACCESS_KEY_ID=$SPOOR_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SPOOR_TEST_S3_SECRET_KEY
export AWS_ENDPOINT_URL=$SPOOR_TEST_S3_ENDPOINT AWS_REGION=${SPOOR_TEST_S3_REGION:-us-east-1}
unset SPOOR_ROUTES AWS_PROFILE
work=$(mktemp -d "${TMPDIR:-/tmp}/spoor-server-XXXXXX")
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: got '$2', want '$3'"; fi; }
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"; }

bucket=srv-$$-$(date +%s)
"$spoor" mb "s3://$bucket" || exit 1
"$spoor" demo --bucket "$bucket" >/dev/null || exit 1
# 3,000 log objects of project bulk, one event each, written as Burr's client names them.
seq 0 2999 | xargs -P 8 -I{} sh -c 'printf "{\"type\":\"begin_entry\",\"start_time\":\"2026-11-21T10:00:00.000001\",\"action\":\"a\",\"inputs\":{},\"sequence_id\":0}" |
  "$0" put - "s3://$1/data/bulk/2026/11/21/10/$(printf %02d:%02d.%06d $(({} / 60 % 60)) $(({} % 60)) {})/__none__/app-$(({} % 50))/{}-00000000__log.jsonl"' "$spoor" "$bucket" || exit 1
printf 'x' | "$spoor" put - "s3://$bucket/data/bulk/stray/object" || exit 1
printf '{broken\n{"type":"begin_entry","start_time":"2026-11-21T10:00:00","action":"a","inputs":{},"sequence_id":1}' |
    "$spoor" put - "s3://$bucket/data/bulk/2026/11/21/11/00:00.000001/__none__/app-bad/x__log.jsonl" || exit 1
total=$("$spoor" ls -r "s3://$bucket/data/" | wc -l)

run() { BURR_SERVER_ROOT=$1 BURR_S3_BUCKET=$bucket "$server" --once --batch-cap "$2" "${@:3}" 2>>"$work/log"; }
run "$work/r1" 200 --snapshot-on-exit
check "every object indexed (cap 200)" "$(q "$work/r1/db.sqlite3" 'select count(*) from object')" "$total"
check "bulk events" "$(q "$work/r1/db.sqlite3" "select count(*) from event e join application a on a.id=e.application_id join project p on p.id=a.project_id where p.name='bulk'")" 3001
check "malformed key counted" "$(q "$work/r1/db.sqlite3" "select count from skipped where reason='malformed key'")" 1
check "bad line counted" "$(q "$work/r1/db.sqlite3" "select count from skipped where reason='malformed JSON line'")" 1
check "demo apps" "$(q "$work/r1/db.sqlite3" "select count(*) from application a join project p on p.id=a.project_id where p.name like 'demo_%'")" 8
# A late writer: a key a minute older than the demo's newest (below the watermark) but
# inside the lookback window is still indexed by the next tick.
late=$(date -u -d '-1 minute' +%Y/%m/%d/%H/%M):00.000001
printf '{"type":"begin_entry","start_time":"2026-11-21T10:00:00","action":"a","inputs":{},"sequence_id":0}' |
    "$spoor" put - "s3://$bucket/data/demo_counter/$late/user_0/late-app/y__log.jsonl" || exit 1
run "$work/r1" 200
check "late writer inside lookback indexed" "$(q "$work/r1/db.sqlite3" "select count(*) from application where app_id='late-app'")" 1
total=$((total + 1))
events=$(q "$work/r1/db.sqlite3" 'select count(*) from event')

# SIGKILL in the middle of indexing, then a restart: every event exactly once.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
BURR_LOAD_SNAPSHOT_ON_START=false SPOOR_PORT=$(free_port) BURR_SERVER_ROOT=$work/r3 BURR_S3_BUCKET=$bucket "$server" --batch-cap 50 --interval-ms 600000 2>>"$work/log" &
pid=$!
for _ in $(seq 1 100); do
    n=$(q "$work/r3/db.sqlite3" 'select count(*) from object' 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 200 ] && break
    sleep 0.05
done
kill -9 $pid; wait $pid 2>/dev/null
partial=$(q "$work/r3/db.sqlite3" 'select count(*) from object')
[ "$partial" -lt "$total" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: the kill came after indexing finished ($partial)"; }
run "$work/r3" 200
check "after kill -9: objects" "$(q "$work/r3/db.sqlite3" 'select count(*) from object')" "$total"
check "after kill -9: events exactly once" "$(q "$work/r3/db.sqlite3" 'select count(*) from event')" "$events"
check "after kill -9: no duplicate lines" "$(q "$work/r3/db.sqlite3" 'select count(*) from (select object_id, line_no from event group by 1, 2 having count(*) > 1)')" 0

# A second server with an empty root restores the snapshot the first one took.
BURR_SERVER_ROOT=$work/r2 BURR_S3_BUCKET=$bucket "$server" --once --interval-ms 600000 2>>"$work/log"
check "restored events" "$(q "$work/r2/db.sqlite3" 'select count(*) from event')" "$events"
check "restored objects" "$(q "$work/r2/db.sqlite3" 'select count(*) from object')" "$total"
grep -q "restored snapshot" "$work/log" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no snapshot restored"; }

# SIGTERM: a graceful stop with exit status 0.
port=$(free_port)
BURR_SERVER_ROOT=$work/r4 BURR_S3_BUCKET=$bucket "$server" --port "$port" --interval-ms 600000 2>"$work/term" &
pid=$!
for _ in $(seq 1 100); do grep -q "indexing tick 1" "$work/term" && break; sleep 0.1; done
check "/ready once started" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" 200
check "version" "$(curl -s "http://127.0.0.1:$port/api/v0/version")" '{"version":"0.1.0"}'
check "unknown path" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v0/nothing/here/x/y/z")" 404
kill -TERM $pid
wait $pid; check "SIGTERM exit status" "$?" 0
grep -q "stopped" "$work/term" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no graceful stop"; }

BURR_UPDATE_INTERVAL_MILLISECONDS=soon "$server" --once 2>"$work/bad"; rc=$?
check "bad config exit" "$rc" 2
grep -q 'BURR_UPDATE_INTERVAL_MILLISECONDS' "$work/bad" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: bad config message"; }
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] || { tail -20 "$work/log"; exit 1; }
