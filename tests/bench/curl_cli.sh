#!/usr/bin/env bash
# curl_cli.sh: the baseline for bench_s3 — the same small-object PUT and GET workload done with
# the curl command, one process per request, against the endpoint in SPOOR_TEST_S3_ENDPOINT,
# _ACCESS_KEY, _SECRET_KEY and _REGION.
#
#   curl_cli.sh [--objects N] [--size BYTES] [--concurrency-list 1,16]
#
# Concurrency 1 is one curl after another; N is xargs -P N. Each level PUTs its own keys
# (cN/...), then GETs them. Prints a table in bench_s3's columns (client "curl cli"). Latency is
# curl's own time_total per request, so it leaves out process start-up; ops/s includes it, and
# so does "cpu us/op" (CPU time of xargs and the curl processes: this shell's cutime/cstime).
# It is a benchmark, not a test: nothing is asserted about time, but the run fails (exit 1)
# unless every request answered 200 and every GET body equals what was PUT. Its bucket is
# emptied (DeleteObjects) and deleted at the end, also after a failure.
#
# curl 7.88 (Debian 12) signs with --aws-sigv4 but does not send x-amz-content-sha256, which
# RGW requires, so the script adds "x-amz-content-sha256: UNSIGNED-PAYLOAD" itself. Do not add
# -H "Expect:" either: curl 7.88 then signs a header it does not send (SignatureDoesNotMatch).
set -euo pipefail

OBJECTS=500
SIZE=1024
LEVELS=1,16

die() {
    echo "curl_cli.sh: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --objects) OBJECTS=${2:-}; shift 2 ;;
    --size) SIZE=${2:-}; shift 2 ;;
    --concurrency-list) LEVELS=${2:-}; shift 2 ;;
    -h | --help) sed -n '6p' "$0" | sed 's/^# *//'; exit 0 ;;
    *) die "unknown argument $1" ;;
    esac
done
[[ "$OBJECTS" =~ ^[1-9][0-9]*$ ]] || die "--objects wants a positive number"
[[ "$SIZE" =~ ^[1-9][0-9]*$ ]] || die "--size wants a positive number of bytes"
[[ "$LEVELS" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--concurrency-list wants e.g. 1,16"
for v in SPOOR_TEST_S3_ENDPOINT SPOOR_TEST_S3_ACCESS_KEY SPOOR_TEST_S3_SECRET_KEY; do
    [ -n "${!v:-}" ] || die "set $v (source the env file of tests/harness/rgw.sh)"
done
for tool in curl xargs split cmp openssl awk; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

EP=$SPOOR_TEST_S3_ENDPOINT
BUCKET="bench-curl-$(date +%s)-$$"
SIGN=(--aws-sigv4 "aws:amz:${SPOOR_TEST_S3_REGION:-us-east-1}:s3"
    --user "$SPOOR_TEST_S3_ACCESS_KEY:$SPOOR_TEST_S3_SECRET_KEY"
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/curl-bench.XXXXXX")
ERRORS=0

# One signed request; prints the HTTP status. Extra curl arguments come first.
s3() {
    curl -s -o "$WORK/answer" -w '%{http_code}' "${SIGN[@]}" "$@" || true
}

# Deletes every key of the bucket with DeleteObjects (1000 per request), then the bucket.
cleanup() {
    local keys code md5
    while :; do
        code=$(s3 "$EP/$BUCKET?list-type=2&max-keys=1000")
        [ "$code" = 200 ] || break
        keys=$(grep -o '<Key>[^<]*</Key>' "$WORK/answer" |
            sed 's/<Key>/<Object><Key>/; s/$/<\/Object>/' || true)
        [ -n "$keys" ] || break
        printf '<Delete><Quiet>true</Quiet>%s</Delete>' "$keys" >"$WORK/delete.xml"
        md5=$(openssl md5 -binary "$WORK/delete.xml" | base64)
        code=$(s3 -X POST -H "Content-MD5: $md5" -H "Content-Type: application/xml" \
            --data-binary "@$WORK/delete.xml" "$EP/$BUCKET?delete=")
        [ "$code" = 200 ] || { echo "curl_cli.sh: DeleteObjects answered $code" >&2; break; }
    done
    code=$(s3 -X DELETE "$EP/$BUCKET")
    [ "$code" = 204 ] || echo "curl_cli.sh: DeleteBucket $BUCKET answered $code" >&2
    rm -rf "$WORK"
}

on_exit() {
    local st=$?
    trap - EXIT
    cleanup
    exit $st
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# CPU time, in microseconds, of the children this shell has waited for (cutime + cstime).
children_cpu_us() {
    local stat
    read -r stat </proc/$$/stat
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo $(((${14} + ${15}) * 1000000 / $(getconf CLK_TCK)))
}

# Prints one table row from a file of "code seconds" lines, one per request, or counts errors.
row() {
    local op=$1 conc=$2 t0=$3 t1=$4 file=$5 cpu_us=$6 ok
    ok=$(awk '$1 == 200' "$file" | wc -l)
    if [ "$ok" -ne "$OBJECTS" ] || [ "$(wc -l <"$file")" -ne "$OBJECTS" ]; then
        echo "curl_cli.sh: $op c=$conc: $ok of $OBJECTS requests answered 200; statuses:" \
            "$(awk '{print $1}' "$file" | sort | uniq -c | tr '\n' ' ')" >&2
        ERRORS=$((ERRORS + 1))
    fi
    awk '{print $2}' "$file" | sort -g | awk -v op="$op" -v c="$conc" -v n="$OBJECTS" \
        -v size="$SIZE" -v ns=$((t1 - t0)) -v cpu="$cpu_us" '
        { lat[NR] = $1 * 1000 }
        function pct(p,  r) { r = int((NR * p + 99) / 100); return lat[r < 1 ? 1 : r] }
        END {
            s = ns / 1e9
            printf "| %-12s | %-6s | %4d | %8d | %8.3f | %9.0f | %7.2f | %7.2f | %7.2f | %9.1f |\n",
                "curl cli", op, c, n, s, n / s, n * size / 1e6 / s, pct(50), pct(99), cpu / n
        }'
}

# Runs one curl per key at concurrency $1; the rest are curl's arguments, {} standing for the
# key. Appends "code time_total" lines to $WORK/codes.
run_level() {
    local conc=$1
    shift
    : >"$WORK/codes"
    seq -f 'o%08g' 0 $((OBJECTS - 1)) |
        xargs -P "$conc" -I{} curl -s -w '%{http_code} %{time_total}\n' "${SIGN[@]}" "$@" \
            >>"$WORK/codes" || true
}

mkdir -p "$WORK/src"
head -c $((OBJECTS * SIZE)) /dev/urandom >"$WORK/all"
split -b "$SIZE" -a 8 -d "$WORK/all" "$WORK/src/o"
code=$(s3 -X PUT "$EP/$BUCKET")
[ "$code" = 200 ] || die "CreateBucket $BUCKET answered $code"
echo "curl_cli.sh: $EP bucket $BUCKET, $OBJECTS objects of $SIZE bytes per level" >&2

IFS=, read -r -a levels <<<"$LEVELS"
printf '| %-12s | %-6s | %4s | %8s | %8s | %9s | %7s | %7s | %7s | %9s |\n' client op conc \
    objects seconds ops/s MB/s 'p50 ms' 'p99 ms' 'cpu us/op'
printf '%s%s\n' '|--------------|--------|-----:|---------:|---------:|----------:|' \
    '--------:|--------:|--------:|----------:|'
for op in PUT GET; do
    for c in "${levels[@]}"; do
        echo "curl_cli.sh: $op, concurrency $c ..." >&2
        cpu0=$(children_cpu_us)
        t0=$(date +%s%N)
        if [ $op = PUT ]; then
            run_level "$c" -o /dev/null -T "$WORK/src/{}" "$EP/$BUCKET/c$c/{}"
        else
            mkdir -p "$WORK/got$c"
            run_level "$c" -o "$WORK/got$c/{}" "$EP/$BUCKET/c$c/{}"
        fi
        t1=$(date +%s%N)
        cpu1=$(children_cpu_us)
        row "$op" "$c" "$t0" "$t1" "$WORK/codes" $((cpu1 - cpu0))
        # The glob sorts like split's names, so the bodies in order must equal the data PUT.
        if [ $op = GET ] && ! cat "$WORK/got$c"/o* | cmp -s - "$WORK/all"; then
            echo "curl_cli.sh: GET c=$c: bodies differ from what was PUT" >&2
            ERRORS=$((ERRORS + 1))
        fi
    done
done

if [ $ERRORS -gt 0 ]; then
    echo "curl_cli.sh: $ERRORS failed checks: the run is invalid" >&2
    exit 1
fi
