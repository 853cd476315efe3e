#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds tests/install/app.c against it with
# pkg-config, shared and static, as an application would. Usage: check_install.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d "${TMPDIR:-/tmp}/spoor-install-XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name spoor.pc | head -1)
[ -n "$pc" ] || { echo "spoor.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir spoor)
cc -Wall -Werror "$here/app.c" $(pkg-config --cflags --libs spoor) -o "$prefix/app-shared"
LD_LIBRARY_PATH=$libdir "$prefix/app-shared"
# Static libspoor, its dependencies shared (Debian ships no static libcurl dependencies).
deps=$(pkg-config --print-requires --print-requires-private spoor | awk '{print $1}')
cc -Wall -Werror "$here/app.c" $(pkg-config --cflags spoor) "$libdir/libspoor.a" \
   $(pkg-config --libs $deps) -lpthread -o "$prefix/app-static"
"$prefix/app-static"
test -x "$prefix/bin/spoor" && "$prefix/bin/spoor" --help | grep -q "usage: spoor"
echo "install check passed: headers, spoor.pc, shared and static libspoor, spoor CLI"
