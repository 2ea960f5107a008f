# Sourced by tests/windows/tray.sh. The screen side: the tray window's colour
# from screenshots, the open menu's rows, clicks on them; and the engine's:
# drover.com status and stop, a DNS answerer for the proxy's UDP check.
# Uses the caller's $work, $img, rgb[], $engine_pid, $DROVER_WINE and
# fail/now_ms.
# shellcheck shell=bash disable=SC2154,SC2034  # work, img, rgb, engine_pid: the caller's; icon_x, icon_y, shown_ms, menu_*, state, dns_*: its results

tray_window() { xdotool search --onlyvisible --name '^Wine System Tray$' 2>/dev/null | head -1; }
# expect_colour NAME SECS: within SECS the tray window shows mostly NAME's
# colour (at least 100 pixels of it: a 16 px disc has ~160; more than of any
# other state's colour). Sets icon_x/icon_y (screen) to the disc's centre.
icon_x=0 icon_y=0
declare -A state_of=([grey]=idle [green]=active [yellow]=reconnecting [red]=failed)  # screenshots' names
expect_colour() {
  local name=$1 t0 end win counts n best other geo
  t0=$(now_ms) end=$(($(now_ms) + $2 * 1000))
  while [ "$(now_ms)" -lt "$end" ]; do
    win=$(tray_window) || true
    if [ -n "$win" ] && import -window "$win" "$work/tray.png" 2>/dev/null; then
      counts=$(python3 "$img" count "$work/tray.png" "${rgb[$name]}" "${rgb[grey]}" "${rgb[green]}" "${rgb[yellow]}" \
        "${rgb[red]}")
      read -r _ n cx cy <<<"$(head -1 <<<"$counts")"
      best=1
      while read -r hx other _; do
        [ "$hx" != "${rgb[$name]}" ] && [ "$other" -ge "$n" ] && best=0
      done <<<"$(tail -n +2 <<<"$counts")"
      if [ "$n" -ge 100 ] && [ "$best" = 1 ]; then
        geo=$(xdotool getwindowgeometry --shell "$win")
        icon_x=$(($(sed -n 's/^X=//p' <<<"$geo") + cx)) icon_y=$(($(sed -n 's/^Y=//p' <<<"$geo") + cy))
        shown_ms=$(($(now_ms) - t0))
        if [ -n "${DROVER_TRAY_SCREENSHOTS:-}" ] && [ "${3:-}" = keep ]; then
          mkdir -p "$DROVER_TRAY_SCREENSHOTS"
          convert "$work/tray.png" -strip "$DROVER_TRAY_SCREENSHOTS/wine-tray-${state_of[$name]}.png"
        fi
        return 0
      fi
    fi
    sleep 0.05
  done
  fail "the tray did not turn $name within $2 s (last counts: $(tr '\n' ' ' <<<"${counts:-no window}"))"
}

# menu_window CLASS ITEMS: the open menu (a window of the program's class,
# CLASS = its exe's name) once its ITEMS text rows are drawn; sets menu_x,
# menu_y, menu_w and bands (one "y0 y1" per item, from the top).
menu_x=0 menu_y=0 menu_w=0 bands=""
menu_window() {
  local end=$(($(now_ms) + 5000)) win geo
  while [ "$(now_ms)" -lt "$end" ]; do
    win=$(xdotool search --onlyvisible --class "^$1\$" 2>/dev/null | head -1) || true
    if [ -n "$win" ] && import -window "$win" "$work/menu.png" 2>/dev/null; then
      bands=$(python3 "$img" bands "$work/menu.png")
      if [ "$(wc -l <<<"$bands")" = "$2" ]; then
        geo=$(xdotool getwindowgeometry --shell "$win")
        menu_x=$(sed -n 's/^X=//p' <<<"$geo") menu_y=$(sed -n 's/^Y=//p' <<<"$geo")
        menu_w=$(sed -n 's/^WIDTH=//p' <<<"$geo")
        menu_id=$win
        return 0
      fi
    fi
    sleep 0.1
  done
  fail "no menu of $1 with $2 text rows (rows: $(tr '\n' ',' <<<"$bands"))"
}
# menu_gone CLASS SECS: within SECS no menu of CLASS is open (no window of
# that class shows).
menu_gone() {
  local end=$(($(now_ms) + $2 * 1000))
  while [ "$(now_ms)" -lt "$end" ]; do
    [ -z "$(xdotool search --onlyvisible --class "^$1\$" 2>/dev/null | head -1)" ] && return 0
    sleep 0.1
  done
  fail "the menu of $1 is still open after $2 s"
}
click_item() {  # click_item N: the N-th text row (1 = the status row)
  local y0 y1
  read -r y0 y1 <<<"$(sed -n "${1}p" <<<"$bands")"
  xdotool mousemove $((menu_x + menu_w / 2)) $((menu_y + (y0 + y1) / 2))
  sleep 0.2
  xdotool click 1
}
# status_row_changes SECS: the open menu's first row is redrawn differently
# (compared with $work/menu.png) within SECS, the menu still open.
status_row_changes() {
  local end=$(($(now_ms) + $1 * 1000)) y0 y1 d=0
  read -r y0 y1 <<<"$(head -1 <<<"$bands")"
  while [ "$(now_ms)" -lt "$end" ]; do
    if import -window "$menu_id" "$work/menu2.png" 2>/dev/null; then
      d=$(python3 "$img" diff "$work/menu.png" "$work/menu2.png" "$y0" "$y1")
      [ "$d" -gt 0 ] && return 0
    fi
    sleep 0.1
  done
  fail "the open menu's status row was not redrawn within $1 s"
}

# --- the engine ---------------------------------------------------------------
win_path() { local p=${1//\//\\}; echo "Z:$p"; }
status_json() { timeout 30 env -u DISPLAY "$DROVER_WINE" "$1" status --json </dev/null 2>/dev/null | tr -d '\r'; }
state=""
wait_state() {  # wait_state COM STATE SECS
  local end=$(($(now_ms) + $3 * 1000)) j
  while [ "$(now_ms)" -lt "$end" ]; do
    if j=$(status_json "$1") && [ -n "$j" ]; then
      state=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$j" 2>/dev/null || true)
      [ "$state" = "$2" ] && return 0
    fi
    kill -0 "$engine_pid" 2>/dev/null || fail "drover.exe run ended (state '$state')"
    sleep 0.2
  done
  fail "the engine is '$state', wanted $2 within $3 s"
}
stop_engine() {  # stop_engine COM [SECS]: drover stop, and drover.exe ends within SECS (20)
  local end=$(($(now_ms) + ${2:-20} * 1000))
  timeout 30 env -u DISPLAY "$DROVER_WINE" "$1" stop </dev/null >/dev/null 2>&1 || true
  while kill -0 "$engine_pid" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do sleep 0.1; done
  kill -0 "$engine_pid" 2>/dev/null && fail "drover.exe did not stop within ${2:-20} s"
  wait "$engine_pid" 2>/dev/null || true
  engine_pid=""
}

# start_dns_answerer: answers every DNS question on 127.0.0.2 with itself
# (QR set), which is all the engine's UDP check asks; sets dns_pid, dns_port.
dns_pid="" dns_port=""
start_dns_answerer() {
  local end
  python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
print(s.getsockname()[1])
while True:
    d, a = s.recvfrom(512)
    if len(d) >= 12:
        s.sendto(d[:2] + bytes([d[2] | 0x80]) + d[3:], a)
' >"$work/dns.port" 2>"$work/dns.log" &
  dns_pid=$!
  end=$(($(now_ms) + 5000))
  while [ ! -s "$work/dns.port" ] && [ "$(now_ms)" -lt "$end" ]; do sleep 0.05; done
  [ -s "$work/dns.port" ] || fail "the DNS answerer did not start: $(cat "$work/dns.log")"
  dns_port=$(head -1 "$work/dns.port")
}
