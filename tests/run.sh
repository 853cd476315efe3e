#!/usr/bin/env bash
# spoor's one test command (README, CI): dependencies, build, tests, sanitizer build.
#
#   tests/run.sh [--no-install] [--unit] [--keep] [-R REGEX]
#
#   --no-install  do not check or install Debian packages
#   --unit        unit tests only: no RGW, and the Ceph packages are not needed
#   --keep        leave the RGW running afterwards (prints how to use and stop it)
#   -R REGEX      only tests whose name matches (passed to every ctest run)
#
# Phase 1, build/ (RelWithDebInfo, -Werror): tests labelled unit run in parallel; all others
# (integration, e2e, install) run one at a time, with a Ceph RGW on 127.0.0.1 that this script
# starts in build/rgw (tests/harness/rgw.sh) and always stops on exit, also on failure or ^C.
# Its address and credentials reach the tests as SPOOR_TEST_S3_* variables. The RGW starts only
# when such tests are selected.
# Phase 2, build-asan/ (-DSANITIZE=ON, -Werror): the unit tests again under ASan + UBSan.
# Both phases always run; the exit status is 1 when anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
RGW_SH=$ROOT/tests/harness/rgw.sh
RGW_DIR=$ROOT/build/rgw
# A second, independent cluster (own users and keys): the router tests need two endpoints.
RGW_B_DIR=$ROOT/build/rgw-b

# shellcheck source=../deploy/packages.sh
. "$ROOT/deploy/packages.sh"
BUILD_PACKAGES=("${SPOOR_BUILD_PACKAGES[@]}" "${SPOOR_TEST_PACKAGES[@]}")
RGW_PACKAGES=(radosgw ceph-mon ceph-osd)
# The browser tests (tests/e2e, label e2e): Debian's chromium, driven by playwright-core from
# npm. Debian's nodejs and npm unless a node is installed already (NodeSource's nodejs bundles
# npm and conflicts with Debian's npm package).
E2E_PACKAGES=(chromium)
# The deployment checks (tests/deploy, label deploy): systemd-analyze, and strace for the
# sandbox check of the systemd unit.
DEPLOY_PACKAGES=(systemd strace)
command -v node >/dev/null && command -v npm >/dev/null || E2E_PACKAGES+=(nodejs npm)

install=1 unit_only=0 keep=0 regex=""
usage() {
    sed -n '4,9s/^# \{0,1\}//p' "$0" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
    --no-install) install=0 ;;
    --unit) unit_only=1 ;;
    --keep) keep=1 ;;
    -R) [ $# -ge 2 ] || usage; regex=$2; shift ;;
    -R*) regex=${1#-R} ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done

JOBS=$(nproc 2>/dev/null || echo 2)
SUMMARY=()
FAILED=0
RGW_STARTED=0
T_START=$SECONDS

section() {
    printf '\n==== %s\n' "$*"
}

# Adds one line to the summary printed at the end.
report() {
    SUMMARY+=("$(printf '%-12s %-7s %s' "$1" "$2" "$3")")
    [ "$2" = ok ] || FAILED=1
}

# On exit, also after a failure or ^C: stop the RGW, or with --keep say how to use it.
on_exit() {
    [ $RGW_STARTED = 1 ] || return 0
    if [ $keep = 1 ]; then
        bash "$RGW_SH" status "$RGW_DIR" >/dev/null 2>&1 || { stop_rgw; return 0; }
        section "RGW kept running"
        echo "use it:  . $(printf '%q' "$RGW_DIR/env")   (second endpoint: $(printf '%q' "$RGW_B_DIR/env"))"
        echo "stop it: tests/harness/rgw.sh stop build/rgw; tests/harness/rgw.sh stop build/rgw-b"
        return 0
    fi
    stop_rgw
}

stop_rgw() {
    RGW_STARTED=0
    local d
    for d in "$RGW_DIR" "$RGW_B_DIR"; do
        [ -d "$d" ] || continue
        bash "$RGW_SH" stop "$d" || echo "run.sh: stopping the RGW in $d failed" >&2
    done
}

trap on_exit EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT
trap 'echo "run.sh: terminated" >&2; exit 143' TERM

# --- dependencies ------------------------------------------------------------------------------

install_packages() {
    local wanted=("${BUILD_PACKAGES[@]}")
    [ $unit_only = 1 ] || wanted+=("${RGW_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${DEPLOY_PACKAGES[@]}")
    spoor_install_packages run.sh "${wanted[@]}" ||
        { echo "or run tests/run.sh --no-install once they are present." >&2; return 1; }
}

# --- build and test helpers --------------------------------------------------------------------

# configure_build DIR CMAKE_ARGS...: configure and build; prints the time taken.
configure_build() {
    local dir=$1 t0=$SECONDS
    shift
    cmake -S "$ROOT" -B "$ROOT/$dir" "$@" && cmake --build "$ROOT/$dir" -j "$JOBS" || return 1
    echo "built $dir/ in $((SECONDS - t0)) s"
}

# count_tests DIR CTEST_SELECT_ARGS...: how many registered tests the selection matches.
count_tests() {
    local dir=$1
    shift
    ctest --test-dir "$ROOT/$dir" -N "$@" ${regex:+-R "$regex"} 2>/dev/null |
        sed -n 's/^Total Tests: *\([0-9]*\).*/\1/p'
}

# run_tests DIR NAME JOBS CTEST_SELECT_ARGS...: runs the selected tests; sets TEST_RESULT and
# adds their number to TOTAL_TESTS.
run_tests() {
    local dir=$1 name=$2 jobs=$3 n t0=$SECONDS
    shift 3
    n=$(count_tests "$dir" "$@")
    TOTAL_TESTS=$((TOTAL_TESTS + ${n:-0}))
    if [ "${n:-0}" = 0 ]; then
        echo "no $name tests${regex:+ match -R $regex}"
        TEST_RESULT="$name: none"
        return 0
    fi
    if ctest --test-dir "$ROOT/$dir" --output-on-failure -j "$jobs" "$@" ${regex:+-R "$regex"}; then
        TEST_RESULT="$name: $n passed ($((SECONDS - t0)) s)"
        return 0
    fi
    TEST_RESULT="$name: FAILED ($n run)"
    return 1
}

# e2e_deps: playwright-core for the browser tests, from tests/e2e/package-lock.json; again
# only when the lock file changed, so that later runs need no network.
e2e_deps() {
    local dir=$ROOT/tests/e2e
    [ "$(count_tests build -L e2e)" != 0 ] || return 0
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
        [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        return 0
    fi
    npm ci --prefix "$dir" --no-audit --no-fund ||
        echo "run.sh: npm ci in tests/e2e failed: the browser tests will fail" >&2
}

start_rgw() {
    local d pid_a pid_b ok=0
    for d in "$RGW_DIR" "$RGW_B_DIR"; do
        if bash "$RGW_SH" status "$d" >/dev/null 2>&1; then
            echo "stopping the RGW an earlier --keep run left in $d"
            bash "$RGW_SH" stop "$d" || return 1
        fi
    done
    RGW_STARTED=1
    # Both clusters start at once; each prints its own errors.
    bash "$RGW_SH" start "$RGW_DIR" & pid_a=$!
    bash "$RGW_SH" start "$RGW_B_DIR" & pid_b=$!
    wait $pid_a || ok=1
    wait $pid_b || ok=1
    [ $ok = 0 ] || return 1
    # shellcheck source=/dev/null
    . "$RGW_DIR/env"
    # The second cluster's variables are SPOOR_TEST_S3B_*.
    eval "$(sed -n 's/^export SPOOR_TEST_S3_/export SPOOR_TEST_S3B_/p' "$RGW_B_DIR/env")"
}

# --- phases ------------------------------------------------------------------------------------

TOTAL_TESTS=0
TEST_RESULT=""

phase_main() {
    local ok=ok details n
    section "phase 1: build/ (RelWithDebInfo, -Werror)"
    if ! configure_build build -DWERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
        report build/ FAILED "build failed (see above); no tests run"
        return
    fi

    section "phase 1: unit tests (build/, -j$JOBS)"
    run_tests build unit "$JOBS" -L unit || ok=FAILED
    details=$TEST_RESULT

    if [ $unit_only = 0 ]; then
        section "phase 1: integration, e2e and other tests (build/, one at a time, with RGW)"
        e2e_deps
        n=$(count_tests build -LE unit)
        if [ "${n:-0}" = 0 ]; then
            echo "no tests besides unit ones${regex:+ match -R $regex}; RGW not started"
            details+="; with RGW: none"
        elif ! start_rgw; then
            ok=FAILED
            details+="; with RGW: RGW did not start, tests not run"
        else
            echo "SPOOR_TEST_S3_ENDPOINT=$SPOOR_TEST_S3_ENDPOINT SPOOR_TEST_S3B_ENDPOINT=$SPOOR_TEST_S3B_ENDPOINT"
            run_tests build "with RGW" 1 -LE unit || ok=FAILED
            details+="; $TEST_RESULT"
            [ $keep = 1 ] || stop_rgw
        fi
    fi
    report build/ "$ok" "build ok; $details"
}

phase_asan() {
    local ok=ok
    local -x ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    local -x UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    section "phase 2: build-asan/ (ASan + UBSan, -Werror)"
    if ! configure_build build-asan -DSANITIZE=ON -DWERROR=ON; then
        report build-asan/ FAILED "build failed (see above); no tests run"
        return
    fi
    section "phase 2: unit tests under ASan + UBSan (build-asan/, -j$JOBS)"
    run_tests build-asan unit "$JOBS" -L unit || ok=FAILED
    report build-asan/ "$ok" "build ok; $TEST_RESULT"
}

if [ $install = 1 ]; then
    section "dependencies"
    install_packages || { echo "run.sh: FAILED: dependencies missing"; exit 1; }
fi
phase_main
phase_asan

section "summary ($((SECONDS - T_START)) s)"
printf '%s\n' "${SUMMARY[@]}"
if [ -n "$regex" ] && [ $TOTAL_TESTS = 0 ] && [ $FAILED = 0 ]; then
    echo "run.sh: no test matches -R $regex" >&2
    exit 1
fi
[ $FAILED = 0 ] || { echo "run.sh: FAILED"; exit 1; }
echo "run.sh: all passed"
