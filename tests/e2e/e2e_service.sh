#!/usr/bin/env bash
# Drover as the service unit runs it: `drover run --no-tray` as root with no
# --config and no XDG variables, NOTIFY_SOCKET pointing at a socket this test
# reads. The system paths (/etc/drover, /run/drover, /var/log/drover,
# /var/lib/drover) are this test's own: it runs in a private mount namespace
# with /etc overlaid and tmpfs on /run, /var/log and /var/lib, so nothing of
# the machine's is read or written. Then: the control requests, SIGHUP, and
# the rules a SIGKILLed engine leaves behind with `drover cleanup`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
install_clients
start_far
start_dante none 1080
T=$E2E_DIR/droverclient
fetch() { in_c "$T" http "$IP_F" 8080 / >/dev/null 2>&1; }
dante_connects() { grep -c "connect" "$DANTE_LOG" || true; }

# A process that holds the client namespace: the private mount namespace
# below hides /run/netns, so the engine enters it through this pid.
bg "$E2E_DIR/holder.log" in_c sleep 600
HOLDER=$BG_PID
for _ in $(seq 1 50); do [ "$(readlink /proc/$HOLDER/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.02; done

# The datagrams the engine sends to NOTIFY_SOCKET, one per line (the
# assignments of one datagram joined by '|').
cat >"$E2E_DIR/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode(errors="replace").strip().replace("\n", "|") + "\n")
PY
bg "$E2E_DIR/notify.log" python3 "$E2E_DIR/notify.py" "$E2E_DIR/notify.sock" "$E2E_DIR/notify.txt"
for _ in $(seq 1 50); do [ -S "$E2E_DIR/notify.sock" ] && break; sleep 0.02; done

# Everything that sees the test's system paths runs in here.
cat >"$E2E_DIR/inner.sh" <<'INNER'
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '  %s\n' "$*" >&2; }
in_net() { nsenter --net="/proc/$HOLDER/ns/net" "$@"; }
# The unit's environment: no XDG_*, no HOME.
as_unit() { in_net env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
M=$E2E_DIR/mnt
mkdir -p "$M"
mount -t tmpfs tmpfs "$M"
mkdir "$M/upper" "$M/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$M/upper,workdir=$M/work" /etc
for d in /run /var/log /var/lib; do mount -t tmpfs -o mode=0755 tmpfs "$d"; done
mkdir -p /etc/drover
ENGINE=""
trap '[ -n "$ENGINE" ] && kill -9 "$ENGINE" 2>/dev/null; wait 2>/dev/null || true' EXIT
field() { as_unit "$DROVER" status --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1',''))" 2>/dev/null; }
wait_field() {  # wait_field FIELD PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 20))); do field "$1" | grep -q -- "$2" && return 0; sleep 0.05; done
  tail -20 "$E2E_DIR/service.log" >&2
  fail "$1 never matched '$2' (it is '$(field "$1")')"
}
wait_notify() {  # wait_notify PATTERN SECONDS
  for _ in $(seq 1 $(($2 * 20))); do grep -q -- "$1" "$E2E_DIR/notify.txt" 2>/dev/null && return 0; sleep 0.05; done
  cat "$E2E_DIR/notify.txt" >&2 || true
  fail "no '$1' on NOTIFY_SOCKET within $2 s"
}
# same_stamp_write FILE CONTENT: CONTENT padded with a comment to FILE's
# size, written with FILE's mtime: the config watcher sees no change.
same_stamp_write() {
  local size s=$2
  size=$(stat -c %s "$1")
  while [ ${#s} -lt $((size - 1)) ]; do s+="#"; done
  cp -p "$1" "$1.ref"
  printf '%s\n' "$s" >"$1"
  touch -r "$1.ref" "$1"
  rm -f "$1.ref"
  [ "$(stat -c %s "$1")" = "$size" ] || fail "the padded config has another size"
}
# The engine as the unit starts it. A command, not a function: nsenter and
# env exec, so $! is drover itself (a function would run in a subshell).
UNIT=(nsenter --net="/proc/$HOLDER/ns/net" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin)

echo "a broken /etc/drover/config.toml: READY once the rules are in place, the config error stays in status"
{ printf 'version = 1\n[proxy]\nport = = 1\n'; printf '#%.0s' $(seq 1 900); echo; } >/etc/drover/config.toml
chmod 0640 /etc/drover/config.toml
"${UNIT[@]}" NOTIFY_SOCKET="$E2E_DIR/notify.sock" "$DROVER" run --no-tray >"$E2E_DIR/service.log" 2>&1 &
ENGINE=$!
wait_notify "READY=1" 15
in_net iptables -w -t mangle -C OUTPUT -j DROVER_OUT || fail "READY came before the rules were in place"
note "notified: $(grep READY=1 "$E2E_DIR/notify.txt" | head -1)"
# The default proxy (127.0.0.1:1080) fails its check: that must not replace the cause.
wait_field state "Reconnecting" 15
sleep 1
err=$(field last_error)
note "last_error: $err"
grep -q "^config error" <<<"$err" || fail "the config error left status: $err"
grep -q "config.toml:3:" <<<"$err" || fail "no line/column in: $err"

echo "the system paths, each with its owner and mode"
[ "$(stat -c '%U %a' /run/drover)" = "root 755" ] || fail "/run/drover is $(stat -c '%U %a' /run/drover)"
mode=$(stat -c %a /run/drover/control.sock)
case $mode in 600 | 660) ;; *) fail "control socket mode $mode" ;; esac
[ -f /var/log/drover/drover.log ] && [ ! -L /var/log/drover/drover.log ] || fail "no /var/log/drover/drover.log"
case $(stat -c %a /var/log/drover/drover.log) in 600 | 640) ;; *) fail "log mode $(stat -c %a /var/log/drover/drover.log)" ;; esac
grep -q "config error" /var/log/drover/drover.log || fail "the log file does not say what went wrong"
[ "$(stat -c '%U %a' /var/lib/drover)" = "root 700" ] || fail "/var/lib/drover is $(stat -c '%U %a' /var/lib/drover)"

echo "SIGHUP reloads the file (the watcher cannot have seen it: same size and time), the engine stays"
same_stamp_write /etc/drover/config.toml "version = 1
[proxy]
host = \"$IP_P\"
port = 1080
udp_check = \"$IP_F:53\"
[targets]
processes = [\"droverclient\"]
"
sleep 1.5
[ "$(field state)" = Reconnecting ] || fail "the config was reloaded without SIGHUP: the test proves nothing"
kill -HUP "$ENGINE"
wait_field state "^Active$" 15
kill -0 "$ENGINE" 2>/dev/null || fail "SIGHUP stopped the engine"
field last_error | grep -q "config error" && fail "the old config error stayed after a good reload: $(field last_error)"
wait_notify "STATUS=Active" 5
c0=$(grep -c "connect" "$DANTE_LOG" || true)
in_net "$E2E_DIR/droverclient" http "$IP_F" 8080 / >/dev/null || fail "fetch through the reloaded config failed"
[ "$(grep -c "connect" "$DANTE_LOG")" -gt "$c0" ] || fail "the fetch did not go through dante"

echo "control requests: stop -> Idle with the rules gone and the process serving; start -> Active"
ask() { in_net python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect("/run/drover/control.sock"); s.sendall(sys.argv[1].encode()+b"\n"); print(s.makefile().readline().strip())' "$1"; }
[ "$(ask stop)" = '{"ok":true}' ] || fail "stop was not answered ok"
[ "$(field state)" = Idle ] || fail "stop left the engine $(field state)"
in_net iptables -w -t mangle -C OUTPUT -j DROVER_OUT 2>/dev/null && fail "Idle kept the rules"
kill -0 "$ENGINE" || fail "stop ended the process"
grep -q '"error"' <<<"$(ask retry)" || fail "retry was accepted while Idle"
[ "$(ask start)" = '{"ok":true}' ] || fail "start was not answered ok"
wait_field state "^Active$" 15
grep -q "unknown request" <<<"$(ask sleep)" || fail "the test-only sleep works in a normal run"
[ "$(field state)" = Active ] || fail "sleep paused a normal run"
ask check | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j["ok"] and j["udp_ok"] else 1)' ||
  fail "check through the control channel did not pass"

echo "drover stop: STOPPING on the notify socket, exit 0, rules and socket gone"
as_unit "$DROVER" stop >/dev/null || fail "drover stop failed"
wait "$ENGINE" || fail "drover run exited $?"
ENGINE=""
wait_notify "STOPPING=1" 1
[ ! -e /run/drover/control.sock ] || fail "the control socket stayed"
in_net iptables -w -t mangle -C OUTPUT -j DROVER_OUT 2>/dev/null && fail "the rules stayed"

echo "a /run/drover owned by another user is refused; a symlinked drover.log is never written through"
rm -rf /run/drover
mkdir -m 0755 /run/drover
chown 65534 /run/drover
set +e
out=$(timeout 10 "${UNIT[@]}" "$DROVER" run --no-tray 2>&1)
rc=$?
set -e
note "exit $rc: $(tail -1 <<<"$out")"
[ "$rc" = 1 ] || fail "a foreign /run/drover: exit $rc"
grep -q "/run/drover" <<<"$out" && grep -qi "owned by" <<<"$out" || fail "no clear reason: $out"
in_net iptables-save | grep -q DROVER && fail "the refused start left rules"
rm -rf /run/drover
echo "the victim" >"$E2E_DIR/victim"
rm -f /var/log/drover/drover.log
ln -s "$E2E_DIR/victim" /var/log/drover/drover.log
"${UNIT[@]}" "$DROVER" run --no-tray >"$E2E_DIR/service-symlink.log" 2>&1 &
ENGINE=$!
wait_field state "^Active$" 15
as_unit "$DROVER" stop >/dev/null
wait "$ENGINE" || true
ENGINE=""
[ "$(cat "$E2E_DIR/victim")" = "the victim" ] || fail "the log was written through the symlink"
grep -qi "symlink" "$E2E_DIR/service-symlink.log" || fail "the engine did not say why it has no log file"
note "$(grep -i symlink "$E2E_DIR/service-symlink.log" | head -1)"
rm -f /var/log/drover/drover.log

echo "SIGKILL leaves the rules: status says so (exit 3), cleanup removes them"
"${UNIT[@]}" "$DROVER" run --no-tray >>"$E2E_DIR/service.log" 2>&1 &
ENGINE=$!
wait_field state "^Active$" 15
kill -9 "$ENGINE"
wait "$ENGINE" 2>/dev/null || true
ENGINE=""
set +e
out=$(as_unit "$DROVER" status 2>&1)
rc=$?
set -e
note "status: $out (exit $rc)"
[ "$rc" = 3 ] || fail "status exited $rc"
grep -q "rules are still installed" <<<"$out" || fail "status does not say the rules are left: $out"
grep -q "drover cleanup" <<<"$out" || fail "status does not say what to do: $out"
out=$(as_unit SERVICE_RESULT=signal "$DROVER" cleanup) || fail "cleanup after a crash failed: $out"
note "ExecStopPost after a crash: $out"
in_net iptables -w -t mangle -C OUTPUT -j DROVER_OUT || fail "ExecStopPost after a crash removed the rules (targets would go direct until the restart)"
out=$(as_unit "$DROVER" cleanup) || fail "cleanup failed: $out"
note "cleanup: $out"
in_net iptables-save | grep -q DROVER && fail "cleanup left rules"
in_net ip6tables-save | grep -q DROVER && fail "cleanup left IPv6 rules"
set +e
out=$(as_unit "$DROVER" status 2>&1)
rc=$?
set -e
[ "$rc" = 3 ] && grep -q "no running instance" <<<"$out" || fail "after cleanup, status said: $out (exit $rc)"
out=$(as_unit "$DROVER" cleanup) || fail "a second cleanup failed"
grep -q "nothing to clean up" <<<"$out" || fail "a second cleanup said: $out"

echo "cleanup while an engine runs is refused and leaves its rules"
"${UNIT[@]}" "$DROVER" run --no-tray >>"$E2E_DIR/service.log" 2>&1 &
ENGINE=$!
wait_field state "^Active$" 15
set +e
out=$(as_unit "$DROVER" cleanup 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "cleanup beside a running engine exited $rc: $out"
in_net iptables -w -t mangle -C OUTPUT -j DROVER_OUT || fail "cleanup removed a running engine's rules"
as_unit "$DROVER" stop >/dev/null
wait "$ENGINE" || true
ENGINE=""
echo "all service checks passed"
INNER
HOLDER=$HOLDER E2E_DIR=$E2E_DIR DROVER=$DROVER IP_P=$IP_P IP_F=$IP_F DANTE_LOG=$DANTE_LOG \
  unshare -m --propagation private bash "$E2E_DIR/inner.sh"
assert_no_target_leak
