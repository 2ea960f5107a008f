#!/usr/bin/env bash
# Exposes Debian's header-only libraries to mingw through a directory of
# symlinks: -I/usr/include would drag glibc's headers into a Windows build.
set -euo pipefail
dir=${MINGW_INCLUDE_DIR:-${TMPDIR:-/tmp}/drover-mingw-include}
mkdir -p "$dir"
for h in toml++ nlohmann spdlog fmt asio asio.hpp; do
  [ -e "/usr/include/$h" ] && ln -sfn "/usr/include/$h" "$dir/$h"
done
echo "$dir"
