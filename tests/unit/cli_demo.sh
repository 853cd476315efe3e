#!/usr/bin/env bash
# `spoor demo` as the README's run command uses it: seeds the embedded local store (S3 layout
# in a file store) and Burr's local layout, and a second run adds nothing. Needs no service.
# Usage: cli_demo.sh PATH/TO/spoor
set -uo pipefail
spoor=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/spoor-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0 pass=0
ok() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }

ok "$spoor" demo --store "$work/objects" >"$work/out1" 2>&1
cat >"$work/routes.json" <<JSON
{"endpoints": {"disk": {"type": "file", "root": "$work/objects"}},
 "routes": [{"from": "s3://*/", "to": "disk://*/"}]}
JSON
"$spoor" --routes "$work/routes.json" ls -r s3://spoor-local/data/ >"$work/ls1"
ok grep -q "data/demo_counter/.*/user_0/count-to-42/graph.json" "$work/ls1"
ok grep -q "data/demo_chatbot/.*/__none__/chat-6-demonstrate-errors/.*__log.jsonl" "$work/ls1"
ok grep -q "chat-3-physics-units/metadata.json" "$work/ls1"
n1=$(wc -l <"$work/ls1")
ok "$spoor" demo --store "$work/objects" >"$work/out2" 2>&1
"$spoor" --routes "$work/routes.json" ls -r s3://spoor-local/data/ >"$work/ls2"
ok [ "$(wc -l <"$work/ls2")" = "$n1" ]

ok "$spoor" demo --local "$work/burr" >"$work/out3" 2>&1
ok test -s "$work/burr/demo_counter/count-to-10/log.jsonl"
ok [ "$(wc -l <"$work/burr/demo_counter/count-to-10/log.jsonl")" = 22 ]
ok grep -q '"event_type":"spawn_start"' "$work/burr/demo_chatbot/chat-3-physics/children.jsonl"
ok grep -q '"exception":"Traceback' "$work/burr/demo_chatbot/chat-6-demonstrate-errors/log.jsonl"

"$spoor" demo --local "$work/burr" --store "$work/x" >/dev/null 2>&1
ok [ $? = 2 ]
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
