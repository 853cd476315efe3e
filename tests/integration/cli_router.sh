#!/usr/bin/env bash
# The spoor command, as a user runs it, through a routes file that spans two RGW clusters
# (tests/run.sh starts both: SPOOR_TEST_S3_* and SPOOR_TEST_S3B_*) and a local directory.
# Checks output, files and exit codes: 0 ok, 1 failed, 2 usage, 3 configuration,
# 4 not found, 5 read-only. Usage: cli_router.sh PATH/TO/spoor
set -uo pipefail
spoor=$1
: "${SPOOR_TEST_S3_ENDPOINT:?run through tests/run.sh}" "${SPOOR_TEST_S3B_ENDPOINT:?run through tests/run.sh}"
work=$(mktemp -d "${TMPDIR:-/tmp}/spoor-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # check NAME EXPECTED_EXIT CMD... ; output in $work/out, $work/err
    local name=$1 want=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    local got=$?
    if [ "$got" = "$want" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: exit $got, want $want"
        sed 's/^/  out: /' "$work/out" | head -5
        sed 's/^/  err: /' "$work/err" | head -5
    fi
}
expect_in() { # expect_in NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else
        failed=$((failed + 1))
        echo "FAIL $1: '$3' not in $(basename "$2"):"
        sed 's/^/  /' "$2" | head -8
    fi
}
expect_not_in() {
    if grep -qF -- "$3" "$2"; then
        failed=$((failed + 1))
        echo "FAIL $1: '$3' must not be in $(basename "$2")"
    else passed=$((passed + 1)); fi
}

b=cli-$$-$(date +%s)
repo=repo-$$-$(date +%s)
cat >"$work/routes.json" <<EOF
{"endpoints": {
   "aws":  {"type": "s3", "url": "$SPOOR_TEST_S3_ENDPOINT", "addressing": "path",
            "credentials": {"access_key_id_env": "SPOOR_TEST_S3_ACCESS_KEY",
                            "secret_access_key_env": "SPOOR_TEST_S3_SECRET_KEY"}},
   "lake": {"type": "lakefs", "url": "$SPOOR_TEST_S3B_ENDPOINT",
            "credentials": {"access_key_id_env": "SPOOR_TEST_S3B_ACCESS_KEY",
                            "secret_access_key_env": "SPOOR_TEST_S3B_SECRET_KEY"}},
   "disk": {"type": "file", "root": "$work/store"}},
 "routes": [
   {"from": "s3://$b/data/alpha/", "to": "lake://$repo/main/data/alpha/"},
   {"from": "s3://$b/data/local/", "to": "disk://$b/data/local/"},
   {"from": "s3://$b/golden/", "to": "lake://$repo/v1.0.0/golden/", "read_only": true},
   {"from": "s3://*/", "to": "aws://*/"}]}
EOF
export SPOOR_ROUTES=$work/routes.json

# help and usage
check "help" 0 "$spoor" --help
expect_in "help lists route" "$work/out" "route explain"
for c in ls get put rm cp mb presign route; do
    check "$c --help" 0 "$spoor" "$c" --help
    expect_in "$c --help usage" "$work/out" "usage: spoor $c"
done
check "unknown command" 2 "$spoor" frobnicate
check "bad uri" 2 "$spoor" ls http://x/y
check "missing args" 2 "$spoor" get

# route check and explain
check "route check ok" 0 "$spoor" route check "$work/routes.json"
expect_in "route check summary" "$work/out" "4 routes"
printf '{"endpoints": {"aws": {"type": "s3"}}, "routes": [{"form": "s3://a/", "to": "aws://a/"}]}' >"$work/bad.json"
check "route check bad" 3 "$spoor" route check "$work/bad.json"
expect_in "route check names the typo" "$work/err" 'did you mean "from"'
check "bad routes refuse to start" 3 "$spoor" --routes "$work/bad.json" ls "s3://$b/"
expect_in "bad routes say where" "$work/err" "bad.json"
check "explain lake" 0 "$spoor" route explain "s3://$b/data/alpha/x y"
expect_in "explain target" "$work/out" "lake://$repo/main/data/alpha/x y"
expect_in "explain creds source" "$work/out" "SPOOR_TEST_S3B_ACCESS_KEY"
expect_not_in "explain hides the secret" "$work/out" "$SPOOR_TEST_S3B_SECRET_KEY"
check "explain default" 0 "$spoor" route explain "s3://$b/data/beta/k"
expect_in "explain default endpoint" "$work/out" "aws (s3"

# buckets on every endpoint, made through the routes
check "mb default" 0 "$spoor" mb "s3://$b"
check "mb lake" 0 "$spoor" mb "s3://$b/data/alpha/"
check "mb local" 0 "$spoor" mb "s3://$b/data/local/"

# put, get, ls across endpoints
printf 'alpha body' >"$work/a.txt"
check "put lake" 0 "$spoor" put "$work/a.txt" "s3://$b/data/alpha/app 1/log+1.jsonl"
check "put default from stdin" 0 sh -c "printf 'beta body' | '$spoor' put - 's3://$b/data/beta/k'"
check "put local" 0 "$spoor" put "$work/a.txt" "s3://$b/data/local/l.txt"
check "get lake to stdout" 0 "$spoor" get "s3://$b/data/alpha/app 1/log+1.jsonl"
expect_in "get lake body" "$work/out" "alpha body"
check "get default to file" 0 "$spoor" get "s3://$b/data/beta/k" "$work/k.out"
expect_in "get default file" "$work/k.out" "beta body"
check "ls spans endpoints" 0 "$spoor" ls "s3://$b/data/"
for p in data/alpha/ data/beta/ data/local/; do expect_in "ls shows $p" "$work/out" "s3://$b/$p"; done
check "ls -r spans endpoints" 0 "$spoor" ls -r "s3://$b/data/"
expect_in "ls -r lake key" "$work/out" "s3://$b/data/alpha/app 1/log+1.jsonl"
expect_in "ls -r local key" "$work/out" "s3://$b/data/local/l.txt"
expect_in "ls -r default key" "$work/out" "s3://$b/data/beta/k"

# copies: across endpoints and to a local file
check "cp default to lake" 0 "$spoor" cp "s3://$b/data/beta/k" "s3://$b/data/alpha/copied"
check "cp lake to local" 0 "$spoor" cp "s3://$b/data/alpha/copied" "s3://$b/data/local/copied"
check "cp local to file" 0 "$spoor" cp "s3://$b/data/local/copied" "$work/copied.out"
expect_in "cp chain body" "$work/copied.out" "beta body"

# errors: not found, read-only, failure
check "get missing" 4 "$spoor" get "s3://$b/data/alpha/nope"
expect_in "missing says NoSuchKey" "$work/err" "NoSuchKey"
check "put read-only" 5 "$spoor" put "$work/a.txt" "s3://$b/golden/x"
expect_in "read-only message" "$work/err" "read-only"
check "rm read-only" 5 "$spoor" rm "s3://$b/golden/x"
check "rm" 0 "$spoor" rm "s3://$b/data/alpha/copied" "s3://$b/data/local/copied"
check "get removed" 4 "$spoor" get "s3://$b/data/local/copied"
SPOOR_TEST_S3B_SECRET_KEY=wrong check "wrong secret on lake" 1 "$spoor" ls "s3://$b/data/alpha/"
expect_in "wrong secret code" "$work/err" "SignatureDoesNotMatch"
expect_in "wrong secret endpoint" "$work/err" "lake"
unset SPOOR_ROUTES
AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y AWS_ENDPOINT_URL=http://127.0.0.1:1 \
    check "unreachable endpoint" 1 "$spoor" ls s3://any-bucket/
expect_in "unreachable says so" "$work/err" "127.0.0.1:1"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
