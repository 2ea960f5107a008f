#!/usr/bin/env bash
# The Linux engine end to end: a target process found by name has its TCP
# and UDP carried through the proxy; everything else goes direct; stop and
# SIGKILL leave nothing behind. UPSTREAM=dante (default) or shadowsocks
# (ss-local -u -> ss-server): the same cases against another real SOCKS5
# server. What the proxy carried is counted from dante's log for dante and
# from the far server's peer log for both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
UPSTREAM=${UPSTREAM:-dante}
e2e_setup
install_clients
start_far
case $UPSTREAM in
  dante) start_dante none; UDP_MAX=1400 ;;
  shadowsocks) start_shadowsocks; UDP_MAX=1200 ;;  # ss drops UDP payloads over ~1,400 B by itself
  *) fail "UPSTREAM must be dante or shadowsocks, not '$UPSTREAM'" ;;
esac
echo "upstream: $UPSTREAM"
write_config "$E2E_DIR/drover.toml"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10

T=$E2E_DIR/droverclient
P=$E2E_DIR/plainclient
run_ok() {  # run_ok CMD...: runs in the client namespace, must print "ok"
  local out
  out=$(in_c "$@" 2>&1) || fail "$* -> $out"
  note "$(basename "$1") ${2:-}: $out"
}
direct_ok() {  # direct_ok CMD...: the same for a non-target (direct_run)
  local out
  out=$(direct_run "$@" 2>&1) || fail "$* -> $out"
  note "$(basename "$1") ${2:-}: $out"
}
# TCP connections the proxy carried: CONNECTs in dante's log (dante), and
# connections the far server saw from the proxy host (every upstream).
carried() { if [ "$UPSTREAM" = dante ]; then dante_connects; else far_from_proxy; fi; }

echo "HTTP page: target through the proxy, non-target direct"
c0=$(carried); p0=$(far_from_proxy); d0=$(far_direct_from_client)
run_ok "$T" http "$IP_F" 8080 /
page=$(in_c "$E2E_DIR/drovercurl" -sS --max-time 5 "http://$IP_F:8080/") || fail "curl (a target) failed"
grep -q "hello from the far server" <<<"$page" || fail "curl got the wrong page"
[ "$(carried)" -eq $((c0 + 2)) ] || fail "the proxy carried $(( $(carried) - c0 )) connections, wanted 2"
[ "$(far_from_proxy)" -eq $((p0 + 2)) ] || fail "the far server saw $(( $(far_from_proxy) - p0 )) connections from the proxy, wanted 2"
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "a target reached the far server directly"
direct_ok "$P" http "$IP_F" 8080 /
[ "$(carried)" -eq $((c0 + 2)) ] || fail "non-target traffic went through the proxy"
[ "$(far_direct_from_client)" -eq $((d0 + 1)) ] || fail "non-target traffic did not go direct"

echo "100 MB file, every byte verified"
out=$(in_c "$T" http "$IP_F" 8080 /bytes/104857600) || fail "100 MB fetch: $out"
grep -q "^ok bytes=104857600 corrupt=0" <<<"$out" || fail "100 MB fetch: $out"
note "$out"

# shadowsocks-libev ends the whole connection on a half-close (measured
# without Drover: 27 of 32 MB come back), so against it no half-close.
if [ "$UPSTREAM" = shadowsocks ]; then HALF=nohalfclose; HALF_TEXT="no half-close (ss ends both ways on one)"
else HALF=""; HALF_TEXT="then a half-close"; fi
echo "32 MB up and back at once (both directions spliced), $HALF_TEXT, every byte verified"
out=$(in_c "$T" bulkecho "$IP_F" 7000 33554432 $HALF) || fail "bulk echo: $out"
grep -q "^ok bytes=33554432 corrupt=0" <<<"$out" || fail "bulk echo: $out"
note "$out"

echo "UDP: 1000 datagrams of 1-$UDP_MAX bytes, two flows to the same destination"
u0=$(dante_udp); m=$(far_mark)
run_ok "$T" udp "$IP_F" 7001 1000 1 "$UDP_MAX"
run_ok "$T" udp "$IP_F" 7001 200 1 "$UDP_MAX"
if [ "$UPSTREAM" = dante ]; then
  [ "$(dante_udp)" -ge $((u0 + 2)) ] || fail "dante saw $(( $(dante_udp) - u0 )) UDP associations, wanted 2"
fi
n=$(far_udp_since "$m" "$IP_P" 7001 | grep -c . || true)
[ "$n" -eq 1200 ] || fail "the far server saw $n of 1200 datagrams from the proxy"
[ "$(far_udp_since "$m" "$IP_C" | grep -c . || true)" = 0 ] || fail "a target's datagrams reached the far server directly"

echo "UDP from one unconnected socket to two destinations (sendto, as WebRTC does)"
m=$(far_mark)
direct_ok "$P" udpmulti "$IP_F" 7001 7002 3
run_ok "$T" udpmulti "$IP_F" 7001 7002 20
for port in 7001 7002; do
  n=$(far_udp_since "$m" "$IP_P" "$port" | grep -c . || true)
  [ "$n" -eq 20 ] || fail "the far server saw $n of 20 datagrams to $port from the proxy"
done
ports=$(far_proxy_udp_ports "$m" | tr '\n' ' ')
[ "$(wc -w <<<"$ports")" = 1 ] || fail "the proxy sent from ports $ports: one client socket must be one association"

echo "a flow whose first datagram is 1,200 bytes (as QUIC sends)"
m=$(far_mark)
run_ok "$T" udpfirst "$IP_F" 7001 1200 10
n=$(far_udp_since "$m" "$IP_P" 7001 | grep -c . || true)
[ "$n" -eq 10 ] || fail "the far server saw $n of 10 datagrams from the proxy"
[ "$(far_udp_since "$m" "$IP_P" 7001 | head -1 | awk '{print $5}')" = 1200 ] || fail "the 1,200-byte first datagram did not come from the proxy"
assert_no_target_leak

echo "2000 sequential short connections, none direct"
c0=$(carried); d0=$(far_direct_from_client)
run_ok "$T" tcpseq "$IP_F" 7000 2000
[ "$(carried)" -eq $((c0 + 2000)) ] || fail "the proxy carried $(( $(carried) - c0 )) of 2000 connections"
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "$(( $(far_direct_from_client) - d0 )) connections leaked direct"

echo "200 concurrent flows, then 0 flows open"
run_ok "$T" tcpconc "$IP_F" 7000 200
for _ in $(seq 1 100); do [ "$(engine_field tcp_flows)" = 0 ] && break; sleep 0.05; done
[ "$(engine_field tcp_flows)" = 0 ] || fail "status shows $(engine_field tcp_flows) TCP flows after close"

echo "a fresh target process is proxied from its first connection"
d0=$(far_direct_from_client)
for i in 1 2 3 4 5; do
  cp "$TESTCLIENT" "$E2E_DIR/new$i"; mv "$E2E_DIR/new$i" "$E2E_DIR/droverclient"  # new inode, new PID each run
  run_ok "$T" http "$IP_F" 8080 /
done
# ...and its forked helper (no exec of its own) too.
cp "$TESTCLIENT" "$E2E_DIR/new6"; mv "$E2E_DIR/new6" "$E2E_DIR/droverclient"
run_ok "$T" fork http "$IP_F" 8080 /
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "a newly started target leaked"
# Newcomers were found from the kernel's process events, not a scan of all.
grep -q "new processes reported by the OS" "$E2E_DIR/engine.log" || fail "no process events: $(grep -i 'flow owner' "$E2E_DIR/engine.log")"

echo "IPv6 of a target is refused fast (never direct); non-targets' IPv6 goes direct"
wait_port direct_run "$IP6_F" 8086  # bash is no target: its probes go direct
v0=$(far_v6_peers)
t0=$(date +%s%N)
if in_c "$E2E_DIR/drovercurl" -sS --max-time 5 "http://[$IP6_F]:8086/" >/dev/null 2>&1; then fail "target IPv6 connection succeeded"; fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
note "target IPv6 refused in $ms ms"
[ "$ms" -lt 1000 ] || fail "target IPv6 took $ms ms to fail (not refused fast)"
[ "$(far_v6_peers)" -eq "$v0" ] || fail "target IPv6 reached the far server"
direct_run "$E2E_DIR/plaincurl" -sS --max-time 5 "http://[$IP6_F]:8086/" >/dev/null || fail "non-target IPv6 failed"
[ "$(far_v6_peers)" -eq $((v0 + 1)) ] || fail "non-target IPv6 did not go direct"

echo "status"
engine_status | sed 's/^/    /' >&2
assert_no_target_leak
[ "$(engine_field last_error)" = "" ] || fail "unexpected last_error: $(engine_field last_error)"
[ "$(engine_field udp_dropped)" = 0 ] || fail "$(engine_field udp_dropped) UDP datagrams dropped on a quiet path"

# clean_stop LABEL CMD...: CMD stops the engine; it must be gone within
# 500 ms (CMD included) with nothing of Drover's left behind.
clean_stop() {
  local label=$1 t0 ms left
  shift
  t0=$(date +%s%N)
  "$@"
  wait "$ENGINE_PID" 2>/dev/null || true
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  note "$label: stopped in $ms ms"
  [ "$ms" -lt 500 ] || fail "$label took $ms ms"
  left=$(drover_leftovers)
  [ -z "$left" ] || fail "left behind after $label: $left"
}

echo "drover stop: within 500 ms, nothing left behind"
clean_stop "drover stop" stop_engine

echo "control socket: directory 0755 (group drover's clients pass through it), socket 0660 root:drover or 0600"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
[ "$(stat -c %a "$E2E_DIR/run/drover")" = 755 ] || fail "control dir mode $(stat -c %a "$E2E_DIR/run/drover")"
want_sock=600
getent group drover >/dev/null && want_sock=660
[ "$(stat -c %a "$E2E_DIR/run/drover/control.sock")" = $want_sock ] || fail "control socket mode"
[ -n "$(drover_leftovers)" ] || fail "no rules while running?"

echo "SIGTERM stops cleanly within 500 ms"
clean_stop SIGTERM kill -TERM "$(engine_pid)"

echo "SIGINT too"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
clean_stop SIGINT kill -INT "$(engine_pid)"

echo "SIGKILL, then a new run cleans up and works"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
kill -9 "$(engine_pid)" || true
wait "$ENGINE_PID" 2>/dev/null || true
[ -n "$(drover_leftovers)" ] || fail "expected stale rules after SIGKILL"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
c0=$(carried)
run_ok "$T" http "$IP_F" 8080 /
[ "$(carried)" -eq $((c0 + 1)) ] || fail "not proxied after restart"
stop_engine
left=$(drover_leftovers)
[ -z "$left" ] || fail "left behind after stop: $left"
assert_no_target_leak
echo "PASS"
