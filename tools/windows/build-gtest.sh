#!/usr/bin/env bash
# Builds GoogleTest + GoogleMock as static mingw-w64 libraries, once, from
# Debian's source copy (/usr/src/googletest, package googletest), into
#   CACHE/googletest/{include,lib,lib/cmake/GTest}
# CACHE: $1, else $DROVER_WINDOWS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/drover-windows.
# find_package(GTest) then gives GTest::gtest, GTest::gtest_main, GTest::gmock.
set -euo pipefail

src=${DROVER_GTEST_SOURCE:-/usr/src/googletest}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
toolchain=$(cd "$here/../../cmake" && pwd)/mingw-w64.cmake
cache=${1:-${DROVER_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drover-windows}}
prefix=$cache/googletest
stamp=$prefix/.drover-complete

die() { echo "build-gtest.sh: $*" >&2; exit 1; }

[ -f "$src/CMakeLists.txt" ] || die "$src missing (apt-get install googletest)"
# A Debian upgrade of googletest must rebuild: the stamp holds its version.
key="googletest $(dpkg-query -W -f='${Version}' googletest 2>/dev/null || echo unknown); recipe 1"
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && { echo "GoogleTest prefix: $prefix"; exit 0; }

for tool in x86_64-w64-mingw32-g++-posix cmake flock; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install g++-mingw-w64-x86-64-posix cmake)"
done
mkdir -p "$cache"
exec 9>"$cache/.gtest.lock"  # one build at a time per cache
flock 9
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && { echo "GoogleTest prefix: $prefix"; exit 0; }

work=$cache/work/googletest
rm -rf "$work" "$prefix" "$prefix.partial"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$src" -B "$work" "${generator[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DDROVER_WINDOWS_CACHE="$cache" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix.partial" \
  -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON >&2 ||
  die "configure failed (log above)"
cmake --build "$work" -j "${DROVER_JOBS:-$(nproc)}" >&2 || die "build failed (log above)"
cmake --install "$work" >&2 || die "install failed"
for f in lib/libgtest.a lib/libgtest_main.a lib/libgmock.a lib/cmake/GTest/GTestConfig.cmake; do
  [ -f "$prefix.partial/$f" ] || die "install lacks $f"
done

# The CMake config is relocatable; only the .pc files name the prefix.
sed -i "s|$prefix.partial|$prefix|g" "$prefix.partial"/lib/pkgconfig/*.pc
# Publish atomically: the prefix exists only once complete, and the stamp last.
mv "$prefix.partial" "$prefix"
echo "$key" >"$stamp"
rm -rf "$work"
rmdir "$cache/work" 2>/dev/null || true
echo "GoogleTest prefix: $prefix"
