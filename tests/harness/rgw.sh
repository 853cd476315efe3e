#!/usr/bin/env bash
# A throw-away Ceph RADOS Gateway on 127.0.0.1 for integration tests.
#
#   rgw.sh start DIR                       start a cluster in DIR, write DIR/env
#   rgw.sh stop DIR                        stop it (rgw, osd, mon), leave nothing running
#   rgw.sh status DIR                      exit 0 if all three daemons of DIR run
#   rgw.sh user DIR UID [ACCESS SECRET]    add an S3 user to a running cluster;
#                                          prints "ACCESS SECRET" (random when not given)
#
# One cluster is 1 mon, 1 memstore OSD (data lives in RAM and is lost on stop), no auth, no mgr,
# and radosgw with the beast frontend (tcp_nodelay=1, debug rgw 0/0), as in
# ../shared/notes/s3-servers.md. Everything a cluster owns is inside DIR: config, mon store, pid
# files, admin sockets, logs. Ports are picked free at start, so several clusters in different
# DIRs can run at the same time. A process belongs to a cluster when its command line holds
# "DIR/ceph.conf"; stop relies on that as well as on the pid files, so it also catches daemons
# whose pid file is gone. Nothing here needs systemd; it runs as root or as any user.
# start takes about 2 s (it tries other ports if one was taken meanwhile); stop under 1 s.
#
# DIR/env, sourceable by sh:
#   SPOOR_TEST_S3_ENDPOINT SPOOR_TEST_S3_ACCESS_KEY SPOOR_TEST_S3_SECRET_KEY
#   SPOOR_TEST_S3_REGION SPOOR_TEST_RGW_DIR
set -euo pipefail

DAEMONS_STOP_ORDER=(client.rgw.a osd.0 mon.a)

die() {
    echo "rgw.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '4,8s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

# Prints the last lines of each existing log file given, to stderr.
show_logs() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        echo "---- last lines of $f" >&2
        tail -n 25 "$f" >&2
    done
}

# Sets D (absolute DIR) and CONF.
set_dir() {
    [ -n "${1:-}" ] || usage
    D=$(realpath -m -- "$1")
    CONF="$D/ceph.conf"
}

# True when PID is alive (not a zombie) and its command line holds this cluster's CONF.
# Builtins only: stop and start call this for every process on the machine.
is_ours() {
    local pid=$1 arg stat found=0
    local -a args
    mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
    for arg in "${args[@]}"; do
        [ "$arg" = "$CONF" ] && found=1 && break
    done
    [ $found = 1 ] || return 1
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}

# Prints the pid of daemon NAME (mon.a, osd.0, client.rgw.a) when it runs.
daemon_pid() {
    local f="$D/run/$1.pid" pid
    read -r pid 2>/dev/null <"$f" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" && echo "$pid"
}

# Prints every process of this cluster, daemons and stray clients alike.
all_pids() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" != $$ ] && is_ours "$p" && echo "$p"
    done
    return 0
}

# Sends TERM to the given pids, waits up to 10 s, then KILLs what is left and waits up to 5 s.
kill_wait() {
    local pid left
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq 1 100); do
        left=()
        for pid in "$@"; do is_ours "$pid" && left+=("$pid"); done
        [ ${#left[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    echo "rgw.sh: still running after 10 s, sending KILL: ${left[*]}" >&2
    kill -KILL "${left[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
        left=()
        for pid in "$@"; do is_ours "$pid" && left+=("$pid"); done
        [ ${#left[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    echo "rgw.sh: could not stop: ${left[*]}" >&2
    return 1
}

cmd_stop() {
    local name pid rc=0
    [ -f "$CONF" ] || return 0
    for name in "${DAEMONS_STOP_ORDER[@]}"; do
        if pid=$(daemon_pid "$name"); then
            kill_wait "$pid" || rc=1
        fi
        rm -f "$D/run/$name.pid" "$D/run/$name.asok"
    done
    # Daemons whose pid file is gone, and clients (ceph, radosgw-admin) left hanging.
    # shellcheck disable=SC2046
    kill_wait $(all_pids) || rc=1
    rm -f "$D/env"
    return $rc
}

cmd_status() {
    local name pid rc=0
    [ -f "$CONF" ] || { echo "no cluster in $D"; return 1; }
    for name in mon.a osd.0 client.rgw.a; do
        if pid=$(daemon_pid "$name"); then
            echo "$name running, pid $pid"
        else
            echo "$name not running"
            rc=1
        fi
    done
    [ $rc -eq 0 ] && sed -n 's/^export SPOOR_TEST_S3_ENDPOINT=//p' "$D/env"
    return $rc
}

# Prints N distinct free TCP ports on 127.0.0.1, outside the kernel's ephemeral range (where a
# client connection could take them between this check and the daemon's bind) and outside
# Ceph's own 6800-7300 OSD range.
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1]); got = []; socks = []
for _ in range(2000):
    if len(got) == n:
        break
    p = random.randrange(20000, 32000)
    if p in got:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    socks.append(s); got.append(p)
if len(got) < n:
    sys.exit("no free port found in 20000-32000")
print(" ".join(map(str, got)))
PY
}

# Prints a random string of length N from the characters in SET (SRANDOM: getrandom(2)).
random_string() {
    local n=$1 set=$2 out=""
    [ -n "${SRANDOM:-}" ] || die "bash 5.1 or newer is needed (for SRANDOM)"
    while [ ${#out} -lt "$n" ]; do
        out+=${set:$((SRANDOM % ${#set})):1}
    done
    echo "$out"
}

rgw_user_create() {
    local uid=$1 access=$2 secret=$3
    timeout 60 radosgw-admin -c "$CONF" user create --uid="$uid" --display-name="$uid" \
        --access-key="$access" --secret-key="$secret" >>"$D/log/radosgw-admin.out" 2>&1 || {
        show_logs "$D/log/radosgw-admin.out"
        die "radosgw-admin user create --uid=$uid failed in $D"
    }
}

# True when a request signed with ACCESS/SECRET gets 200 for ListBuckets.
signed_ok() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        --aws-sigv4 "aws:amz:us-east-1:s3" --user "$2:$3" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$1/") || true
    [ "$code" = 200 ]
}

# Runs a ceph CLI command against this cluster; prints its stdout. A client that talks to the
# mon right after connecting now and then sends a zero fsid and gets EPERM ("wrong fsid",
# "problem getting command descriptions"): a start-up race with auth none. Retried.
ceph_cmd() {
    local out err=$D/log/ceph-cmd.err
    for _ in 1 2 3 4 5; do
        out=$(timeout 60 ceph -c "$CONF" --connect-timeout 30 "$@" 2>"$err") &&
            { printf '%s\n' "$out"; return 0; }
        grep -q EPERM "$err" || break
        echo "ceph $*: EPERM, retrying" >>"$D/log/ceph-cmd.out"
        sleep 0.2
    done
    { echo "ceph $*:"; cat "$err"; } >>"$D/log/ceph-cmd.out"
    return 1
}

write_conf() {
    local fsid=$1 mon_port=$2 rgw_port=$3 asok
    # sun_path holds 107 bytes; a longer admin socket path would only print errors, so
    # deep directories go without admin sockets (nothing here needs them).
    asok="admin socket = $D/run/\$name.asok"
    [ ${#D} -le 80 ] || asok="admin socket ="
    cat >"$CONF" <<CONF
# Written by tests/harness/rgw.sh; the cluster lives and dies with this directory.
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon allow pool size one = true
# Each pool radosgw creates waits for the next osdmap; at the default of 1 s start takes 12 s.
paxos propose interval = 0.1
# Fail at once when a port was taken after free_ports checked it (start then retries).
ms bind retry count = 1
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd crush update on start = false
osd class update on start = false
run dir = $D/run
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
crash dir = $D/crash
mon cluster log file = $D/log/cluster.log
mon debug dump location = $D/log/\$name.tdump
keyring = /dev/null
client mount timeout = 30
[mon]
$asok
mon data = $D/mon
mon initial members = a
[osd]
$asok
osd data = $D/osd\$id
osd journal = $D/osd\$id/journal
osd objectstore = memstore
memstore device bytes = 4294967296
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.a]
$asok
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $D/rgw
rgw luarocks location = $D/rgw/luarocks
log file = $D/log/rgw.log
debug rgw = 0/0
rgw enable ops log = false
CONF
}

# One attempt at starting the cluster on the given ports; dies on failure. Sets PORT_TAKEN=1
# and returns early when mon or rgw could not bind because the port was taken meanwhile.
start_once() {
    local mon_port=$1 rgw_port=$2 fsid osd_uuid id up seen t0 C=(-c "$CONF") log=$D/log
    PORT_TAKEN=0
    rm -rf "${D:?}"/{mon,osd0,rgw,run,log,crash,monmap,ceph.conf,env}
    mkdir -p "$D"/{mon,osd0,rgw,run,log,crash}
    fsid=$(uuidgen)
    write_conf "$fsid" "$mon_port" "$rgw_port"

    monmaptool --create --addv a "[v1:127.0.0.1:$mon_port]" --fsid "$fsid" "$D/monmap" \
        >"$log/monmaptool.out" 2>&1 || { show_logs "$log/monmaptool.out"; die "monmaptool failed"; }
    ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" >"$log/mon-mkfs.out" 2>&1 ||
        { show_logs "$log/mon-mkfs.out" "$log/mon.a.log"; die "ceph-mon --mkfs failed"; }
    # The mon binds before it forks, so a taken port shows in its exit status at once.
    if ! ceph-mon "${C[@]}" -i a >"$log/mon.out" 2>&1; then
        grep -qs 'Address already in use' "$log/mon.out" "$log/mon.a.log" &&
            { PORT_TAKEN=1; return 0; }
        show_logs "$log/mon.out" "$log/mon.a.log"
        die "ceph-mon did not start"
    fi

    osd_uuid=$(uuidgen)
    id=$(ceph_cmd osd new "$osd_uuid") ||
        { show_logs "$log/ceph-cmd.out" "$log/mon.a.log"; die "ceph osd new failed"; }
    [ "$id" = 0 ] || die "ceph osd new returned id '$id', expected 0"
    ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$log/osd-mkfs.out" 2>&1 ||
        { show_logs "$log/osd-mkfs.out" "$log/osd.0.log"; die "ceph-osd --mkfs failed"; }
    # The OSD's own crush update at start races its monitor session: now and then its first
    # mon command carries a zero fsid, the mon answers "wrong fsid" and the OSD exits. So the
    # OSD sends no commands at start; it is placed in the crush map here instead.
    ceph_cmd osd crush add osd.0 1.0 root=default host=localhost >/dev/null ||
        { show_logs "$log/ceph-cmd.out" "$log/mon.a.log"; die "ceph osd crush add failed"; }
    ceph-osd "${C[@]}" -i 0 >"$log/osd.out" 2>&1 ||
        { show_logs "$log/osd.out" "$log/osd.0.log"; die "ceph-osd did not start"; }
    up=0
    for _ in $(seq 1 60); do
        [[ "$(ceph_cmd osd stat)" == *" 1 up"* ]] && { up=1; break; }
        daemon_pid osd.0 >/dev/null ||
            { show_logs "$log/osd.out" "$log/osd.0.log"; die "ceph-osd exited"; }
        sleep 0.5
    done
    [ $up = 1 ] || { show_logs "$log/osd.0.log" "$log/mon.a.log"; die "osd.0 not up after 30 s"; }

    radosgw "${C[@]}" -n client.rgw.a >"$log/rgw.out" 2>&1 ||
        { show_logs "$log/rgw.out" "$log/rgw.log"; die "radosgw did not start"; }
    # radosgw forks first, then creates its pools (about 1 s) and then binds its port.
    seen=0 t0=$SECONDS
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$rgw_port/"; do
        # A taken port makes radosgw exit; whoever holds it may even answer.
        grep -qs 'Address already in use' "$log/rgw.log" && { PORT_TAKEN=1; return 0; }
        if daemon_pid client.rgw.a >/dev/null; then
            seen=1
        elif [ $seen = 1 ] || [ $((SECONDS - t0)) -gt 10 ]; then
            show_logs "$log/rgw.out" "$log/rgw.log"
            die "radosgw exited before its port answered"
        fi
        [ $((SECONDS - t0)) -lt 120 ] ||
            { show_logs "$log/rgw.log"; die "radosgw port $rgw_port silent after 120 s"; }
        sleep 0.1
    done
}

on_start_exit() {
    local st=$?
    [ $st -eq 0 ] && return 0
    echo "rgw.sh: start failed; stopping what it started in $D" >&2
    cmd_stop || true
    exit $st
}

cmd_start() {
    local ports mon_port rgw_port access secret tool ok t0=$SECONDS
    if [ -e "$D" ] && [ -n "$(ls -A "$D" 2>/dev/null)" ] && [ ! -f "$D/.spoor-rgw" ]; then
        die "$D exists, is not empty and was not made by rgw.sh; refusing to clear it"
    fi
    if [ -n "$(all_pids)" ]; then
        die "a cluster already runs in $D; stop it first: $0 stop $(printf '%q' "$D")"
    fi
    for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph uuidgen curl python3; do
        command -v "$tool" >/dev/null ||
            die "$tool not found; install: radosgw ceph-mon ceph-osd uuid-runtime curl python3"
    done
    mkdir -p "$D"
    touch "$D/.spoor-rgw"

    # From here on, any failure stops what was started.
    trap on_start_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    for _ in 1 2 3; do
        ports=$(free_ports 2) || die "could not find free ports"
        read -r mon_port rgw_port <<<"$ports"
        start_once "$mon_port" "$rgw_port"
        [ "$PORT_TAKEN" = 1 ] || break
        echo "rgw.sh: a port was taken meanwhile (mon $mon_port, rgw $rgw_port); retrying" >&2
        cmd_stop || true
    done
    [ "$PORT_TAKEN" = 0 ] || die "three attempts found their ports taken"

    access=$(random_string 20 ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789)
    secret=$(random_string 40 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789)
    rgw_user_create tester "$access" "$secret"
    ok=0
    for _ in $(seq 1 100); do
        signed_ok "http://127.0.0.1:$rgw_port" "$access" "$secret" && { ok=1; break; }
        sleep 0.1
    done
    [ $ok = 1 ] || { show_logs "$D/log/rgw.log"; die "a signed request as the new user fails"; }

    cat >"$D/env.tmp" <<ENV
# Written by tests/harness/rgw.sh (mon port $mon_port). Stop with: tests/harness/rgw.sh stop DIR
export SPOOR_TEST_S3_ENDPOINT=http://127.0.0.1:$rgw_port
export SPOOR_TEST_S3_ACCESS_KEY=$access
export SPOOR_TEST_S3_SECRET_KEY=$secret
export SPOOR_TEST_S3_REGION=us-east-1
export SPOOR_TEST_RGW_DIR=$(printf '%q' "$D")
ENV
    mv "$D/env.tmp" "$D/env"
    trap - EXIT INT TERM
    echo "rgw.sh: RGW up on http://127.0.0.1:$rgw_port after $((SECONDS - t0)) s; env in $D/env"
}

cmd_user() {
    local uid=${1:-} access=${2:-} secret=${3:-} url
    [ -n "$uid" ] || usage
    if [ -z "$access" ]; then
        access=$(random_string 20 ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789)
        secret=$(random_string 40 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789)
    fi
    [ -n "$secret" ] || usage
    daemon_pid client.rgw.a >/dev/null || die "no running cluster in $D"
    rgw_user_create "$uid" "$access" "$secret"
    url=$(sed -n 's/^export SPOOR_TEST_S3_ENDPOINT=//p' "$D/env")
    signed_ok "$url" "$access" "$secret" || die "signed request as $uid fails"
    echo "$access $secret"
}

[ $# -ge 2 ] || usage
cmd=$1
set_dir "$2"
shift 2
case "$cmd" in
start) [ $# -eq 0 ] || usage; cmd_start ;;
stop) [ $# -eq 0 ] || usage; cmd_stop ;;
status) [ $# -eq 0 ] || usage; cmd_status ;;
user) if [ $# -lt 1 ] || [ $# -gt 3 ]; then usage; fi; cmd_user "$@" ;;
*) usage ;;
esac
