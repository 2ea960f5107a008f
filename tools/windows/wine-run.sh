#!/usr/bin/env bash
# Runs one Windows program under Wine, for ctest (CMAKE_CROSSCOMPILING_EMULATOR
# in cmake/mingw-w64.cmake) and by hand:
#   tools/windows/wine-run.sh PROGRAM.exe [ARGS...]
# The program's stdout, stderr and exit status come through unchanged (Wine
# keeps the low 8 bits of a Windows exit code). It is killed after
# $DROVER_WINE_TIMEOUT seconds (default 300; status 124). Status 125: Wine
# itself could not be started (reason on stderr).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: wine-run.sh PROGRAM.exe [ARGS...]" >&2; exit 2; }
[ -f "$1" ] || { echo "wine-run.sh: $1: no such file" >&2; exit 127; }
# shellcheck source=tools/windows/wine-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/wine-env.sh"
# Prefix once, and a persistent wineserver whose stdio is not ours: a server
# started by this wine would hold a caller's pipe (| tail) open after we exit.
drover_wine_ensure || { echo "wine-run.sh: cannot run $1 without Wine" >&2; exit 125; }

secs=${DROVER_WINE_TIMEOUT:-300}
rc=0
# No display: nothing may open a window (and wait for a click) in a test.
timeout -k 10 "$secs" env -u DISPLAY -u WAYLAND_DISPLAY "$DROVER_WINE" "$@" || rc=$?
[ "$rc" = 124 ] && echo "wine-run.sh: $1 killed after ${secs}s (DROVER_WINE_TIMEOUT)" >&2
exit "$rc"
