#!/usr/bin/env bash
# An engine that may not read other users' processes (a unit or container
# without CAP_SYS_PTRACE / CAP_DAC_READ_SEARCH): a target run by another user
# cannot be told from a non-target by its sockets, so its flows are refused,
# never sent direct. A target it may read (same user, no more capabilities)
# is still proxied.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
install_clients
start_far
start_dante none 1080
write_config "$E2E_DIR/drover.toml"
ENGINE_PREFIX="setpriv --bounding-set=-sys_ptrace,-dac_read_search --inh-caps=-sys_ptrace,-dac_read_search" \
  start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
grep -q "CapEff:.*" "/proc/$(engine_pid)/status"
python3 - "$(awk '/CapEff/ {print $2}' "/proc/$(engine_pid)/status")" <<'PY' || fail "the engine still has CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH"
import sys
caps = int(sys.argv[1], 16)
sys.exit(1 if caps & (1 << 19) or caps & (1 << 2) else 0)
PY
as_nobody() { in_c setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

echo "a target of uid 65534: TCP and UDP refused, none of it direct"
u0=$(engine_field flows_unattributed)
if as_nobody "$E2E_DIR/droverclient" http "$IP_F" 8080 / >/dev/null 2>&1; then
  fail "a target the engine cannot read got through"
fi
if as_nobody "$E2E_DIR/droverclient" udp "$IP_F" 7001 5 >/dev/null 2>&1; then
  fail "a target's UDP the engine cannot read got an answer"
fi
u1=$(engine_field flows_unattributed)
note "flows_unattributed $u0 -> $u1"
[ "$u1" -gt "$u0" ] || fail "the refusals were not counted as unattributed"
assert_no_target_leak
grep -q "CAP_SYS_PTRACE" "$E2E_DIR/engine.log" || fail "the log does not say what is missing"

echo "a non-target of uid 65534 still goes direct; a target the engine may read is still proxied"
direct_run setpriv --reuid=65534 --regid=65534 --clear-groups "$E2E_DIR/plainclient" http "$IP_F" 8080 / >/dev/null ||
  fail "a non-target was refused"
c0=$(dante_connects)
in_c setpriv --bounding-set=-sys_ptrace,-dac_read_search "$E2E_DIR/droverclient" http "$IP_F" 8080 / >/dev/null ||
  fail "a readable target failed"
[ "$(dante_connects)" -gt "$c0" ] || fail "a readable target did not go through dante"
stop_engine
assert_no_target_leak
