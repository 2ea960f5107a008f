#!/usr/bin/env bash
# ./dev bench [--quick]: micro benchmarks, then end to end in namespaces:
# direct, proxychains4 -> dante, redsocks -> dante, Drover -> dante, all in
# the same run, interleaved over several rounds; medians and ratios go to
# bench/results/*.json and docs/PERFORMANCE.md.
set -euo pipefail
BUILD=${1:?usage: run.sh BUILD_DIR [--quick]}
shift
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export DROVER=$BUILD/bin/drover TESTCLIENT=$BUILD/bin/drover_testclient
# RATES: datagrams/s tried in turn for the highest rate with <= 0.1 % loss.
if [ $QUICK = 1 ]; then
  ROUNDS=3 SECS=1 CONNS=300 UDP_SECS=2 IDLE=5 FLOWS="0 100 1000" SOAK=10 RATES="10000 20000 40000 80000" RATE_SECS=1
  MICRO_TIME=0.05
else
  ROUNDS=5 SECS=10 CONNS=2000 UDP_SECS=20 IDLE=60 FLOWS="0 100 1000 9000" SOAK=600
  RATES="5000 10000 20000 40000 80000 120000 160000" RATE_SECS=3 MICRO_TIME=0.2
fi
CONC=200
T_START=$(date +%s)
STAMP=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$ROOT/bench/results"
RAW=$ROOT/bench/results/raw-$STAMP.txt
: >"$RAW"

echo "== micro (Google Benchmark)"
"$BUILD/bin/drover_micro_bench" --benchmark_format=json --benchmark_min_time=$MICRO_TIME >"$ROOT/bench/results/micro-$STAMP.json"

source "$ROOT/tests/e2e/lib.sh"
e2e_setup
install_clients
start_far
start_dante none 1080
cp "$(command -v iperf3)" "$E2E_DIR/droveriperf"
cp "$(command -v iperf3)" "$E2E_DIR/plainiperf"
bg "$E2E_DIR/iperf-srv.log" in_f iperf3 -s -p 5201
bg "$E2E_DIR/echo-srv.log" in_f "$TESTCLIENT" echoserver 7100
wait_port in_f "$IP_F" 5201
wait_port in_f "$IP_F" 7100
write_config "$E2E_DIR/drover.toml"
sed -i 's/processes = \[/processes = ["droveriperf", /' "$E2E_DIR/drover.toml"
cat >"$E2E_DIR/proxychains.conf" <<CONF
strict_chain
quiet_mode
[ProxyList]
socks5 $IP_P 1080
CONF
cat >"$E2E_DIR/redsocks.conf" <<CONF
base { log_debug = off; log_info = off; daemon = off; redirector = iptables; }
redsocks { local_ip = 127.0.0.1; local_port = 12345; ip = $IP_P; port = 1080; type = socks5; }
CONF
record() { echo "$1 $2 $3" >>"$RAW"; }  # mode metric value

# Per mode: how to wrap a client, and the client's name.
setup_mode() {
  case $1 in
    redsocks)
      bg "$E2E_DIR/redsocks.log" in_c redsocks -c "$E2E_DIR/redsocks.conf"
      REDSOCKS_PID=$BG_PID
      sleep 0.3
      in_c iptables -w -t nat -A OUTPUT -p tcp -d "$IP_F" -j REDIRECT --to-ports 12345 ;;
    drover)
      start_engine "$E2E_DIR/drover.toml"
      wait_state Active 10 ;;
  esac
}
teardown_mode() {
  case $1 in
    redsocks)
      in_c iptables -w -t nat -D OUTPUT -p tcp -d "$IP_F" -j REDIRECT --to-ports 12345
      kill "$REDSOCKS_PID" 2>/dev/null || echo "warning: redsocks had exited" >&2
      wait "$REDSOCKS_PID" 2>/dev/null || true ;;
    drover) stop_engine ;;
  esac
}
run_client() {  # run_client MODE KIND ARGS...: KIND iperf|client
  local mode=$1 kind=$2; shift 2
  local bin=$E2E_DIR/plain$kind
  [ "$mode" = drover ] && bin=$E2E_DIR/drover$kind
  if [ "$mode" = proxychains ]; then in_c proxychains4 -q -f "$E2E_DIR/proxychains.conf" "$bin" "$@"
  else in_c "$bin" "$@"; fi
}
bps_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'; }
# The whole machine's busy time (user, nice, system, irq, softirq) in clock ticks.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# tcp_run MODE METRIC IPERF_ARGS...: throughput, and the CPU seconds the whole
# machine spent per GB moved (client, relay, dante, server and the kernel's
# work for all of them): what a configuration costs, not only how fast it is.
tcp_run() {
  local mode=$1 metric=$2 t0 t1 json
  shift 2
  t0=$(busy_ticks)
  json=$(run_client "$mode" iperf -c "$IP_F" -p 5201 -t "$SECS" -J "$@")
  t1=$(busy_ticks)
  record "$mode" "$metric" "$(bps_of <<<"$json")"
  record "$mode" "${metric}_cpu_s_per_gb" "$(python3 -c "import json,sys
moved = json.loads(sys.argv[1])['end']['sum_received']['bytes'] / 1e9
print(($t1 - $t0) / $(getconf CLK_TCK) / moved)" "$json")"
}
nontarget_bps() { in_c "$E2E_DIR/plainiperf" -c "$IP_F" -p 5201 -t "$SECS" -J | bps_of; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# The highest rate of one UDP flow with <= 0.1 % of datagrams lost (echoed
# back, so both directions count); stops at the first rate that loses more.
udp_max_pps() {
  local mode=$1 best=0 out
  for pps in $RATES; do
    out=$(run_client "$mode" client udprate "$IP_F" 7100 "$pps" "$RATE_SECS")
    python3 -c "import json,sys; sys.exit(0 if json.loads('$out')['loss'] <= 0.001 else 1)" || break
    best=$pps
  done
  echo "$best"
}

MODES=(direct proxychains redsocks drover)
for round in $(seq 1 $ROUNDS); do
  # Each round starts with the next configuration, so none always runs first
  # or last (after another's thousands of connections, on a dante that has
  # grown its children for them).
  for i in 0 1 2 3; do
    mode=${MODES[$(((round - 1 + i) % 4))]}
    echo "== round $round: $mode"
    setup_mode $mode
    tcp_run $mode tcp_up_1
    tcp_run $mode tcp_down_1 -R
    if [ $QUICK = 0 ] || [ $round = 1 ]; then  # quick: one sample of 8 streams
      tcp_run $mode tcp_up_8 -P 8
      tcp_run $mode tcp_down_8 -R -P 8
    fi
    # A run with failed connections still reports its numbers; say so, go on.
    lat=$(run_client $mode client tcplat "$IP_F" 7100 "$CONNS") || echo "warning: $mode: $lat" >&2
    record $mode conn_per_s "$(json_field per_s <<<"$lat")"
    record $mode conn_p50_us "$(json_field p50_us <<<"$lat")"
    record $mode conn_p99_us "$(json_field p99_us <<<"$lat")"
    conc=$(run_client $mode client tcpconc "$IP_F" 7100 "$CONC") || echo "warning: $mode: $conc" >&2
    record $mode conc_per_s "$(python3 -c "print($CONC / (${conc##*ms=} / 1000))")"
    if [ $mode = direct ] || [ $mode = drover ]; then
      rtt=$(run_client $mode client udprtt "$IP_F" 7001 20 50 "$UDP_SECS")
      record $mode udp_p50_us "$(json_field p50_us <<<"$rtt")"
      record $mode udp_p99_us "$(json_field p99_us <<<"$rtt")"
      record $mode udp_loss "$(json_field loss <<<"$rtt")"
      # The full run searches every round; the quick one once, after the rounds.
      [ $QUICK = 1 ] || record $mode udp_max_pps "$(udp_max_pps $mode)"
      # A process Drover does not target: throughput and connection setup,
      # engine on (drover) vs off (direct).
      record $mode nontarget_up_1 "$(nontarget_bps)"
      lat=$(in_c "$E2E_DIR/plainclient" tcplat "$IP_F" 7100 200) || echo "warning: non-target: $lat" >&2
      record $mode nontarget_conn_p50_us "$(json_field p50_us <<<"$lat")"
    fi
    if [ $mode = direct ] && { [ $QUICK = 0 ] || [ $round = 1 ]; }; then
      # Attribution: connection tracking alone (one NAT rule that never
      # matches loads it for the namespace, as any REDIRECT setup does).
      in_c iptables -w -t nat -A OUTPUT -p tcp -d 192.0.2.1 -j REDIRECT --to-ports 9
      record conntrack nontarget_up_1 "$(nontarget_bps)"
      in_c iptables -w -t nat -D OUTPUT -p tcp -d 192.0.2.1 -j REDIRECT --to-ports 9
    fi
    teardown_mode $mode
  done
  # The non-target target (>= 0.95x engine-off) is finer than the spread of
  # samples minutes apart: here off, on, on, off, back to back. Full run only
  # (the quick one would pass its 3 minutes).
  [ $QUICK = 1 ] && continue
  echo "== round $round: non-target, engine off/on/on/off"
  record engine_off nontarget_pair "$(nontarget_bps)"
  setup_mode drover
  record engine_on nontarget_pair "$(nontarget_bps)"
  record engine_on nontarget_pair "$(nontarget_bps)"
  teardown_mode drover
  record engine_off nontarget_pair "$(nontarget_bps)"
done
if [ $QUICK = 1 ]; then
  for mode in direct drover; do
    echo "== UDP highest loss-free rate: $mode"
    setup_mode $mode
    record $mode udp_max_pps "$(udp_max_pps $mode)"
    teardown_mode $mode
  done
fi

echo "== idle CPU and memory"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
pid=$(engine_pid)
ticks() { awk '{print $14 + $15}' /proc/"$pid"/stat; }
t0=$(ticks); sleep "$IDLE"; t1=$(ticks)
record drover idle_cpu_pct "$(python3 -c "print(($t1 - $t0) * 100.0 / $(getconf CLK_TCK) / $IDLE)")"
ulimit -n "$(ulimit -Hn)"
for n in $FLOWS; do
  if [ "$n" -gt 0 ]; then
    in_c bash -c "ulimit -n \$(ulimit -Hn); exec $E2E_DIR/droverclient hold $IP_F 7100 $n 30" >"$E2E_DIR/hold.out" &
    HOLD=$!
    for _ in $(seq 1 600); do [ "$(engine_field tcp_flows)" -ge "$n" ] && break; sleep 0.05; done
  fi
  record drover "rss_mb_at_$n" "$(awk '/VmRSS/ {print $2 / 1024}' /proc/"$pid"/status)"
  record drover "flows_open_at_$n" "$(engine_field tcp_flows)"
  if [ "$n" -gt 0 ]; then kill "$HOLD" 2>/dev/null || true; wait "$HOLD" 2>/dev/null || true; fi
  for _ in $(seq 1 200); do [ "$(engine_field tcp_flows)" = 0 ] && break; sleep 0.05; done
done

echo "== soak: ${SOAK}s of mixed traffic"
rss() { awk '/VmRSS/ {print $2 / 1024}' /proc/"$pid"/status; }
soak_round() {
  in_c "$E2E_DIR/droverclient" http "$IP_F" 8080 /bytes/2000000 >/dev/null || echo "warning: soak fetch failed" >&2
  in_c "$E2E_DIR/droverclient" tcpseq "$IP_F" 7100 50 >/dev/null || echo "warning: soak connections failed" >&2
  in_c "$E2E_DIR/droverclient" udp "$IP_F" 7001 50 4 >/dev/null || echo "warning: soak UDP failed" >&2
  in_c "$E2E_DIR/droverclient" tcpconc "$IP_F" 7100 50 >/dev/null || echo "warning: soak concurrency failed" >&2
}
soak_round  # warm-up: buffers, pools and the allocator's arenas settle
rss0=$(rss)
rss_max=$rss0
t_half=$(($(date +%s) + SOAK / 2))
t_end=$(($(date +%s) + SOAK))
rounds=0 rss_half=""
while [ "$(date +%s)" -lt $t_end ]; do
  soak_round
  rounds=$((rounds + 1))
  r=$(rss)
  rss_max=$(python3 -c "print(max($rss_max, $r))")
  # Every round opens 4 new UDP flows, which live until 5 min idle: the
  # engine fills up to that steady state first. Drift is measured from
  # half-time on (past the 5 minutes in the full run).
  if [ -z "$rss_half" ] && [ "$(date +%s)" -ge $t_half ]; then
    rss_half=$r
    record drover soak_udp_flows_half "$(engine_field udp_flows)"
  fi
done
rss_end=$(rss)
record drover soak_udp_flows_end "$(engine_field udp_flows)"
record drover soak_secs "$SOAK"
record drover soak_rounds "$rounds"
record drover soak_rss_start_mb "$rss0"
record drover soak_rss_half_mb "${rss_half:-$rss0}"
record drover soak_rss_end_mb "$rss_end"
record drover soak_rss_max_mb "$rss_max"
record drover soak_drift_mb "$(python3 -c "print($rss_end - ${rss_half:-$rss0})")"
stop_engine
record bench wall_secs "$(($(date +%s) - T_START))"

python3 "$ROOT/bench/report.py" "$RAW" "$ROOT/bench/results/micro-$STAMP.json" "$ROOT/bench/results/e2e-$STAMP.json" \
  "$ROOT/docs/PERFORMANCE.md" "$([ $QUICK = 1 ] && echo quick || echo full)" "$ROUNDS"
echo "results: bench/results/e2e-$STAMP.json, docs/PERFORMANCE.md"
