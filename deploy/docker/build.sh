#!/bin/sh
# build.sh: the build steps of the image (deploy/Dockerfile, stage "build"), also run as they are
# by tests/deploy/dockerfile_steps.sh on CI's Debian 12, so that the image build cannot rot
# without CI noticing.
#
#   build.sh SRC BUILD DESTDIR
#
# Configures SRC (the repository root) in BUILD (Release), builds only what the image ships
# (spoor-server, the spoor CLI, libspoor, spoor-example-counter), installs it with
# `cmake --install --strip` under DESTDIR (prefix $PREFIX, default /usr/local), adds
# spoor-example-counter and spoor-healthcheck, and removes what only a build against libspoor
# uses (headers, static library, pkg-config file, unversioned .so link). The result, copied to /
# of the runtime image:
#   $PREFIX/bin/{spoor-server,spoor,spoor-example-counter,spoor-healthcheck}
#   $PREFIX/lib/libspoor.so.N[.N.N]   $PREFIX/share/spoor/ui/
# JOBS (default: nproc) sets the build's parallelism.
set -eu

[ $# -eq 3 ] || { echo "usage: build.sh SRC BUILD DESTDIR" >&2; exit 2; }
src=$1 build=$2 dest=$3
prefix=${PREFIX:-/usr/local}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DWERROR=OFF -DSANITIZE=OFF
cmake --build "$build" -j "$jobs" \
    --target spoor-server spoor spoor_static spoor_shared spoor-example-counter
DESTDIR=$dest cmake --install "$build" --strip

root=$dest$prefix
libdir=$root/lib
[ -d "$libdir" ] || { echo "build.sh: no $libdir after cmake --install" >&2; exit 1; }
install -m 0755 -s "$build/client/spoor-example-counter" "$root/bin/spoor-example-counter"
install -m 0755 "$src/deploy/docker/healthcheck.sh" "$root/bin/spoor-healthcheck"
rm -rf "$root/include/spoor" "$libdir/libspoor.a" "$libdir/pkgconfig/spoor.pc" "$libdir/libspoor.so"
rmdir "$root/include" "$libdir/pkgconfig" 2>/dev/null || true
echo "build.sh: installed under $dest:"
(cd "$dest" && find . -type f -o -type l | sort | sed -e 's|^\./|  /|' -e '/\/ui\/./d')
echo "  $prefix/share/spoor/ui/ ($(find "$root/share/spoor/ui" -type f | wc -l) files)"
