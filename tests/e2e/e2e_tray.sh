#!/usr/bin/env bash
# `drover tray` against a real engine: the engine runs in the client
# namespace with dante (lib.sh); the tray runs as the desktop side in a
# session of its own (Xvfb, a private D-Bus session bus, xfce4-panel:
# tests/platform/desktop_session.sh) and talks to the engine's control
# socket. The engine goes Active -> Reconnecting (dante killed) -> Failed
# (dante back with username auth, a config with the wrong password) -> Idle
# (Stop clicked) -> Active (Start clicked, the right password): the icon's
# colour is read from the screen each time, the engine's state from
# `drover status`. Save diagnostics writes a dump; Quit ends only the tray.
# With DROVER_SCREENSHOT_DIR set, the real tray's pictures are kept there
# (linux-tray-{active,reconnecting,failed,idle,menu,tooltip}.png).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../platform/desktop_session.sh"
SHOTS=${DROVER_SCREENSHOT_DIR:-}
e2e_setup
# Both teardowns, whatever happens; the test's status survives them.
cleanup_all() {
  local rc=$?
  desktop_stop "$rc" || true
  if [ "$rc" -ne 0 ] && [ -s "$E2E_DIR/tray2.log" ]; then echo "--- tray2.log" >&2; tail -5 "$E2E_DIR/tray2.log" >&2; fi
  set +e
  (exit "$rc")
  e2e_cleanup
}
trap cleanup_all EXIT
install_clients
start_far
start_dante none
write_config "$E2E_DIR/drover.toml"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10

echo "without a desktop session, drover tray says so"
if out=$(env -u DISPLAY -u WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent XDG_RUNTIME_DIR="$E2E_DIR/run" \
  "$DROVER" tray 2>&1 </dev/null); then
  fail "drover tray ran without a display: $out"
fi
grep -q "needs a desktop session: no display" <<<"$out" || fail "drover tray without a display: $out"
note "$out"

# The tray's session: its own home and state; the engine's runtime
# directory, where the control socket is.
DESKTOP_RUNTIME_DIR=$E2E_DIR/run desktop_start "$E2E_DIR/desktop"
TRAY_STATE=$E2E_DIR/tray-state
mkdir -p "$TRAY_STATE"
bg "$E2E_DIR/tray.log" env XDG_STATE_HOME="$TRAY_STATE" "$DROVER" tray
TRAY_PID=$BG_PID
"$PY" "$HELPER" wait-item 10 >/dev/null || fail "drover tray registered no item: $(cat "$E2E_DIR/tray.log")"

shot() {  # shot STATE: the panel corner, for docs/screenshots
  [ -n "$SHOTS" ] || return 0
  import -window root -crop 120x32+0+0 +repage "$SHOTS/linux-tray-$1.png"
}
colour() {  # colour NAME STATE: the icon turns NAME within 5 s
  local out
  out=$("$PY" "$HELPER" wait-colour 0 0 480 32 "$1" 5 "$E2E_DIR/$2.png") ||
    fail "$2: $out (engine: $(engine_field state); tray: $(tail -3 "$E2E_DIR/tray.log"))"
  note "$2: $out"
  case $2 in active | reconnecting | failed | idle) shot "$2" ;; esac
}
row_like() {  # row_like TEXT SECONDS: a menu row starting with TEXT appears
  local deadline=$((SECONDS + $2)) layout=""
  while :; do
    layout=$("$PY" "$HELPER" layout 2>/dev/null || true)
    cut -f2 <<<"$layout" | grep -q "^$1" && return 0
    [ "$SECONDS" -le "$deadline" ] || fail "no menu row '$1' in $2 s: $(cut -f2 <<<"$layout" | tr '\n' '|')"
    sleep 0.1
  done
}

echo "Active: green; the first start says where Drover lives"
colour green active
wait_notification '"summary": "Drover runs in the tray"' 5
row_like "Active" 5
row_like "Stop" 1
if [ -n "$SHOTS" ]; then  # what xfce4-panel shows on hover: the item's Title
  xdotool mousemove 300 150 sleep 0.3 mousemove 12 16 sleep 2
  import -window root -crop 300x90+0+0 +repage "$SHOTS/linux-tray-tooltip.png"
  xdotool mousemove 300 150
fi

echo "dante killed: Reconnecting, yellow"
stop_dante 1080
wait_state Reconnecting 20
colour yellow reconnecting
row_like "Reconnecting" 5

echo "dante back with username auth, the config with a wrong password: Failed, red"
start_dante username
PROXY_EXTRA='auth = true
login = "drovertest"
password = "wr0ng-pass"' write_config "$E2E_DIR/drover.toml"
kill -HUP "$(engine_pid)"
wait_state Failed 20
colour red failed
row_like "Retry" 5
note "last_error: $(engine_field last_error)"

echo "Save diagnostics: the engine writes a dump, the tray tells where"
"$PY" "$HELPER" click "Save diagnostics"
wait_notification '"summary": "Diagnostics saved"' 15
dump=$("$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    n = json.loads(line)
    if n["summary"] == "Diagnostics saved":
        print(n["body"])' "$E2E_DIR/desktop/notify.log" | tail -1)
note "dump: $dump"
[ -f "$dump" ] || fail "the dump the tray names is not there: $dump"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["status"]["state"] == "Failed", d["status"]' \
  "$dump" || fail "the dump is not the JSON of a Failed engine"
if grep -q 'drovertest\|wr0ng-pass' "$dump"; then fail "the dump names the login or the password"; fi

echo "Stop: the engine goes Idle, grey"
"$PY" "$HELPER" click "Stop"
wait_state Idle 10
colour grey idle
row_like "Start" 5

echo "Start with the right password: Active again"
PROXY_EXTRA='auth = true
login = "drovertest"
password = "c0rrect-h0rse"' write_config "$E2E_DIR/drover.toml"
kill -HUP "$(engine_pid)"
sleep 0.5  # the reload is read in the background
"$PY" "$HELPER" click "Start"
wait_state Active 20
colour green active-again

echo "the open menu's status row refreshes every second"
xdotool mousemove 12 16 click 1
out=$("$PY" "$HELPER" wait-bright 0 40 200 120 0.5 5 "$E2E_DIR/menu.png") || fail "no menu on the screen: $out"
status_row() { local l; l=$("$PY" "$HELPER" layout); sed -n 1p <<<"$l" | cut -f2; }
first=$(status_row)
deadline=$((SECONDS + 5))
until [ "$(status_row)" != "$first" ]; do
  [ "$SECONDS" -le "$deadline" ] || fail "the status row stayed '$first' for 5 s with the menu open"
  sleep 0.2
done
note "'$first' -> '$(status_row)'"
if [ -n "$SHOTS" ]; then import -window root -crop 360x280+0+0 +repage "$SHOTS/linux-tray-menu.png"; fi
xdotool key Escape

echo "Start at login: the checkbox writes the autostart entry"
"$PY" "$HELPER" click "Start at login"
entry=$XDG_CONFIG_HOME/autostart/drover-tray.desktop
deadline=$((SECONDS + 5))
until [ -f "$entry" ]; do
  [ "$SECONDS" -le "$deadline" ] || fail "no $entry after the click"
  sleep 0.05
done
grep -qx "Exec=$DROVER tray" "$entry" || fail "the entry runs something else: $(grep Exec "$entry")"
deadline=$((SECONDS + 5))
until [ "$("$PY" "$HELPER" layout | awk -F'\t' 'index($2, "Start at login") == 1 { print $4 }')" = 1 ]; do
  [ "$SECONDS" -le "$deadline" ] || fail "Start at login is not checked after the click"
  sleep 0.1
done
"$PY" "$HELPER" click "Start at login"
deadline=$((SECONDS + 5))
while [ -e "$entry" ]; do
  [ "$SECONDS" -le "$deadline" ] || fail "the second click left $entry"
  sleep 0.05
done

echo "Quit ends the tray; the engine keeps running"
"$PY" "$HELPER" click "Quit"
wait_exit "$TRAY_PID" 10 "drover tray did not quit" || fail "drover tray exited with $?: $(tail -5 "$E2E_DIR/tray.log")"
out=$("$PY" "$HELPER" wait-colour 0 0 480 32 none 5 "$E2E_DIR/after.png") || fail "an icon stays on the panel: $out"
[ "$(engine_field state)" = Active ] || fail "the engine is $(engine_field state) after the tray quit"
[ -z "$(ls -d "$E2E_DIR/run"/drover-tray-* 2>/dev/null)" ] || fail "the tray left its icon directory behind"

echo "the session ends (its D-Bus bus dies): drover tray ends too, the engine keeps running"
bg "$E2E_DIR/tray2.log" env XDG_STATE_HOME="$TRAY_STATE" "$DROVER" tray
TRAY_PID=$BG_PID
"$PY" "$HELPER" wait-item 10 >/dev/null || fail "the second drover tray registered no item: $(cat "$E2E_DIR/tray2.log")"
kill "$DESKTOP_BUS"
wait_exit "$TRAY_PID" 5 "drover tray lingers after its session bus died (tray2.log below)" ||
  fail "drover tray exited with $? after its bus died: $(tail -5 "$E2E_DIR/tray2.log")"
grep -q "the desktop session is gone" "$E2E_DIR/tray2.log" || fail "drover tray did not say why it ended"
note "$(grep 'session is gone' "$E2E_DIR/tray2.log")"
[ "$(engine_field state)" = Active ] || fail "the engine is $(engine_field state) after the tray's session ended"

stop_engine
[ -z "$(drover_leftovers)" ] || fail "rules left behind"
assert_no_target_leak
echo "ok: drover tray drove a real engine"
