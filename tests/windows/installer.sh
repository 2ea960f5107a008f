#!/usr/bin/env bash
# drover-setup.exe under Wine: silent installs and uninstalls, and what they
# leave. Round 1: a link planted as ProgramData\Drover and another tool's
# WinDivert service exist; `/S` installs (autostart on by default): files,
# the Add/Remove Programs entry and its fields, the Start-menu shortcut and
# the Run value; the registered QuietUninstallString removes it all, keeps
# the user's config and the other tool's service, and neither touches what
# the link points to. Round 2: `/S /AUTOSTART=0` (no Run value) creates the
# engine's folder, the installed engine logs there; a reinstall over the
# running engine stops it; with a WinDivert service whose driver is this
# install's, the uninstaller stops the engine and removes the service, the
# logs and all the rest.
#   installer.sh PATH/drover-setup.exe
set -euo pipefail
setup=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
run="$here/../../tools/windows/wine-run.sh"
# A prefix of its own, beside the tests' one: setup writes Program Files,
# HKLM, HKCU\...\Run, the services and C:\ProgramData\Drover, which the other
# Windows tests (running at the same time under ctest -j) use too. Made once
# (~15 s), then kept like the other.
# shellcheck source=tools/windows/wine-env.sh
. "$here/../../tools/windows/wine-env.sh"
export DROVER_WINEPREFIX=${DROVER_INSTALLER_WINEPREFIX:-$WINEPREFIX-installer}
# shellcheck source=tools/windows/wine-env.sh
. "$here/../../tools/windows/wine-env.sh"
drover_wine_ensure || { echo "SKIP: Wine cannot start here"; exit 77; }
[ -f "$setup" ] || { echo "FAIL: $setup: no such file" >&2; exit 1; }

export DROVER_WINE_TIMEOUT=120
# Wine's own programs (reg, sc, cmd), which wine-run.sh cannot name by path.
wtool() { timeout -k 5 60 env -u DISPLAY -u WAYLAND_DISPLAY "$DROVER_WINE" "$@" </dev/null; }
# One value of a key as reg.exe prints it, or status 1 when there is none.
reg_value() {
  local out
  out=$(wtool reg.exe query "$1" /v "$2" 2>/dev/null) || return 1
  out=$(sed -n "s/^    $2    REG_[A-Z_]*    //p" <<<"${out//$'\r'/}")
  [ -n "$out" ] || return 1
  printf '%s\n' "$out"
}
has_key() { wtool reg.exe query "$1" >/dev/null 2>&1; }
pending_key='HKLM\System\CurrentControlSet\Control\Session Manager'

uninst_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Drover'
run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
service_key='HKLM\SYSTEM\CurrentControlSet\Services\WinDivert'
instdir_win='C:\Program Files\Drover'
other_sys='C:\Other Tool\WinDivert64.sys'
# Through dosdevices/c: the real path (find below compares names); empty
# when winepath fails.
wunix() {
  local u
  u=$(wtool winepath.exe -u "$1" 2>/dev/null | tr -d '\r')
  [ -n "$u" ] && realpath -m "$u"
}
appdata_win=$(wtool cmd.exe /c 'echo %APPDATA%' | tr -d '\r')
temp_win=$(wtool cmd.exe /c 'echo %TEMP%' | tr -d '\r')
drive_c=$(realpath "$WINEPREFIX/drive_c")
instdir=$(wunix "$instdir_win") || true
machine_dir=$(wunix 'C:\ProgramData\Drover') || true
shortcut=$(wunix 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\Drover.lnk') || true
config_dir=$(wunix "$appdata_win\\Drover") || true
temp_dir=$(wunix "$temp_win") || true
# Only paths inside this prefix are ever removed below.
for p in "$instdir" "$machine_dir" "$shortcut" "$config_dir" "$temp_dir"; do
  [[ $p == "$drive_c"/?* ]] || { echo "FAIL: winepath gave '$p', not a path in $drive_c" >&2; exit 1; }
done
[[ $appdata_win == [A-Z]:\\* ]] || { echo "FAIL: %APPDATA% is '$appdata_win'" >&2; exit 1; }

work=$(mktemp -d)
engine_pid=""

stop_engine() {
  [ -n "$engine_pid" ] || return 0
  # Killing wine-run.sh alone would leave drover.exe running in the
  # wineserver; the prefix is this test's, so all its programs may go.
  "$run" "$instdir/drover.exe" stop >/dev/null 2>&1 || timeout 30 "$DROVER_WINESERVER" -k >/dev/null 2>&1 || true
  kill "$engine_pid" 2>/dev/null || true
  wait "$engine_pid" 2>/dev/null || true
  engine_pid=""
}
# What any run, passed or failed, may have left in this prefix: the next run
# starts from a clean one.
scrub() {
  stop_engine
  wtool reg.exe delete "$uninst_key" /f >/dev/null 2>&1 || true
  wtool reg.exe delete "$run_key" /v Drover /f >/dev/null 2>&1 || true
  wtool sc.exe delete WinDivert >/dev/null 2>&1 || true
  wtool reg.exe delete "$pending_key" /v PendingFileRenameOperations /f >/dev/null 2>&1 || true
  rm -rf "$instdir" "$machine_dir" "$machine_dir".refused* "$config_dir" "$shortcut" "$temp_dir"/~nsu*.tmp
}
cleanup() {
  scrub
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/engine.log" ] && tail -20 "$work/engine.log" >&2; exit 1; }
pass() { echo "ok: $*"; }
scrub

# The shortcut's target and arguments, from the .lnk (MS-SHLLINK): the
# target from LinkInfo's local base path, the arguments from StringData.
lnk_fields() {
  python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
flags = struct.unpack_from("<I", d, 20)[0]
pos = 76
if flags & 0x1:  # HasLinkTargetIDList
    pos += 2 + struct.unpack_from("<H", d, pos)[0]
target = ""
if flags & 0x2:  # HasLinkInfo
    size, header, li_flags, _, base = struct.unpack_from("<IIIII", d, pos)
    if li_flags & 1:
        target = d[pos + base:d.index(b"\0", pos + base)].decode("latin-1")
    pos += size
strings = []
for bit in (0x4, 0x8, 0x10, 0x20, 0x40):
    if flags & bit:
        n = struct.unpack_from("<H", d, pos)[0]
        unit = 2 if flags & 0x80 else 1
        s = d[pos + 2:pos + 2 + n * unit].decode("utf-16-le" if unit == 2 else "latin-1")
        strings.append((bit, s.rstrip("\0")))  # Wine counts the terminator
        pos += 2 + n * unit
args = dict(strings).get(0x20, "")
print(target)
print(args)
EOF
}

# Files only, no window: every check below reads what setup wrote.
install() {
  local rc=0
  "$run" "$setup" /S "$@" >"$work/setup.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "drover-setup.exe /S $* exited $rc: $(cat "$work/setup.out")"
}
# The uninstaller copies itself to %TEMP% and returns at once, as Add/Remove
# Programs starts it: run the registered command, then wait for its last step
# (the uninstall entry goes), bounded.
uninstall() {
  local quiet rc=0
  quiet=$(reg_value "$uninst_key" QuietUninstallString) || fail "no QuietUninstallString"
  [ "$quiet" = "\"$instdir_win\\uninstall.exe\" /S" ] || fail "QuietUninstallString is '$quiet'"
  "$run" "$instdir/uninstall.exe" /S >"$work/uninstall.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "uninstall.exe /S exited $rc: $(cat "$work/uninstall.out")"
  for _ in $(seq 1 150); do
    has_key "$uninst_key" || break
    sleep 0.2
  done
  has_key "$uninst_key" && fail "the uninstaller did not finish in 30 s"
  # Its copy in %TEMP% is queued for deletion at restart (NSIS's way);
  # let it exit before looking.
  sleep 1
}
start_engine() {
  "$run" "$instdir/drover.exe" run --no-tray >"$work/engine.log" 2>&1 &
  engine_pid=$!
  for _ in $(seq 1 100); do
    "$run" "$instdir/drover.exe" status >/dev/null 2>&1 && return 0
    kill -0 "$engine_pid" 2>/dev/null || fail "the installed drover.exe run ended early"
    sleep 0.2
  done
  fail "the installed engine does not answer status"
}
# The uninstaller (or setup) must have stopped it: a drover.exe still
# running keeps its files (Wine, like Windows, refuses to delete them).
engine_stopped_by() {
  local rc=0
  for _ in $(seq 1 100); do
    kill -0 "$engine_pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$engine_pid" 2>/dev/null && fail "$1 did not stop the running engine"
  wait "$engine_pid" || rc=$?
  engine_pid=""
  [ "$rc" = 0 ] || fail "the engine exited $rc when $1 stopped it"
}
# What the uninstaller could not delete (in use) it queues for the next
# restart (/REBOOTOK): only NSIS's own copy of it in %TEMP% may be there.
nothing_pending() {
  local p
  p=$(reg_value "$pending_key" PendingFileRenameOperations) || return 0
  p=$(python3 -c 'import sys; print(" ".join(e for e in sys.argv[1].split("\\0") if e and "~nsu" not in e))' "$p")
  [ -z "$p" ] || fail "$1 left files to delete at the next restart: $p"
}
nothing_left() {
  nothing_pending "$1"
  [ ! -e "$instdir" ] || fail "$1: $instdir_win is left: $(ls -A "$instdir" | tr '\n' ' ')"
  has_key "$uninst_key" && fail "$1: the uninstall entry is left"
  [ ! -e "$shortcut" ] || fail "$1: the Start-menu shortcut is left"
  reg_value "$run_key" Drover >/dev/null && fail "$1: the Run value is left"
  [ "${2:-}" = planted ] || [ ! -e "$machine_dir" ] || fail "$1: C:\\ProgramData\\Drover is left: $(ls -AR "$machine_dir" | tr '\n' ' ')"
  return 0
}

# --- round 1 ------------------------------------------------------------
# Another tool's WinDivert: its service must survive our uninstall.
wtool sc.exe create WinDivert type= kernel start= demand binPath= "$other_sys" >/dev/null ||
  fail "sc create WinDivert failed"
# A link planted where the engine's folder goes (any user may create one in
# ProgramData): neither setup nor the uninstaller may touch what it points
# to. (Windows removes the link itself; Wine cannot: its RemoveDirectoryW and
# MoveFileW act on the target, so the link stays and setup says so.)
mkdir -p "$work/planted"
echo keep >"$work/planted/victim"
ln -s "$work/planted" "$machine_dir"

rc=0
"$run" "$setup" /S /AUTOSTART=yes >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "/AUTOSTART=yes exited $rc, want 2"
[ ! -e "$instdir" ] || fail "/AUTOSTART=yes installed something"
pass "a bad /AUTOSTART= value: exit 2, nothing installed"

install
for f in drover.exe drover.com uninstall.exe LICENSE.txt README.txt; do
  [ -f "$instdir/$f" ] || fail "$instdir_win\\$f is missing"
done
if [ -e "$instdir/WinDivert.dll" ] || [ -e "$instdir/WinDivert64.sys" ]; then
  [ -f "$instdir/WinDivert.dll" ] && [ -f "$instdir/WinDivert64.sys" ] || fail "only one WinDivert file installed"
  windivert="WinDivert bundled"
else
  windivert="no WinDivert bundled"
fi
version=$("$run" "$instdir/drover.exe" version | tr -d '\r') || fail "the installed drover.exe version failed"
version=${version#drover }
pass "install /S: files in $instdir_win ($windivert), drover $version runs"

for v in DisplayName:Drover DisplayVersion:"$version" "InstallLocation:$instdir_win" \
    "UninstallString:\"$instdir_win\\uninstall.exe\"" "QuietUninstallString:\"$instdir_win\\uninstall.exe\" /S"; do
  got=$(reg_value "$uninst_key" "${v%%:*}") || fail "the uninstall entry has no ${v%%:*}"
  [ "$got" = "${v#*:}" ] || fail "${v%%:*} is '$got', want '${v#*:}'"
done
publisher=$(reg_value "$uninst_key" Publisher) || fail "the uninstall entry has no Publisher"
size=$(reg_value "$uninst_key" EstimatedSize) || fail "the uninstall entry has no EstimatedSize"
# KB, at least the two executables.
[ $((size)) -ge $(( ($(stat -c %s "$instdir/drover.exe") + $(stat -c %s "$instdir/drover.com")) / 1024 )) ] ||
  fail "EstimatedSize $size KB is less than the executables"
pass "Add/Remove Programs: Drover $version by $publisher, $((size)) KB, quiet uninstall registered"

[ -f "$shortcut" ] || fail "no Start-menu shortcut"
mapfile -t lnk < <(lnk_fields "$shortcut")
[ "${lnk[0]}" = "$instdir_win\\drover.exe" ] || fail "the shortcut starts '${lnk[0]}'"
[ "${lnk[1]}" = run ] || fail "the shortcut's arguments are '${lnk[1]}'"
autostart=$(reg_value "$run_key" Drover) || fail "no autostart after a first install"
[ "$autostart" = "\"$instdir_win\\drover.exe\" run" ] || fail "the Run value is '$autostart'"
pass "Start menu: Drover.lnk -> ${lnk[0]} ${lnk[1]}; autostart: $autostart"
[ "$(cat "$work/planted/victim" 2>/dev/null)" = keep ] && [ "$(ls -A "$work/planted")" = victim ] ||
  fail "setup touched what a planted C:\\ProgramData\\Drover pointed to"

mkdir -p "$config_dir"
echo '# the user'"'"'s settings' >"$config_dir/config.toml"
uninstall
nothing_left "uninstall /S" planted
[ "$(cat "$work/planted/victim" 2>/dev/null)" = keep ] && [ "$(ls -A "$work/planted")" = victim ] ||
  fail "the uninstaller touched what a planted C:\\ProgramData\\Drover pointed to"
[ "$(cat "$config_dir/config.toml" 2>/dev/null)" = "# the user's settings" ] ||
  fail "a silent uninstall did not keep the config"
got=$(reg_value "$service_key" ImagePath) || fail "the uninstaller deleted another tool's WinDivert service"
[ "$got" = "$other_sys" ] || fail "the other tool's WinDivert service now points to '$got'"
pass "uninstall /S: install dir, uninstall entry, shortcut, Run value gone; a planted link's target untouched"
pass "kept: the config (%APPDATA%\\Drover) and another tool's WinDivert service ($got)"
rm -f "$machine_dir"

# --- round 2 ------------------------------------------------------------
install /AUTOSTART=0
reg_value "$run_key" Drover >/dev/null && fail "/AUTOSTART=0 wrote a Run value"
[ -d "$machine_dir" ] && [ ! -L "$machine_dir" ] || fail "setup did not create C:\\ProgramData\\Drover"
# The installed engine takes that folder for its log (it refuses one it does
# not trust, saying so on stderr).
start_engine
grep -q "refusing" "$work/engine.log" && fail "the engine refused its folder: $(grep refusing "$work/engine.log")"
[ -s "$machine_dir/logs/drover.log" ] || fail "the installed engine wrote no log in C:\\ProgramData\\Drover\\logs"
pass "install /S /AUTOSTART=0: no Run value; C:\\ProgramData\\Drover created, the engine logs there"
# Over a running engine: setup stops it first, or its files stay in use.
install /AUTOSTART=0
engine_stopped_by "a reinstall"
[ -s "$machine_dir/logs/drover.log" ] || fail "a reinstall lost the engine's folder"
pass "a reinstall stops the running engine and keeps its folder"

# The WinDivert DLL creates the service from the .sys beside it: this
# install's driver, which the uninstaller removes.
wtool sc.exe delete WinDivert >/dev/null || fail "sc delete WinDivert failed"
wtool sc.exe create WinDivert type= kernel start= demand binPath= "$instdir_win\\WinDivert64.sys" >/dev/null ||
  fail "sc create WinDivert failed"
start_engine
uninstall
engine_stopped_by "the uninstaller"
nothing_left "the second uninstall"
has_key "$service_key" && fail "the uninstaller left this install's WinDivert service"
pass "uninstall /S: the running engine stopped; its logs, this install's WinDivert service, all gone"

# A restart (wineboot -r runs the queued deletions: NSIS's copy in %TEMP%),
# then the registry on disk (the server writes it when it exits) and every
# file: no "drover" anywhere but the kept config.
wtool wineboot.exe -r >/dev/null 2>&1 || fail "wineboot -r failed"
timeout 30 "$DROVER_WINESERVER" -k >/dev/null 2>&1 || true
timeout 30 "$DROVER_WINESERVER" -w >/dev/null 2>&1 || true
left=$(find "$drive_c" \( -iname '*drover*' -o -name '~nsu*' \) ! -path "$config_dir" ! -path "$config_dir/*")
[ -z "$left" ] || fail "left on disk after a restart: $left"
left=$(grep -il drover "$WINEPREFIX"/*.reg || true)
[ -z "$left" ] || fail "left in the registry: $(grep -ih drover "$WINEPREFIX"/*.reg | head -5)"
pass "after a restart: no file and no registry entry of Drover's (the config excepted)"
# The clean-up's reg and sc want a server again; a persistent one, as made
# by wine-env.sh, with no pipe of ours held open.
drover_wine_ensure || true
