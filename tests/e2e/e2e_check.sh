#!/usr/bin/env bash
# `drover check` against real upstreams: dante without and with username
# auth, a wrong password, a closed port, microsocks (no UDP ASSOCIATE), dante
# with UDP blocked, dante on IPv6, a slow proxy, a proxy naming its relay
# 127.0.0.1 (as hpsockd does), a malformed config. The UDP round trip asks
# the DNS responder on the far host (proxy.udp_check, written by write_config).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
start_dns

check() {  # check CONFIG -> sets OUT, RC
  set +e
  OUT=$(in_c "$DROVER" check --config "$1" 2>&1)
  RC=$?
  set -e
  printf '%s\n' "$OUT" | sed 's/^/    /' >&2
}
expect() {  # expect RC TEXT...
  [ "$RC" = "$1" ] || fail "exit code $RC, wanted $1"
  shift
  for t in "$@"; do grep -qi -- "$t" <<<"$OUT" || fail "output lacks '$t'"; done
  if grep -q 'c0rrect-h0rse\|wr0ng-pass' <<<"$OUT"; then fail "the password appears in the output"; fi
}

jcheck() {  # jcheck CONFIG PYTHON-EXPR: the expression over the --json output d must hold
  local out
  out=$(in_c "$DROVER" check --config "$1" --json 2>/dev/null || true)
  python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$out" ||
    fail "--json: $2 does not hold in: $out"
}
# dante_conf PORT INTERNAL SOCKS-RULES: a dante config of our own, named as
# start_dante names its, so stop_dante PORT stops it.
dante_conf() {
  cat >"$E2E_DIR/danted-$1.conf" <<CONF
logoutput: $E2E_DIR/danted-$1.log
internal: $2 port = $1
external: $IP_P
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 5
client pass {
  from: 0/0 to: 0/0
  log: error
}
$3
CONF
  bg "$E2E_DIR/danted-$1.out" in_p danted -f "$E2E_DIR/danted-$1.conf"
}

echo "no auth"
start_dante none
write_config "$E2E_DIR/ok.toml"
check "$E2E_DIR/ok.toml"
expect 0 "tcp connect *OK" "greeting *OK" "udp associate *OK" "udp round trip *OK.*DNS answer from $IP_F:53" \
  "pipelined handshake *OK.*accepted" "all checks passed"
jcheck "$E2E_DIR/ok.toml" 'd["ok"] and d["tcp_ok"] and d["udp_ok"] and not d["unreachable"] and d["addresses"] == ["'"$IP_P"':1080"]'

total=$(in_c "$DROVER" check --config "$E2E_DIR/ok.toml" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"]; print(d["total_ms"])')
python3 -c "import sys; sys.exit(0 if $total < 2000 else 1)" || fail "check took ${total} ms"
note "total ${total} ms"
stop_dante

echo "username auth"
start_dante username
PROXY_EXTRA='auth = true
login = "drovertest"
password = "c0rrect-h0rse"' write_config "$E2E_DIR/auth.toml"
check "$E2E_DIR/auth.toml"
expect 0 "greeting *OK" "udp associate *OK" "udp round trip *OK" "pipelined handshake *OK.*accepted"

echo "wrong password"
PROXY_EXTRA='auth = true
login = "drovertest"
password = "wr0ng-pass"' write_config "$E2E_DIR/wrong.toml"
check "$E2E_DIR/wrong.toml"
expect 1 "authentication"
# A definite configuration error, not an unreachable proxy (the engine goes
# Failed for this one and keeps retrying the other).
jcheck "$E2E_DIR/wrong.toml" 'not d["tcp_ok"] and not d["unreachable"]'
stop_dante

echo "closed port"
check "$E2E_DIR/ok.toml"
expect 1 "tcp connect" "refused"
jcheck "$E2E_DIR/ok.toml" 'not d["tcp_ok"] and not d["udp_ok"] and d["unreachable"]'

echo "a proxy that drops what follows the greeting: still fine, handshakes step by step"
bg "$E2E_DIR/naive.log" in_p python3 "$HERE/naive_socks.py" --ip "$IP_P" --port 1081
wait_port in_p "$IP_P" 1081
PROXY_PORT=1081 write_config "$E2E_DIR/naive.toml"
check "$E2E_DIR/naive.toml"
expect 0 "udp associate *OK" "udp round trip *OK" "pipelined handshake *OK.*not supported" "all checks passed"

echo "a slow proxy (1.1 s per reply) passes with the default timeouts, and the configured ones bound each step"
bg "$E2E_DIR/slow.log" in_p python3 "$HERE/naive_socks.py" --ip "$IP_P" --port 1082 --delay 1.1
wait_port in_p "$IP_P" 1082
PROXY_PORT=1082 write_config "$E2E_DIR/slow.toml"
check "$E2E_DIR/slow.toml"
expect 0 "greeting *OK" "udp associate *OK" "udp round trip *OK" "all checks passed"
PROXY_PORT=1082 PROXY_EXTRA='tcp_connect_timeout = "1s"' write_config "$E2E_DIR/slow-tcp.toml"
check "$E2E_DIR/slow-tcp.toml"
expect 1 "greeting *FAIL.*no answer within 1000 ms"
jcheck "$E2E_DIR/slow-tcp.toml" 'not d["tcp_ok"] and d["unreachable"]'
PROXY_PORT=1082 PROXY_EXTRA='udp_associate_timeout = "1s"' write_config "$E2E_DIR/slow-udp.toml"
check "$E2E_DIR/slow-udp.toml"
expect 1 "greeting *OK" "udp associate *FAIL.*no answer within 1000 ms" "chat (TCP) will work"

echo "a relay named 127.0.0.1 (hpsockd) is the proxy's own host: the round trip goes to $IP_P"
bg "$E2E_DIR/loop.log" in_p python3 "$HERE/naive_socks.py" --ip "$IP_P" --port 1083 --relay-bnd 127.0.0.1
wait_port in_p "$IP_P" 1083
PROXY_PORT=1083 write_config "$E2E_DIR/loop.toml"
check "$E2E_DIR/loop.toml"
expect 0 "udp associate *OK.*relay $IP_P:" "udp round trip *OK.*through the relay $IP_P:" "all checks passed"

echo "a relay named 0.0.0.0 (unspecified, as many proxies answer) is the proxy's own host too"
bg "$E2E_DIR/any.log" in_p python3 "$HERE/naive_socks.py" --ip "$IP_P" --port 1087 --relay-bnd 0.0.0.0
wait_port in_p "$IP_P" 1087
PROXY_PORT=1087 write_config "$E2E_DIR/any.toml"
check "$E2E_DIR/any.toml"
expect 0 "udp associate *OK.*relay $IP_P:" "udp round trip *OK.*through the relay $IP_P:" "all checks passed"

echo "microsocks"
start_microsocks
MICROSOCKS_PID=$BG_PID
check "$E2E_DIR/ok.toml"
expect 1 "greeting *OK" "does not support UDP ASSOCIATE" "voice will not work" "chat (TCP) will work"
jcheck "$E2E_DIR/ok.toml" 'd["tcp_ok"] and not d["udp_ok"] and not d["ok"] and "UDP ASSOCIATE" in d["udp_failure"]'
kill "$MICROSOCKS_PID"
for _ in $(seq 1 100); do in_p ss -Hltn "sport = :1080" | grep -c . >/dev/null || break; sleep 0.05; done

echo "dante with UDP replies blocked: associates, but no datagram comes back"
dante_conf 1084 "$IP_P" 'socks pass {
  from: 0/0 to: 0/0
  command: connect udpassociate
  log: connect error
}
socks block {
  from: 0/0 to: 0/0
  command: udpreply
  log: connect error
}'
wait_port in_p "$IP_P" 1084
PROXY_PORT=1084 PROXY_EXTRA='udp_associate_timeout = "2s"' write_config "$E2E_DIR/udpblock.toml"
check "$E2E_DIR/udpblock.toml"
expect 1 "udp associate *OK" "udp round trip *FAIL.*no answer from $IP_F:53" "check failed: UDP round trip" \
  "chat (TCP) will work"
jcheck "$E2E_DIR/udpblock.toml" 'd["tcp_ok"] and not d["udp_ok"] and "no answer" in d["udp_failure"]'
stop_dante 1084

echo "dante with UDP dropped by the proxy host's firewall"
start_dante none
in_p iptables -A OUTPUT -p udp -j DROP
PROXY_EXTRA='udp_associate_timeout = "2s"' write_config "$E2E_DIR/udpdrop.toml"
check "$E2E_DIR/udpdrop.toml"
in_p iptables -D OUTPUT -p udp -j DROP
expect 1 "udp associate *OK" "udp round trip *FAIL" "chat (TCP) will work"
stop_dante

echo "dante on IPv6 (host = \"fd77::2\"): ASSOCIATE in the connection's family, UDP round trip"
dante_conf 1085 "fd77::2" 'socks pass {
  from: 0/0 to: 0/0
  command: connect udpassociate udpreply
  log: connect error
}'
wait_port in_p fd77::2 1085
cat >"$E2E_DIR/v6.toml" <<CONF
version = 1
[proxy]
host = "fd77::2"
port = 1085
udp_check = "$IP_F:53"
CONF
check "$E2E_DIR/v6.toml"
expect 0 "tcp connect *OK.*fd77" "udp associate *OK" "udp round trip *OK" "all checks passed"
stop_dante 1085

echo "malformed config"
printf '[proxy]\nhost = "%s"\nport = = 1080\n' "$IP_P" >"$E2E_DIR/bad.toml"
check "$E2E_DIR/bad.toml"
expect 2 "bad.toml:3:"
printf '[proxy]\nport = 99999\n' >"$E2E_DIR/bad2.toml"
check "$E2E_DIR/bad2.toml"
expect 2 "bad2.toml:2:8" "proxy.port"
printf '[proxy]\nudp_check = "%s"\n' "$IP_F" >"$E2E_DIR/bad3.toml"
check "$E2E_DIR/bad3.toml"
expect 2 "bad3.toml:2:13" "proxy.udp_check" "host:port"
echo "PASS"
