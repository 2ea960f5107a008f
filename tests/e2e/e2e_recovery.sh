#!/usr/bin/env bash
# E3 recovery for real: dante killed and restarted, dante gone past the cap,
# the capture rules removed under the engine, config edits while running,
# and 20 reconnect cycles without leaking sockets or threads.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
install_clients
start_far
start_dante none 1080
ENGINE_EXTRA='[engine]
heartbeat_interval = "1s"
reconnect_backoff_initial = "1s"
reconnect_backoff_max = "2s"
reconnect_total_cap = "20s"' write_config "$E2E_DIR/drover.toml"
# The sleep/resume injections below are test-only requests.
ENGINE_RUN_ARGS=--test-hooks
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
T=$E2E_DIR/droverclient
fetch() { in_c "$T" http "$IP_F" 8080 / >/dev/null 2>&1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "dante killed during a transfer -> Reconnecting within 2 s"
in_c "$T" http "$IP_F" 8080 /bytes/2000000000 >/dev/null 2>&1 &
XFER=$!
E2E_PIDS+=("$XFER")
sleep 0.5
t0=$(date +%s%N)
stop_dante 1080
wait_state Reconnecting 2
note "Reconnecting after $(ms_since "$t0") ms, attempt $(engine_field reconnect_attempt)"
[ "$(engine_field reconnect_attempt)" -ge 1 ] || fail "no attempt number in status"
wait "$XFER" 2>/dev/null || true

echo "while dante is down, target traffic never reaches the far server"
d0=$(far_direct_from_client)
for _ in 1 2 3; do if fetch; then fail "a target fetch succeeded with the proxy down"; fi; done
in_c "$E2E_DIR/drovercurl" -s --max-time 3 "http://$IP_F:8080/" >/dev/null 2>&1 && fail "curl (a target) got through"
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "target traffic leaked direct while Reconnecting"

echo "dante back -> Active within 30 s, and the next fetch goes through dante"
t0=$(date +%s%N)
start_dante none 1080
wait_state Active 30
note "Active again after $(ms_since "$t0") ms"
c0=$(dante_connects)
fetch || fail "fetch after recovery failed"
[ "$(dante_connects)" -eq $((c0 + 1)) ] || fail "the fetch after recovery did not go through dante"

echo "20 Reconnecting -> Active cycles leave sockets and threads at their baseline"
pid=$(engine_pid)
fd_targets() { for f in /proc/"$1"/fd/*; do readlink "$f"; done | sed 's/\[[0-9]*\]/[]/' | sort; }
# The baseline is the least count over 1.5 s, outside any probe.
fds0=1000000
for _ in $(seq 1 15); do
  n=$(ls /proc/"$pid"/fd | wc -l)
  [ "$n" -lt "$fds0" ] && { fds0=$n; fds_list0=$(fd_targets "$pid"); }
  sleep 0.1
done
thr0=$(ls /proc/"$pid"/task | wc -l)
for i in $(seq 1 20); do
  stop_dante 1080
  wait_state Reconnecting 5
  start_dante none 1080
  wait_state Active 30
done
fetch || fail "fetch after the cycles failed"
# The upstream monitor's probe holds a few sockets for a moment every
# heartbeat; a leak stays, so the count gets 3 s to come back.
for _ in $(seq 1 30); do
  fds1=$(ls /proc/"$pid"/fd | wc -l)
  [ "$fds1" -le "$fds0" ] && break
  sleep 0.1
done
thr1=$(ls /proc/"$pid"/task | wc -l)
note "fds $fds0 -> $fds1, threads $thr0 -> $thr1, tcp flows $(engine_field tcp_flows)"
if [ "$fds1" -gt "$fds0" ]; then
  printf '%s\n' "$fds_list0" > "$E2E_DIR/fds0"; fd_targets "$pid" > "$E2E_DIR/fds1"
  diff "$E2E_DIR/fds0" "$E2E_DIR/fds1" >&2 || true
  fail "file descriptors grew from $fds0 to $fds1"
fi
[ "$thr1" -le "$thr0" ] || fail "threads grew from $thr0 to $thr1"
[ "$(engine_field tcp_flows)" = 0 ] || fail "flows left open"

echo "the capture rules removed under the engine -> one reopen -> working"
in_c iptables -w -t mangle -D OUTPUT -j DROVER_OUT
for _ in $(seq 1 60); do [ "$(engine_field detail)" = "reopening driver" ] && break; sleep 0.05; done
[ "$(engine_field detail)" = "reopening driver" ] || fail "the loss was not noticed"
for _ in $(seq 1 100); do [ "$(engine_field detail)" = "" ] && break; sleep 0.05; done
wait_state Active 1
c0=$(dante_connects)
fetch || fail "fetch after the reopen failed"
[ "$(dante_connects)" -eq $((c0 + 1)) ] || fail "not proxied after the reopen"
echo "removed again within 30 s -> Failed"
in_c iptables -w -t mangle -D OUTPUT -j DROVER_OUT
wait_state Failed 5
note "last_error: $(engine_field last_error)"
engine_field last_error | grep -q "twice" || fail "last_error does not say why"
[ -z "$(drover_leftovers)" ] || fail "Failed left rules behind"
stop_engine

echo "config edited while running: proxy port changed -> restart onto the new port, no target direct meanwhile"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
start_dante none 1081
d0=$(far_direct_from_client)
# A target connecting as fast as it can through the restart: each attempt
# is proxied or fails, none reaches the far server directly.
u0=$(far_udp_direct_from_client)
in_c "$T" tcpstorm "$IP_F" 7000 3000 >"$E2E_DIR/storm.out" 2>&1 &
STORM=$!
E2E_PIDS+=("$STORM")
in_c "$T" udpstorm "$IP_F" 7001 3000 >"$E2E_DIR/ustorm.out" 2>&1 &
USTORM=$!
E2E_PIDS+=("$USTORM")
sleep 0.5
sed -i 's/^port = 1080/port = 1081/' "$E2E_DIR/drover.toml"
for _ in $(seq 1 100); do [ "$(grep -c 'tcp/connect\|udpassociate' "$E2E_DIR/danted-1081.log")" -gt 0 ] && break; sleep 0.05; done
wait_state Active 10
wait "$STORM" || true
wait "$USTORM" || true
note "through the restart: TCP $(cat "$E2E_DIR/storm.out"), UDP $(cat "$E2E_DIR/ustorm.out")"
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "$(( $(far_direct_from_client) - d0 )) target connections went direct during the restart"
[ "$(far_udp_direct_from_client)" -eq "$u0" ] || fail "$(( $(far_udp_direct_from_client) - u0 )) target datagrams went direct during the restart"
grep -q "restarting the engine" "$E2E_DIR/engine.log" || fail "the edit did not restart the engine"
c1=$(dante_connects "$E2E_DIR/danted-1081.log"); c0=$(dante_connects)
fetch || fail "fetch after the port change failed"
[ "$(dante_connects "$E2E_DIR/danted-1081.log")" -eq $((c1 + 1)) ] || fail "not carried by the new proxy port"
[ "$(dante_connects)" -eq "$c0" ] || fail "still carried by the old port"

echo "a corrupted edit keeps the engine running and reports line and column"
printf 'version = 1\n[proxy]\nport = = 7\n' >"$E2E_DIR/drover.toml"
for _ in $(seq 1 100); do engine_field last_error | grep -q "config error" && break; sleep 0.05; done
err=$(engine_field last_error)
note "last_error: $err"
grep -q "drover.toml:3:" <<<"$err" || fail "no line/column in: $err"
[ "$(engine_field state)" = Active ] || fail "a broken edit stopped the engine"
fetch || fail "fetch after the broken edit failed"

echo "status watchers get a state change within 200 ms; sleep pauses, resume restarts"
# The same line protocol the CLI speaks; "sleep"/"resume" take the power watcher's path.
ms=$(in_c python3 "$HERE/watch_latency.py" "$E2E_DIR/run/drover/control.sock" sleep "paused (system sleep)") ||
  fail "the watcher did not see the pause"
note "watcher saw the pause after $ms ms"
python3 -c "import sys; sys.exit(0 if $ms < 200 else 1)" || fail "state change reached the watcher after $ms ms"
[ "$(engine_field state)" = Reconnecting ] || fail "sleep did not pause the engine"
if fetch; then fail "a target got through while paused"; fi
in_c "$DROVER" status --watch >"$E2E_DIR/watch.out" 2>&1 &
WATCH=$!
E2E_PIDS+=("$WATCH")
in_c python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"resume\n"); s.recv(4096)' \
  "$E2E_DIR/run/drover/control.sock"
wait_state Active 10
fetch || fail "fetch after resume failed"
sleep 0.2
grep -q '"state": *"Active"' "$E2E_DIR/watch.out" || fail "drover status --watch did not print the change back to Active"
kill "$WATCH" 2>/dev/null || true

echo "dante down past the cap -> Failed with the cause"
stop_dante 1081
wait_state Reconnecting 5
wait_state Failed 30
note "last_error: $(engine_field last_error)"
engine_field last_error | grep -q "proxy unreachable" || fail "Failed without the cause"
stop_engine
[ -z "$(drover_leftovers)" ] || fail "rules left behind"

echo "out of descriptors: new flows are turned away, the engine stays Active and says why"
start_dante none 1083
PROXY_PORT=1083 write_config "$E2E_DIR/fd.toml"
ENGINE_PREFIX="prlimit --nofile=300:300" start_engine "$E2E_DIR/fd.toml"
wait_state Active 10
grep -q "open-file limit 300: up to 75 flows" "$E2E_DIR/engine.log" || fail "no flow cap: $(grep -i limit "$E2E_DIR/engine.log")"
out=$(in_c "$T" tcpconc "$IP_F" 7000 150) && fail "150 flows at once fitted under a cap of 75: $out"
note "tcpconc: $out"
failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$out")
[ "${failed:-0}" -gt 0 ] && [ "$failed" -lt 150 ] || fail "expected some flows turned away, not all: $out"
[ "$(engine_field state)" = Active ] || fail "the engine left Active: $(engine_field state) $(engine_field last_error)"
engine_field last_error | grep -q "too many flows" || fail "last_error does not say why: $(engine_field last_error)"
for _ in $(seq 1 100); do [ "$(engine_field tcp_flows)" = 0 ] && break; sleep 0.05; done
fetch || fail "no flow works once the others closed"
if grep -q "unhandled exception" "$E2E_DIR/engine.log"; then fail "an exception escaped: $(grep unhandled "$E2E_DIR/engine.log")"; fi
stop_engine
[ -z "$(drover_leftovers)" ] || fail "rules left behind"
assert_no_target_leak
echo "PASS"
