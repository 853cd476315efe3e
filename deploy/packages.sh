# deploy/packages.sh: sourced by deploy/quickstart.sh and tests/run.sh (bash). The Debian 12
# packages spoor needs, and the one way both install the missing ones.

# To build everything (CMakeLists.txt always builds the tests, so cmocka is among them).
SPOOR_BUILD_PACKAGES=(build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev
    libxml2-dev libjansson-dev libuv1-dev libmicrohttpd-dev libsqlite3-dev libcmocka-dev)
# What the test scripts use besides.
SPOOR_TEST_PACKAGES=(curl uuid-runtime python3)

# spoor_install_packages WHO PACKAGE...: installs the packages that dpkg does not list as
# installed, with apt-get (through sudo when not root). Prints what it does; returns 0 when
# everything is there afterwards, 1 (with the command to run by hand) when it cannot be.
spoor_install_packages() {
    local who=$1 have p missing=() sudo=()
    shift
    if ! command -v dpkg-query >/dev/null; then
        echo "no dpkg-query: not Debian, so nothing is installed. Needed: $*"
        return 0
    fi
    # One dpkg-query for all: the names of those installed.
    have=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null |
        awk '$2 == "installed" { print $1 }')
    for p in "$@"; do
        grep -Fxq -- "$p" <<<"$have" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all $# packages present"
        return 0
    fi
    echo "missing: ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then
        if ! command -v sudo >/dev/null; then
            echo "$who: not root and no sudo, so the packages cannot be installed. As root, run:" >&2
            echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
            return 1
        fi
        sudo=(sudo)
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}"; then
        echo "$who: apt-get failed (see above); the packages needed are: ${missing[*]}" >&2
        return 1
    fi
}
