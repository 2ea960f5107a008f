#!/usr/bin/env bash
# drover.exe under Wine, as a user starts it from cmd: version, a status with
# no instance (exit 3), autostart on and off, `run --no-tray` reaching Failed
# with the capture sentence in status (nothing crashes), a second `run`
# activating the first and exiting 0, `stop`, and bad arguments (exit 2).
# drover.com, the console twin cmd and PowerShell run, answers the same.
#   drover_exe.sh PATH/drover.exe PATH/drover.com
set -euo pipefail
exe=$1
com=$2
here=$(cd "$(dirname "$0")" && pwd)
run="$here/../../tools/windows/wine-run.sh"
# shellcheck source=tools/windows/wine-env.sh
. "$here/../../tools/windows/wine-env.sh"
drover_wine_ensure || { echo "SKIP: Wine cannot start here"; exit 77; }

work=$(mktemp -d)
engine_pid=""
cleanup() {
  "$run" "$exe" autostart --off >/dev/null 2>&1 || true
  [ -n "$engine_pid" ] && kill "$engine_pid" 2>/dev/null
  [ -n "$engine_pid" ] && wait "$engine_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/engine.log" ] && tail -20 "$work/engine.log" >&2; exit 1; }
pass() { echo "ok: $*"; }
# drover.exe's output as a Windows console shows it has CRLF line ends.
drover() {
  local rc=0 out
  out=$("$run" "$exe" "$@") || rc=$?
  printf '%s\n' "${out//$'\r'/}"
  return "$rc"
}

# Its config and data in this test's own directory (Windows paths via Z:).
win_work=$(winepath -w "$work" 2>/dev/null || echo "Z:${work//\//\\}")
export APPDATA="$win_work\\appdata" PROGRAMDATA="$win_work\\programdata"
mkdir -p "$work/appdata/Drover"
cat >"$work/appdata/Drover/config.toml" <<'TOML'
[proxy]
host = "127.0.0.1"
port = 1080
TOML

out=$(drover version) || fail "version exited $?"
[[ $out == "drover "* ]] || fail "version printed '$out'"
pass "version: $out"

rc=0
"$run" "$exe" status >"$work/status.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "status with no instance exited $rc, want 3: $(cat "$work/status.out")"
pass "status with no instance: exit 3"

out=$("$run" "$com" version) || fail "drover.com version exited $?"
[[ $out == "drover "* ]] || fail "drover.com version printed '$out'"
rc=0
"$run" "$com" status >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "drover.com status with no instance exited $rc, want 3"
objdump_out=$(x86_64-w64-mingw32-objdump -p "$com")
grep -q 'Subsystem.*(Windows CUI)' <<<"$objdump_out" || fail "drover.com is not a console program"
pass "drover.com (console): version, status exit 3"

rc=0
"$run" "$exe" frobnicate >/dev/null 2>"$work/usage.err" || rc=$?
[ "$rc" = 2 ] || fail "an unknown verb exited $rc, want 2"
pass "unknown verb: exit 2 ($(head -1 "$work/usage.err"))"

rc=0
"$run" "$exe" run --no-tray --config 'C:\nowhere\drover.toml' >/dev/null 2>"$work/noconfig.err" || rc=$?
[ "$rc" = 2 ] || fail "run with a missing --config exited $rc, want 2"
grep -q "config file not found" "$work/noconfig.err" || fail "run with a missing --config said: $(cat "$work/noconfig.err")"
pass "run with a missing --config: exit 2, says so"

out=$(drover autostart --on) || fail "autostart --on exited $?"
[[ $out == "autostart: on (\""*"drover.exe\" run)" ]] || fail "autostart --on printed '$out'"
out=$(drover autostart) || fail "autostart exited $?"
[[ $out == "autostart: on ("* ]] || fail "autostart after --on printed '$out'"
out=$(drover autostart --off) || fail "autostart --off exited $?"
[ "$out" = "autostart: off" ] || fail "autostart --off printed '$out'"
rc=0
"$run" "$exe" autostart --on --off >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "autostart --on --off exited $rc, want 2"
pass "autostart: on, shown, off; both flags refused"

DROVER_WINE_TIMEOUT=120 "$run" "$exe" run --no-tray >"$work/engine.log" 2>&1 &
engine_pid=$!
state=""
for _ in $(seq 1 100); do
  if j=$("$run" "$exe" status --json 2>/dev/null); then
    state=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$j")
    [ "$state" = Failed ] && break
  fi
  kill -0 "$engine_pid" 2>/dev/null || fail "drover run ended early"
  sleep 0.2
done
[ "$state" = Failed ] || fail "the engine did not reach Failed (last: '$state')"
grep -q "packet capture not built yet" <<<"$j" || fail "status does not name the capture: $j"
pass "run --no-tray: Failed, status says: $(python3 -c 'import json,sys; print(json.load(sys.stdin)["last_error"])' <<<"$j")"

rc=0
"$run" "$exe" run --no-tray >"$work/second.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "a second run exited $rc, want 0: $(cat "$work/second.log")"
for _ in $(seq 1 50); do
  grep -q "asked this instance to show itself" "$work/engine.log" && break
  sleep 0.1
done
grep -q "asked this instance to show itself" "$work/engine.log" || fail "the first instance was not asked to show itself"
kill -0 "$engine_pid" 2>/dev/null || fail "the first instance died when the second started"
pass "a second run activated the first and exited 0"

rc=0
"$run" "$exe" stop >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "stop exited $rc"
rc=0
wait "$engine_pid" || rc=$?
engine_pid=""
[ "$rc" = 0 ] || fail "drover run exited $rc after stop"
pass "stop: the engine exited 0"
