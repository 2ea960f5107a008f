#!/usr/bin/env bash
# One engine per network namespace: a second `drover run` (another
# XDG_RUNTIME_DIR, as sudo vs a root shell) exits at once naming the first,
# which keeps its rules and keeps proxying; the lock goes with a SIGKILLed
# holder; start-up errors exit 1 promptly instead of hanging; `drover status`
# answers within 100 ms while the engine waits for a slow DNS server.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
# A fourth namespace, for a run that shares the first one's runtime
# directory but not its network namespace; and the client namespace's own
# resolv.conf (ip netns exec bind-mounts /etc/netns/NAME/*), both ours to
# remove.
NS_X=drv-x-$E2E_ID
instance_cleanup() {
  local rc=$?
  set +e  # errexit in a trap would skip the rest, e2e_cleanup included
  for p in $(ip netns pids "$NS_X" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  ip netns del "$NS_X" 2>/dev/null
  rm -rf "/etc/netns/${NS_C:?}"
  (exit $rc)  # e2e_cleanup keeps the test's exit code from $?
  e2e_cleanup
}
trap instance_cleanup EXIT
install_clients
start_far
start_dante none
write_config "$E2E_DIR/drover.toml"
T=$E2E_DIR/droverclient
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# other_run NS RUNTIME_DIR: a `drover run` beside the test's engine, in
# namespace NS, bounded by `timeout` (a hang shows as 124 or 137: SIGTERM
# is blocked during start-up, hence -k); sets RUN_RC, RUN_MS and RUN_OUT
# (stdout and stderr).
other_run() {
  local ns=$1 dir=$2 t0
  mkdir -p "$dir"
  t0=$(date +%s%N)
  set +e
  RUN_OUT=$(timeout -k 1 10 ip netns exec "$ns" env XDG_RUNTIME_DIR="$dir" XDG_STATE_HOME="$E2E_DIR/state-other" \
    "$DROVER" run --config "$E2E_DIR/drover.toml" 2>&1)
  RUN_RC=$?
  set -e
  RUN_MS=$(ms_since "$t0")
  note "exit $RUN_RC after $RUN_MS ms: $(tail -1 <<<"$RUN_OUT")"
}
# expect_exit1 LIMIT_MS PATTERN: the last other_run exited 1 within LIMIT_MS
# and said PATTERN.
expect_exit1() {
  [ "$RUN_RC" -eq 1 ] || fail "exit code $RUN_RC, wanted 1 (124 or 137: it hung): $RUN_OUT"
  [ "$RUN_MS" -lt "$1" ] || fail "took $RUN_MS ms to exit, wanted < $1 ms"
  grep -qF -- "$2" <<<"$RUN_OUT" || fail "does not say '$2': $RUN_OUT"
}
rules_intact() { in_c iptables -t mangle -C OUTPUT -j DROVER_OUT 2>/dev/null; }

start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
A=$(engine_pid)
[ -n "$A" ] || fail "no engine process"

echo "a second run with another XDG_RUNTIME_DIR exits 1 at once; the first keeps proxying"
LOOP_STOP=$E2E_DIR/loop.stop
bg "$E2E_DIR/loop.log" in_c bash -c "while [ ! -e $LOOP_STOP ]; do
  if $T http $IP_F 8080 / >/dev/null 2>&1; then echo ok; else echo fail; fi; sleep 0.05; done"
LOOP=$BG_PID
c0=$(dante_connects); d0=$(far_direct_from_client)
for _ in $(seq 1 100); do [ "$(grep -c ok "$E2E_DIR/loop.log" || true)" -ge 3 ] && break; sleep 0.05; done
other_run "$NS_C" "$E2E_DIR/run-b"
before_b=$(wc -l <"$E2E_DIR/loop.log")
expect_exit1 2000 "already running (pid $A)"
[ "$(engine_field state)" = Active ] || fail "the first engine left Active: $(engine_field state)"
rules_intact || fail "the first engine's rules are gone: $(drover_leftovers)"
sleep 1.5  # fetches after the second run
touch "$LOOP_STOP"
wait "$LOOP" 2>/dev/null || true
oks=$(grep -c '^ok' "$E2E_DIR/loop.log" || true)
fails=$(grep -c '^fail' "$E2E_DIR/loop.log" || true)
after_b=$(( $(wc -l <"$E2E_DIR/loop.log") - before_b ))
note "fetches: $oks ok, $fails failed, $after_b after the second run; dante: $(( $(dante_connects) - c0 )) CONNECTs"
[ "$fails" -eq 0 ] || fail "$fails target fetches failed around the second run"
[ "$after_b" -ge 5 ] || fail "only $after_b fetches after the second run"
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "$(( $(far_direct_from_client) - d0 )) target connections went direct"
[ "$(dante_connects)" -eq $((c0 + oks)) ] || fail "dante saw $(( $(dante_connects) - c0 )) CONNECTs for $oks fetches"
rules_intact || fail "the first engine's rules are gone after the fetches"

echo "start-up errors exit 1 promptly (< 3 s) and leave nothing behind"
note "same XDG_RUNTIME_DIR, same namespace:"
other_run "$NS_C" "$E2E_DIR/run"
expect_exit1 3000 "already running (pid $A)"
[ "$(engine_field state)" = Active ] || fail "the first engine does not answer on its socket any more"
rules_intact || fail "the first engine's rules are gone"
note "same XDG_RUNTIME_DIR, another namespace (the lock is free there, the control socket is not):"
ip netns add "$NS_X"
ip -n "$NS_X" link set lo up
other_run "$NS_X" "$E2E_DIR/run"
expect_exit1 3000 "another drover instance already answers on $E2E_DIR/run/drover/control.sock"
left=$(ip netns exec "$NS_X" iptables-save 2>/dev/null | grep -i drover || true)
[ -z "$left" ] || fail "rules left in the other namespace: $left"
[ "$(engine_field state)" = Active ] || fail "the first engine does not answer on its socket any more"
rules_intact || fail "the first engine's rules are gone"

echo "after SIGKILL of the holder, a new run takes the lock and works"
kill -9 "$A"
wait "$ENGINE_PID" 2>/dev/null || true
[ -n "$(drover_leftovers)" ] || fail "expected the killed run's rules to stay (fail-closed)"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
[ "$(engine_pid)" != "$A" ] || fail "still the old engine?"
c0=$(dante_connects); d0=$(far_direct_from_client)
out=$(in_c "$T" http "$IP_F" 8080 / 2>&1) || fail "fetch after the restart: $out"
[ "$(dante_connects)" -eq $((c0 + 1)) ] || fail "the fetch after the restart did not go through dante"
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "the fetch after the restart went direct"
stop_engine
left=$(drover_leftovers)
[ -z "$left" ] || fail "left behind after stop: $left"

echo "a control socket path over 108 bytes: exit 1 promptly, nothing left behind"
long=$E2E_DIR/$(printf 'r%.0s' $(seq 1 110))
other_run "$NS_C" "$long"
expect_exit1 3000 "control socket path too long"
left=$(drover_leftovers)
[ -z "$left" ] || fail "left behind: $left"

echo "status answers within 100 ms while the proxy's name waits on a DNS server that never answers"
# The far host gets an address that drops everything: the resolver's
# queries go unanswered (5 s, twice), as on a network that is not up yet.
in_f ip addr add 198.18.0.53/24 dev eth0
in_f iptables -I INPUT -d 198.18.0.53 -j DROP
mkdir -p "/etc/netns/$NS_C"
printf 'nameserver 198.18.0.53\noptions timeout:5 attempts:2\n' >"/etc/netns/$NS_C/resolv.conf"
in_c grep -q 198.18.0.53 /etc/resolv.conf || fail "the client namespace does not use its own resolv.conf"
write_config "$E2E_DIR/slow-dns.toml"
sed -i 's/^host = .*/host = "proxy.drover.test"/' "$E2E_DIR/slow-dns.toml"
start_engine "$E2E_DIR/slow-dns.toml"
for _ in $(seq 1 100); do [ -S "$E2E_DIR/run/drover/control.sock" ] && break; sleep 0.02; done
sleep 0.5  # the first look-up is under way
# Timed inside the namespace: the drover process alone, not ip netns exec.
in_c env XDG_RUNTIME_DIR="$E2E_DIR/run" bash -c '
  for i in $(seq 1 20); do
    t0=$(date +%s%N)
    out=$("$0" status --json 2>&1); rc=$?
    echo "$(( ($(date +%s%N) - t0) / 1000000 )) $rc $(tr -d "\n" <<<"$out")"
    sleep 0.05
  done' "$DROVER" >"$E2E_DIR/status-latency.log"
python3 - "$E2E_DIR/status-latency.log" <<'PY' || fail "status was slow or without a valid state (above)"
import json, sys
bad, worst = [], 0
for line in open(sys.argv[1]):
    ms, rc, text = line.split(" ", 2)
    ms, rc = int(ms), int(rc)
    worst = max(worst, ms)
    try:
        state = json.loads(text).get("state")
    except ValueError:
        state = None
    if ms >= 100 or rc != 0 or state not in ("Starting", "Reconnecting"):
        bad.append(f"{ms} ms, exit {rc}, state {state!r}: {text.strip()[:160]}")
print(f"  20 status calls, slowest {worst} ms", file=sys.stderr)
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
first=$(in_c env XDG_RUNTIME_DIR="$E2E_DIR/run" timeout 1 "$DROVER" status --watch 2>&1 | head -1 || true)
python3 -c "import json,sys; sys.exit(json.loads(sys.argv[1]).get('state') not in ('Starting','Reconnecting'))" \
  "$first" 2>/dev/null || fail "status --watch did not start with the state at once: $first"
d0=$(far_direct_from_client)
if in_c "$T" http "$IP_F" 8080 / >/dev/null 2>&1; then fail "a target fetch succeeded before the proxy was known"; fi
[ "$(far_direct_from_client)" -eq "$d0" ] || fail "a target went direct while the proxy's name was resolving"
stop_engine
rm -rf "/etc/netns/$NS_C"
left=$(drover_leftovers)
[ -z "$left" ] || fail "left behind after stop: $left"

echo "status: an answer without a valid state is an error (exit 1), never printed as a status"
fake=$E2E_DIR/fake
mkdir -p "$fake/drover"
replies=('{"state":"Unknown","detail":"system_error(request_timeout)"}' '{"error":"unknown request"}' '{"detail":""}'
  '{"state":"Unknown"}')
bg "$E2E_DIR/fake.log" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
for reply in sys.argv[2:]:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(reply.encode() + b"\n")
    c.close()
' "$fake/drover/control.sock" "${replies[@]}"
for _ in $(seq 1 100); do [ -S "$fake/drover/control.sock" ] && break; sleep 0.02; done
for args in "status" "status --json" "status" "status --watch"; do
  set +e
  # shellcheck disable=SC2086
  out=$(XDG_RUNTIME_DIR=$fake timeout 5 "$DROVER" $args 2>&1)
  rc=$?
  set -e
  note "drover $args -> exit $rc: $out"
  [ "$rc" -eq 1 ] || fail "drover $args exited $rc on an answer without a valid state: $out"
  grep -q "sent no valid state" <<<"$out" || fail "drover $args does not say what is wrong: $out"
done
echo "another user squatting the lock's abstract name cannot keep the engine from starting"
bg "$E2E_DIR/squat.log" in_c setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_UNIX)
s.bind("\0drover-engine")
s.listen()
time.sleep(60)
'
SQUAT=$BG_PID
for _ in $(seq 1 100); do in_c ss -xl | grep -q "@drover-engine" && break; sleep 0.02; done
in_c ss -xlp | grep -q "@drover-engine" || fail "the squatter did not bind the name"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
grep -q "uid $(id -u nobody), not an engine: ignored" "$E2E_DIR/engine.log" || fail "the engine does not name the squatter"
c0=$(dante_connects)
in_c "$T" http "$IP_F" 8080 / >/dev/null || fail "fetch beside a squatter failed"
[ "$(dante_connects)" -eq $((c0 + 1)) ] || fail "the fetch beside a squatter did not go through dante"
other_run "$NS_C" "$E2E_DIR/run-squat"
expect_exit1 3000 "already running (pid $(engine_pid))"
set +e
out=$(in_c "$DROVER" cleanup 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "cleanup beside a running engine exited $rc: $out"
rules_intact || fail "cleanup removed the engine's rules"
echo "killed beside a squatter: status names the stale rules, not a running engine; cleanup works"
kill -9 "$(engine_pid)"
wait "$ENGINE_PID" 2>/dev/null || true
set +e
out=$(drover_cli status 2>&1)
rc=$?
set -e
note "status: $out"
[ "$rc" = 3 ] && grep -q "rules are still installed" <<<"$out" || fail "status beside a squatter said: $out (exit $rc)"
in_c "$DROVER" cleanup >/dev/null || fail "cleanup beside a squatter failed"
[ -z "$(drover_leftovers)" ] || fail "rules left after cleanup"
kill "$SQUAT" 2>/dev/null || true
assert_no_target_leak
echo "PASS"
