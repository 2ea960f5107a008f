#!/usr/bin/env bash
# Bad config inputs become clear errors (issue #12): a directory, an
# unreadable file, a missing one, /dev/zero, a FIFO, a socket, a huge file and
# every value that breaks the engine make `drover check` and `drover run`
# exit 2 at once with the reason (and file:line:col: key for values); none
# of them hangs. No engine ever starts: `drover run` only sees configs that
# are refused before anything runs, and even so it runs inside a throwaway
# network namespace, so a Drover that failed to refuse one would install its
# rules there and not on this machine.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (setpriv to another user, a network namespace)"; exit 77; }
: "${DROVER:?set DROVER to the drover binary}"
command -v setpriv >/dev/null || { echo "SKIP: setpriv not installed"; exit 77; }

DIR=$(mktemp -d /tmp/drover-e2e-config.XXXXXX)
NS=drover-cfg-$$
cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$DIR"  # another user may reach the files; each file's own mode decides
ip netns add "$NS"
# Everything drover might create stays in $DIR.
export XDG_RUNTIME_DIR=$DIR/run XDG_STATE_HOME=$DIR/state XDG_CONFIG_HOME=$DIR/xdg
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"

fail() {
  echo "FAIL: $*"
  exit 1
}

# attempt CMD...: runs CMD in the namespace under `timeout 10`; leaves its exit
# status in RC, stdout and stderr in OUT and the time it took in MS.
attempt() {
  local t0
  t0=$(date +%s%N)
  set +e
  OUT=$(timeout -k 5 10 ip netns exec "$NS" "$@" 2>&1)
  RC=$?
  set -e
  MS=$((($(date +%s%N) - t0) / 1000000))
}

# expect WHAT RC MAX_MS TEXT...: the last attempt ended with RC within MAX_MS
# and said every TEXT (fixed strings).
expect() {
  local what=$1 rc=$2 max=$3 t
  shift 3
  case $RC in 124 | 137) fail "$what: hung, killed after ${MS} ms: $OUT" ;; esac
  [ "$RC" -eq "$rc" ] || fail "$what: exit $RC, want $rc: $OUT"
  [ "$MS" -le "$max" ] || fail "$what: took ${MS} ms (at most ${max} ms): $OUT"
  for t in "$@"; do grep -qF -- "$t" <<<"$OUT" || fail "$what: does not say '$t': $OUT"; done
  echo "  ok: $what (${MS} ms): $(tail -1 <<<"$OUT")"
}

# both FILE WHAT TEXT...: `check` and `run` refuse --config FILE with exit 2.
both() {
  local f=$1 what=$2
  shift 2
  attempt "$DROVER" check --config "$f"
  expect "check $what" 2 1000 "$@"
  attempt "$DROVER" run --config "$f"
  expect "run $what" 2 1000 "$@"
}

echo "files that are not a readable config"
mkdir "$DIR/conf.d"
both "$DIR/conf.d" "a directory" "$DIR/conf.d" "is a directory"
both "$DIR/absent.toml" "a missing file" "$DIR/absent.toml" "not found"
# The read would never end, and memory with it: cap what a Drover that
# still tried could take.
attempt prlimit --as=2147483648 "$DROVER" check --config /dev/zero
expect "check /dev/zero" 2 1000 "/dev/zero" "not a regular file"
attempt prlimit --as=2147483648 "$DROVER" run --config /dev/zero
expect "run /dev/zero" 2 1000 "/dev/zero" "not a regular file"
ln -s /dev/zero "$DIR/zero.toml"
both "$DIR/zero.toml" "a symlink to /dev/zero" "not a regular file"
mkfifo "$DIR/fifo.toml"  # no writer ever opens it: a blocking open would wait for ever
both "$DIR/fifo.toml" "a FIFO" "$DIR/fifo.toml" "not a regular file"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$DIR/sock.toml"
both "$DIR/sock.toml" "a socket" "$DIR/sock.toml" "not a regular file"
{
  printf '[proxy]\nport = 1080\n'
  head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '#'
} >"$DIR/big.toml"
both "$DIR/big.toml" "a 2 MB file" "$DIR/big.toml" "larger than 1 MB"

printf '[proxy]\nport = 1080\n' >"$DIR/secret.toml"
chmod 0600 "$DIR/secret.toml"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
attempt "${nobody[@]}" "$DROVER" check --config "$DIR/secret.toml"
expect "check an unreadable file (uid 65534)" 2 1000 "$DIR/secret.toml" "permission denied"
attempt "${nobody[@]}" "$DROVER" run --config "$DIR/secret.toml"
expect "run an unreadable file (uid 65534)" 2 1000 "$DIR/secret.toml" "permission denied"

echo "the default path"
# Root's default is /etc/drover/config.toml, which a test must not touch: a
# user's default ($XDG_CONFIG_HOME/drover/config.toml) is in $DIR. Nothing
# there: the defaults, said in one line, and check goes on to probe the
# default proxy (nothing listens in the namespace: exit 1, never 2).
default=$XDG_CONFIG_HOME/drover/config.toml
attempt "${nobody[@]}" env HOME="$DIR" "$DROVER" check
case $RC in 2 | 124 | 137) fail "check without a config: exit $RC: $OUT" ;; esac
grep -qxF "drover: no config at $default: using defaults" <<<"$OUT" ||
  fail "check without a config does not say it uses the defaults: $OUT"
echo "  ok: no config at the default path (exit $RC, ${MS} ms)"
# Something unreadable there is an error, not "no config".
mkdir -p "$default"
attempt "${nobody[@]}" env HOME="$DIR" "$DROVER" check
expect "check, a directory at the default path" 2 1000 "$default" "is a directory"

echo "values that break the engine"
n=0
# section | line 2 of the file | key | column of the value | words naming the limit
while IFS='|' read -r section line key col words; do
  [ -n "$section" ] || continue
  f=$DIR/value-${key//./-}-$((++n)).toml
  printf '[%s]\n%s\n' "$section" "$line" >"$f"
  both "$f" "$key: $line" "$f:2:$col: $key: " "$words"
done <<'ROWS'
engine|heartbeat_interval = "0s"|engine.heartbeat_interval|22|at least 1s
engine|heartbeat_interval = "500ms"|engine.heartbeat_interval|22|at least 1s
engine|no_traffic_warn_after = "50ms"|engine.no_traffic_warn_after|25|at least 100ms
engine|reconnect_backoff_initial = "0s"|engine.reconnect_backoff_initial|29|at least 100ms
engine|reconnect_backoff_max = "10ms"|engine.reconnect_backoff_max|25|at least 100ms
engine|reconnect_total_cap = "0s"|engine.reconnect_total_cap|23|at least 1s
engine|heartbeat_interval = "999999999h"|engine.heartbeat_interval|22|at most 720h
proxy|tcp_connect_timeout = "0s"|proxy.tcp_connect_timeout|23|at least 100ms
proxy|udp_associate_timeout = "99ms"|proxy.udp_associate_timeout|25|at least 100ms
ui|log_max_mb = 0|ui.log_max_mb|14|from 1 to 1000000
ui|log_backups = 101|ui.log_backups|15|from 0 to 100
ui|log_backups = -1|ui.log_backups|15|from 0 to 100
targets|processes = [""]|targets.processes|14|must not be empty
targets|processes = ["Discord", "/opt/discord/Discord"]|targets.processes|25|a process name, not a path
targets|processes = ['C:\Discord\Discord.exe']|targets.processes|14|not a path
targets|processes = ["Dis\u0000cord"]|targets.processes|14|NUL
ROWS
long=$(printf 'x%.0s' $(seq 256))
printf '[targets]\nprocesses = ["%s"]\n' "$long" >"$DIR/long-name.toml"
both "$DIR/long-name.toml" "a 256-byte process name" "$DIR/long-name.toml:2:14: targets.processes: " "at most 255 bytes"

echo "PASS"
