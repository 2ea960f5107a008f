# The screen side of tests/windows/tray.sh, sourced by it: the tray window's
# colour from screenshots, the open menu's rows, clicks on them. Uses the
# caller's $work, $img, rgb[] and fail/now_ms.
# shellcheck shell=bash disable=SC2154,SC2034  # work, img, rgb: the caller's; icon_x, icon_y, shown_ms, menu_*: its results

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
