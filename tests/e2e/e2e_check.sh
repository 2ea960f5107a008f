#!/usr/bin/env bash
# `drover check` against real upstreams: dante without and with username
# auth, a wrong password, a closed port, microsocks (no UDP ASSOCIATE), a
# malformed config.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup

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

echo "no auth"
start_dante none
write_config "$E2E_DIR/ok.toml"
check "$E2E_DIR/ok.toml"
expect 0 "tcp connect *OK" "greeting *OK" "udp associate *OK" "pipelined handshake *OK.*accepted" "all checks passed"
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
expect 0 "greeting *OK" "udp associate *OK" "pipelined handshake *OK.*accepted"

echo "wrong password"
PROXY_EXTRA='auth = true
login = "drovertest"
password = "wr0ng-pass"' write_config "$E2E_DIR/wrong.toml"
check "$E2E_DIR/wrong.toml"
expect 1 "authentication"
stop_dante

echo "closed port"
check "$E2E_DIR/ok.toml"
expect 1 "tcp connect" "refused"

echo "a proxy that drops what follows the greeting: still fine, handshakes step by step"
bg "$E2E_DIR/naive.log" in_p python3 "$HERE/naive_socks.py" --ip "$IP_P" --port 1081
wait_port in_p "$IP_P" 1081
PROXY_PORT=1081 write_config "$E2E_DIR/naive.toml"
check "$E2E_DIR/naive.toml"
expect 0 "udp associate *OK" "pipelined handshake *OK.*not supported" "all checks passed"

echo "microsocks"
start_microsocks
check "$E2E_DIR/ok.toml"
expect 1 "does not support UDP ASSOCIATE" "voice will not work"

echo "malformed config"
printf '[proxy]\nhost = "%s"\nport = = 1080\n' "$IP_P" >"$E2E_DIR/bad.toml"
check "$E2E_DIR/bad.toml"
expect 2 "bad.toml:3:"
printf '[proxy]\nport = 99999\n' >"$E2E_DIR/bad2.toml"
check "$E2E_DIR/bad2.toml"
expect 2 "bad2.toml:2:8" "proxy.port"
echo "PASS"
