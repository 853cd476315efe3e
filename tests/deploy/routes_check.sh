#!/usr/bin/env bash
# routes_check.sh: deploy/routes.example.json (S3 plus lakeFS) through the spoor CLI of this build.
#
#   tests/deploy/routes_check.sh SPOOR_BINARY
#
# - `spoor route check` loads it with no problem (the format of shared/spec/router.md: endpoints,
#   routes specific to general, the default last, lakeFS names lakeFS accepts).
# - `spoor route explain` (fake credentials in the environment, no network) sends each URI where
#   deploy/README.md says: project alpha to branch main of the lakeFS repository, project golden
#   to a tag, read-only, every other key (other projects, snapshots/) to S3, and the lakeFS
#   endpoint uses LAKECTL_* credentials, the S3 one AWS_*.
# - The checker itself is checked: a copy without the default route must be refused.
# The Kubernetes ConfigMap's copy of the file is compared with it by manifests.mjs (deploy_k8s).
#
# Exit status 0: all passed; 1: a check failed.
# shellcheck disable=SC2016 # check WHAT eval '...': expanded when the check runs
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUTES=$ROOT/deploy/routes.example.json
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: routes_check.sh SPOOR_BINARY" >&2
    exit 1
fi
SPOOR=$1

# shellcheck source=checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spoor-routes-check.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

echo "== spoor route check deploy/routes.example.json"
"$SPOOR" route check "$ROUTES" >"$tmp/check.txt" 2>&1
rc=$?
sed 's/^/    /' "$tmp/check.txt"
check "spoor route check: status 0 ($rc)" [ $rc = 0 ]
check "spoor route check: ok" grep -q ': ok, ' "$tmp/check.txt"
check "an s3 and a lakefs endpoint" eval 'grep -q "(lakefs)" "$tmp/check.txt" && grep -q "(s3)" "$tmp/check.txt"'

echo "== spoor route explain"
# explain URI: the report for URI, with placeholder credentials and no other AWS/lakeFS setting.
explain() {
    env -i PATH=/usr/bin:/bin HOME="$tmp" SPOOR_ROUTES="$ROUTES" \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        LAKECTL_CREDENTIALS_ACCESS_KEY_ID=test LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=test \
        "$SPOOR" route explain "$1" 2>&1
}
# expect URI TARGET ENDPOINT_TYPE READ_ONLY CREDENTIAL_VARIABLE
expect() {
    local out
    out=$(explain "$1")
    if ! grep -q "target: *$2\$" <<<"$out" || ! grep -q "endpoint: .*($3," <<<"$out" ||
        ! grep -q "read-only: *$4" <<<"$out" || ! grep -q "credentials: .*$5" <<<"$out"; then
        printf '    %s\n' "$out"
        return 1
    fi
}
check "project alpha -> lakeFS branch main" \
    expect s3://burr-tracking/data/alpha/2026/01/01/00/00:00.000000/k/app/log.jsonl \
    lake://alpha-tracking/main/data/alpha/2026/01/01/00/00:00.000000/k/app/log.jsonl lakefs no LAKECTL_
check "project golden -> a lakeFS tag, read-only" \
    expect s3://burr-tracking/data/golden/x lake://alpha-tracking/v1.0.0/data/golden/x lakefs yes LAKECTL_
check "other projects -> S3" \
    expect s3://burr-tracking/data/beta/x aws://burr-tracking/data/beta/x s3 no AWS_
check "snapshots/ -> S3" \
    expect s3://burr-tracking/snapshots/x aws://burr-tracking/snapshots/x s3 no AWS_
check "other buckets -> S3" \
    expect s3://other-bucket/data/alpha/x aws://other-bucket/data/alpha/x s3 no AWS_

echo "== the checker refuses a broken file"
# The same file without its last (default) route.
awk '/"from": "s3:\/\/\*\/"/ { next } { print }' "$ROUTES" |
    sed -z 's/},\(\s*\]\s*}\s*\)$/}\1/' >"$tmp/broken.json"
check "the copy differs only by the default route" eval '! grep -q "s3://\*/" "$tmp/broken.json"'
"$SPOOR" route check "$tmp/broken.json" >"$tmp/broken.txt" 2>&1
rc=$?
sed 's/^/    /' "$tmp/broken.txt"
check "spoor route check refuses it (status $rc)" [ $rc != 0 ]

checks_done routes_check.sh
