# shellcheck shell=bash
# A desktop session of our own for the tray tests, sourced by them: Xvfb on
# a display number it picks itself, a private D-Bus session bus, xfce4-panel
# with one status tray plugin, and a stand-in notification server, all
# under one directory. Nothing of the user's desktop is read or written.
#   desktop_start DIR    starts it all; exports DISPLAY, DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*
#   desktop_stop [RC]    kills everything on our bus, the bus and the display; returns RC
#                        (default $?), so an EXIT trap keeps the test's status
#   wait_exit PID SECS WHAT  PID ends within SECS (its status returned), or fail WHAT
# The caller defines fail() and note(). tray_helper.py is the eyes and hands.
DESKTOP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system's python: python3-gi is installed for it, not for a pyenv one.
PY=/usr/bin/python3
HELPER=$DESKTOP_HERE/tray_helper.py
DESKTOP_XVFB="" DESKTOP_BUS="" DESKTOP_PIDS=()

desktop_start() {
  local d=$1
  for tool in Xvfb dbus-daemon xfce4-panel import convert xdotool gdbus "$PY"; do
    command -v "$tool" >/dev/null || fail "$tool is missing (./dev setup installs it)"
  done
  "$PY" -c 'import gi' 2>/dev/null || fail "python3-gi is missing (./dev setup installs it)"
  mkdir -p "$d/home" "$d/config/xfce4/xfconf/xfce-perchannel-xml" "$d/cache" "$d/data" "$d/run"
  chmod 700 "$d/run"
  export HOME=$d/home XDG_CONFIG_HOME=$d/config XDG_CACHE_HOME=$d/cache XDG_DATA_HOME=$d/data
  export XDG_RUNTIME_DIR=${DESKTOP_RUNTIME_DIR:-$d/run}
  export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
  unset SESSION_MANAGER WAYLAND_DISPLAY
  DESKTOP_DIR=$d

  Xvfb -displayfd 3 -screen 0 640x400x24 -nolisten tcp 3>"$d/display" >"$d/xvfb.log" 2>&1 &
  DESKTOP_XVFB=$!
  for _ in $(seq 1 100); do [ -s "$d/display" ] && break; sleep 0.05; done
  [ -s "$d/display" ] || fail "Xvfb did not start: $(cat "$d/xvfb.log")"
  DISPLAY=:$(cat "$d/display")
  export DISPLAY
  dbus-daemon --session --fork --print-address=4 --print-pid=5 4>"$d/bus" 5>"$d/bus.pid"
  DESKTOP_BUS=$(cat "$d/bus.pid")
  DBUS_SESSION_BUS_ADDRESS=$(cat "$d/bus")
  export DBUS_SESSION_BUS_ADDRESS

  # One panel at the top, one plugin (the status tray), a dark blue
  # background the four colours stand out from. With a config there, no
  # first-start dialog blocks it.
  cat >"$d/config/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="background-style" type="uint" value="1"/>
      <property name="background-rgba" type="array">
        <value type="double" value="0.1"/><value type="double" value="0.1"/>
        <value type="double" value="0.4"/><value type="double" value="1"/>
      </property>
      <property name="plugin-ids" type="array"><value type="int" value="1"/></property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
XML
  xfce4-panel --disable-wm-check </dev/null >"$d/panel.log" 2>&1 &
  DESKTOP_PIDS+=($!)
  # An item that registers before the host is there is, 1 run in 5, never shown.
  "$PY" "$HELPER" wait-host 20 || fail "xfce4-panel registered no StatusNotifierItem host: $(cat "$d/panel.log")"

  "$PY" "$HELPER" notify-server "$d/notify.log" >"$d/notify.out" 2>&1 &
  DESKTOP_PIDS+=($!)
  local deadline=$((SECONDS + 10))
  until grep -q ready "$d/notify.out"; do
    [ "$SECONDS" -le "$deadline" ] || fail "the stand-in notification server did not start: $(cat "$d/notify.out")"
    sleep 0.05
  done
}

# wait_notification REGEX SECONDS: a Notify call (a JSON line) matching REGEX.
wait_notification() {
  local deadline=$((SECONDS + $2))
  until grep -qE "$1" "$DESKTOP_DIR/notify.log" 2>/dev/null; do
    [ "$SECONDS" -le "$deadline" ] ||
      fail "no notification like '$1' in $2 s: $(cat "$DESKTOP_DIR/notify.log" 2>/dev/null)"
    sleep 0.05
  done
}

# wait_exit PID SECONDS WHAT: PID has ended within SECONDS (then reaped, its
# status returned), or the test fails saying WHAT.
wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ "$SECONDS" -le "$deadline" ] || fail "$3"
    sleep 0.05
  done
  wait "$1"
}

desktop_stop() {
  local rc=${1:-$?} on_bus="" p
  # Everything on our private bus: the panel, what it had activated
  # (xfconfd), the tray, the stand-in notification server.
  if [ -n "$DESKTOP_BUS" ]; then on_bus=$(timeout 5 "$PY" "$HELPER" bus-pids 2>/dev/null || true); fi
  for p in "${DESKTOP_PIDS[@]}" $on_bus $DESKTOP_BUS $DESKTOP_XVFB; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${DESKTOP_PIDS[@]}" $on_bus $DESKTOP_BUS $DESKTOP_XVFB; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] && [ -n "${DESKTOP_DIR:-}" ]; then
    for f in panel.log notify.log; do
      [ -s "$DESKTOP_DIR/$f" ] && { echo "--- $f" >&2; tail -20 "$DESKTOP_DIR/$f" >&2; }
    done
  fi
  DESKTOP_BUS="" DESKTOP_XVFB="" DESKTOP_PIDS=()
  return "$rc"
}
