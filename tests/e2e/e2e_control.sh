#!/usr/bin/env bash
# The control channel of a real engine, used as the CLI and a tray use it and
# as badly behaved local clients do: a client that trickles its request, 200
# watchers that vanish, a user outside group drover, a member of it, a dump
# onto a full device.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
install_clients
start_far
start_dante none 1080
write_config "$E2E_DIR/drover.toml"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
SOCK=$E2E_DIR/run/drover/control.sock
PID=$(engine_pid)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "a client sending a byte every 1.5 s does not hold up status or stop for others"
bg "$E2E_DIR/trickle.log" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
for c in b"statu":
    s.send(bytes([c])); time.sleep(1.5)
' "$SOCK"
TRICKLE=$BG_PID
sleep 0.3
for i in 1 2 3; do
  t0=$(date +%s%N)
  drover_cli status >/dev/null || fail "status failed beside a trickling client"
  ms=$(ms_since "$t0")
  [ "$ms" -lt 1000 ] || fail "status took $ms ms beside a trickling client"
  sleep 0.5
done
note "status answered in $ms ms"
wait "$TRICKLE" 2>/dev/null || true

echo "200 watchers that connect and vanish leave nothing behind within 1 s, without any state change"
# The engine's end of each control connection: a socket bound to $SOCK. The
# descriptor count moves on its own (heartbeat pipes, probes), so it gets a
# least-of baseline and 3 s.
control_conns() { in_c ss -Hx 2>/dev/null | awk -v s="$SOCK" '$2 == "ESTAB" && $5 == s' | wc -l; }
fd_count() { ls /proc/"$PID"/fd | wc -l; }
least_fds() { local m=1000000 n; for _ in $(seq 1 15); do n=$(fd_count); [ "$n" -lt "$m" ] && m=$n; sleep 0.1; done; echo "$m"; }
fds0=$(least_fds)
for i in $(seq 1 200); do
  # Spelled out, not in_c: a function in the background is a subshell, and
  # the signal must reach the client itself.
  ip netns exec "$NS_C" env XDG_RUNTIME_DIR="$E2E_DIR/run" "$DROVER" status --watch >/dev/null 2>&1 &
  W[$i]=$!
done
for _ in $(seq 1 100); do [ "$(control_conns)" -ge 64 ] && break; sleep 0.05; done
peak=$(control_conns)
# SIGTERM: a background job of a script ignores SIGINT.
kill -TERM "${W[@]}" 2>/dev/null || true
wait "${W[@]}" 2>/dev/null || true
for _ in $(seq 1 20); do [ "$(control_conns)" = 0 ] && break; sleep 0.05; done
left=$(control_conns)
for _ in $(seq 1 30); do [ "$(fd_count)" -le "$fds0" ] && break; sleep 0.1; done
fds1=$(fd_count)
note "control connections: $peak with watchers, $left 1 s after they went; descriptors $fds0 -> $fds1"
[ "$peak" -ge 60 ] || fail "the watchers were not served at once ($peak connections)"
[ "$left" = 0 ] || fail "vanished watchers still hold $left connections after 1 s"
[ "$fds1" -le "$fds0" ] || fail "descriptors grew from $fds0 to $fds1"
[ "$(engine_field state)" = Active ] || fail "the engine is $(engine_field state)"

echo "a user outside group drover is told so (exit 1), not 'no running instance'"
for verb in status stop dump "status --watch"; do
  set +e
  # shellcheck disable=SC2086
  out=$(timeout 5 ip netns exec "$NS_C" setpriv --reuid=65534 --regid=65534 --clear-groups \
    env XDG_RUNTIME_DIR="$E2E_DIR/run" "$DROVER" $verb 2>&1)
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "'drover $verb' as uid 65534: exit $rc ($out)"
  grep -q "permission denied: use sudo, or add yourself to the drover group" <<<"$out" ||
    fail "'drover $verb' as uid 65534 said: $out"
done
note "uid 65534: $out"
[ "$(engine_field state)" = Active ] || fail "a refused stop stopped the engine"

echo "a dump onto a full device fails with the reason (exit 1)"
set +e
out=$(drover_cli dump --out /dev/full 2>&1)
rc=$?
set -e
note "$out"
[ "$rc" = 1 ] || fail "dump to /dev/full: exit $rc"
grep -q "No space left on device" <<<"$out" || fail "dump to /dev/full did not say why: $out"
stop_engine

echo "a member of group drover may use the engine (group and engine exist only in a private /etc)"
cat >"$E2E_DIR/member.sh" <<'INNER'
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
M=$E2E_DIR/mnt
mkdir -p "$M" && mount -t tmpfs tmpfs "$M" && mkdir "$M/u" "$M/w"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$M/u,workdir=$M/w" /etc
getent group drover >/dev/null || groupadd -r drover
gid=$(getent group drover | cut -d: -f3)
ip netns exec "$NS_C" env XDG_RUNTIME_DIR="$E2E_DIR/run" XDG_STATE_HOME="$E2E_DIR/state" \
  "$DROVER" run --config "$E2E_DIR/drover.toml" >"$E2E_DIR/engine-member.log" 2>&1 &
E=$!
trap 'kill -9 $E 2>/dev/null || true' EXIT
as() {  # as GROUPS-OPTION DROVER-ARGS...: drover as uid 65534
  local groups=$1; shift
  ip netns exec "$NS_C" setpriv --reuid=65534 --regid=65534 "$groups" env XDG_RUNTIME_DIR="$E2E_DIR/run" "$DROVER" "$@"
}
for _ in $(seq 1 100); do
  as --groups="$gid" status --json 2>/dev/null | grep -q '"state": "Active"' && break
  sleep 0.1
done
[ "$(stat -c '%a %G' "$E2E_DIR/run/drover/control.sock")" = "660 drover" ] ||
  fail "socket is $(stat -c '%a %G' "$E2E_DIR/run/drover/control.sock"), not 660 root:drover"
as --groups="$gid" status >/dev/null || fail "a member could not read status"
set +e
out=$(as --clear-groups status 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "permission denied" <<<"$out" || fail "a non-member got: $out (exit $rc)"
as --groups="$gid" stop >/dev/null || fail "a member could not stop the engine"
wait "$E" || fail "the engine exited $? after a member's stop"
INNER
NS_C=$NS_C E2E_DIR=$E2E_DIR DROVER=$DROVER unshare -m --propagation private bash "$E2E_DIR/member.sh"
[ -z "$(drover_leftovers)" ] || fail "rules left behind"
