#!/usr/bin/env bash
# systemd_verify.sh: deploy/systemd/spoor-server.service checked without a running systemd.
#
#   tests/deploy/systemd_verify.sh SPOOR_SERVER_BINARY
#
#  1. `systemd-analyze verify` on a copy of the unit whose ExecStart names the binary of this
#     build (verify needs the program to exist): status 0 and no output at all, so an unknown
#     key, a bad value or a typo fails.
#  2. The hardening the deployment promises is in the unit (list below), the stop timeout
#     leaves time for the final snapshot, and the environment file is VAR=value lines only.
#  3. `systemd-analyze security --offline=yes`: the exposure score is printed and must be below
#     MAX_EXPOSURE.
#  4. The unit's sandbox against the program (strace, when installed): spoor-server runs as an
#     unprivileged user (as DynamicUser= would) with the environment file's settings, twice:
#     on the embedded store (start, API, UI, SIGTERM with a final snapshot) and on an S3 endpoint
#     that refuses connections. Every system call it makes must be allowed by the unit's
#     SystemCallFilter= lines, every socket family by RestrictAddressFamilies=, and every file
#     it writes must be under its state directory (ProtectSystem=strict) or /tmp (PrivateTmp);
#     nothing under /home or /root is touched (ProtectHome), /proc only for its own process
#     (ProcSubset=pid), /dev only for pseudo-devices (PrivateDevices), /sys not at all.
#
# Exit status 0: all passed; 1: a check failed.
# shellcheck disable=SC2016 # check WHAT eval '...': expanded when the check runs
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UNIT=$ROOT/deploy/systemd/spoor-server.service
ENVFILE=$ROOT/deploy/systemd/spoor-server.env
INSTALLED_BIN=/usr/local/bin/spoor-server
MAX_EXPOSURE=2.0

# shellcheck source=checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
die() {
    echo "systemd_verify.sh: $*" >&2
    exit 1
}

[ $# -eq 1 ] || die "usage: systemd_verify.sh SPOOR_SERVER_BINARY"
bin=$(realpath -e -- "$1") || die "no program $1"
[ -x "$bin" ] || die "$bin is not executable"
command -v systemd-analyze >/dev/null || die "systemd-analyze not found (Debian package systemd)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spoor-systemd-verify.XXXXXX")
child=""
cleanup() {
    if [ -n "$child" ]; then kill -KILL "$child" 2>/dev/null; fi
    rm -rf -- "$tmp"
}
trap cleanup EXIT

# --- 1. systemd-analyze verify -----------------------------------------------------------------

echo "== systemd-analyze verify"
unit=$tmp/spoor-server.service
n=$(grep -c "^ExecStart=$INSTALLED_BIN\\( \\|\$\\)" "$UNIT")
check "the unit starts $INSTALLED_BIN (once)" [ "$n" = 1 ]
sed "s|^ExecStart=$INSTALLED_BIN|ExecStart=$bin|" "$UNIT" >"$unit"
out=$(systemd-analyze verify "$unit" 2>&1)
rc=$?
[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
check "systemd-analyze verify: status 0 ($rc) and no warning" eval '[ $rc = 0 ] && [ -z "$out" ]'

# --- 2. what the unit must say -----------------------------------------------------------------

echo "== directives"
# The value of KEY in [Service] (the last assignment), or nothing.
value() { awk -v k="$1" -F= '/^\[/ { s = $0 } s == "[Service]" && $1 == k { sub(/^[^=]*=/, ""); v = $0; f = 1 } END { if (f) print v; else exit 1 }' "$UNIT"; }
expect() {
    local v
    v=$(value "$1") || { fail "$1= is set (it is missing)"; return; }
    check "$1=$2" [ "$v" = "$2" ]
}
for kv in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
    ProtectControlGroups=yes ProtectClock=yes ProtectHostname=yes RestrictNamespaces=yes \
    RestrictRealtime=yes RestrictSUIDSGID=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
    MemoryDenyWriteExecute=yes LockPersonality=yes SystemCallArchitectures=native \
    CapabilityBoundingSet= AmbientCapabilities= Restart=on-failure StateDirectory=spoor \
    DynamicUser=yes KillSignal=SIGTERM; do
    expect "${kv%%=*}" "${kv#*=}"
done
check "SystemCallFilter= starts with the allow-list @system-service" \
    [ "$(awk -F= '/^SystemCallFilter=/ { print $2; exit }' "$UNIT")" = "@system-service" ]
check "ExecStart passes the state directory as --root" \
    eval 'grep -q "^ExecStart=$INSTALLED_BIN --root=\${STATE_DIRECTORY}\$" "$UNIT"'
stop=$(value TimeoutStopSec)
# shellcheck disable=SC2034 # read by the eval below
stop_s=${stop%s}
check "TimeoutStopSec ($stop) leaves at least 60 s for the final snapshot" \
    eval '[[ "$stop_s" =~ ^[0-9]+$ ]] && [ "$stop_s" -ge 60 ]'
check "EnvironmentFile=-/etc/spoor/spoor-server.env (optional)" \
    [ "$(value EnvironmentFile)" = "-/etc/spoor/spoor-server.env" ]
bad=$(grep -nv '^\(#.*\|[A-Z_][A-Z0-9_]*=[^ ]*\|\)$' "$ENVFILE")
[ -z "$bad" ] || printf '    %s\n' "$bad"
check "spoor-server.env holds only comments and VAR=value lines" [ -z "$bad" ]
check "spoor-server.env turns on SPOOR_SNAPSHOT_ON_EXIT" grep -qx 'SPOOR_SNAPSHOT_ON_EXIT=true' "$ENVFILE"
unknown=""
while IFS= read -r var; do
    case "$var" in AWS_* | LAKECTL_*) continue ;; esac
    grep -q "\\b$var\\b" <<<"$("$bin" --help 2>&1)" || unknown+=" $var"
done < <(sed -n 's/^#\{0,1\}\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$ENVFILE")
check "every setting of spoor-server.env is one spoor-server --help names${unknown:+ (not:$unknown)}" \
    [ -z "$unknown" ]

# --- 3. systemd-analyze security ---------------------------------------------------------------

echo "== systemd-analyze security --offline=yes"
sec=$(systemd-analyze security --offline=yes "$unit" 2>&1)
grep '✗' <<<"$sec" | sed 's/[[:space:]]\{2,\}/  /g; s/^/    /'
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$sec")
echo "    exposure: ${score:-?} (0 = fully sandboxed, 10 = not at all)"
check "exposure ${score:-?} < $MAX_EXPOSURE" \
    eval '[ -n "$score" ] && awk -v s="$score" -v m="$MAX_EXPOSURE" "BEGIN { exit !(s < m) }"'

# --- 4. the sandbox against the program --------------------------------------------------------

echo "== the unit's sandbox against spoor-server (strace)"
if ! command -v strace >/dev/null || { [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; }; then
    echo "skip  strace or setpriv not installed (Debian packages strace, util-linux)"
elif ! strace -f -qq -o /dev/null true 2>/dev/null; then
    echo "skip  strace cannot trace here (ptrace not permitted)"
else
    # The syscalls a SystemCallFilter= group allows, groups expanded.
    expand() {
        local g=$1 x
        while read -r x; do
            case "$x" in "" | "#"* | "$g") ;; @*) expand "$x" ;; *) echo "$x" ;; esac
        done < <(systemd-analyze syscall-filter "$g" 2>/dev/null)
    }
    declare -A allowed=()
    while IFS= read -r line; do
        deny=0
        [ "${line#\~}" != "$line" ] && deny=1 line=${line#\~}
        for item in $line; do
            if [ "${item#@}" != "$item" ]; then mapfile -t sys < <(expand "$item"); else sys=("$item"); fi
            for s in "${sys[@]}"; do
                if [ $deny = 1 ]; then unset "allowed[$s]"; else allowed[$s]=1; fi
            done
        done
    done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
    check "SystemCallFilter= allows ${#allowed[@]} system calls" [ "${#allowed[@]}" -gt 100 ]
    families=$(value RestrictAddressFamilies)

    state=$tmp/state
    mkdir -p "$state" "$tmp/tmp"
    chmod 0755 "$tmp"
    # As root (CI): the program runs as nobody, as DynamicUser= would run it (SQLite, for one,
    # calls fchown only as root). Otherwise it runs as the user running this.
    as_user=()
    if [ "$(id -u)" = 0 ]; then
        chown 65534:65534 "$state" "$tmp/tmp"
        as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs)
    fi
    mapfile -t envfile < <(grep '^[A-Z_][A-Z0-9_]*=' "$ENVFILE")
    port=""
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
    done
    [ -n "$port" ] || die "no free port"
    # trace NAME SETTINGS...: runs the program under strace (as nobody), as the unit would, with
    # the environment file's settings then SETTINGS; asks /ready, the API and the UI; SIGTERM.
    trace() {
        local name=$1 pid
        shift
        (cd "$state" && exec env -i PATH=/usr/bin:/bin "${envfile[@]}" SPOOR_PORT="$port" TMPDIR="$tmp/tmp" \
            STATE_DIRECTORY="$state" "$@" \
            strace -y -f -qq -o "$tmp/$name.trace" \
            "${as_user[@]}" "$bin" --root="$state" >"$tmp/$name.log" 2>&1) &
        child=$!
        for _ in $(seq 1 100); do
            curl -fs -o /dev/null "http://127.0.0.1:$port/ready" && break
            sleep 0.1
        done
        curl -fs -o /dev/null "http://127.0.0.1:$port/api/v0/projects"
        curl -fs -o /dev/null "http://127.0.0.1:$port/"
        # The traced program is strace's child (setpriv, when there, execs it).
        pid=$(pgrep -P "$child" | head -1)
        [ -n "$pid" ] && kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$child" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$child" 2>/dev/null
        wait "$child"
        child=""
        # The program's own calls: from its execve on (setpriv's before it are not the unit's).
        awk -v b="$bin" 'index($0, "execve(\"" b "\"") { on = 1 } on' "$tmp/$name.trace" >"$tmp/$name.calls"
        grep -q . "$tmp/$name.calls" || { fail "$name: no trace of $bin"; return; }
        local calls denied=() s
        calls=$(sed -n 's/^[0-9]* \{1,\}\([a-z0-9_]*\)(.*/\1/p' "$tmp/$name.calls" | sort -u)
        for s in $calls; do [ -n "${allowed[$s]:-}" ] || denied+=("$s"); done
        check "$name: all $(wc -w <<<"$calls") system calls pass SystemCallFilter=${denied[*]:+ (denied: ${denied[*]})}" \
            [ ${#denied[@]} = 0 ]
        local fams bad_fam=()
        fams=$(grep -o 'socket(AF_[A-Z0-9]*' "$tmp/$name.calls" | sed 's/socket(//' | sort -u)
        for s in $fams; do [[ " $families " == *" $s "* ]] || bad_fam+=("$s"); done
        check "$name: socket families (${fams//$'\n'/ }) within RestrictAddressFamilies=${bad_fam[*]:+ (not: ${bad_fam[*]})}" \
            [ ${#bad_fam[@]} = 0 ]
        # Paths written (strace -y shows the directory of a dirfd): an open for writing (its
        # result, resolved), mkdir, unlink, rename, link, truncate, chmod; relative to the
        # working directory (the state directory, as WorkingDirectory=) when no dirfd is named.
        local writes bad_w
        writes=$(CWD="$state" perl -ne '
            next if /\)\s+= -1 /;
            next unless /^\d+\s+(open|openat|creat|mkdir|mkdirat|unlink|unlinkat|rmdir|rename|renameat2?|link|linkat|symlink|symlinkat|truncate|chmod|fchmodat|mknod|mknodat)\(/;
            my $sc = $1;
            next if $sc =~ /^open/ && !/O_(WRONLY|RDWR|CREAT|TRUNC)/;
            if ($sc =~ /^open/ && /\) = \d+<([^>]*)>/) { print "$1\n"; next }
            while (/(?:(?:AT_FDCWD|\d+)<([^>]*)>, )?"([^"]*)"/g) {
                my ($d, $p) = ($1, $2);
                print $p =~ m{^/} ? "$p\n" : (defined $d ? "$d/$p\n" : "$ENV{CWD}/$p\n");
            }' "$tmp/$name.calls" | sort -u)
        bad_w=$(grep -v -e "^$state/" -e "^$state\$" -e "^$tmp/tmp/" -e '^/dev/null$' <<<"$writes" | grep .)
        check "$name: writes only under its state directory or /tmp${bad_w:+ (also: ${bad_w//$'\n'/ })}" [ -z "$bad_w" ]
        local procdev bad_pd
        procdev=$(grep -oE '"/(proc|dev|sys)/[^"]*"' "$tmp/$name.calls" | tr -d '"' | sort -u)
        bad_pd=$(grep -vE '^/proc/(self|thread-self|[0-9]+)(/|$)|^/dev/(null|zero|full|random|urandom|tty|ptmx|pts/.*|shm/.*)$' <<<"$procdev" | grep .)
        check "$name: /proc only of its own process (ProcSubset=pid), /dev only pseudo-devices (PrivateDevices), no /sys${bad_pd:+ (also: ${bad_pd//$'\n'/ })}" \
            [ -z "$bad_pd" ]
        check "$name: nothing under /home or /root" eval '! grep -Eq "\"(/home|/root)(/|\")" "$tmp/$name.calls"'
        check "$name: stopped by SIGTERM" grep -q 'spoor-server: stopped' "$tmp/$name.log"
    }
    trace embedded-store
    # An S3 endpoint that refuses: name resolution, connect and retries run (nothing answers).
    trace s3-refused BURR_S3_BUCKET=spoor-test AWS_ENDPOINT_URL=http://localhost:1 \
        AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
    [ $fails = 0 ] || for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done
fi

checks_done systemd_verify.sh
