#!/usr/bin/env bash
# The Windows tray under Wine and Xvfb (#15): the icon appears in Wine's own
# "Wine System Tray" window (no XEmbed tray runs under bare Xvfb) in each
# state's colour, read from screenshots; its menu opens on a right or left
# click and a clicked item reaches the program.
#   tray.sh PROBE.exe [DOUBLE/drover.exe DOUBLE/drover.com [drover.exe drover.com]]
# PROBE (tests/windows/tray_probe.cpp) drives platform/windows/tray.cpp from
# stdin: each colour, the menu's items clicked by position, a view changing
# while the menu is open (the status row redrawn in place; other items close
# the menu, the next one has them), a left click dismissed, explorer losing
# the icon and its TaskbarCreated re-adding it, a balloon, the shell's open.
# Then the real `drover.exe run` on the test-double WinDivert
# (tests/windows/windivert_double) through tests/e2e/naive_socks.py: Active
# and green, its status row refreshed while its menu is open; the proxy
# killed, Reconnecting and yellow, then Failed and red, which closes the open
# menu (Retry comes); Stop clicked reaching the engine (status Idle, icon
# grey); `drover stop` with the menu open ending drover.exe at once; and
# drover.exe without WinDivert: Failed, red, and WM_CLOSE to its main
# window with its menu open ending it (as taskkill asks).
# DROVER_TRAY_SCREENSHOTS=DIR keeps one screenshot of drover.exe's tray per
# state (idle, active, reconnecting, failed) and one of its menu
# (docs/screenshots/wine-tray-*.png were made so).
# Restarts the prefix's wineserver (its desktop must have this display) and
# ends it: ctest runs this alone (RUN_SERIAL). Exits 77 only where Xvfb or
# Wine cannot start.
set -euo pipefail
probe=$1 dexe=${2:-} dcom=${3:-} fexe=${4:-} fcom=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
img=$here/tray_image.py
t_start=$(date +%s)
# shellcheck source=tools/windows/wine-env.sh
. "$here/../../tools/windows/wine-env.sh"
skip() { echo "SKIP: $*"; exit 77; }
command -v Xvfb >/dev/null || skip "Xvfb is not installed"
if [ -z "$DROVER_WINE" ] || [ -z "$DROVER_WINESERVER" ]; then skip "Wine is not installed"; fi
for t in xdotool import convert python3; do
  command -v "$t" >/dev/null || { echo "FAIL: $t is not installed (./dev setup installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
xvfb_pid="" holder_pid="" probe_pid="" engine_pid="" socks_pid="" dns_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ]; then
    for f in out err engine.log; do [ -s "$work/$f" ] && { echo "--- $f ---"; tail -20 "$work/$f"; } >&2; done
  fi
  [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
  # Ends the probe and drover.exe at once (a NIM_DELETE blocks ~2 s without
  # a window manager), and the desktop that has this display.
  timeout 20 "$DROVER_WINESERVER" -k >/dev/null 2>&1
  for p in $probe_pid $engine_pid $socks_pid $dns_pid; do { kill "$p"; wait "$p"; } 2>/dev/null; done
  [ -n "$xvfb_pid" ] && { kill "$xvfb_pid"; wait "$xvfb_pid"; } 2>/dev/null
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A display of its own (-displayfd: the server picks a free number).
Xvfb -displayfd 5 -screen 0 800x600x24 -nolisten tcp 5>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/display" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.1
done
[ -s "$work/display" ] || skip "Xvfb cannot start: $(tail -3 "$work/xvfb.log")"
DISPLAY=:$(head -1 "$work/display")
export DISPLAY

# The prefix's desktop (explorer, which draws the tray) takes its display
# from the program that starts it: a server started by a test without one
# must go first.
timeout 20 "$DROVER_WINESERVER" -k >/dev/null 2>&1 || true
timeout 20 "$DROVER_WINESERVER" -w >/dev/null 2>&1 || true
drover_wine_ensure || skip "Wine cannot start here"
pass "Xvfb on $DISPLAY, wineserver restarted with it ($(($(date +%s) - t_start)) s)"

# --- the probe ---------------------------------------------------------------
mkfifo "$work/in"
sleep 100000 >"$work/in" &  # holds the pipe open between commands
holder_pid=$!
timeout -k 5 240 "$DROVER_WINE" "$probe" <"$work/in" >"$work/out" 2>"$work/err" &
probe_pid=$!
# shellcheck disable=SC2016  # expanded by the inner bash
send() { timeout 10 bash -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$work/in" || fail "the probe does not read its input"; }
lines() { tr -d '\r' <"$work/out"; }
mark_n=0
mark() { mark_n=$(lines | wc -l); }
# wait_line REGEX SECS: a line after the last mark matches (whole line).
wait_line() {
  local end=$(($(now_ms) + $2 * 1000))
  while [ "$(now_ms)" -lt "$end" ]; do
    lines | tail -n +$((mark_n + 1)) | grep -qxE "$1" && return 0
    sleep 0.05
  done
  fail "no '$1' from the probe within $2 s; it said: $(lines | tail -n +$((mark_n + 1)) | tr '\n' '|')"
}
no_line() { ! lines | tail -n +$((mark_n + 1)) | grep -qxE "$1" || fail "unexpected '$1': $(lines | tr '\n' '|')"; }

wait_line ready 60
declare -A rgb
for c in grey green yellow red; do
  rgb[$c]=$(lines | sed -n "s/^rgb $c \([0-9a-f]\{6\}\)$/\1/p")
  [ -n "${rgb[$c]}" ] || fail "the probe printed no colour for $c"
done
pass "the probe opened the tray (grey ${rgb[grey]}, green ${rgb[green]}, yellow ${rgb[yellow]}, red ${rgb[red]})"

# shellcheck source=tests/windows/tray_lib.sh
. "$here/tray_lib.sh"

view() {  # view COLOUR STATUS_ROW [ID LABEL]: a view with the menu the tests click (2nd row: Stop, id 3)
  printf '{"icon":"%s","tooltip":"Drover: %s","menu":[%s,%s,%s,%s,%s]}' "$1" "$1" \
    "{\"id\":1,\"label\":\"$2\",\"enabled\":false}" "{\"id\":${3:-3},\"label\":\"${4:-Stop}\",\"separator_before\":true}" \
    '{"id":5,"label":"Run check"}' \
    '{"id":9,"label":"Start with Windows","checkable":true,"checked":true,"separator_before":true}' \
    '{"id":11,"label":"Quit","separator_before":true}'
}

expect_colour grey 20
pass "icon shown, grey before any view (${shown_ms} ms after ready)"
for c in green yellow red grey; do
  send "$(view "$c" "$c · 0m 01s · ↑ 0 B/s ↓ 0 B/s")"
  expect_colour "$c" 5
  pass "icon $c ${shown_ms} ms after the view was sent (screenshot included)"
done

mark
xdotool mousemove "$icon_x" "$icon_y" click 3
wait_line "menu 1" 5
menu_window drover_tray_probe.exe 5
pass "right click: the menu opened, 5 rows"
send "$(view yellow "Reconnecting · 9m 59s · ↑ 9 B/s ↓ 9 B/s")"
status_row_changes 3
no_line "menu 0"
pass "a view sent while the menu is open redraws its status row in place"
# Other rows (Stop became Start): an open menu cannot take them in place, so
# it is closed; the next click opens the new one.
mark
send "$(view grey "Idle" 2 Start)"
wait_line "menu 0" 5
no_line "clicked .*"
pass "a view with other items (Start for Stop) closes the open menu"
mark
xdotool mousemove "$icon_x" "$icon_y" click 3
wait_line "menu 1" 5
menu_window drover_tray_probe.exe 5
click_item 2
wait_line "clicked 2" 5
wait_line "menu 0" 5
pass "reopened, its 2nd row is Start: clicked 2, menu closed"
send "$(view yellow "Reconnecting · 9m 59s · ↑ 9 B/s ↓ 9 B/s")"
expect_colour yellow 5

mark
xdotool mousemove "$icon_x" "$icon_y" click 1
wait_line "menu 1" 5
menu_window drover_tray_probe.exe 5
click_item 4
wait_line "clicked 9" 5
pass "left click: the menu opened; Start with Windows (4th row): clicked 9"

mark
xdotool mousemove "$icon_x" "$icon_y" click 3
wait_line "menu 1" 5
menu_window drover_tray_probe.exe 5
xdotool mousemove 700 500 click 1
wait_line "menu 0" 5
sleep 0.3
no_line "clicked .*"
pass "a click beside the open menu closes it, nothing clicked"

# Explorer restarting: its icons are gone, then it broadcasts TaskbarCreated.
mark
send '{"cmd":"drop_icon"}'
wait_line "dropped 1" 10
end=$(($(now_ms) + 5000))
while [ -n "$(tray_window)" ] && [ "$(now_ms)" -lt "$end" ]; do sleep 0.1; done
[ -z "$(tray_window)" ] || fail "the tray window still shows after the icon was deleted"
send '{"cmd":"taskbar_created"}'
expect_colour yellow 5
pass "icon deleted (the tray window went), then re-added on TaskbarCreated in ${shown_ms} ms"

explorer_windows() { { xdotool search --onlyvisible --class '^explorer\.exe$' 2>/dev/null || true; } | wc -l; }
before=$(explorer_windows)
send '{"notify":["Drover","Drover lives here"]}'
end=$(($(now_ms) + 8000))
while [ "$(explorer_windows)" -le "$before" ]; do
  [ "$(now_ms)" -lt "$end" ] || fail "no balloon appeared within 8 s"
  sleep 0.1
done
pass "notify: a balloon appeared"

# Open config / Open log: the shell's open on a thread of its own (with COM),
# its result returned. A .cmd stands in for the config: its "open" runs it.
printf '@echo off\r\necho opened>"%%~dp0opened.txt"\r\n' >"$work/open me.cmd"
mark
send "$(python3 -c 'import json, sys; print(json.dumps({"cmd": "open", "path": "Z:" + sys.argv[1].replace("/", "\\")}))' \
  "$work/open me.cmd")"
wait_line "open ok" 15
wait_line "caller apartment none" 5
end=$(($(now_ms) + 15000))
while [ ! -s "$work/opened.txt" ] && [ "$(now_ms)" -lt "$end" ]; do sleep 0.1; done
[ -s "$work/opened.txt" ] || fail "open_with_desktop said ok, but the file it opened did not run"
pass "open_with_desktop: the shell opened a file (it ran and wrote opened.txt), its caller left outside COM"

mark
send '{"cmd":"quit"}'
wait_line bye 15
pass "the probe closed its tray and ended"

[ -n "$dexe" ] || exit 0

# --- drover.exe run ----------------------------------------------------------
# The proxy: tests/e2e/naive_socks.py (TCP and UDP), and a DNS answerer on
# 127.0.0.2 for the engine's UDP check (the relay takes datagrams from the
# client's address, 127.0.0.1, for the client's own): Active with UDP, green.
# Killed, the engine reconnects for reconnect_total_cap, then fails: its
# menu's rows change (Retry comes) while it is open. The first-start
# balloon is off: it would cover the tray's window.
start_dns_answerer
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$here/../e2e/naive_socks.py" --ip 127.0.0.1 --port "$port" >"$work/socks.log" 2>&1 &
socks_pid=$!
printf '%s\n' 'version = 1' '[proxy]' 'host = "127.0.0.1"' "port = $port" \
  "udp_check = \"127.0.0.2:$dns_port\"" '[ui]' 'shown_tray_toast = true' '[engine]' \
  'reconnect_backoff_max = "2s"' 'reconnect_total_cap = "20s"' >"$work/drover.toml"
mkdir -p "$work/ctl"
ddir=$(dirname "$dexe")
trust="WinDivert.dll=$(sha256sum "$ddir/WinDivert.dll" | cut -d' ' -f1);WinDivert64.sys=$(sha256sum "$ddir/WinDivert64.sys" | cut -d' ' -f1)"
DROVER_WINDIVERT_DOUBLE_DIR=$work/ctl DROVER_TEST_WINDIVERT_SHA256=$trust timeout -k 5 240 "$DROVER_WINE" "$dexe" run \
  --config "$(win_path "$work/drover.toml")" </dev/null >"$work/engine.log" 2>&1 &
engine_pid=$!
wait_state "$dcom" Active 60
expect_colour green 20 keep
pass "drover.exe run on the WinDivert double through naive_socks (with UDP): Active, its icon green"

xdotool mousemove "$icon_x" "$icon_y" click 3
# Active: the status row, Stop, Run check, Open config, Open log, Save
# diagnostics…, Start with Windows, About, Quit.
menu_window drover.exe 9
if [ -n "${DROVER_TRAY_SCREENSHOTS:-}" ]; then convert "$work/menu.png" -strip "$DROVER_TRAY_SCREENSHOTS/wine-tray-menu.png"; fi
status_row_changes 4
pass "its menu: 9 rows; the status row (uptime) refreshed while open"
xdotool mousemove 700 500 click 1
menu_gone drover.exe 5

{ kill "$socks_pid"; wait "$socks_pid"; } 2>/dev/null || true
socks_pid=""
wait_state "$dcom" Reconnecting 20
expect_colour yellow 10 keep
xdotool mousemove "$icon_x" "$icon_y" click 3
menu_window drover.exe 9  # Reconnecting: Stop, as in Active
pass "the proxy killed: Reconnecting, its icon yellow, its menu open"
wait_state "$dcom" Failed 40
t0=$(now_ms)
menu_gone drover.exe 5
pass "Failed while the menu was open: its rows changed (Retry), so it closed ($(($(now_ms) - t0)) ms after status said Failed)"
expect_colour red 10 keep
xdotool mousemove "$icon_x" "$icon_y" click 3
menu_window drover.exe 10  # the status row, Retry, Stop, ...
click_item 3
wait_state "$dcom" Idle 15
expect_colour grey 10 keep
pass "reopened: 10 rows; Stop (3rd, after Retry) clicked: status says Idle, the icon turned grey"

# drover stop while the menu is open: the main loop's queue is served only
# once the menu's modal loop ends, so the stop ends the menu.
xdotool mousemove "$icon_x" "$icon_y" click 3
menu_window drover.exe 9  # Idle: Start for Stop
t0=$(now_ms)
stop_engine "$dcom" 10
pass "drover stop with the menu open: drover.exe ended in $(($(now_ms) - t0)) ms"

if [ -n "$fexe" ]; then
  timeout -k 5 180 "$DROVER_WINE" "$fexe" run --config "$(win_path "$work/drover.toml")" </dev/null \
    >"$work/engine.log" 2>&1 &
  engine_pid=$!
  wait_state "$fcom" Failed 60
  expect_colour red 20
  pass "drover.exe without WinDivert: Failed, its icon red"
  # WM_CLOSE (taskkill without /F) to the main loop's window, handled inside
  # the menu's modal loop. Only to that window: Wine's taskkill also closes
  # the menu's own window, which ends the menu by itself.
  xdotool mousemove "$icon_x" "$icon_y" click 3
  menu_window drover.exe 10
  t0=$(now_ms)
  closed=$(timeout 30 "$DROVER_WINE" "$probe" close </dev/null 2>/dev/null | tr -d '\r') || true
  [ "$closed" = "closed 1" ] || fail "the probe did not find drover.exe's main window ($closed)"
  end=$(($(now_ms) + 10000))
  while kill -0 "$engine_pid" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do sleep 0.1; done
  kill -0 "$engine_pid" 2>/dev/null && fail "WM_CLOSE with the menu open: drover.exe still runs after 10 s"
  wait "$engine_pid" 2>/dev/null || true
  engine_pid=""
  pass "WM_CLOSE to its main window with the menu open: drover.exe ended in $(($(now_ms) - t0)) ms"
fi
pass "all in $(($(date +%s) - t_start)) s"
