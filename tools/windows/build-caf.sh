#!/usr/bin/env bash
# Builds CAF 0.17.6 (the version Debian ships, so the Linux and Windows builds
# use the same CAF) as static mingw-w64 libraries, once, into
#   CACHE/caf-0.17.6/{include,lib}
# CACHE: $1, else $DROVER_WINDOWS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/drover-windows.
# The source comes from Debian's source package (apt), nothing else.
# Needs root or sudo the first time only if no deb-src entry is configured.
set -euo pipefail

version=0.17.6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
toolchain=$(cd "$here/../../cmake" && pwd)/mingw-w64.cmake
cache=${1:-${DROVER_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drover-windows}}
prefix=$cache/caf-$version
stamp=$prefix/.drover-complete
# Changing how CAF is built must invalidate the cache: bump "recipe N" then.
flags="-std=c++17 -DCAF_NO_THREAD_LOCAL -Wno-deprecated-declarations"
key="caf $version; $flags; recipe 3"

die() { echo "build-caf.sh: $*" >&2; exit 1; }

[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && { echo "CAF prefix: $prefix"; exit 0; }

for tool in x86_64-w64-mingw32-g++-posix cmake apt-get flock sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install g++-mingw-w64-x86-64-posix cmake)"
done

mkdir -p "$cache"
# Two builds at once (./dev and a manual run) would share the work directory.
exec 9>"$cache/.caf.lock"
flock 9
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && { echo "CAF prefix: $prefix"; exit 0; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"; fi
}

# apt-get source needs a deb-src entry; add one for this release's main
# archive only if the system has none (never edit the user's own files).
ensure_deb_src() {
  if grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list ||
     grep -qsiE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources; then
    return 0
  fi
  local codename
  codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
  [ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release: add a deb-src entry by hand"
  echo "build-caf.sh: adding /etc/apt/sources.list.d/drover-deb-src.sources ($codename)" >&2
  printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: $codename" \
    "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
    as_root tee /etc/apt/sources.list.d/drover-deb-src.sources >/dev/null
  as_root apt-get update -q >&2 || die "apt-get update failed"
}

work=$cache/work/caf-$version
rm -rf "$work" "$prefix"
mkdir -p "$work/dl"
cd "$work/dl"

ensure_deb_src
uris=$(apt-get source --print-uris -qq actor-framework 2>/dev/null || true)
if [ -z "$uris" ]; then  # deb-src present but its index never fetched
  as_root apt-get update -q >&2 || die "apt-get update failed"
  uris=$(apt-get source --print-uris -qq actor-framework) || die "apt-get source --print-uris failed"
fi
orig=actor-framework_$version.orig.tar.gz
# Line: 'URL' FILE SIZE SHA256:HEX
line=$(grep -F " $orig " <<<"$uris" | head -1) ||
  die "Debian's actor-framework is not $version:"$'\n'"$uris"
url=$(awk '{gsub(/\x27/, "", $1); print $1}' <<<"$line")
sum=$(grep -oE 'SHA256:[0-9a-f]{64}' <<<"$line" | cut -d: -f2) || die "no SHA256 for $orig"

# Only the .orig.tar.gz is needed; the .debian.tar.xz may 404 on a mirror and
# fail apt-get source as a whole, so fall back to fetching the one file.
apt-get source --download-only -q actor-framework >&2 || true
if [ ! -f "$orig" ] || ! echo "$sum  $orig" | sha256sum -c --quiet - 2>/dev/null; then
  command -v curl >/dev/null || die "apt-get source failed and curl is not installed"
  echo "build-caf.sh: fetching $url" >&2
  curl -fsSL --retry 3 -o "$orig" "$url" || die "download of $url failed"
fi
echo "$sum  $orig" | sha256sum -c --quiet - || die "$orig: SHA256 mismatch"

tar -xzf "$orig" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'actor-framework*' | head -1)
[ -f "$src/CMakeLists.txt" ] || die "unexpected layout of $orig"

# GCC 12 no longer pulls <limits> in transitively; CAF 0.17.6 relies on it.
rb=$src/libcaf_io/caf/io/network/receive_buffer.hpp
grep -q '#include <limits>' "$rb" || sed -i '0,/^#include/s//#include <limits>\n&/' "$rb"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# CAF_NO_THREAD_LOCAL: with thread_local under mingw ~5% of runs hang in
# ~actor_system (only CAF's logger reads it). CAF_NO_IO: Drover uses
# caf_core alone (its network I/O is Asio), and libcaf_io is a third of the
# build time.
cmake -S "$src" -B "$work/build" "${generator[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DDROVER_WINDOWS_CACHE="$cache" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix.partial" \
  -DCMAKE_CXX_FLAGS="$flags" -DCAF_BUILD_STATIC_ONLY=ON \
  -DCAF_NO_EXAMPLES=ON -DCAF_NO_TOOLS=ON -DCAF_NO_UNIT_TESTS=ON -DCAF_NO_OPENSSL=ON \
  -DCAF_NO_OPENCL=ON -DCAF_NO_PYTHON=ON -DCAF_NO_COMPILER_CHECK=ON -DCAF_NO_IO=ON >&2 ||
  die "configure failed (log above)"
cmake --build "$work/build" -j "${DROVER_JOBS:-$(nproc)}" >&2 || die "build failed (log above)"
rm -rf "$prefix.partial"
cmake --install "$work/build" >&2 || die "install failed"
for f in lib/libcaf_core_static.a include/caf/all.hpp; do
  [ -f "$prefix.partial/$f" ] || die "install lacks $f"
done

# cmake/FindCAF.cmake looks for caf_core (Debian's name): alias it.
ln -s libcaf_core_static.a "$prefix.partial/lib/libcaf_core.a"

# Publish atomically: the prefix exists only once complete, and the stamp last.
mv "$prefix.partial" "$prefix"
echo "$key" >"$stamp"
rm -rf "$work"
rmdir "$cache/work" 2>/dev/null || true
echo "CAF prefix: $prefix"
