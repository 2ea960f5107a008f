#!/usr/bin/env bash
# drover.exe under Wine, as a user starts it from cmd: version, a status with
# no instance (exit 3), autostart on and off, `run --no-tray` reaching Failed
# with the capture sentence in status (nothing crashes), a second `run`
# activating the first and exiting 0, `drover dump` into Documents, `stop`,
# and bad arguments (exit 2).
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
engine_pid="" engine_exe=""
cleanup() {
  "$run" "$exe" autostart --off >/dev/null 2>&1 || true
  # Killing wine-run.sh would leave drover.exe running in the wineserver.
  [ -n "$engine_pid" ] && "$run" "$engine_exe" stop >/dev/null 2>&1
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

# Wine sets APPDATA and PROGRAMDATA itself from its profile, whatever the
# Unix environment says: drover.exe uses the prefix's own folders (the test
# prefix's, never the user's), with no config file (the defaults).
engine_log=$(winepath -u 'C:\ProgramData\Drover\logs\drover.log' 2>/dev/null) || fail "winepath does not work"
log_before=$(stat -c %s "$engine_log" 2>/dev/null || echo 0)

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

# start_until_failed EXE LOG: `EXE run --no-tray` in the background
# (engine_pid) until its status says Failed (the status JSON in $j).
start_until_failed() {
  DROVER_WINE_TIMEOUT=120 "$run" "$1" run --no-tray >"$2" 2>&1 &
  engine_pid=$! engine_exe=$1
  local state=""
  for _ in $(seq 1 100); do
    if j=$("$run" "$1" status --json 2>/dev/null); then
      state=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$j")
      [ "$state" = Failed ] && return 0
    fi
    kill -0 "$engine_pid" 2>/dev/null || fail "drover run ended early"
    sleep 0.2
  done
  fail "the engine did not reach Failed (last: '$state')"
}
last_error() { python3 -c 'import json,sys; print(json.load(sys.stdin)["last_error"])' <<<"$j"; }

# No WinDivert.dll beside this build's drover.exe.
start_until_failed "$exe" "$work/engine.log"
[ "$(last_error)" = "WinDivert.dll not found next to drover.exe: reinstall Drover" ] ||
  fail "status does not say the DLL is missing: $j"
# cmd runs drover.com for `drover status`: the console twin sees the engine
# drover.exe runs (one copy, one instance id).
out=$("$run" "$com" status 2>&1) || fail "drover.com status beside a running drover.exe exited $?: $out"
grep -q "state: *Failed" <<<"${out//$'\r'/}" || fail "drover.com status said: $out"
pass "run --no-tray: Failed, status says: $(last_error)"

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

# A dump needs no elevation: the user's Documents, not the engine's folder.
dump=$(drover dump) || fail "dump exited $?"
dump_unix=$(winepath -u "$dump" 2>/dev/null)
[ -f "$dump_unix" ] || fail "dump printed '$dump', which is no file"
trap 'rm -f "$dump_unix"; cleanup' EXIT
[[ $dump == *'\Documents\drover-dump-'*.json ]] || fail "the dump is not in Documents: $dump"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]["state"] == "Failed", d' "$dump_unix" ||
  fail "the dump does not hold the engine's status"
# The capture as far as it got: the filter it would open with, and why not.
python3 - "$dump_unix" <<'PY' || fail "the dump does not show the capture: $(cat "$dump_unix")"
import json, sys
c = json.load(open(sys.argv[1]))["capture"]
assert c["windivert_dll"] == "WinDivert.dll not found next to drover.exe: reinstall Drover", c
assert c["windivert_filter_network"].startswith("outbound and !loopback and (tcp or udp)"), c
assert c["windivert_filter_socket"] == "tcp or udp", c
PY
rm -f "$dump_unix"
# Rotation may have begun a new file: then all of it is this run's.
log_now=$(stat -c %s "$engine_log" 2>/dev/null || echo 0)
[ "$log_now" -ge "$log_before" ] || log_before=0
tail -c +"$((log_before + 1))" "$engine_log" | grep -q "asked this instance to show itself" ||
  fail "the engine's log in C:\\ProgramData\\Drover\\logs has nothing of this run"
pass "dump: $dump; the engine's log is in its folder"

rc=0
"$run" "$exe" stop >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "stop exited $rc"
rc=0
wait "$engine_pid" || rc=$?
engine_pid=""
[ "$rc" = 0 ] || fail "drover run exited $rc after stop"
pass "stop: the engine exited 0"

# A copy with WinDivert files that are not the release's (quarantined and
# replaced, another version): refused before anything is loaded.
mkdir -p "$work/other"
cp "$exe" "$work/other/drover.exe"
printf 'MZ not the DLL' >"$work/other/WinDivert.dll"
printf 'not the driver' >"$work/other/WinDivert64.sys"
start_until_failed "$work/other/drover.exe" "$work/other.log"
[[ $(last_error) == "WinDivert files changed (antivirus quarantine or a different version): WinDivert.dll has SHA-256 "* ]] ||
  fail "status does not say the files changed: $j"
"$run" "$work/other/drover.exe" stop >/dev/null 2>&1 || fail "stop of the copy failed"
wait "$engine_pid" || fail "the copy exited $? after stop"
engine_pid=""
pass "changed WinDivert files: Failed, status says: $(last_error)"
