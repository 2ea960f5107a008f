#!/usr/bin/env bash
# The engine with username/password auth against dante: the right password
# carries target traffic; a wrong one keeps the engine out of Active with a
# clear last_error. The password appears in no output or log.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
install_clients
start_far
start_dante username

echo "right password"
PROXY_EXTRA='auth = true
login = "drovertest"
password = "c0rrect-h0rse"' write_config "$E2E_DIR/good.toml"
start_engine "$E2E_DIR/good.toml"
wait_state Active 10
c0=$(dante_connects)
out=$(in_c "$E2E_DIR/droverclient" http "$IP_F" 8080 /) || fail "fetch failed: $out"
[ "$(dante_connects)" -eq $((c0 + 1)) ] || fail "not carried by dante"
out=$(in_c "$E2E_DIR/droverclient" udp "$IP_F" 7001 50) || fail "udp failed: $out"
note "$out"
grep -q "SOCKS5 handshakes pipelined" "$E2E_DIR/engine.log" || fail "dante takes pipelined handshakes, the engine did not use them"
echo "a dump (attached to bug reports) names neither the login nor the password"
drover_cli dump --out "$E2E_DIR/dump.json" >/dev/null || fail "dump failed"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$E2E_DIR/dump.json" || fail "the dump is not JSON"
if grep -q 'drovertest\|c0rrect-h0rse' "$E2E_DIR/dump.json"; then fail "the dump names the login or password"; fi
if grep -q 'drovertest' "$E2E_DIR/engine.log"; then fail "the log names the login"; fi
stop_engine

echo "wrong password"
PROXY_EXTRA='auth = true
login = "drovertest"
password = "wr0ng-pass"' write_config "$E2E_DIR/bad.toml"
start_engine "$E2E_DIR/bad.toml"
wait_state Failed 10
err=$(engine_field last_error)
note "last_error: $err"
grep -qi "authentication" <<<"$err" || fail "last_error does not name authentication: $err"
status=$(engine_status)
stop_engine
if grep -q 'c0rrect-h0rse\|wr0ng-pass' "$E2E_DIR/engine.log"; then fail "a password leaked into the engine's output"; fi
if grep -q 'c0rrect-h0rse\|wr0ng-pass' <<<"$status"; then fail "a password leaked into status"; fi
# The log dir holds drover.log (and rotated ones), stats.json and saved dumps.
if grep -rq 'c0rrect-h0rse\|wr0ng-pass' "$E2E_DIR/state" 2>/dev/null; then fail "a password leaked into the log dir"; fi
if grep -rq 'drovertest' "$E2E_DIR/state" 2>/dev/null; then fail "the login leaked into the log dir"; fi
if grep -q 'drovertest' <<<"$status"; then fail "the login leaked into status"; fi
[ -z "$(drover_leftovers)" ] || fail "rules left behind"

echo "a proxy that drops what follows the greeting: targets still carried, step by step"
bg "$E2E_DIR/naive.log" in_p python3 "$HERE/naive_socks.py" --ip "$IP_P" --port 1081
wait_port in_p "$IP_P" 1081
PROXY_PORT=1081 write_config "$E2E_DIR/naive.toml"
start_engine "$E2E_DIR/naive.toml"
wait_state Active 10
grep -q "SOCKS5 handshakes step by step" "$E2E_DIR/engine.log" || fail "pipelining not switched off: $(grep SOCKS5 "$E2E_DIR/engine.log")"
p0=$(far_from_proxy)
t0=$(date +%s%N)
out=$(in_c "$E2E_DIR/droverclient" http "$IP_F" 8080 /) || fail "fetch through the naive proxy failed: $out"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
note "fetch through the naive proxy: $out, $ms ms"
[ "$ms" -lt 1000 ] || fail "the fetch stalled ($ms ms)"
[ "$(far_from_proxy)" -eq $((p0 + 1)) ] || fail "the far server did not see the proxy"
stop_engine
assert_no_target_leak
echo "PASS"
