#!/usr/bin/env bash
# The Wine environment Drover's Windows tests run in.
#   source tools/windows/wine-env.sh            exports the variables below
#   source tools/windows/wine-env.sh --ensure   ... and prepares Wine (or run it)
# --ensure creates the prefix once (~15-20 s) and starts a persistent
# wineserver, so that each test then starts in a few hundredths of a second.
# It exits (returns, if sourced) 3 with the reason on stderr when Wine cannot
# run at all, so that the caller can skip the Windows tests saying why.
# The prefix lives in the cache ($DROVER_WINDOWS_CACHE, else
# ${XDG_CACHE_HOME:-~/.cache}/drover-windows), outside any build tree;
# DROVER_WINEPREFIX overrides it (a WINEPREFIX of the user's is never used).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then set -euo pipefail; fi  # not the caller's shell

_drover_cache=${DROVER_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drover-windows}
[[ $_drover_cache == /* ]] || _drover_cache=$PWD/$_drover_cache  # Wine wants absolute paths
export WINEPREFIX=${DROVER_WINEPREFIX:-$_drover_cache/wineprefix}
export WINEARCH=win64   # Debian's wine64 only: there is no wine32
export WINEDEBUG=-all   # fixme:/err: chatter would bury the tests' own output
# No Mono/Gecko download prompts; no menu entries written into ~/.local.
# No winedbg on a crash: with it, Wine 8 reports exit status 0 for about 1 in
# 6 crashed programs (a crashing test would pass). DROVER_WINEDBG=1 keeps it
# (register dump and backtrace on stderr) for debugging by hand.
WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
[ "${DROVER_WINEDBG:-0}" = 1 ] || WINEDLLOVERRIDES="$WINEDLLOVERRIDES;winedbg.exe=d"
export WINEDLLOVERRIDES
# Call the binaries directly: Debian's /usr/bin/wineserver forces -p0, and
# /usr/bin/wine nags about wine32 unless WINEDEBUG says -all.
DROVER_WINE=$(command -v /usr/lib/wine/wine64 wine64 wine 2>/dev/null | head -1 || true)
DROVER_WINESERVER=$(command -v /usr/lib/wine/wineserver64 wineserver 2>/dev/null | head -1 || true)
export DROVER_WINE DROVER_WINESERVER

drover_wine_ensure() {
  if [ -z "$DROVER_WINE" ] || [ -z "$DROVER_WINESERVER" ]; then
    echo "wine-env.sh: Wine is not installed (apt-get install wine64 wine)" >&2
    return 3
  fi
  local stamp=$WINEPREFIX/.drover-complete log=$WINEPREFIX.log
  if [ ! -f "$stamp" ]; then
    mkdir -p "$(dirname "$WINEPREFIX")" || return 3
    # One creator at a time (ctest -j starts many wine-run.sh at once).
    (
      flock 9 || exit 3
      [ -f "$stamp" ] && exit 0
      # Remove only a half-made prefix of ours, never someone's own.
      if [ -d "$WINEPREFIX" ] && [ ! -e "$WINEPREFIX/.drover-creating" ] &&
         [ -n "$(ls -A "$WINEPREFIX")" ]; then
        echo "wine-env.sh: $WINEPREFIX exists and was not made here; remove it or set DROVER_WINEPREFIX" >&2
        exit 3
      fi
      "$DROVER_WINESERVER" -k >/dev/null 2>&1 || true  # a server of the half-made prefix
      rm -rf "$WINEPREFIX" && mkdir -p "$WINEPREFIX" && touch "$WINEPREFIX/.drover-creating" || exit 3
      # wineboot starts its own short-lived server; stdio to a file, or a
      # caller's pipe stays open as long as that server lives.
      if ! timeout 300 "$DROVER_WINE" wineboot -i </dev/null >"$log" 2>&1 9>&-; then
        echo "wine-env.sh: wineboot -i failed for $WINEPREFIX:" >&2; tail -5 "$log" >&2; exit 3
      fi
      # A crash must end the test, not wait on a debugger dialog.
      timeout 60 "$DROVER_WINE" reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog \
        /t REG_DWORD /d 0 /f </dev/null >>"$log" 2>&1 9>&- || true
      # The registry is on disk only once that server has exited.
      timeout 60 "$DROVER_WINESERVER" -w </dev/null >>"$log" 2>&1 || true
      if [ ! -f "$WINEPREFIX/system.reg" ]; then
        echo "wine-env.sh: Wine made no registry in $WINEPREFIX (see $log)" >&2; exit 3
      fi
      rm -f "$WINEPREFIX/.drover-creating" && touch "$stamp"
    ) 9>"$WINEPREFIX.lock" || return 3
  fi
  # A persistent server (idle timeout in s), and the session's own processes
  # (services.exe, winedevice.exe), which the first program of a fresh server
  # starts and which keep its stderr: started here with stdio on /dev/null,
  # or ctest (which reads a test's output to EOF) waits until they exit.
  # Status 2: a server already runs for this prefix, session and all.
  (
    flock 9 || exit 3
    local rc=0
    "$DROVER_WINESERVER" -p"${DROVER_WINESERVER_PERSIST:-60}" </dev/null >/dev/null 2>&1 9>&- || rc=$?
    [ "$rc" = 0 ] || exit 0
    timeout 60 "$DROVER_WINE" cmd.exe /c exit 0 </dev/null >/dev/null 2>&1 9>&- || {
      echo "wine-env.sh: Wine cannot run a program in $WINEPREFIX (cmd.exe /c exit 0 failed)" >&2; exit 3; }
  ) 9>"$WINEPREFIX.lock" || return 3
}

if [ "${1:-}" = --ensure ]; then
  if [[ ${BASH_SOURCE[0]} == "$0" ]]; then drover_wine_ensure; exit; fi
  drover_wine_ensure || return
fi
