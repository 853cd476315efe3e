# tests/deploy/checks.sh: sourced by the deployment checks (bash). Counts checks and failures;
# a script ends with `checks_done NAME`, which prints the count and fails when any failed.
fails=0 checks=0
ok() { checks=$((checks + 1)); printf 'ok    %s\n' "$*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); printf 'FAIL  %s\n' "$*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
checks_done() {
    echo "$1: $checks checks, $fails failed"
    [ $fails = 0 ]
}
