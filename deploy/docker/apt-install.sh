#!/usr/bin/env bash
# apt-install.sh: installs Debian packages for the image (deploy/Dockerfile), without recommended
# packages, and removes apt's lists afterwards.
#
#   apt-install.sh --build         the build packages: SPOOR_BUILD_PACKAGES of deploy/packages.sh,
#                                  the list tests/run.sh and deploy/quickstart.sh install too
#   apt-install.sh FILE            the packages FILE names (one a line, "#" comments):
#                                  runtime-packages.txt for the runtime stage
#   apt-install.sh --list ARG      print the names only (tests/deploy/dockerfile_steps.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
    echo "usage: apt-install.sh [--list] --build | [--list] FILE" >&2
    exit 2
}

names() {
    if [ "$1" = --build ]; then
        # shellcheck source=SCRIPTDIR/../packages.sh
        . "$HERE/../packages.sh"
        printf '%s\n' "${SPOOR_BUILD_PACKAGES[@]}"
    else
        sed -e 's/#.*//' -e 's/[[:space:]]\{1,\}/\n/g' "$1" | sed '/^$/d'
    fi
}

list=0
if [ "${1:-}" = --list ]; then
    list=1
    shift
fi
[ $# -eq 1 ] || usage
case "$1" in --build) ;; -*) usage ;; esac
mapfile -t pkgs < <(names "$1")
[ ${#pkgs[@]} -gt 0 ] || { echo "apt-install.sh: $1 names no package" >&2; exit 1; }
if [ $list = 1 ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
apt-get clean
rm -rf /var/lib/apt/lists/*
