#!/usr/bin/env bash
# The Linux platform tray (platform/linux/tray.cpp) under a real
# StatusNotifierItem host: Xvfb, a private D-Bus session bus and xfce4-panel
# with one systray plugin, all in a temp dir, all killed on exit. The probe
# (tests/tools/tray_probe.cpp) shows the views we write to it; we look at
# the screen, at its D-Bus menu, and at what it prints.
#   tray_linux.sh PROBE
# With DROVER_SCREENSHOT_DIR set, one picture per state is kept there
# (linux-tray-{idle,active,reconnecting,failed,menu,tooltip}.png).
set -euo pipefail
PROBE=${1:?usage: tray_linux.sh PROBE}
SHOTS=${DROVER_SCREENSHOT_DIR:-}

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '  %s\n' "$*" >&2; }
source "$(dirname "$0")/desktop_session.sh"

T=$(mktemp -d /tmp/drover-tray-test.XXXXXX)
PROBE_PID=""
cleanup() {
  local rc=$?
  exec 9>&- 2>/dev/null || true
  if [ -n "$PROBE_PID" ]; then kill "$PROBE_PID" 2>/dev/null || true; fi
  desktop_stop "$rc" || true
  if [ "$rc" -ne 0 ] && [ -s "$T/probe.err" ]; then echo "--- probe.err" >&2; tail -20 "$T/probe.err" >&2; fi
  rm -rf "$T"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/run"
chmod 700 "$T/run"
export XDG_RUNTIME_DIR=$T/run
unset WAYLAND_DISPLAY

echo "without a desktop session: no_session, with the reason"
expect_no_session() {  # expect_no_session TEXT ENV-ARGS...
  local text=$1; shift
  if env "$@" "$PROBE" </dev/null >"$T/ns.out" 2>"$T/ns.err"; then fail "the probe opened a tray with $*"; fi
  grep -q "no_session: drover tray needs a desktop session: .*$text" "$T/ns.err" ||
    fail "with $*: $(cat "$T/ns.err")"
  note "$(cat "$T/ns.err")"
}
expect_no_session "no D-Bus session bus" -u DBUS_SESSION_BUS_ADDRESS DISPLAY=:1
expect_no_session "no display" -u DISPLAY DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
[ -z "$(ls "$T/run")" ] || fail "a refused probe left $(ls "$T/run") in XDG_RUNTIME_DIR"

desktop_start "$T"
# A display that is not there: an error, not GTK's abort.
expect_no_session "cannot open the display :99999" DISPLAY=:99999

# The probe reads a FIFO we hold open on fd 9 (read-write, so opening it
# never blocks); closing fd 9 is its end of input.
mkfifo "$T/in"
exec 9<>"$T/in"
"$PROBE" <"$T/in" >"$T/probe.out" 2>"$T/probe.err" 9>&- &
PROBE_PID=$!

wait_line() {  # wait_line REGEX SECONDS: a line of the probe's output
  local deadline=$((SECONDS + $2))
  until grep -qE "$1" "$T/probe.out"; do
    [ "$SECONDS" -le "$deadline" ] || fail "the probe did not print '$1' in $2 s: $(tr '\n' ' ' <"$T/probe.out")"
    kill -0 "$PROBE_PID" 2>/dev/null || fail "the probe died: $(cat "$T/probe.err")"
    sleep 0.05
  done
}
wait_line '^ready$' 10

# view ICON TOOLTIP STATUS-ROW [MORE-ITEMS-JSON]: the menu the tray model
# makes, more or less (ids of core/tray_model.hpp).
view() {
  local extra=${4:-}
  printf '{"icon":"%s","tooltip":"%s","menu":[{"id":1,"label":"%s","enabled":false},%s{"id":3,"label":"Stop"},{"id":5,"label":"Run check"},{"id":8,"label":"Save diagnostics…","separator_before":true},{"id":9,"label":"Start at login","checkable":true,"checked":true},{"id":10,"label":"About Drover","separator_before":true},{"id":11,"label":"Quit the tray (the service keeps running)"}]}\n' \
    "$1" "$2" "$3" "$extra" >&9
}
ITEM=$("$PY" "$HELPER" wait-item 10) || fail "the probe's item never registered with the watcher"
note "item: $ITEM"

echo "a second tray in the same session is refused, saying so"
if timeout 10 "$PROBE" </dev/null >"$T/second.out" 2>"$T/second.err"; then fail "a second probe opened a tray beside the first"; fi
grep -q "already_running: drover tray is already running in this desktop session" "$T/second.err" ||
  fail "the second probe: $(cat "$T/second.err")"
note "$(cat "$T/second.err")"

echo "the icon takes each state's colour"
shot() {  # shot STATE: the panel corner, for docs/screenshots
  [ -n "$SHOTS" ] || return 0
  import -window root -crop 120x32+0+0 +repage "$SHOTS/linux-tray-$1.png"
}
for state in idle:grey:Idle active:green:Active reconnecting:yellow:Reconnecting failed:red:Failed; do
  IFS=: read -r name colour word <<<"$state"
  view "$colour" "Drover: $word" "$word · 2h 14m · ↑ 142 KB/s ↓ 1.2 MB/s"
  out=$("$PY" "$HELPER" wait-colour 0 0 480 32 "$colour" 5 "$T/$name.png") || fail "$name: $out"
  note "$name: $out"
  shot "$name"
done

echo "a burst of views: the newest wins"
for i in $(seq 1 30); do view green "Drover: Active" "Active · ${i}s"; done
view yellow "Drover: Reconnecting" "Reconnecting · attempt 2"
out=$("$PY" "$HELPER" wait-colour 0 0 480 32 yellow 5 "$T/burst.png") || fail "after a burst: $out"
note "$out"
deadline=$((SECONDS + 5))
until [[ $("$PY" "$HELPER" layout) == *"Reconnecting · attempt 2"* ]]; do
  [ "$SECONDS" -le "$deadline" ] || fail "the menu does not show the last view: $("$PY" "$HELPER" layout)"
  sleep 0.05
done

echo "the menu over D-Bus: labels, a disabled status row, separators, a check item"
layout=$("$PY" "$HELPER" layout)
printf '%s\n' "$layout" | sed 's/^/    /' >&2
row() { awk -F'\t' -v l="$1" 'index($2, l) == 1 { print; exit }' <<<"$layout"; }
[ "$(row Reconnecting | cut -f3)" = disabled ] || fail "the status row is not disabled"
[ "$(row Stop | cut -f3)" = enabled ] || fail "Stop is not enabled"
[ "$(row 'Start at login' | cut -f4)" = 1 ] || fail "Start at login is not checked"
[ "$(cut -f2 <<<"$layout" | grep -c '^----$')" = 2 ] || fail "wanted 2 separators"
[ "$(cut -f2 <<<"$layout" | grep -B1 '^Save diagnostics' | head -1)" = "----" ] ||
  fail "the first separator is not above Save diagnostics"

echo "a label change keeps the rows (an open menu updates in place); a new row rebuilds"
ids_before=$(cut -f1 <<<"$layout" | tr '\n' ' ')
view yellow "Drover: Reconnecting" "Reconnecting · attempt 3"
deadline=$((SECONDS + 5))
until [[ $("$PY" "$HELPER" layout) == *"attempt 3"* ]]; do
  [ "$SECONDS" -le "$deadline" ] || fail "the status row did not change"
  sleep 0.05
done
ids_after=$("$PY" "$HELPER" layout | cut -f1 | tr '\n' ' ')
[ "$ids_before" = "$ids_after" ] || fail "a label change rebuilt the menu: $ids_before -> $ids_after"
view red "Drover: Failed" "Failed" '{"id":4,"label":"Retry"},'
deadline=$((SECONDS + 5))
until [[ $("$PY" "$HELPER" layout) == *Retry* ]]; do
  [ "$SECONDS" -le "$deadline" ] || fail "the Retry row did not appear: $("$PY" "$HELPER" layout)"
  sleep 0.05
done

echo "a row activated over D-Bus reaches the callback with our id"
"$PY" "$HELPER" click Retry
wait_line '^clicked 4$' 5
"$PY" "$HELPER" click "Save diagnostics"
wait_line '^clicked 8$' 5
"$PY" "$HELPER" click "Start at login"
wait_line '^clicked 9$' 5
# The model decides the tick: a click alone does not take it away.
sleep 0.3
[ "$("$PY" "$HELPER" layout | awk -F'\t' 'index($2, "Start at login") == 1 { print $4 }')" = 1 ] ||
  fail "a click changed the check mark before the model did"
"$PY" "$HELPER" click Failed  # the disabled status row
sleep 0.3
! grep -q '^clicked 1$' "$T/probe.out" || fail "the disabled status row was activated"

echo "the host opens the menu (a real click on the icon): menu_open(true)"
view green "Drover: Active" "Active · 2h 14m · ↑ 142 KB/s ↓ 1.2 MB/s"
"$PY" "$HELPER" wait-colour 0 0 480 32 green 5 "$T/before-menu.png" >/dev/null || fail "not green before the menu"
xdotool mousemove 12 16 click 1
wait_line '^menu 1$' 5
# The panel draws the menu: light rows where the screen was black.
out=$("$PY" "$HELPER" wait-bright 0 40 200 120 0.5 5 "$T/menu.png") || fail "no menu on the screen: $out"
note "menu: $out"
if [ -n "$SHOTS" ]; then import -window root -crop 360x280+0+0 +repage "$SHOTS/linux-tray-menu.png"; fi
xdotool key Escape
# xfce4-panel 4.18 never says the menu closed; hosts that do send "closed".
"$PY" "$HELPER" menu-event closed
wait_line '^menu 0$' 5

if [ -n "$SHOTS" ]; then
  xdotool mousemove 300 150 sleep 0.3 mousemove 12 16 sleep 2
  import -window root -crop 300x90+0+0 +repage "$SHOTS/linux-tray-tooltip.png"
  xdotool mousemove 300 150
fi

echo "a notification goes to org.freedesktop.Notifications"
# shellcheck disable=SC1112  # a typographic apostrophe on purpose: UTF-8 must arrive as sent
echo '{"notify":{"title":"Drover lives here","text":"Its icon shows the engine’s state."}}' >&9
wait_notification 'Drover lives here' 5
note "$(cat "$T/notify.log")"
"$PY" - "$T/notify.log" <<'PYCHECK' || fail "the notification is wrong: $(cat "$T/notify.log")"
import json, os, sys
n = json.loads(open(sys.argv[1]).readline())
assert n["app"] == "Drover" and n["summary"] == "Drover lives here", n
assert n["body"] == "Its icon shows the engine’s state.", n
assert os.path.isabs(n["icon"]) and n["icon"].endswith("drover-tray-green.png") and os.path.exists(n["icon"]), n
PYCHECK

echo "end of input closes the tray: the item leaves, its icon directory goes"
icons=$(ls -d "$T/run"/drover-tray-* 2>/dev/null) || fail "no icon directory under XDG_RUNTIME_DIR"
[ "$(stat -c %a "$icons")" = 700 ] || fail "the icon directory is mode $(stat -c %a "$icons")"
exec 9>&-
wait_exit "$PROBE_PID" 5 "the probe did not end after its input did" || fail "the probe exited with $?"
PROBE_PID=""
[ ! -e "$icons" ] || fail "the icon directory $icons is still there"
deadline=$((SECONDS + 5))
until "$PY" - <<'PYCHECK'
import subprocess, sys
out = subprocess.run(["gdbus", "call", "--session", "--dest", "org.kde.StatusNotifierWatcher", "--object-path",
                      "/StatusNotifierWatcher", "--method", "org.freedesktop.DBus.Properties.Get",
                      "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems"],
                     capture_output=True, text=True).stdout
sys.exit("/drover" in out)
PYCHECK
do
  [ "$SECONDS" -le "$deadline" ] || fail "the item is still registered after the probe ended"
  sleep 0.05
done
out=$("$PY" "$HELPER" wait-colour 0 0 480 32 none 5 "$T/after.png") || fail "an icon stays on the panel: $out"

echo "the session bus dies under the tray: lost, with the reason; the probe lives on and ends cleanly"
# GLib's default would raise SIGTERM on one of its threads; a process that
# blocks SIGTERM (every drover process) would never see it and linger.
: >"$T/probe.out"
exec 9<>"$T/in"
"$PROBE" <"$T/in" >"$T/probe.out" 2>"$T/probe.err" 9>&- &
PROBE_PID=$!
wait_line '^ready$' 10
"$PY" "$HELPER" wait-item 10 >/dev/null || fail "the second probe's item never registered"
kill "$DESKTOP_BUS"
wait_line '^lost the D-Bus session bus closed' 5
note "$(grep '^lost' "$T/probe.out")"
kill -0 "$PROBE_PID" 2>/dev/null || fail "the probe died with the bus (GLib's exit-on-close)"
exec 9>&-
wait_exit "$PROBE_PID" 5 "the probe did not end after its input did, with the bus gone" ||
  fail "the probe exited with $? after the bus died: $(tail -5 "$T/probe.err")"
PROBE_PID=""
echo "ok: the platform tray under xfce4-panel"
