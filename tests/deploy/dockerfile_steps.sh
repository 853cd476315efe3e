#!/usr/bin/env bash
# dockerfile_steps.sh: the image build of deploy/Dockerfile without a Docker daemon. CI has no
# daemon, but it runs Debian 12, the image's base, so the Dockerfile's steps run here as they are:
#
#  1. deploy/Dockerfile is parsed: two stages on debian:12 and debian:12-slim, the build stage
#     COPYs deploy/packages.sh and deploy/docker/apt-install.sh, RUNs apt-install.sh --build (the
#     SPOOR_BUILD_PACKAGES of deploy/packages.sh, which tests/run.sh installs on CI) and then
#     deploy/docker/build.sh /src /build /out; the runtime stage installs runtime-packages.txt
#     with the same apt-install.sh, copies /out, runs as a non-root user, sets
#     BURR_SERVER_ROOT=/var/lib/spoor (a VOLUME), SPOOR_HOST=0.0.0.0, EXPOSE 7241,
#     HEALTHCHECK spoor-healthcheck, ENTRYPOINT spoor-server. hadolint (not in Debian) runs when
#     it is on PATH.
#  2. The build context is copied by Dockerfile.dockerignore's rules and build.sh runs on that
#     copy into a temporary DESTDIR, exactly as the RUN line does (only the targets the image
#     ships, so it stays quick).
#  3. The installed tree: spoor-server, spoor and spoor-example-counter run --help,
#     share/spoor/ui/index.html is there, no headers or static library. Every shared library a
#     program or libspoor.so needs (ELF NEEDED) is mapped with dpkg -S to its Debian package,
#     which must be in runtime-packages.txt (or be libc6); every line of runtime-packages.txt
#     must be needed (a library, curl for the health check, ca-certificates for TLS). Every
#     pkg-config module CMakeLists.txt requires comes from a build package, and every package of
#     both lists is a Debian 12 package installed here.
#  4. The installed spoor-server starts (embedded store, a bearer token set) from that tree with
#     the source copy gone; spoor-healthcheck answers 0 with the token, non-zero without it or
#     with a wrong one; the UI is served from <prefix>/share/spoor/ui; SIGTERM stops it with 0.
#
# Exit status 0: all passed; 1: a check failed (each failure says what and where).
# shellcheck disable=SC2016 # check WHAT eval '...': expanded when the check runs
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCKERFILE=$ROOT/deploy/Dockerfile
IGNORE=$ROOT/deploy/Dockerfile.dockerignore
DOCKER_DIR=$ROOT/deploy/docker
PREFIX=/usr/local

# shellcheck source=checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
die() {
    echo "dockerfile_steps.sh: $*" >&2
    exit 1
}

for tool in cmake readelf ldd dpkg dpkg-query curl awk; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian 12 with tests/run.sh's BUILD_PACKAGES expected)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spoor-dockerfile-steps.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null; fi
    rm -rf -- "$tmp"
}
trap cleanup EXIT

# --- 1. the Dockerfile ------------------------------------------------------------------------

# One line per instruction: "<stage>\t<INSTRUCTION>\t<arguments>", continuation lines joined,
# comments and parser directives dropped, runs of blanks squeezed; <stage> counts FROMs from 1.
parse_dockerfile() {
    awk '
        function emit(line,   instr, args) {
            sub(/^[ \t]+/, "", line)
            if (line == "") return
            instr = toupper(line); sub(/[ \t].*/, "", instr)
            args = line; sub(/^[^ \t]+[ \t]*/, "", args)
            gsub(/[ \t]+/, " ", args); sub(/ $/, "", args)
            if (instr == "FROM") stage++
            printf "%d\t%s\t%s\n", stage, instr, args
        }
        /^[ \t]*#/ { next }
        {
            line = $0
            if (line ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, "", line); acc = acc line " "; next }
            emit(acc line); acc = ""
        }
        END { if (acc != "") emit(acc) }
    ' "$1"
}

[ -f "$DOCKERFILE" ] || die "no $DOCKERFILE"
instrs=$(parse_dockerfile "$DOCKERFILE")
has() { grep -Fxq -- "$(printf '%s\t%s\t%s' "$1" "$2" "$3")" <<<"$instrs"; }
has_re() { grep -Eq -- "^$1	$2	$3\$" <<<"$instrs"; }

echo "== deploy/Dockerfile"
check "two stages" [ "$(grep -c $'\tFROM\t' <<<"$instrs")" = 2 ]
check "stage 1: FROM debian:12 AS build" has_re 1 FROM 'debian:12 [Aa][Ss] build'
check "stage 2: FROM debian:12-slim" has 2 FROM "debian:12-slim"
check "stage 1 COPYs deploy/packages.sh" has 1 COPY "deploy/packages.sh deploy/"
check "stage 1 COPYs apt-install.sh" has 1 COPY "deploy/docker/apt-install.sh deploy/docker/"
check "stage 1 RUNs apt-install.sh --build" has 1 RUN "deploy/docker/apt-install.sh --build"
check "stage 1 copies the context to /src" has 1 COPY ". ."
check "stage 1 works in /src" has 1 WORKDIR "/src"
check "stage 1 RUNs build.sh /src /build /out" has 1 RUN "deploy/docker/build.sh /src /build /out"
check "stage 1 has no other RUN" [ "$(grep -c $'^1\tRUN\t' <<<"$instrs")" = 2 ]
check "stage 2 COPYs apt-install.sh and runtime-packages.txt" \
    has 2 COPY "deploy/docker/apt-install.sh deploy/docker/runtime-packages.txt /tmp/spoor-docker/"
check "stage 2 RUNs apt-install.sh runtime-packages.txt" \
    has_re 2 RUN '/tmp/spoor-docker/apt-install\.sh /tmp/spoor-docker/runtime-packages\.txt( .*)?'
check "stage 2 copies the installed tree" has 2 COPY "--from=build /out/ /"
user=$(awk -F'\t' '$1 == 2 && $2 == "USER" { u = $3 } END { print u }' <<<"$instrs")
check "stage 2 runs as a non-root user ($user)" \
    eval '[ -n "$user" ] && ! [[ "$user" =~ ^(0|root)(:|$) ]]'
check "stage 2: ENV BURR_SERVER_ROOT=/var/lib/spoor" has_re 2 ENV '(.* )?BURR_SERVER_ROOT=/var/lib/spoor( .*)?'
check "stage 2: ENV SPOOR_HOST=0.0.0.0" has_re 2 ENV '(.* )?SPOOR_HOST=0\.0\.0\.0( .*)?'
check "stage 2: VOLUME /var/lib/spoor" has_re 2 VOLUME '(\[ ?"/var/lib/spoor" ?\]|/var/lib/spoor)'
check "stage 2: EXPOSE 7241" has 2 EXPOSE "7241"
check "stage 2: HEALTHCHECK runs spoor-healthcheck" has_re 2 HEALTHCHECK '.*CMD \["spoor-healthcheck"\]'
check "stage 2: ENTRYPOINT spoor-server" has 2 ENTRYPOINT '["spoor-server"]'
check "the build script exists and is executable" [ -x "$DOCKER_DIR/build.sh" ]
check "apt-install.sh exists and is executable" [ -x "$DOCKER_DIR/apt-install.sh" ]
if command -v hadolint >/dev/null; then
    check "hadolint deploy/Dockerfile" hadolint "$DOCKERFILE"
else
    echo "skip  hadolint (not installed; it is not in Debian)"
fi

# Same base: the steps below only stand for the image's when this is Debian 12.
debian=$(cat /etc/debian_version 2>/dev/null || echo none)
check "this machine is Debian 12 like the image (/etc/debian_version: $debian)" \
    eval '[[ "$debian" == 12.* ]]'

# --- 2. the build, from a copy of the context -------------------------------------------------

echo "== build context by deploy/Dockerfile.dockerignore"
ctx=$tmp/ctx
mkdir -p "$ctx"
ctx_ok=1
first=$(grep -v '^[[:space:]]*\(#\|$\)' "$IGNORE" | head -1)
[ "$first" = "**" ] || { fail "Dockerfile.dockerignore starts with \"**\" (an allow-list)"; ctx_ok=0; }
while IFS= read -r rule; do
    case "$rule" in
    "**") ;;
    '!'*)
        path=${rule#!}
        path=${path%/}
        if [ -e "$ROOT/$path" ]; then
            mkdir -p "$ctx/$(dirname "$path")"
            cp -a "$ROOT/$path" "$ctx/$path"
        else
            fail "Dockerfile.dockerignore allows $path, which does not exist"
            ctx_ok=0
        fi
        ;;
    '**/'*) find "$ctx" -depth -name "${rule#\*\*/}" -exec rm -rf {} + ;;
    *[*?[]*)
        fail "Dockerfile.dockerignore: unsupported pattern \"$rule\" (only **, !PATH, PATH, **/NAME)"
        ctx_ok=0
        ;;
    *) rm -rf -- "${ctx:?}/${rule%/}" ;;
    esac
done < <(grep -v '^[[:space:]]*\(#\|$\)' "$IGNORE")
[ $ctx_ok = 1 ] && ok "context copied ($(du -sh "$ctx" | cut -f1))"

echo "== deploy/docker/build.sh (as the RUN line, on the copy)"
t0=$SECONDS
out=$tmp/out
if ! (cd "$ctx" && deploy/docker/build.sh "$ctx" "$tmp/build" "$out") >"$tmp/build.log" 2>&1; then
    tail -40 "$tmp/build.log"
    fail "build.sh (log above)"
    echo "dockerfile_steps.sh: $checks checks, $fails failed"
    exit 1
fi
ok "build.sh built and installed in $((SECONDS - t0)) s"
sed -n '/^build.sh: installed under/,$p' "$tmp/build.log"
# What the image holds is $out alone: the server must not fall back to the source tree's UI.
rm -rf -- "$ctx" "$tmp/build"

# --- 3. the installed tree --------------------------------------------------------------------

echo "== installed tree"
inst=$out$PREFIX
for prog in spoor-server spoor spoor-example-counter; do
    check "bin/$prog --help" eval '"$inst/bin/$prog" --help >"$tmp/help.txt" 2>&1 && grep -q "^usage: $prog" "$tmp/help.txt"'
done
check "bin/spoor-healthcheck is executable" [ -x "$inst/bin/spoor-healthcheck" ]
check "share/spoor/ui/index.html" [ -s "$inst/share/spoor/ui/index.html" ]
check "libspoor.so.0 installed" [ -e "$inst/lib/libspoor.so.0" ]
check "no headers, static library or pkg-config file (runtime image)" \
    eval '[ ! -e "$inst/include" ] && [ ! -e "$inst/lib/libspoor.a" ] && [ ! -e "$inst/lib/pkgconfig" ]'

list() { "$DOCKER_DIR/apt-install.sh" --list "$1"; }
mapfile -t runtime < <(list "$DOCKER_DIR/runtime-packages.txt")
mapfile -t buildpk < <(list --build)
in_list() { # in_list WORD LIST...
    local w=$1 x
    shift
    for x in "$@"; do [ "$x" = "$w" ] && return 0; done
    return 1
}

# dpkg -S for a library path as ldd prints it (usrmerge: try /usr/lib too, then the real path).
pkg_of() {
    local p=$1 c r
    for c in "$p" "/usr$p" "${p#/usr}" "$(readlink -f "$p")"; do
        [ -n "$c" ] || continue
        r=$(dpkg -S "$c" 2>/dev/null | head -1) || continue
        [ -n "$r" ] && { echo "${r%%:*}"; return 0; }
    done
    return 1
}

declare -A needed_pkgs=()
elf_count=0
while IFS= read -r f; do
    head -c 4 "$f" | grep -q 'ELF' || continue
    elf_count=$((elf_count + 1))
    rel=${f#"$inst"/}
    if ldd "$f" | grep -q 'not found'; then
        fail "$rel: ldd finds no $(ldd "$f" | awk '/not found/ { print $1 }' | tr '\n' ' ')"
        continue
    fi
    while IFS= read -r lib; do
        path=$(ldd "$f" | awk -v l="$lib" '$1 == l && $2 == "=>" { print $3 }')
        pkg=$(pkg_of "$path") || { fail "$rel needs $lib ($path): no Debian package owns it"; continue; }
        pkg=${pkg%%,*}
        needed_pkgs[$pkg]=1
        if [ "$pkg" = libc6 ] || in_list "$pkg" "${runtime[@]}"; then
            ok "$rel needs $lib from $pkg"
        else
            fail "$rel needs $lib from $pkg, which runtime-packages.txt lacks"
        fi
    done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$inst/bin" "$inst/lib" -type f | sort)
check "ELF files checked ($elf_count)" [ "$elf_count" -ge 4 ]
check "spoor-healthcheck uses curl, which runtime-packages.txt has" \
    eval 'grep -q "curl " "$inst/bin/spoor-healthcheck" && in_list curl "${runtime[@]}"'
check "runtime-packages.txt has ca-certificates (TLS to S3)" in_list ca-certificates "${runtime[@]}"
for p in "${runtime[@]}"; do
    case "$p" in curl | ca-certificates) continue ;; esac
    check "runtime package $p is needed by an installed program" [ -n "${needed_pkgs[$p]:-}" ]
done
for p in "${runtime[@]}" "${buildpk[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
    check "$p is a Debian 12 package installed here" [ "$st" = installed ]
done

# Build packages: every pkg-config module of CMakeLists.txt from a listed package.
mapfile -t modules < <(sed -n 's/^pkg_check_modules([A-Z0-9_]* REQUIRED IMPORTED_TARGET \([^ )]*\)).*/\1/p' \
    "$ROOT/CMakeLists.txt")
check "CMakeLists.txt's pkg-config modules found (${#modules[@]})" [ "${#modules[@]}" -ge 7 ]
for m in "${modules[@]}"; do
    pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc
    pkg=$(pkg_of "$pc") || { fail "pkg-config module $m ($pc): no Debian package owns it"; continue; }
    check "pkg-config module $m comes from $pkg, a build package" in_list "$pkg" "${buildpk[@]}"
done
for p in build-essential cmake pkg-config; do
    check "the build packages include $p" in_list "$p" "${buildpk[@]}"
done

# --- 4. the installed server ------------------------------------------------------------------

echo "== installed spoor-server, spoor-healthcheck"
port=""
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "no free port found"
token=tok-$RANDOM$RANDOM
mkdir -p "$tmp/root"
env -i PATH="$inst/bin:/usr/bin:/bin" BURR_SERVER_ROOT="$tmp/root" SPOOR_HOST=127.0.0.1 \
    SPOOR_PORT="$port" SPOOR_AUTH_TOKEN="$token" "$inst/bin/spoor-server" >"$tmp/server.log" 2>&1 &
server_pid=$!
hc() { env -i PATH="$inst/bin:/usr/bin:/bin" SPOOR_PORT="$port" "$@" "$inst/bin/spoor-healthcheck"; }
ready=0
for _ in $(seq 1 150); do
    if hc SPOOR_AUTH_TOKEN="$token" 2>/dev/null; then ready=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
done
if [ $ready = 1 ]; then ok "spoor-healthcheck with the token: ready"; else fail "spoor-healthcheck with the token: not ready within 30 s"; fi
check "spoor-healthcheck with SPOOR_HOST=0.0.0.0 asks the loopback address" \
    hc SPOOR_AUTH_TOKEN="$token" SPOOR_HOST=0.0.0.0
check "spoor-healthcheck without the token fails (401)" eval '! hc 2>/dev/null'
check "spoor-healthcheck with a wrong token fails" eval '! hc SPOOR_AUTH_TOKEN=wrong 2>/dev/null'
check "spoor-healthcheck on a closed port fails" \
    eval '! env -i PATH=/usr/bin:/bin SPOOR_PORT=1 SPOOR_HEALTHCHECK_TIMEOUT=2 "$inst/bin/spoor-healthcheck" 2>/dev/null'
check "the UI is served from $PREFIX/share/spoor/ui" \
    eval 'curl -fsS "http://127.0.0.1:$port/" | cmp -s - "$inst/share/spoor/ui/index.html"'
if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    status=timeout
    for _ in $(seq 1 150); do
        if ! kill -0 "$server_pid" 2>/dev/null; then wait "$server_pid"; status=$?; break; fi
        sleep 0.2
    done
    check "SIGTERM stops spoor-server with status 0 (status: $status)" [ "$status" = 0 ]
    server_pid=""
else
    wait "$server_pid"
    fail "spoor-server exited early with status $?"
    server_pid=""
fi
[ $fails = 0 ] || { echo "--- spoor-server log"; cat "$tmp/server.log"; }

checks_done dockerfile_steps.sh
