#!/usr/bin/env bash
# The Windows packet path end to end (#14, item 5): the test build's
# drover.exe under Wine, on the test-double WinDivert.dll, against real dante
# and the far server in Linux network namespaces (tests/e2e/lib.sh).
#   e2e_windivert.sh DIR/windivert_double/drover.exe DIR/windivert_double/drover.com DIR/drover_win_sleeper.exe
#
# Wine: a private copy (cp -a) of the cached, initialised prefix, whose
# wineserver is started inside the client namespace first: Wine's sockets
# are made by the wineserver, so Drover's listener, its upstream sockets and
# its UDP relay all live in that namespace (/work/build-hA2/findings.md).
#
# The double moves no real packets; the test plays WinDivert and the kernel:
#  - WinDivert's part: records fed to the double's NETWORK and SOCKET layers
#    (tests/windows/e2e_windivert/wd_e2e.py on double_ctl.py), and the
#    packets Drover injects read back from its out/ records.
#  - TCP. A SOCKET-layer CONNECT for client port cp names the pid of a
#    running Wine process called Discord.exe (the sleeper, copied; a target);
#    then the target's SYN C:cp -> S:sp is fed outbound. Drover must inject
#    it back inbound as S:cp -> C:L (L = its listener), IfIdx kept,
#    checksums valid. What the kernel would do next, deliver that SYN to the
#    listener as a connection from S:cp, is done for real: S (the far
#    server's address) is added to the client namespace's lo, and a Linux
#    socket bound to S:cp connects to C:L. The listener's peer is then
#    exactly what the reflect makes it (S:cp), so original_dst finds the NAT
#    entry (port cp, same address S) and the relay asks dante for S:sp;
#    dante, in its own namespace, reaches the real far server at S (the lo
#    alias exists only in the client namespace, and Drover's own sockets go
#    only to dante at the proxy's address). The bytes (an HTTP page; 64 KiB
#    through the echo) come back on that socket; dante logged the CONNECT;
#    the far server saw the proxy's address, never the client's; and no
#    out/ record carried the target's packet outbound to S (on Windows a
#    leak is a reinjected packet, which the double records).
#  - UDP. A SOCKET-layer BIND for cp, then the target's datagram C:cp ->
#    S:7001 fed with IfIdx 9: Drover takes it to its UDP relay, which sends
#    it through dante's UDP ASSOCIATE; the far echo's reply must come back
#    as one injected inbound packet S:7001 -> C:cp, same payload, valid IPv4
#    and UDP checksums, IfIdx 9; the far server logged it from the proxy.
#  - A non-target (a sleeper called plainapp.exe): its SYN is reinjected,
#    address and packet byte-identical.
#  - A target's IPv6 SYN: one inbound RST, nothing else; so for a SYN no
#    SOCKET event attributed (under Wine the IP Helper tables name no pid, so
#    the SOCKET layer alone made the cases above targets). Status counts them.
#  - Handle loss: lose-handle-N for the NETWORK handle -> one reopen (new
#    open records; a non-target packet goes through the new handle), then
#    lose-handle (every handle) within 30 s -> Failed, status says why.
#  - WinDivertOpen failing with 5, 577, 654, 1275, 1753 (open-error before a
#    fresh engine starts): Failed, status shows that code's sentence.
# Exits 77 (SKIP) when not root or Wine cannot start.
set -euo pipefail
EXE=${1:?usage: e2e_windivert.sh drover.exe drover.com drover_win_sleeper.exe}
COM=${2:?drover.com}
SLEEPER=${3:?drover_win_sleeper.exe}
HERE_WIN=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE_WIN/../..
WD=$HERE_WIN/e2e_windivert/wd_e2e.py
T_START=$(date +%s)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
for f in "$EXE" "$COM" "$SLEEPER" "$(dirname "$EXE")/WinDivert.dll" "$(dirname "$EXE")/WinDivert64.sys"; do
  [ -f "$f" ] || { echo "FAIL: $f: no such file" >&2; exit 1; }
done
command -v danted >/dev/null || { echo "SKIP: dante-server is not installed"; exit 77; }

# The cached prefix, made once if need be (as every Windows test does); an
# existing one is only copied (no server of ours starts outside the namespace).
# shellcheck source=tools/windows/wine-env.sh
. "$ROOT/tools/windows/wine-env.sh"
CACHE_PREFIX=$WINEPREFIX
if [ ! -f "$CACHE_PREFIX/.drover-complete" ]; then
  drover_wine_ensure >/dev/null 2>&1 || { echo "SKIP: Wine cannot start here"; exit 77; }
fi
if [ -z "$DROVER_WINE" ] || [ -z "$DROVER_WINESERVER" ]; then echo "SKIP: Wine is not installed"; exit 77; fi

# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
PREFIX=$E2E_DIR/wineprefix
CTL=$E2E_DIR/ctl
wine_cleanup() {
  local rc=$?
  set +e  # every step runs, whatever failed before or fails here
  if [ -d "$PREFIX" ]; then
    WINEPREFIX=$PREFIX timeout 20 "$DROVER_WINESERVER" -k >/dev/null 2>&1 || true
    # Its server directory (/tmp/wine-*/server-DEV-INODE), named by the prefix's inode.
    local dev ino
    dev=$(stat -c %D "$PREFIX" 2>/dev/null) ino=$(stat -c %i "$PREFIX" 2>/dev/null) || true
    if [ -n "$ino" ]; then rm -rf /tmp/wine-*/server-"$dev-$(printf %x "$ino")" 2>/dev/null; fi
  fi
  # Its programs' wrappers end with them (timeout re-raises their SIGKILL):
  # reaped here, quietly, before e2e_cleanup stops the servers.
  local p
  for p in "${E2E_PIDS[@]}"; do
    case $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") in
      *"$DROVER_WINE"*) { kill "$p"; wait "$p"; } 2>/dev/null || true ;;
    esac
  done
  [ "$rc" = 0 ] || { [ -f "${ENGINE_LOG:-$E2E_DIR/engine.log}" ] && { echo "--- engine output ---"; tail -30 "${ENGINE_LOG:-$E2E_DIR/engine.log}"; } >&2; }
  e2e_cleanup
  exit "$rc"
}
e2e_setup
trap wine_cleanup EXIT

export DROVER_WINEPREFIX=$PREFIX WINEPREFIX=$PREFIX
cp -a "$CACHE_PREFIX" "$PREFIX" || { echo "SKIP: cannot copy the Wine prefix $CACHE_PREFIX"; exit 77; }
# Only this namespace's wineserver may serve the copy (findings: a server
# outside would make every socket in the host's namespace).
"$DROVER_WINESERVER" -k >/dev/null 2>&1 || true
in_c env DROVER_WINEPREFIX="$PREFIX" timeout 120 bash "$ROOT/tools/windows/wine-env.sh" --ensure ||
  { echo "SKIP: Wine cannot start inside a network namespace"; exit 77; }
ws=$(pgrep -f "^$DROVER_WINESERVER" | while read -r p; do
  [ "$(readlink /proc/"$p"/ns/net)" = "$(in_c readlink /proc/self/ns/net)" ] && echo "$p"; done | head -1)
[ -n "$ws" ] || fail "no wineserver runs inside $NS_C"
note "wine prefix copied and its wineserver ($ws) started in $NS_C after $(( $(date +%s) - T_START )) s"

start_far
start_dante none
# S on the client namespace's lo: the listener's peer as after a real reflect.
ip -n "$NS_C" addr add "$IP_F/32" dev lo

# Windows programs in the client namespace, bounded; CRLF dropped.
wine_c() {  # wine_c SECS PROGRAM ARGS...
  local secs=$1; shift
  in_c timeout -k 5 "$secs" env -u DISPLAY -u WAYLAND_DISPLAY "$DROVER_WINE" "$@" </dev/null
}
win_path() { local p=${1//\//\\}; echo "Z:$p"; }
DOUBLE_SHA="WinDivert.dll=$(sha256sum "$(dirname "$EXE")/WinDivert.dll" | cut -d' ' -f1);WinDivert64.sys=$(sha256sum "$(dirname "$EXE")/WinDivert64.sys" | cut -d' ' -f1)"

# A target (Discord.exe) and a non-target (plainapp.exe), both the sleeper.
cp "$SLEEPER" "$E2E_DIR/Discord.exe"
cp "$SLEEPER" "$E2E_DIR/plainapp.exe"
bg "$E2E_DIR/discord.log" in_c timeout -k 5 900 "$DROVER_WINE" "$(win_path "$E2E_DIR/Discord.exe")" 900000
bg "$E2E_DIR/plainapp.log" in_c timeout -k 5 900 "$DROVER_WINE" "$(win_path "$E2E_DIR/plainapp.exe")" 900000
winpid() {
  local name=$1 out
  for _ in $(seq 1 50); do
    out=$(wine_c 30 wmic process get name,processid 2>/dev/null | python3 "$WD" winpid "$name" 2>/dev/null) &&
      { echo "$out"; return 0; }
    sleep 0.2
  done
  fail "no Windows process named $name"
}
PID_T=$(winpid Discord.exe)
PID_N=$(winpid plainapp.exe)
note "Windows pids: Discord.exe $PID_T, plainapp.exe $PID_N"

# One engine: `drover.exe run --no-tray` in the client namespace, on the
# double (control directory $1), with the config named target.
TARGETS='"Discord.exe"' write_config "$E2E_DIR/drover.toml"
ENGINE_PID=""
start_win_engine() {  # start_win_engine CTLDIR LOG
  mkdir -p "$1"
  bg "$2" in_c timeout -k 5 600 env -u DISPLAY -u WAYLAND_DISPLAY DROVER_WINDIVERT_DOUBLE_DIR="$1" \
    DROVER_TEST_WINDIVERT_SHA256="$DOUBLE_SHA" "$DROVER_WINE" "$EXE" run --no-tray \
    --config "$(win_path "$E2E_DIR/drover.toml")"
  ENGINE_PID=$BG_PID
  ENGINE_LOG=$2
}
status_json() { wine_c 30 "$COM" status --json 2>/dev/null | tr -d '\r'; }
field() { python3 -c "import json,sys; v=json.load(sys.stdin).get('$1',''); print(' '.join(map(str,v)) if isinstance(v,list) else v)" <<<"$J"; }
J=""
wait_win_state() {  # wait_win_state STATE SECS: $J holds the last status
  local want=$1 secs=$2 s="" end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    if J=$(status_json) && [ -n "$J" ]; then
      s=$(field state 2>/dev/null || true)
      [ "$s" = "$want" ] && return 0
    fi
    kill -0 "$ENGINE_PID" 2>/dev/null || fail "drover.exe ended (state '$s'): $(tail -5 "$ENGINE_LOG")"
    sleep 0.2
  done
  fail "the engine is '$s' ($J), wanted $want within ${secs}s"
}
stop_win_engine() {
  wine_c 30 "$COM" stop >/dev/null 2>&1 || true
  local end=$(( $(date +%s) + 20 ))
  while kill -0 "$ENGINE_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
  kill -0 "$ENGINE_PID" 2>/dev/null && fail "drover.exe did not stop within 20 s"
  wait "$ENGINE_PID" 2>/dev/null || true
}
wd() { in_c timeout 60 python3 "$WD" "$@"; }
step() { local out; out=$(wd "$@") || fail "$out"; note "$1: $out"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "drover.exe run --no-tray on the double, dante as the proxy: Active"
t0=$(date +%s%N)
start_win_engine "$CTL" "$E2E_DIR/engine.log"
wait_win_state Active 60
note "Active after $(ms_since "$t0") ms"
[ "$(field target_pids)" = "$PID_T" ] || fail "status lists target pids '$(field target_pids)', want $PID_T"
python3 "$WD" opens "$CTL" | grep -q "^1 0 handle" || fail "no NETWORK-layer handle: $(python3 "$WD" opens "$CTL")"
python3 "$WD" opens "$CTL" | grep -q "^2 3 handle" || fail "no SOCKET-layer handle: $(python3 "$WD" opens "$CTL")"

echo "TCP: a target's SYN reflected to the listener, its bytes through dante"
c0=$(dante_connects "$DANTE_LOG"); m=$(far_mark)
step tcp "$CTL" "$PID_T" "$IP_C" "$IP_F" 40001 8080 5 http
step tcp "$CTL" "$PID_T" "$IP_C" "$IP_F" 40002 7000 6 echo
[ "$(dante_connects "$DANTE_LOG")" -eq $((c0 + 2)) ] || fail "dante logged $(( $(dante_connects "$DANTE_LOG") - c0 )) CONNECTs, wanted 2"
grep -q "tcp/connect \[: .*$IP_F.8080" "$DANTE_LOG" || fail "dante logged no CONNECT to $IP_F.8080"
[ "$(far_since "$m" | grep -c "^tcp $IP_P " || true)" = 2 ] || fail "the far server saw from the proxy: $(far_since "$m")"
[ "$(far_since "$m" | grep -c "^tcp $IP_C " || true)" = 0 ] || fail "the far server saw the client directly"
note "dante: 2 CONNECTs; far server: 2 connections from $IP_P, none from $IP_C"

echo "UDP: a target's datagram through dante's UDP ASSOCIATE, the reply injected"
u0=$(dante_udp "$DANTE_LOG"); m=$(far_mark)
step udp "$CTL" "$PID_T" "$IP_C" "$IP_F" 40010 7001 9
[ "$(dante_udp "$DANTE_LOG")" -ge $((u0 + 1)) ] || fail "dante logged no UDP association"
[ "$(far_udp_since "$m" "$IP_P" 7001 | grep -c . || true)" = 1 ] || fail "the far server saw from the proxy: $(far_since "$m")"
[ "$(far_udp_since "$m" "$IP_C" | grep -c . || true)" = 0 ] || fail "the far server saw the client's datagram directly"
note "far server: the datagram from $IP_P, none from $IP_C"

echo "a non-target's SYN is reinjected byte for byte"
step nontarget "$CTL" "$PID_N" "$IP_C" "$IP_F" 40020 8080 5

echo "a target's IPv6 SYN gets an inbound RST, nothing else"
step refused "$CTL" "$PID_T" "$IP6_C" "$IP6_F" 40030 8080 5

echo "a SYN no SOCKET event attributed (Wine's tables name no pid): refused, never direct"
step refused "$CTL" none "$IP_C" "$IP_F" 40040 8080 5
J=$(status_json)
counts="redirected $(field flows_redirected) direct $(field flows_direct) refused $(field flows_refused) unattributed $(field flows_unattributed)"
note "status: $counts"
[ "$counts" = "redirected 3 direct 1 refused 2 unattributed 1" ] ||
  fail "status counts $counts, want redirected 3 (2 TCP, 1 UDP) direct 1 refused 2 (IPv6, unattributed) unattributed 1"
assert_no_target_leak

echo "handle loss: one reopen, then a second loss within 30 s -> Failed"
net_handle() { python3 "$WD" opens "$CTL" | awk '$2 == 0 && $3 == "handle" {n = $1} END {print n}'; }
n_open=$(python3 "$WD" opens "$CTL" | wc -l)
h=$(net_handle)
t0=$(date +%s%N)
touch "$CTL/lose-handle-$h"
end=$(( $(date +%s) + 15 ))
while [ "$(net_handle)" = "$h" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
h2=$(net_handle)
[ "$h2" != "$h" ] || fail "no new NETWORK handle within 15 s of losing handle $h: $(python3 "$WD" opens "$CTL")"
note "handle $h lost -> reopened as handle $h2 after $(ms_since "$t0") ms"
[ -f "$CTL/closed-$h" ] || fail "the lost handle $h was not closed"
wait_win_state Active 10
[ -n "$(field last_error)" ] || fail "status does not say the driver was lost"
note "status after the reopen: Active, last_error: $(field last_error)"
step nontarget "$CTL" "$PID_N" "$IP_C" "$IP_F" 40021 8080 5
n_reopen=$(( $(python3 "$WD" opens "$CTL" | wc -l) - n_open ))
t0=$(date +%s%N)
touch "$CTL/lose-handle"
wait_win_state Failed 10
note "second loss -> Failed after $(ms_since "$t0") ms: $(field last_error)"
grep -q "driver lost twice within 30 s" <<<"$(field last_error)" || fail "Failed with: $(field last_error)"
sleep 3  # no further reopen after Failed
n_after=$(( $(python3 "$WD" opens "$CTL" | wc -l) - n_open ))
[ "$n_after" = "$n_reopen" ] || fail "opened $((n_after - n_reopen)) more handles after Failed"
note "handles opened by the one reopen: $n_reopen (NETWORK and SOCKET), none after Failed"
stop_win_engine

echo "every WinDivertOpen error code -> its sentence in status"
declare -A SENTENCE=(
  [5]="packet capture needs administrator rights (error 5): start Drover again and accept the administrator prompt"
  [577]="Windows did not accept the WinDivert driver's signature (error 577): install the pending Windows updates, then start Drover again"
  [654]="another version of the WinDivert driver is loaded by another program (zapret, GoodbyeDPI or similar) (error 654): stop the other tool and reboot, then start Drover"
  [1275]="Windows blocked the WinDivert driver (error 1275): an antivirus, Memory Integrity (Core isolation) or a virtual machine without driver support stops it; allow WinDivert64.sys in the antivirus or turn Memory Integrity off, then start Drover"
  [1753]="the Windows Base Filtering Engine service is disabled (error 1753): set the service \"Base Filtering Engine\" to Automatic, start it, then start Drover"
)
for code in 5 577 654 1275 1753; do
  d=$E2E_DIR/ctl-$code
  mkdir -p "$d"
  echo "$code" >"$d/open-error"
  t0=$(date +%s%N)
  start_win_engine "$d" "$E2E_DIR/engine-$code.log"
  wait_win_state Failed 60
  err=$(field last_error)
  [[ $err == *"${SENTENCE[$code]}"* ]] || fail "open error $code: status says '$err'"
  grep -q "result=error $code" "$d/open-1.txt" || fail "open error $code: $(cat "$d/open-1.txt")"
  note "$code: Failed after $(ms_since "$t0") ms: $err"
  stop_win_engine
done

assert_no_target_leak
echo "PASS in $(( $(date +%s) - T_START )) s"
