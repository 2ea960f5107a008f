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
if grep -rq 'c0rrect-h0rse\|wr0ng-pass' "$E2E_DIR/state" 2>/dev/null; then fail "a password leaked into the log dir"; fi
[ -z "$(drover_leftovers)" ] || fail "rules left behind"
echo "PASS"
