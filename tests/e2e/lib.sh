# Shared test-host setup for end-to-end tests, the demo and the benchmarks:
# three network namespaces on one bridge, all created here and removed by
# `e2e_cleanup` (installed as an EXIT trap, so also on failure or ^C).
#   client 198.18.0.1  runs drover and the test clients
#   proxy  198.18.0.2  runs danted (or microsocks, or shadowsocks' ss-local -> ss-server)
#   far    198.18.0.3  runs the far servers (HTTP, TCP echo, UDP echo) and dnsmasq
# The far server logs the peer of every TCP connection and UDP datagram, and
# dnsmasq every query: a target's traffic must only ever come from the proxy
# (assert_no_target_leak; non-target commands run through direct_run).
# 198.18.0.0/15 is reserved for benchmarking; nothing here leaves the machine.

E2E_ID=${E2E_ID:-$$}
NS_C=drv-c-$E2E_ID
NS_P=drv-p-$E2E_ID
NS_F=drv-f-$E2E_ID
NS_B=drv-b-$E2E_ID
IP_C=198.18.0.1
IP_P=198.18.0.2
IP_F=198.18.0.3
IP6_C=fd77::1
IP6_F=fd77::3
E2E_DIR=$(mktemp -d /tmp/drover-e2e.XXXXXX)
chmod 755 "$E2E_DIR"
E2E_PIDS=()
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

in_c() { ip netns exec "$NS_C" "$@"; }
in_p() { ip netns exec "$NS_P" "$@"; }
in_f() { ip netns exec "$NS_F" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '  %s\n' "$*" >&2; }

e2e_cleanup() {
  local rc=$?
  for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${E2E_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in "$NS_C" "$NS_P" "$NS_F" "$NS_B"; do
    # Anything still running inside goes with its namespace.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    # A test's own resolv.conf for it (ip netns exec bind-mounts /etc/netns/NAME/*).
    [ -n "$ns" ] && rm -rf "/etc/netns/$ns"
  done
  if [ "${E2E_KEEP:-0}" != 1 ]; then rm -rf "$E2E_DIR"; fi
  return $rc
}

e2e_setup() {
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
  for ns in "$NS_C" "$NS_P" "$NS_F" "$NS_B"; do ip netns add "$ns"; done
  ip -n "$NS_B" link add br0 type bridge
  ip -n "$NS_B" link set br0 up
  local i=0
  for pair in "$NS_C:$IP_C" "$NS_P:$IP_P" "$NS_F:$IP_F"; do
    local ns=${pair%%:*} ip=${pair##*:}
    i=$((i + 1))
    ip link add "drv$E2E_ID-$i" type veth peer name eth0 netns "$ns"
    ip link set "drv$E2E_ID-$i" netns "$NS_B"
    ip -n "$NS_B" link set "drv$E2E_ID-$i" master br0 up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" addr add "fd77::$i/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # A default route, as on a real host (the engine's refusal paths need one).
    ip -n "$ns" route add default via "$ip" dev eth0 2>/dev/null || true
  done
  in_c ip -o addr show eth0 | grep -c "$IP_C" >/dev/null || fail "namespace network did not come up"
}

# Background process tracked for cleanup: bg LOGFILE CMD...; its pid is
# left in BG_PID (not echoed: a $(...) subshell would own the child, and
# `wait` on it would return at once). in_c/in_p/in_f are spelled out here:
# a shell function in the background runs in a subshell, so BG_PID would be
# that subshell, and killing it would leave the process itself running.
bg() {
  local log=$1; shift
  case $1 in
    in_c) set -- ip netns exec "$NS_C" "${@:2}" ;;
    in_p) set -- ip netns exec "$NS_P" "${@:2}" ;;
    in_f) set -- ip netns exec "$NS_F" "${@:2}" ;;
  esac
  "$@" >"$log" 2>&1 &
  BG_PID=$!
  E2E_PIDS+=("$BG_PID")
}

wait_port() {  # wait_port NS_FUNC IP PORT [proto]
  local fn=$1 ip=$2 port=$3 proto=${4:-tcp}
  for _ in $(seq 1 100); do
    if [ "$proto" = tcp ]; then $fn bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null && return 0
    else $fn ss -Hlun "sport = :$port" | grep -c . >/dev/null && return 0; fi
    sleep 0.05
  done
  fail "nothing listens on $ip:$port ($proto)"
}

start_far() {
  bg "$E2E_DIR/far.log" in_f python3 "$HERE/far_server.py" --log "$E2E_DIR/far-peers.log"
  wait_port in_f "$IP_F" 8080
  wait_port in_f "$IP_F" 7000
  wait_port in_f "$IP_F" 7001 udp
  wait_port in_f "$IP_F" 7002 udp
  start_dns
}

# A DNS responder on the far host: the UDP round trip of the health check
# (proxy.udp_check) asks it, never a public resolver. It answers
# check.drover.test and every name under it, and logs each query with the
# address it came from ("query[A] NAME from IP").
start_dns() {
  bg "$E2E_DIR/dnsmasq.log" in_f dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
    --listen-address="$IP_F" --port=53 --user=root --pid-file= --address=/check.drover.test/"$IP_F" --log-facility=- \
    --log-queries
  wait_port in_f "$IP_F" 53 udp
}

# start_dante [none|username] [port]: username auth uses user drovertest.
# The log is danted-PORT.log; DANTE_LOG points at the last one started.
start_dante() {
  local method=${1:-none} port=${2:-1080}
  local conf=$E2E_DIR/danted-$port.conf
  DANTE_LOG=$E2E_DIR/danted-$port.log
  cat >"$conf" <<CONF
logoutput: $DANTE_LOG
internal: $IP_P port = $port
external: $IP_P
clientmethod: none
socksmethod: $method
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 5
client pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: error
}
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: connect udpassociate udpreply
  log: connect error
}
CONF
  touch "$DANTE_LOG"
  if [ "$method" = username ]; then
    # A test user that exists only inside dante's own mount namespace.
    cp /etc/passwd "$E2E_DIR/passwd"; cp /etc/shadow "$E2E_DIR/shadow"
    echo "drovertest:x:4242:4242::/nonexistent:/usr/sbin/nologin" >>"$E2E_DIR/passwd"
    echo "drovertest:$(openssl passwd -6 'c0rrect-h0rse'):19000:0:99999:7:::" >>"$E2E_DIR/shadow"
    bg "$E2E_DIR/danted.out" in_p unshare -m --propagation private sh -c \
      "mount --bind $E2E_DIR/passwd /etc/passwd && mount --bind $E2E_DIR/shadow /etc/shadow && exec danted -f $conf"
  else
    bg "$E2E_DIR/danted-$port.out" in_p danted -f "$conf"
  fi
  DANTE_PID=$BG_PID
  wait_port in_p "$IP_P" "$port"
}

stop_dante() {  # stop_dante [port]: killed outright, children too (a crash, not a drain)
  local port=${1:-1080} pids
  # dante's io-children rename themselves and outlive their mother.
  pids=$(pgrep -f "danted -f $E2E_DIR/danted-$port.conf" || true)
  for p in $pids; do pids="$pids $(pgrep -P "$p" || true)"; done
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  for _ in $(seq 1 100); do
    in_p ss -Hltn "sport = :$port" | grep -c . >/dev/null || return 0
    sleep 0.05
  done
}

start_microsocks() {
  bg "$E2E_DIR/microsocks.log" in_p microsocks -i "$IP_P" -p 1080
  wait_port in_p "$IP_P" 1080
}

# shadowsocks-libev as a second real upstream: ss-server on the proxy host's
# loopback and ss-local -u (SOCKS5 with UDP relay) in front of it on
# $IP_P:PORT, so write_config works unchanged. ss-server then reaches the far
# host from $IP_P, as dante does. (ss drops UDP payloads over ~1,400 B by
# itself: keep its datagrams <= 1,200 B.)
SS_PASSWORD=drover-e2e-key
SS_METHOD=chacha20-ietf-poly1305
start_shadowsocks() {  # start_shadowsocks [port]
  local port=${1:-1080}
  bg "$E2E_DIR/ss-server.log" in_p ss-server -s 127.0.0.1 -p 8388 -k "$SS_PASSWORD" -m "$SS_METHOD" -u
  wait_port in_p 127.0.0.1 8388
  bg "$E2E_DIR/ss-local-$port.log" in_p ss-local -s 127.0.0.1 -p 8388 -b "$IP_P" -l "$port" \
    -k "$SS_PASSWORD" -m "$SS_METHOD" -u
  wait_port in_p "$IP_P" "$port"
  wait_port in_p "$IP_P" "$port" udp
}

stop_shadowsocks() {  # both halves, killed outright
  local p
  for p in $(ip netns pids "$NS_P" 2>/dev/null); do
    case $(cat "/proc/$p/comm" 2>/dev/null) in ss-local|ss-server) kill -9 "$p" 2>/dev/null || true ;; esac
  done
  for _ in $(seq 1 100); do
    in_p ss -Hltn "sport = :8388" | grep -c . >/dev/null || return 0
    sleep 0.05
  done
}

# A proxy far away: start_slow_forwarder PORT TO_PORT DELAY_MS holds each new
# connection to $IP_P:PORT for DELAY_MS, then relays it to $IP_P:TO_PORT
# (dante, say). UDP ASSOCIATE takes that much longer to open.
start_slow_forwarder() {
  bg "$E2E_DIR/slow-$1.log" in_p python3 "$HERE/slow_tcp.py" --listen "$IP_P:$1" --to "$IP_P:$2" --delay-ms "$3"
  wait_port in_p "$IP_P" "$1"
}

# Lines of dante's log that record a CONNECT / UDP association.
dante_connects() { grep -c 'tcp/connect \[:' "${1:-$E2E_DIR/danted-1080.log}" 2>/dev/null || true; }
dante_udp() { grep -c 'udp/udpassociate \[:' "${1:-$E2E_DIR/danted-1080.log}" 2>/dev/null || true; }
# Connections the far server saw directly from the client host (a leak if
# the client was a target).
far_direct_from_client() { grep -c "^tcp $IP_C " "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
far_v6_peers() { grep -c "^tcp fd77:" "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
far_from_proxy() { grep -c "^tcp $IP_P " "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
# The same for UDP: one line per datagram, "udp IP PORT DSTPORT LEN".
far_udp_direct_from_client() { grep -c "^udp $IP_C " "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
far_udp_from_proxy() { grep -c "^udp $IP_P " "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
far_udp_v6_peers() { grep -c "^udp fd77:" "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
# Marks in the far server's log: far_mark prints its length; far_since MARK
# prints what came after it.
far_mark() { _lines "$E2E_DIR/far-peers.log"; }
far_since() { tail -n +"$(($1 + 1))" "$E2E_DIR/far-peers.log" 2>/dev/null || true; }
# far_udp_since MARK SRCIP [DSTPORT]: datagrams after MARK from SRCIP (to DSTPORT).
far_udp_since() {
  far_since "$1" | awk -v ip="$2" -v port="${3:-}" '$1 == "udp" && $2 == ip && (port == "" || $4 == port)'
}
# far_proxy_udp_ports MARK [DSTPORT]: the distinct proxy source ports of those
# datagrams, one per line (one UDP association = one relay port).
far_proxy_udp_ports() { far_udp_since "$1" "$IP_P" "${2:-}" | awk '{print $3}' | sort -un; }
# dns_queries_from IP [NAME]: queries dnsmasq got from IP (for NAME).
dns_queries_from() {
  grep -c "query\[[A-Z]*\] ${2:-.*} from $1\$" "$E2E_DIR/dnsmasq.log" 2>/dev/null || true
}
_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# direct_run CMD...: a non-target command run in the client namespace; the
# direct peers the far host sees while it runs are expected (and only
# those). Returns CMD's exit code.
direct_run() {
  local f0 d0 rc=0
  f0=$(_lines "$E2E_DIR/far-peers.log"); d0=$(_lines "$E2E_DIR/dnsmasq.log")
  in_c "$@" || rc=$?
  sleep 0.1  # dnsmasq may log a query just after answering it
  echo "$f0 $(_lines "$E2E_DIR/far-peers.log") $d0 $(_lines "$E2E_DIR/dnsmasq.log")" >>"$E2E_DIR/direct-ranges"
  return $rc
}

# Every line in the far server's log and dnsmasq's query log that came
# from the client host (198.18.0.1 or fd77::1) and was not made while a
# direct_run command ran (nor is Drover's own lookup of a name listed in
# $E2E_DIR/engine-dns-names): a target's traffic that bypassed the proxy.
# Only lines past LEAK_FAR_FROM / LEAK_DNS_FROM (line counts, default 0:
# the whole run) are looked at.
target_leaks() {
  python3 - "$E2E_DIR/far-peers.log" "$E2E_DIR/dnsmasq.log" "$E2E_DIR/direct-ranges" "$IP_C" "$IP6_C" \
    "${LEAK_FAR_FROM:-0}" "${LEAK_DNS_FROM:-0}" "$E2E_DIR/engine-dns-names" <<'PY'
import os, sys
far, dns, ranges, ip4, ip6 = sys.argv[1:6]
far_from, dns_from = int(sys.argv[6]), int(sys.argv[7])
clients = {ip4, ip6, "::ffff:" + ip4}
# Names Drover itself looks up (a proxy given by name): its own queries.
engine_names = set(open(sys.argv[8]).read().split()) if os.path.exists(sys.argv[8]) else set()
allowed_far, allowed_dns = [], []
if os.path.exists(ranges):
    for line in open(ranges):
        f0, f1, d0, d1 = map(int, line.split())
        allowed_far.append((f0, f1))
        allowed_dns.append((d0, d1))
def allowed(n, spans):
    return any(a < n <= b for a, b in spans)
if os.path.exists(far):
    for n, line in enumerate(open(far), 1):
        f = line.split()
        if n > far_from and len(f) >= 2 and f[0] in ("tcp", "udp") and f[1] in clients and not allowed(n, allowed_far):
            print(f"far server, line {n}: {line.strip()}")
if os.path.exists(dns):
    for n, line in enumerate(open(dns), 1):
        f = line.split()
        if (n > dns_from and len(f) >= 4 and f[-2] == "from" and f[-1] in clients and "query[" in line
                and f[-3] not in engine_names and not allowed(n, allowed_dns)):
            print(f"dnsmasq, line {n}: {line.strip()}")
PY
}

# leak_mark: from now on, assert_no_target_leak looks only at what follows.
leak_mark() {
  LEAK_FAR_FROM=$(_lines "$E2E_DIR/far-peers.log")
  LEAK_DNS_FROM=$(_lines "$E2E_DIR/dnsmasq.log")
}

# Every test ends with this: no target traffic reached the far host directly.
assert_no_target_leak() {
  local leaks n
  leaks=$(target_leaks)
  if [ -n "$leaks" ]; then
    n=$(wc -l <<<"$leaks")
    fail "$n direct peer(s) from a target at the far host (a leak):
$(head -20 <<<"$leaks")"
  fi
  note "far host: no direct peer from a target"
}

# The executables the config names as targets (TOML strings, comma-separated).
DEFAULT_TARGETS='"droverclient", "drovercurl"'
write_config() {  # write_config FILE [extra toml lines]; TARGETS overrides the target list
  local f=$1; shift
  cat >"$f" <<CONF
version = 1
[proxy]
host = "$IP_P"
port = ${PROXY_PORT:-1080}
udp_check = "${UDP_CHECK:-$IP_F:53}"
${PROXY_EXTRA:-}
[targets]
processes = [${TARGETS:-$DEFAULT_TARGETS}]
[ui]
log_level = "${DROVER_LOG_LEVEL:-info}"
${ENGINE_EXTRA:-}
CONF
}

# Copies the test client under a target and a non-target name.
install_clients() {
  cp "$TESTCLIENT" "$E2E_DIR/droverclient"
  cp "$TESTCLIENT" "$E2E_DIR/plainclient"
  cp "$(command -v curl)" "$E2E_DIR/drovercurl"
  cp "$(command -v curl)" "$E2E_DIR/plaincurl"
}

# Real programs under a target name and a non-target name: the python
# interpreter (droverpy / plainpy, runs udp_client.py), socat and dig.
# Add TOOL_TARGETS to TARGETS for the first names to be targets.
TOOL_TARGETS='"droverpy", "droversocat", "droverdig"'
install_tools() {
  local py
  py=$(readlink -f /usr/bin/python3 2>/dev/null || true)
  [ -x "$py" ] || py=$(python3 -c 'import sys; print(sys.executable)')
  cp "$py" "$E2E_DIR/droverpy"; cp "$py" "$E2E_DIR/plainpy"
  cp "$(command -v socat)" "$E2E_DIR/droversocat"; cp "$(command -v socat)" "$E2E_DIR/plainsocat"
  cp "$(command -v dig)" "$E2E_DIR/droverdig"; cp "$(command -v dig)" "$E2E_DIR/plaindig"
  UDP_CLIENT=$HERE/udp_client.py
}

# start_engine CONFIG; ENGINE_PREFIX: a command to run it under (prlimit ...);
# ENGINE_RUN_ARGS: more arguments of `drover run` (--test-hooks).
start_engine() {
  export XDG_RUNTIME_DIR=$E2E_DIR/run XDG_STATE_HOME=$E2E_DIR/state
  mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"
  # shellcheck disable=SC2086
  bg "$E2E_DIR/engine.log" in_c ${ENGINE_PREFIX:-} env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" XDG_STATE_HOME="$XDG_STATE_HOME" \
    "$DROVER" run --config "$1" ${ENGINE_RUN_ARGS:-}
  ENGINE_PID=$BG_PID
}

# This run's engine only (other runs, a benchmark, may have theirs): the
# drover process whose command line names this run's directory.
engine_pid() {
  local p
  for p in $(pgrep -x drover); do
    { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q -- "--config $E2E_DIR/" && echo "$p"
  done
  return 0
}

# drover_cli ARGS...: the CLI in the client namespace, talking to this run's engine.
drover_cli() { in_c env XDG_RUNTIME_DIR="$E2E_DIR/run" "$DROVER" "$@"; }
engine_status() { drover_cli status --json; }
engine_field() { engine_status 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1',''))"; }

wait_state() {  # wait_state STATE [seconds]
  local want=$1 secs=${2:-10} s=""
  for _ in $(seq 1 $((secs * 20))); do
    s=$(engine_field state 2>/dev/null || true)
    [ "$s" = "$want" ] && return 0
    sleep 0.05
  done
  echo "--- engine log ---" >&2; tail -30 "$E2E_DIR/engine.log" >&2
  fail "engine state is '$s', wanted '$want' within ${secs}s"
}

stop_engine() {
  drover_cli stop >/dev/null 2>&1 || true
  wait "$ENGINE_PID" 2>/dev/null || true
}

# Drover's rules and routes in the client namespace (empty when clean).
drover_leftovers() {
  { in_c iptables-save; in_c ip6tables-save; } 2>/dev/null | grep -i drover || true
  in_c ip rule show | grep -E 'fwmark 0x20|lookup 120' || true
  in_c ip route show table 120 2>/dev/null || true
  # A bound NFQUEUE shows up here while its program holds it.
  in_c cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true
}
